import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parquetReadObjects } from 'hyparquet';
import { MongoClient } from 'mongodb';
import { S3ObjectStore } from '../../lambdas/shared/object-store.ts';
import type { PipelineContext } from '../../lambdas/shared/pipeline-context.ts';
import { DynamoRunStateStore } from '../../lambdas/shared/run-state.ts';
import { mongoUriFromSecret } from '../../lambdas/shared/secrets.ts';
import { type LedgerlakeConfig, resolveConfig } from '../../lib/config/index.ts';
import { buildTableModel } from '../../lib/model/index.ts';
import { createRunStateTable } from '../support/run-state-table.ts';
import { motoClientConfig, motoEndpoint, uniqueName } from '../support/services.ts';
import { runPythonJson } from '../support/venv-python.ts';

export interface Fixture {
  readonly context: PipelineContext;
  readonly s3: S3Client;
  readonly client: MongoClient;
  readonly database: string;
  /** Reads every row of the Parquet files under `prefix`, file by file in key order. */
  readRows(prefix: string): Promise<Record<string, unknown>[]>;
  /**
   * Reads the files with Arrow (Python), decimals as exact text and dates as
   * ISO strings: an independent reader, and one that does not turn 500.0000
   * into a float.
   */
  readRowsExact(prefix: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/**
 * A pipeline context on real local parts: moto's S3, DynamoDB and Secrets
 * Manager (with the MongoDB URI in a secret, read the way Lambdas read it)
 * and a MongoDB-compatible server reached by the official driver.
 */
export async function createFixture(
  mongoUri: string,
  overrides: Record<string, unknown> = {},
): Promise<Fixture> {
  const endpoint = await motoEndpoint();
  const aws = motoClientConfig(endpoint);
  const s3 = new S3Client(aws);
  const dynamo = new DynamoDBClient(aws);
  const secrets = new SecretsManagerClient(aws);
  const bucket = uniqueName('warehouse');
  const table = uniqueName('run-state');
  const secretName = `ledgerlake/${uniqueName('mongo')}`;
  const database = uniqueName('fq').replaceAll('-', '_');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await createRunStateTable(dynamo, table);
  await secrets.send(
    new CreateSecretCommand({ Name: secretName, SecretString: JSON.stringify({ uri: mongoUri }) }),
  );

  const config: LedgerlakeConfig = resolveConfig({ source: { database, secretName }, ...overrides });
  // The test's own client seeds data; the pipeline gets its own, from the secret.
  const client = await new MongoClient(mongoUri).connect();
  const pipelineClients: MongoClient[] = [];
  const workDir = await mkdtemp(join(tmpdir(), 'ledgerlake-extract-'));
  const context: PipelineContext = {
    config,
    model: buildTableModel(config),
    store: new S3ObjectStore(s3, bucket),
    runState: new DynamoRunStateStore(dynamo, table, config.app),
    mongo: async () => {
      const uri = await mongoUriFromSecret(secrets, secretName);
      const pipelineClient = await new MongoClient(uri).connect();
      pipelineClients.push(pipelineClient);
      return pipelineClient;
    },
    workDir,
  };
  return {
    context,
    s3,
    client,
    database,
    async readRows(prefix) {
      const rows: Record<string, unknown>[] = [];
      for (const key of (await context.store.listKeys(prefix)).filter((k) => k.endsWith('.parquet')).sort()) {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = await (
          object.Body as { transformToByteArray(): Promise<Uint8Array> }
        ).transformToByteArray();
        const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
        rows.push(...(await parquetReadObjects({ file })));
      }
      return rows;
    },
    async readRowsExact(prefix) {
      const folder = await mkdtemp(join(tmpdir(), 'ledgerlake-read-'));
      const keys = (await context.store.listKeys(prefix)).filter((k) => k.endsWith('.parquet')).sort();
      const paths: string[] = [];
      for (const [i, key] of keys.entries()) {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const path = join(folder, `${String(i).padStart(5, '0')}.parquet`);
        await writeFile(
          path,
          await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        );
        paths.push(path);
      }
      try {
        return await runPythonJson<Record<string, unknown>[]>(READ_EXACT, paths);
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    },
    async close() {
      await Promise.allSettled([client.close(), ...pipelineClients.map((c) => c.close())]);
      s3.destroy();
      dynamo.destroy();
      secrets.destroy();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

const READ_EXACT = `
import json, sys, pyarrow.parquet as pq
rows = []
for path in sys.argv[1:]:
    rows.extend(pq.read_table(path).to_pylist())
print(json.dumps(rows, default=str))
`;

export { uniqueName };
