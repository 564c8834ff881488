import { MongoClient } from 'mongodb';
import { INGEST_STATES } from '../../lib/contracts/index.ts';
import { startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { seedDatabase } from '../../lib/local/sample-data/index.ts';
import { ferretdbUri } from '../support/services.ts';
import { seedWithDoubles } from './histories.ts';
import { FULL_FAULT_MATRIX, scenarioSuite } from './suite.ts';

/** Journal entries seeded: enough for three extraction chunks of 100. */
const SCALE = 300;

scenarioSuite({
  name: 'the books equal the source: the embedded server (Decimal128 money), DuckDB engine',
  engine: 'duckdb',
  money: 'decimal128',
  seed: 9,
  rounds: 4,
  operationsPerRound: 12,
  faults: FULL_FAULT_MATRIX,
  open: async (database) => {
    const server = await startMongoServer();
    const client = await new MongoClient(server.uri).connect();
    await seedDatabase(client.db(database), { journalEntries: SCALE, closeTasks: 24 });
    return {
      uri: server.uri,
      db: client.db(database),
      close: async () => {
        await client.close();
        await server.close();
      },
    };
  },
});

scenarioSuite({
  name: 'the books equal the source: FerretDB (money as doubles and ints), DuckDB engine',
  engine: 'duckdb',
  money: 'double',
  seed: 10,
  rounds: 3,
  operationsPerRound: 12,
  // The matrix in short: a failure in each step, one fault point of each job.
  faults: [
    { kind: 'task', state: INGEST_STATES.plan, when: 'after' },
    { kind: 'task', state: INGEST_STATES.extractChunk, when: 'before', chunk: 'middle' },
    { kind: 'task', state: INGEST_STATES.curate, when: 'after' },
    { kind: 'point', point: 'raw-append:before-commit:journal_entries' },
    { kind: 'point', point: 'curate:after-commit:journal_entries_gold' },
    { kind: 'point', point: 'commit:after-watermark:journal_entries' },
  ],
  open: async (database) => {
    const uri = await ferretdbUri();
    const client = await new MongoClient(uri, { retryWrites: false }).connect();
    await seedWithDoubles(client.db(database), SCALE);
    return {
      uri,
      db: client.db(database),
      close: async () => {
        await client
          .db(database)
          .dropDatabase()
          .catch(() => undefined);
        await client.close();
      },
    };
  },
});
