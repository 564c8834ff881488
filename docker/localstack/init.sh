#!/usr/bin/env bash
# LocalStack ready hook (mounted into /etc/localstack/init/ready.d/): creates
# what the data stack creates on AWS, under the names in the compose file's
# environment. Idempotent: what exists is left alone. LocalStack's community
# edition keeps no state across restarts, so this runs on every start.
set -euo pipefail
: "${WAREHOUSE_BUCKET:?}" "${MONGO_SECRET_ID:?}" "${RUN_STATE_TABLE:?}" "${MONGO_URI:?}"

if ! awslocal s3api head-bucket --bucket "$WAREHOUSE_BUCKET" >/dev/null 2>&1; then
  awslocal s3api create-bucket --bucket "$WAREHOUSE_BUCKET" >/dev/null
fi
echo "ledgerlake-init: bucket $WAREHOUSE_BUCKET"

# On AWS the secret is created empty and the URI is put in by hand; here it points at the mongo service.
if ! awslocal secretsmanager describe-secret --secret-id "$MONGO_SECRET_ID" >/dev/null 2>&1; then
  awslocal secretsmanager create-secret --name "$MONGO_SECRET_ID" --secret-string "$MONGO_URI" >/dev/null
fi
echo "ledgerlake-init: secret $MONGO_SECRET_ID"

# Same key schema as the run-state table of lib/stacks/data-stack.ts.
if ! awslocal dynamodb describe-table --table-name "$RUN_STATE_TABLE" >/dev/null 2>&1; then
  awslocal dynamodb create-table --table-name "$RUN_STATE_TABLE" \
    --attribute-definitions AttributeName=pk,AttributeType=S \
    --key-schema AttributeName=pk,KeyType=HASH \
    --billing-mode PAY_PER_REQUEST >/dev/null
fi
echo "ledgerlake-init: table $RUN_STATE_TABLE"
