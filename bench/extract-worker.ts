/**
 * One measurement in a fresh process, so its peak RSS is its own:
 *   cursor  — the bare driver cursor over the range (the ceiling)
 *   extract — extractChunk over the same range as one chunk; with --threads T, its
 *             processing on T worker threads (ExtractionThreads, as the local runner does)
 *   plan    — planRun splitting the range into chunks
 *   keys    — listKeys over the whole collection (delete detection's key listing)
 * Prints one JSON line.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { extractChunk } from '../lambdas/extract/extract-chunk.ts';
import { ExtractionThreads } from '../lambdas/extract/extraction-threads.ts';
import { listKeys } from '../lambdas/extract/list-keys.ts';
import { planRun } from '../lambdas/plan/plan-run.ts';
import type { PipelineContext } from '../lambdas/shared/pipeline-context.ts';
import { encodeBound, keySort } from '../lambdas/shared/range-key.ts';
import { resolveConfig } from '../lib/config/index.ts';
import { PLAN_STATUS } from '../lib/contracts/index.ts';
import { FsObjectStore } from '../lib/local/fs-object-store.ts';
import { FsRunStateStore } from '../lib/local/fs-run-state.ts';
import { buildTableModel } from '../lib/model/index.ts';
import { sampleRss } from './peak-rss.ts';

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    uri: { type: 'string' },
    database: { type: 'string', default: 'fq_app' },
    docs: { type: 'string' },
    chunkDocs: { type: 'string', default: '50000' },
    threads: { type: 'string', default: '0' },
  },
});
const mode = values.mode;
const uri = values.uri;
if (uri === undefined || !['cursor', 'extract', 'plan', 'keys'].includes(mode ?? '')) {
  throw new Error('usage: extract-worker --mode cursor|extract|plan|keys --uri <mongodb uri> --docs <n>');
}
const docs = Number(values.docs);
const client = await new MongoClient(uri).connect();
const collection = client.db(values.database).collection('journal_entries');
const dir = await mkdtemp(join(tmpdir(), 'ledgerlake-bench-'));
const batchSize = 5_000;

// The range is the first `docs` documents by _id; finding its upper bound is not timed.
const nth = await collection
  .find({}, { sort: keySort(['_id']), skip: docs - 1, limit: 1, promoteValues: false })
  .next();
if (nth === null) throw new Error(`the collection has fewer than ${docs} documents`);
const upper = encodeBound([nth._id]);

const rss = sampleRss(20);

const threads = Number(values.threads) > 0 ? new ExtractionThreads(Number(values.threads), 0) : undefined;
const started = performance.now();
let read = 0;
let extra: Record<string, unknown> = {};
if (mode === 'cursor') {
  const cursor = collection.find(
    { _id: { $lte: nth._id } },
    { sort: keySort(['_id']), batchSize, promoteValues: false },
  );
  for await (const _doc of cursor) read++;
} else {
  const config = resolveConfig({
    source: { database: values.database, secretName: 'bench' },
    collections: [
      {
        name: 'journal_entries',
        mode: 'incremental',
        watermarkField: '_id',
        chunkDocs: Math.min(Number(values.chunkDocs), 1_000_000),
      },
    ],
    extraction: { cursorBatchDocs: batchSize },
  });
  const context: PipelineContext = {
    config,
    model: buildTableModel(config),
    store: new FsObjectStore(join(dir, 'warehouse')),
    runState: new FsRunStateStore(join(dir, 'state')),
    mongo: async () => client,
    workDir: dir,
    ...(threads === undefined ? {} : { extractionThreads: threads }),
  };
  if (mode === 'plan') {
    const plan = await planRun({ runId: 'bench' }, context);
    extra = { chunks: plan.status === PLAN_STATUS.planned ? plan.chunkCount : 0 };
    read = docs;
  } else if (mode === 'keys') {
    // The whole collection, as delete detection lists it every run.
    const manifest = await listKeys(
      {
        runId: 'bench',
        collection: 'journal_entries',
        index: 0,
        kind: 'keys',
        key: ['_id'],
        lower: null,
        upper: null,
        expectedDocuments: docs,
        ingestTs: new Date().toISOString(),
      },
      context,
    );
    read = manifest.keys;
    extra = {
      files: manifest.files.length,
      megabytes: Number((manifest.files.reduce((sum, f) => sum + f.bytes, 0) / 1e6).toFixed(1)),
    };
  } else {
    const manifest = await extractChunk(
      {
        runId: 'bench',
        collection: 'journal_entries',
        index: 0,
        kind: 'range',
        key: ['_id'],
        lower: null,
        upper,
        expectedDocuments: docs,
        ingestTs: new Date().toISOString(),
      },
      context,
    );
    read = manifest.documents;
    extra = {
      files: manifest.files.length,
      megabytes: Number((manifest.bytes / 1e6).toFixed(1)),
      quarantined: manifest.quarantined,
    };
  }
}
const seconds = (performance.now() - started) / 1000;
await threads?.close();
const peakRssMiB = rss.peakMiB();
rss.stop();
await client.close();
await rm(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    mode,
    threads: threads?.size ?? 0,
    documents: read,
    seconds: Number(seconds.toFixed(2)),
    docsPerSecond: Math.round(read / seconds),
    peakRssMiB,
    ...extra,
  }),
);
