import { MongoClient } from 'mongodb';
import { INGEST_STATES } from '../../lib/contracts/index.ts';
import { startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { seedDatabase } from '../../lib/local/sample-data/index.ts';
import { scenarioSuite } from './suite.ts';

// The same scenario as books-equal-source.test.ts, on the generated Glue scripts on PySpark (what
// runs on AWS), with a smaller history: each run costs about a minute. A full run; one round of the
// books as an accounting team keeps them (corrections, removed and added lines, deleted and new
// entries, a renamed account, close tasks) and a run; a replay; then every other kind of operation
// (irregular watermarks and ids, ledger problems), a failure after the raw append reconciled a key
// listing and the run that recovers; a run that lists keys after its raw append; a failure right
// after the raw append. After each step every curated table is compared with the oracle's, computed
// from the source documents alone.
scenarioSuite({
  name: 'the books equal the source: the embedded server, Spark engine (the generated Glue scripts)',
  engine: 'spark',
  money: 'decimal128',
  seed: 11,
  rounds: 1,
  // The twelve operations of the books as they are kept (they are drawn among those not applied yet first).
  operationsPerRound: 12,
  // Every remaining kind of operation before the one failure.
  operationsBeforeFault: 30,
  noOpRun: false,
  earlyReplays: 1,
  finalReplays: false,
  // After the raw append ran twice (an update, new entries and a delete make CheckDeletes list the
  // keys); the suite's own step fails a run right after the first raw append.
  faults: [{ kind: 'task', state: INGEST_STATES.reconcileDeletes, when: 'after' }],
  open: async (database) => {
    const server = await startMongoServer();
    const client = await new MongoClient(server.uri).connect();
    await seedDatabase(client.db(database), { journalEntries: 120, closeTasks: 24 });
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
