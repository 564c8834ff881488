/**
 * The embedded source's memory and speed at N journal entries, in this
 * process (run with --expose-gc so each figure is of live memory):
 *   load     the collection read from a mongodump file, as `npm run local`
 *            loads it at every run (the dump of --dump, or N generated entries)
 *   index    the {updatedAt: 1, _id: 1} index built by the first query using it
 *   reads    a whole-collection chunk read as the server answers it (find, then
 *            every batch of 5,000 encoded as a reply): by `_id` range, by the
 *            index's key range (how journal entries are extracted), and the
 *            `_id` listing of delete detection
 * Prints one JSON object.
 *   node --expose-gc --import tsx bench/source-memory.ts [--docs N] [--dump FILE]
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { BSON, type Document } from 'mongodb';
import { keyRangeFilter } from '../lambdas/shared/chunk-filter.ts';
import { ALL_TYPE_ALIASES } from '../lambdas/shared/range-key.ts';
import { MemoryCollection } from '../lib/local/mongo-server/collection.ts';
import { CursorRegistry } from '../lib/local/mongo-server/cursors.ts';
import { cursorReply } from '../lib/local/mongo-server/raw-bson.ts';
import { generateJournalEntries, SAMPLE_INDEX } from '../lib/local/sample-data/index.ts';

const { values } = parseArgs({
  options: { docs: { type: 'string', default: '1000000' }, dump: { type: 'string' } },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const docs = Number(values.docs);
if (!Number.isInteger(docs) || docs < 1000)
  throw new Error(`--docs must be an integer of at least 1000, got ${values.docs}`);

const MiB = 1024 * 1024;
const BATCH = 5_000;

/** Live memory now, in MiB. */
function memory(): Record<string, number> {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return {
    rss: Math.round(usage.rss / MiB),
    heap: Math.round(usage.heapUsed / MiB),
    external: Math.round(usage.external / MiB),
    arrayBuffers: Math.round(usage.arrayBuffers / MiB),
  };
}

function less(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

async function seconds(work: () => unknown): Promise<number> {
  const started = performance.now();
  await work();
  return Number(((performance.now() - started) / 1000).toFixed(2));
}

async function writeDump(path: string): Promise<void> {
  const out = createWriteStream(path);
  for (const doc of generateJournalEntries({ journalEntries: docs }))
    if (!out.write(BSON.serialize(doc as Document)))
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  out.end();
  await finished(out);
}

/** Every document of a find, batch by batch, as the server sends them; returns how many. */
function readAll(collection: MemoryCollection, filter: Document, sort: Document, projection?: Document) {
  const cursors = new CursorRegistry();
  const found = collection.find({ filter, sort, ...(projection === undefined ? {} : { projection }) });
  let { id, batch } = cursors.start('bench.journal_entries', found, BATCH);
  let read = batch.length;
  cursorReply(id, 'bench.journal_entries', 'firstBatch', batch);
  while (id !== 0n) {
    const next = cursors.next(id, BATCH);
    if (next === undefined) break;
    ({ id, batch } = next);
    read += batch.length;
    cursorReply(id, 'bench.journal_entries', 'nextBatch', batch);
  }
  if (read !== collection.size) throw new Error(`read ${read} of ${collection.size} documents`);
}

const dir = await mkdtemp(join(tmpdir(), 'ledgerlake-bench-source-'));
try {
  const dump = values.dump ?? join(dir, 'journal_entries.bson');
  if (values.dump === undefined) await writeDump(dump);
  const baseline = memory();
  const collection = new MemoryCollection();
  const load = await seconds(() => collection.insertDump(dump));
  const loaded = memory();
  collection.createIndex({ v: 2, ...SAMPLE_INDEX });
  const index = await seconds(() => collection.count({ updatedAt: { $gt: new Date(0) } }));
  const indexed = memory();
  // Every entry as one chunk, up to the latest Date there is.
  const chunk = keyRangeFilter(['updatedAt', '_id'], null, [new Date(8.64e15), null], ALL_TYPE_ALIASES);
  const reads = {
    byId: await seconds(() => readAll(collection, {}, { _id: 1 })),
    byIndex: await seconds(() => readAll(collection, chunk, { updatedAt: 1, _id: 1 })),
    idListing: await seconds(() => readAll(collection, {}, { _id: 1 }, { _id: 1 })),
  };
  console.log(
    JSON.stringify({
      documents: collection.size,
      documentMiB: Math.round(collection.bytes.live / MiB),
      slabs: collection.bytes.slabs,
      seconds: { load, index, ...reads },
      memoryMiB: {
        baseline,
        collection: less(loaded, baseline),
        index: less(indexed, loaded),
        afterReads: less(memory(), baseline),
      },
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
