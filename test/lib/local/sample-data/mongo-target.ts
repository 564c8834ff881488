import { MongoClient } from 'mongodb';

export interface MongoTarget {
  readonly uri: string;
  readonly description: string;
  /** FerretDB 1.x cannot store Decimal128: it drops the connection on the first one. */
  readonly storesDecimal128: boolean;
  close(): Promise<void>;
}

export type MongoTargetChoice = MongoTarget | { readonly unavailable: string };

const FERRETDB_URI_VAR = 'LEDGERLAKE_TEST_FERRETDB_URI';
// Resolved at run time, so this file type-checks before the embedded server exists.
const EMBEDDED_SERVER_MODULE = new URL('../../../../lib/local/mongo-server/index.ts', import.meta.url).href;

interface EmbeddedServerModule {
  startMongoServer(): Promise<{ readonly uri: string; close(): Promise<void> }>;
}

/**
 * The server for the seeding tests: FerretDB from LEDGERLAKE_TEST_FERRETDB_URI
 * when it can store every BSON type the sample data uses, else the embedded
 * server (`lib/local/mongo-server`), else FerretDB for what it can store.
 */
export async function chooseMongoTarget(): Promise<MongoTargetChoice> {
  const ferretUri = process.env[FERRETDB_URI_VAR];
  const ferret = ferretUri ? await describeFerretdb(ferretUri) : undefined;
  if (ferret?.storesDecimal128) return ferret;
  const embedded = await startEmbeddedServer();
  if (embedded !== undefined) return embedded;
  if (ferret !== undefined) return ferret;
  return { unavailable: `neither ${FERRETDB_URI_VAR} nor lib/local/mongo-server is available` };
}

async function describeFerretdb(uri: string): Promise<MongoTarget> {
  const client = await new MongoClient(uri, { serverSelectionTimeoutMS: 5000 }).connect();
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    const version = typeof info.ferretdbVersion === 'string' ? info.ferretdbVersion : undefined;
    return {
      uri,
      description: version === undefined ? `MongoDB ${info.version}` : `FerretDB ${version}`,
      storesDecimal128: version === undefined || !/^v?1\./.test(version),
      close: async () => {},
    };
  } finally {
    await client.close();
  }
}

async function startEmbeddedServer(): Promise<MongoTarget | undefined> {
  let module: EmbeddedServerModule;
  try {
    module = (await import(EMBEDDED_SERVER_MODULE)) as EmbeddedServerModule;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String(error).includes('mongo-server')) return undefined;
    throw error;
  }
  const server = await module.startMongoServer();
  return {
    uri: server.uri,
    description: 'embedded mongo-server',
    storesDecimal128: true,
    close: () => server.close(),
  };
}
