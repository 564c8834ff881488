import { MongoClient } from 'mongodb';
import { INGEST_STATES } from '../../lib/constructs/ingest-state-machine.ts';
import { startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { seedDatabase } from '../../lib/local/sample-data/index.ts';
import { scenarioSuite } from './suite.ts';

// The generated Glue scripts on PySpark: each run costs about a minute, so four runs (a full run,
// a replay, a failure after the raw append, the next run) and a larger history before the failure.
scenarioSuite({
  name: 'the books equal the source: the embedded server, Spark engine (the generated Glue scripts)',
  engine: 'spark',
  money: 'decimal128',
  seed: 11,
  rounds: 0,
  operationsPerRound: 12,
  // Every kind of operation (they are drawn among those not applied yet first) before the one failure.
  operationsBeforeFault: 40,
  noOpRun: false,
  earlyReplays: 1,
  finalReplays: false,
  faults: [{ kind: 'task', state: INGEST_STATES.rawAppend, when: 'after' }],
  open: async (database) => {
    const server = await startMongoServer();
    const client = await new MongoClient(server.uri).connect();
    await seedDatabase(client.db(database), { journalEntries: 120 });
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
