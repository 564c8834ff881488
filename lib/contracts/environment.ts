/**
 * Environment variables of the Lambda functions: lib/constructs/pipeline-functions.ts
 * sets them and lambdas/shared/context-from-env.ts (and the validate handler)
 * read them once per container. They carry names and the (non-secret)
 * pipeline configuration; the MongoDB URI is read from Secrets Manager when
 * first needed. docker-compose.local.yml and docker/localstack/init.sh use
 * the same names (test/docker-compose.test.ts checks them).
 */
export const ENV = {
  config: 'LEDGERLAKE_CONFIG',
  bucket: 'WAREHOUSE_BUCKET',
  runStateTable: 'RUN_STATE_TABLE',
  mongoSecretId: 'MONGO_SECRET_ID',
} as const;
