import { MongoClient } from 'mongodb';
import { INGEST_STATES } from '../../lib/contracts/index.ts';
import { ferretdbUri } from '../support/services.ts';
import { seedWithDoubles } from './histories.ts';
import { SCENARIO_ENTRIES, scenarioSuite } from './suite.ts';

// The scenario of books-equal-source.test.ts on FerretDB, a MongoDB-compatible server that is not ours.
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
    await seedWithDoubles(client.db(database), SCENARIO_ENTRIES);
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
