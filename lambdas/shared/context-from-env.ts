import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { validateConfig } from '../../lib/config/index.ts';
import { ENV } from '../../lib/contracts/index.ts';
import { buildTableModel } from '../../lib/model/index.ts';
import { requireEnv } from './env.ts';
import { sharedMongoClient } from './mongo.ts';
import { S3ObjectStore } from './object-store.ts';
import type { PipelineContext } from './pipeline-context.ts';
import { DynamoRunStateStore } from './run-state.ts';
import { mongoUriFromSecret } from './secrets.ts';

let cached: PipelineContext | undefined;

/** The pipeline context from the environment lib/constructs/pipeline-functions.ts sets (ENV), made once per container. */
export function contextFromEnv(): PipelineContext {
  if (cached !== undefined) return cached;
  let raw: unknown;
  try {
    raw = JSON.parse(requireEnv(ENV.config));
  } catch (error) {
    throw new Error(
      `environment variable ${ENV.config} must hold the pipeline configuration as JSON: ${(error as Error).message}`,
    );
  }
  const config = validateConfig(raw);
  const secrets = new SecretsManagerClient({});
  const secretId = requireEnv(ENV.mongoSecretId);
  cached = {
    config,
    model: buildTableModel(config),
    store: new S3ObjectStore(new S3Client({}), requireEnv(ENV.bucket)),
    runState: new DynamoRunStateStore(new DynamoDBClient({}), requireEnv(ENV.runStateTable), config.app),
    mongo: async () => sharedMongoClient(await mongoUriFromSecret(secrets, secretId)),
  };
  return cached;
}
