import { MongoClient } from 'mongodb';
import { startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { seedDatabase } from '../../lib/local/sample-data/index.ts';
import { FULL_FAULT_MATRIX, SCENARIO_ENTRIES, scenarioSuite } from './suite.ts';

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
    await seedDatabase(client.db(database), { journalEntries: SCENARIO_ENTRIES, closeTasks: 24 });
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
