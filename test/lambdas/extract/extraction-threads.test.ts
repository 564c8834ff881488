import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { parquetReadObjects } from 'hyparquet';
import { MongoClient } from 'mongodb';
import { extractChunk } from '../../../lambdas/extract/extract-chunk.ts';
import { ExtractionThreads, threadsFor } from '../../../lambdas/extract/extraction-threads.ts';
import { logger } from '../../../lambdas/shared/logger.ts';
import type { ChunkManifest, ChunkSpec, PipelineContext } from '../../../lambdas/shared/pipeline-context.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { FsObjectStore } from '../../../lib/local/fs-object-store.ts';
import { FsRunStateStore } from '../../../lib/local/fs-run-state.ts';
import { type RunningMongoServer, startMongoServer } from '../../../lib/local/mongo-server/index.ts';
import { generateJournalEntries } from '../../../lib/local/sample-data/index.ts';
import { buildTableModel } from '../../../lib/model/index.ts';

logger.setLogLevel('ERROR');

const config = resolveConfig();
const model = buildTableModel(config);
const ENTRIES = 3_000;

/** The whole journal as one chunk, as plan would hand it out. */
const chunk = (index: number): ChunkSpec => ({
  runId: 'run-threads',
  collection: 'journal_entries',
  index,
  kind: 'range',
  key: ['updatedAt', '_id'],
  lower: null,
  upper: null,
  expectedDocuments: ENTRIES,
  ingestTs: '2026-01-05T10:00:00.000Z',
});

describe('extraction on worker threads (ExtractionThreads) stages exactly what the cursor thread stages', () => {
  let server: RunningMongoServer;
  let client: MongoClient;
  let dir: string;
  const contextAt = (name: string, threads?: ExtractionThreads): PipelineContext => ({
    config,
    model,
    store: new FsObjectStore(join(dir, name)),
    runState: new FsRunStateStore(join(dir, name, 'state')),
    mongo: async () => client,
    workDir: dir,
    ...(threads === undefined ? {} : { extractionThreads: threads }),
  });
  const rows = async (context: PipelineContext, manifest: ChunkManifest) => {
    const out: Record<string, unknown>[] = [];
    for (const file of manifest.files) {
      const bytes = await readFile(join((context.store as FsObjectStore).root, file.key));
      out.push(
        ...(await parquetReadObjects({
          file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
        })),
      );
    }
    return out;
  };
  const comparable = ({ seconds: _seconds, ...manifest }: ChunkManifest) => manifest;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-threads-'));
    server = await startMongoServer();
    client = await new MongoClient(server.uri).connect();
    await client
      .db(config.source.database)
      .collection('journal_entries')
      .insertMany([...generateJournalEntries({ journalEntries: ENTRIES })]);
  });
  after(async () => {
    await client.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('same manifest, same files, same rows; chunks queue for the pool, which stays within its size and ends idle threads', async () => {
    const here = contextAt('here');
    const expected = await extractChunk(chunk(0), here);
    assert.equal(expected.documents, ENTRIES);

    const threads = new ExtractionThreads(1, 0);
    try {
      const threaded = contextAt('threaded', threads);
      // Three chunks at once on one thread: each waits for it, and each stages what the cursor thread did.
      const manifests = await Promise.all([0, 1, 2].map((i) => extractChunk(chunk(i), threaded)));
      assert.equal(threads.started, 1);
      for (const [i, manifest] of manifests.entries()) {
        const { index: _i, files, ...rest } = comparable(manifest);
        const { index: _e, files: expectedFiles, ...expectedRest } = comparable(expected);
        assert.deepEqual(rest, expectedRest, `chunk ${i}`);
        assert.deepEqual(
          files.map((f) => f.rows),
          expectedFiles.map((f) => f.rows),
        );
        assert.deepEqual(await rows(threaded, manifest), await rows(here, expected), `chunk ${i} rows`);
      }
      // Idle, the thread ends, so its memory is back before the Glue jobs run; a new chunk starts another.
      await setTimeout(1_500);
      assert.equal(threads.started, 0);
      assert.equal((await extractChunk(chunk(3), threaded)).documents, ENTRIES);
      assert.equal(threads.started, 1);
    } finally {
      await threads.close();
    }
  });

  it('a failure on the worker fails the chunk with its message, and the next chunk gets a working thread', async () => {
    const threads = new ExtractionThreads(1, 0);
    try {
      const context = contextAt('failing', threads);
      const failing: PipelineContext = {
        ...context,
        store: Object.assign(Object.create(context.store), {
          uploadFile: async () => {
            throw new Error('injected: S3 is unreachable');
          },
        }),
      };
      await assert.rejects(extractChunk(chunk(0), failing), /injected: S3 is unreachable/);
      const manifest = await extractChunk(chunk(1), context);
      assert.equal(manifest.documents, ENTRIES);
      assert.equal(manifest.rows, ENTRIES);
    } finally {
      await threads.close();
    }
  });

  it('takes one thread per core, fewer when memory cannot hold them, at least one', () => {
    assert.equal(threadsFor(512, 2), 2);
    assert.equal(threadsFor(512, 8), 3);
    assert.equal(threadsFor(100, 4), 1);
  });
});
