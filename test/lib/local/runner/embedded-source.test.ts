import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BSON, type Collection, type FindCursor, type FindOptions, MongoClient } from 'mongodb';
import { openEmbeddedSource } from '../../../../lib/local/runner/embedded-source.ts';

const DATABASE = 'ledger';
const SCALE = 200;
const COLLECTIONS = ['accounts', 'journal_entries', 'close_tasks'];

/** Opens the source saved in `folder` (seeding it the first time) and lists each collection's index keys. */
async function indexesOf(folder: string): Promise<Record<string, unknown[]>> {
  const source = await openEmbeddedSource(folder, DATABASE, SCALE);
  const client = await new MongoClient(source.uri).connect();
  try {
    const db = client.db(DATABASE);
    const listed: Record<string, unknown[]> = {};
    for (const name of COLLECTIONS)
      listed[name] = (await db.collection(name).listIndexes().toArray()).map((index) => index.key);
    return listed;
  } finally {
    await client.close();
    await source.close();
  }
}

/** Every document in `_id` order, as its BSON bytes. */
function rawFind(collection: Collection, options: FindOptions = {}): FindCursor<Buffer> {
  return collection.find({}, { sort: { _id: 1 }, ...options, raw: true }) as unknown as FindCursor<Buffer>;
}

const EXPECTED = Object.fromEntries(
  COLLECTIONS.map((name) => [name, [{ _id: 1 }, { updatedAt: 1, _id: 1 }]]),
);

describe('the embedded source keeps its indexes across runs', () => {
  let folder: string;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'embedded-source-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('seeds each sample collection with an index on {updatedAt: 1, _id: 1}', async () => {
    assert.deepEqual(await indexesOf(folder), EXPECTED);
  });

  it('saves the indexes next to the documents, as mongodump does, and declares them on reload', async () => {
    const metadata = JSON.parse(
      await readFile(join(folder, DATABASE, 'journal_entries.metadata.json'), 'utf8'),
    );
    assert.deepEqual(
      metadata.indexes.map((index: { name: string }) => index.name),
      ['_id_', 'updatedAt_1__id_1'],
    );
    assert.deepEqual(await indexesOf(folder), EXPECTED);
  });

  it('gives a dump saved before indexes were recorded the sample index', async () => {
    for (const name of COLLECTIONS) await unlink(join(folder, DATABASE, `${name}.metadata.json`));
    assert.deepEqual(await indexesOf(folder), EXPECTED);
  });
});

describe('the embedded source serves a saved dump from the file', () => {
  let folder: string;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'embedded-source-file-'));
    await (await openEmbeddedSource(folder, DATABASE, SCALE)).close();
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('reads on from the old dump in a cursor open while the source is saved, and reloads what was saved', async () => {
    const dump = join(folder, DATABASE, 'journal_entries.bson');
    const before = await readFile(dump);
    const source = await openEmbeddedSource(folder, DATABASE, SCALE);
    const client = await new MongoClient(source.uri).connect();
    try {
      const entries = client.db(DATABASE).collection('journal_entries');
      const original = await rawFind(entries).toArray();
      assert.deepEqual(Buffer.concat(original), before);
      const cursor = rawFind(entries, { batchSize: 10 });
      const read: Buffer[] = [];
      for (let i = 0; i < 25; i++) read.push((await cursor.next()) as Buffer);
      await entries.updateMany({}, { $set: { description: 'changed' } });
      const removed = [original[30], original[150]].map((raw) => BSON.deserialize(raw as Buffer)._id);
      await entries.deleteMany({ _id: { $in: removed } });
      await source.save(source.state);
      for await (const raw of cursor) read.push(raw);
      assert.deepEqual(read, original);
      const changed = await entries.find({}, { sort: { _id: 1 } }).toArray();
      assert.equal(changed.length, original.length - 2);
      assert.ok(changed.every((doc) => doc.description === 'changed'));
    } finally {
      await client.close();
      await source.close();
    }
    const reopened = await openEmbeddedSource(folder, DATABASE, SCALE);
    const reader = await new MongoClient(reopened.uri).connect();
    try {
      const entries = reader.db(DATABASE).collection('journal_entries');
      const reloaded = await rawFind(entries).toArray();
      assert.deepEqual(Buffer.concat(reloaded), await readFile(dump));
      assert.equal(reloaded.length, SCALE - 2);
      assert.equal(await entries.countDocuments({ description: { $ne: 'changed' } }), 0);
    } finally {
      await reader.close();
      await reopened.close();
    }
  });
});
