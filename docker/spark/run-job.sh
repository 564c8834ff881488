#!/usr/bin/env bash
# Runs one generated Glue script (glue-scripts/<job>.py) on the spark service
# with ledgerlake.conf. Arguments are the Glue job's (lib/glue/job-arguments.ts);
# the defaults below come first, so arguments given here override them. The
# scripts import the jobs' package (glue/src/ledgerlake_glue, mounted at
# $home/glue): PYTHONPATH makes it importable, as --extra-py-files does on Glue.
#
#   run-job.sh raw_append --run_id <id>    staged Parquet under s3a://$WAREHOUSE_BUCKET/staging/
#   run-job.sh curate --run_id <id>      the run's plan under s3a://$WAREHOUSE_BUCKET/staging/
#   run-job.sh close_period --run_id <id> --close_period 2025-06 [--reopen true]
#   run-job.sh maintenance [--expire_as_of 2024-06-01T00:00:00Z]
set -euo pipefail
usage='usage: run-job.sh raw_append|curate|close_period|maintenance [--<argument> <value>]...'
home="${LEDGERLAKE_HOME:-/opt/ledgerlake}"
job="${1:-}"
[ $# -gt 0 ] && shift
raw=(--raw_namespace "${LEDGERLAKE_RAW_NAMESPACE:?}")
curated=(--curated_namespace "${LEDGERLAKE_CURATED_NAMESPACE:?}")
staging=(--staging_root "s3a://${WAREHOUSE_BUCKET:?}")
case "$job" in
  raw_append) defaults=("${staging[@]}" "${raw[@]}") ;;
  # Curate reads the run's plan (curateSince) and writes its report under staging/ too.
  curate) defaults=("${staging[@]}" "${raw[@]}" "${curated[@]}") ;;
  # The close records books_as_of from raw journal entries and writes the curated tables' tags.
  close_period) defaults=("${raw[@]}" "${curated[@]}") ;;
  # The catalog named in `CALL <catalog>.system.*`: ledgerlake.conf's default catalog.
  maintenance) defaults=("${raw[@]}" "${curated[@]}" --catalog local) ;;
  *)
    echo "$usage" >&2
    exit 2
    ;;
esac
export PYTHONPATH="$home/glue${PYTHONPATH:+:$PYTHONPATH}"
exec "${SPARK_HOME:-/opt/spark}/bin/spark-submit" --properties-file "$home/spark/ledgerlake.conf" \
  "$home/glue-scripts/$job.py" "${defaults[@]}" "$@"
