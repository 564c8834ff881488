import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
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
