import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Db, Decimal128, Int32, MongoClient, ObjectId } from 'mongodb';
import { logger } from '../../lambdas/shared/logger.ts';
import { type RunningMongoServer, startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { seedDatabase } from '../../lib/local/sample-data/index.ts';
import { assertNoProblems, Scenario, scenarioConfig, uniqueDatabase } from './scenario.ts';

logger.setLogLevel('CRITICAL');

/** An account only one entry posts to, so a change of the chart touches that entry alone. */
const LONE_ACCOUNT = 7777;

/**
 * A change of the chart of accounts changes journal entries that did not change themselves.
 * When a run fails after committing silver but before data_quality_issues, the next run must
 * still find those entries, although silver already shows the new chart.
 */
describe('a change of the chart, then a failure inside curate: the next run still gives the books of the source', () => {
  let server: RunningMongoServer;
  let client: MongoClient;

  before(async () => {
    server = await startMongoServer();
    client = await new MongoClient(server.uri).connect();
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  const scenarioWithLoneAccount = async (): Promise<{ db: Db; scenario: Scenario }> => {
    const database = uniqueDatabase('chart');
    const db = client.db(database);
    await seedDatabase(db, { journalEntries: 50, closeTasks: 24 });
    await db.collection('accounts').insertOne({
      _id: new ObjectId(),
      account_id: new Int32(LONE_ACCOUNT),
      account_name: 'Used once',
      account_type: 'Asset',
      is_active: true,
      updatedAt: new Date(),
    });
    await db.collection('journal_entries').insertOne({
      _id: new ObjectId(),
      entry_id: 'JX1',
      date: new Date('2025-01-01T00:00:00Z'),
      description: 'Posts to the lone account',
      lines: [
        {
          account_id: new Int32(LONE_ACCOUNT),
          debit: Decimal128.fromString('1'),
          credit: Decimal128.fromString('0'),
        },
        {
          account_id: new Int32(1000),
          debit: Decimal128.fromString('0'),
          credit: Decimal128.fromString('1'),
        },
      ],
      updatedAt: new Date(),
    });
    const scenario = await Scenario.create(db, server.uri, scenarioConfig(database), 'duckdb');
    await scenario.run();
    assertNoProblems('after the first run', await scenario.problems());
    return { db, scenario };
  };

  for (const table of ['journal_entries_silver', 'journal_entries_gold']) {
    it(`the account deleted, a failure after the ${table} commit: unknown_account is listed after the next run`, async () => {
      const { db, scenario } = await scenarioWithLoneAccount();
      try {
        await db.collection('accounts').deleteOne({ account_id: new Int32(LONE_ACCOUNT) });
        await scenario.failingRun({ kind: 'point', point: `curate:after-commit:${table}` });
        await scenario.run();
        assertNoProblems('after the next run', await scenario.problems());
      } finally {
        await scenario.dispose();
      }
    });
  }

  it('the account deleted, then restored with a failure after the silver commit: the stale unknown_account goes', async () => {
    const { db, scenario } = await scenarioWithLoneAccount();
    try {
      const account = await db.collection('accounts').findOne({ account_id: new Int32(LONE_ACCOUNT) });
      assert.ok(account !== null);
      await db.collection('accounts').deleteOne({ _id: account._id });
      await scenario.run();
      assertNoProblems('after the run that saw the deletion', await scenario.problems());
      await db.collection('accounts').insertOne({ ...account, updatedAt: new Date() });
      await scenario.failingRun({ kind: 'point', point: 'curate:after-commit:journal_entries_silver' });
      await scenario.run();
      assertNoProblems('after the next run', await scenario.problems());
    } finally {
      await scenario.dispose();
    }
  });

  it('the account renamed with a failure after the silver commit, then renamed back: silver gets the old name again', async () => {
    const { db, scenario } = await scenarioWithLoneAccount();
    try {
      const rename = (name: string) =>
        db
          .collection('accounts')
          .updateOne(
            { account_id: new Int32(LONE_ACCOUNT) },
            { $set: { account_name: name, updatedAt: new Date() } },
          );
      await rename('Used once, renamed');
      await scenario.failingRun({ kind: 'point', point: 'curate:after-commit:journal_entries_silver' });
      await rename('Used once');
      // Silver now holds a name that neither the committed chart nor the current one has: the chart
      // did not change since the last committed run, so only comparing silver with it finds the line.
      await scenario.run();
      assertNoProblems('after the next run', await scenario.problems());
    } finally {
      await scenario.dispose();
    }
  });
});

/**
 * duplicate_entry_id depends on other documents: an entry renamed out of a
 * shared entry_id ends the other's duplicate. When the rename's run fails
 * after gold, the next run must still find the other document.
 */
describe('an entry_id renamed out of a duplicate, then a failure after the gold commit: the next run clears the other duplicate', () => {
  let server: RunningMongoServer;
  let client: MongoClient;

  before(async () => {
    server = await startMongoServer();
    client = await new MongoClient(server.uri).connect();
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('lists duplicate_entry_id on neither document after the next run', async () => {
    const database = uniqueDatabase('duplicates');
    const db = client.db(database);
    await seedDatabase(db, { journalEntries: 20, closeTasks: 24 });
    const lines = [
      { account_id: new Int32(1000), debit: Decimal128.fromString('5'), credit: Decimal128.fromString('0') },
      { account_id: new Int32(1000), debit: Decimal128.fromString('0'), credit: Decimal128.fromString('5') },
    ];
    const twin = (id: ObjectId) => ({
      _id: id,
      entry_id: 'JDUP',
      date: new Date('2025-01-02T00:00:00Z'),
      description: 'Shares its entry_id',
      lines,
      updatedAt: new Date(),
    });
    const renamed = new ObjectId();
    await db.collection('journal_entries').insertMany([twin(new ObjectId()), twin(renamed)]);
    const scenario = await Scenario.create(db, server.uri, scenarioConfig(database), 'duckdb');
    try {
      await scenario.run();
      assertNoProblems('after the first run', await scenario.problems());
      await db
        .collection('journal_entries')
        .updateOne({ _id: renamed }, { $set: { entry_id: 'JDUP-2', updatedAt: new Date() } });
      await scenario.failingRun({ kind: 'point', point: 'curate:after-commit:journal_entries_gold' });
      await scenario.run();
      assertNoProblems('after the next run', await scenario.problems());
    } finally {
      await scenario.dispose();
    }
  });
});
