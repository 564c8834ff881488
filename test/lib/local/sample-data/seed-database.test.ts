import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Db, type Document, MongoClient } from 'mongodb';
import { startMongoServer } from '../../../../lib/local/mongo-server/index.ts';
import {
  chartOfAccounts,
  generateAccounts,
  generateCloseTasks,
  generateJournalEntries,
  seedDatabase,
} from '../../../../lib/local/sample-data/index.ts';
import { canonical } from './sample-docs.ts';

// The embedded server stores every BSON type the sample data uses; FerretDB 1.x has no Decimal128.
const target = await startMongoServer();

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

async function readBack(db: Db, collection: string): Promise<string[]> {
  const documents = await db
    .collection(collection)
    .find({}, { promoteValues: false })
    .sort({ _id: 1 })
    .toArray();
  return documents.map(canonical);
}

describe('seedDatabase', () => {
  let client: MongoClient;
  const databases: string[] = [];
  const freshDb = (): Db => {
    const name = `sample_data_${randomBytes(4).toString('hex')}`;
    databases.push(name);
    return client.db(name);
  };

  before(async () => {
    client = await new MongoClient(target.uri).connect();
  });

  after(async () => {
    for (const name of databases) await client.db(name).dropDatabase();
    await client.close();
    await target.close();
  });

  it('inserts accounts and close tasks in ordered batches that read back as generated', async () => {
    const db = freshDb();
    const options = { seed: 11, journalEntries: 0, closeTasks: 2345, batchSize: 500 };
    const counts = await seedDatabase(db, options);
    assert.deepEqual(counts, { accounts: chartOfAccounts().length, journalEntries: 0, closeTasks: 2345 });
    assert.deepEqual(await readBack(db, 'accounts'), [...generateAccounts(options)].map(canonical));
    assert.deepEqual(await readBack(db, 'close_tasks'), [...generateCloseTasks(options)].map(canonical));
  });

  it('inserts journal entries whose Int32 ids and Decimal128 money read back unchanged', async () => {
    const db = freshDb();
    const options = { seed: 12, journalEntries: 3001, closeTasks: 0, batchSize: 1000 };
    const counts = await seedDatabase(db, options);
    assert.equal(counts.journalEntries, 3001);
    assert.deepEqual(
      await readBack(db, 'journal_entries'),
      [...generateJournalEntries(options)].map(canonical),
    );
  });

  it('keeps documents it did not write', async () => {
    const db = freshDb();
    const existing: Document = { _id: 'kept-by-seeding', note: 'written before the seed' };
    await db.collection('close_tasks').insertOne(existing);
    await seedDatabase(db, { journalEntries: 0, closeTasks: 30 });
    assert.equal(await db.collection('close_tasks').countDocuments(), 31);
    assert.deepEqual(await db.collection('close_tasks').findOne({ _id: existing._id }), existing);
  });

  it('fails on the duplicate _id when seeded twice, leaving the first seed in place', async () => {
    const db = freshDb();
    const options = { journalEntries: 0, closeTasks: 50 };
    await seedDatabase(db, options);
    await assert.rejects(seedDatabase(db, options), (error: Error & { code?: number }) => {
      assert.equal(error.code, 11000, String(error));
      return true;
    });
    assert.equal(await db.collection('accounts').countDocuments(), chartOfAccounts().length);
    assert.equal(await db.collection('close_tasks').countDocuments(), 50);
  });

  it('seeds from the command line and prints the counts, never the URI', async () => {
    const name = freshDb().databaseName;
    const uri = target.uri;
    // Asynchronous: an embedded server runs in this process and must keep answering.
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/seed.ts',
        '--uri',
        uri,
        '--db',
        name,
        '--journal-entries',
        '0',
        '--close-tasks',
        '5',
      ],
      { cwd: repoRoot, timeout: 60_000 },
    );
    assert.match(stdout, new RegExp(`seeded database ${name} in`));
    assert.match(stdout, new RegExp(`accounts +${chartOfAccounts().length}\n`));
    assert.match(stdout, /journal_entries +0\n/);
    assert.match(stdout, /close_tasks +5\n/);
    assert.ok(!(stdout + stderr).includes(uri), 'the URI was printed');
    assert.equal(await client.db(name).collection('close_tasks').countDocuments(), 5);
  });
});
