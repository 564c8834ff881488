import { tmpdir } from 'node:os';
import { assertRunId, stagingLayout } from '../../lib/contracts/index.ts';
import { chunkFilter } from '../shared/chunk-filter.ts';
import { logger } from '../shared/logger.ts';
import { deleteAllBut } from '../shared/object-store.ts';
import {
  type ChunkManifest,
  type ChunkSpec,
  collectionConfig,
  type PipelineContext,
  type ReloadFingerprint,
} from '../shared/pipeline-context.ts';
import { keySort, supportedTypeAliases } from '../shared/range-key.ts';
import { ChunkProcessor, type ChunkProcessorSetup, type Upload } from './chunk-processor.ts';
import type { DocumentSink } from './extraction-threads.ts';

/**
 * Extracts one range or irregular chunk: reads its documents as raw BSON with
 * a cursor sorted by the chunk's key and hands them to a ChunkProcessor
 * (here, or on a worker thread when the context has ExtractionThreads),
 * which maps each to the raw row shape and streams the rows into Parquet
 * files under the run's staging folder. File names depend only on run,
 * collection, chunk and part, so a retry overwrites its own files; parts
 * left over from an earlier, larger attempt are deleted.
 *
 * A chunk of a full-reload collection also hashes what it read. When that is
 * what the last committed reload read (same schema, same documents, byte for
 * byte), raw already holds every document as its latest version, so the
 * chunk keeps no files: an unchanged chart of accounts commits no snapshot.
 */
export async function extractChunk(chunk: ChunkSpec, context: PipelineContext): Promise<ChunkManifest> {
  if (chunk.kind === 'keys') {
    throw new Error(`chunk ${chunk.index} of ${chunk.collection} is a key listing: run it with listKeys`);
  }
  const started = performance.now();
  const runId = assertRunId(chunk.runId);
  const { app, extraction, source } = context.config;
  const config = collectionConfig(context, chunk.collection);
  const setup: ChunkProcessorSetup = {
    table: context.model.rawTableFor(chunk.collection),
    ...(config.watermarkField === '_id' ? {} : { watermarkField: config.watermarkField }),
    runId,
    ingestTsMicros: BigInt(Date.parse(chunk.ingestTs)) * 1000n,
    workDir: context.workDir ?? tmpdir(),
    app,
    collection: chunk.collection,
    chunkIndex: chunk.index,
    fileRows: extraction.stagingFileRows,
    hashContent: config.mode === 'full' && chunk.kind === 'range',
  };
  const upload: Upload = (path, key) => context.store.uploadFile(path, key);
  // With threads, waiting for a free one comes before the cursor opens: that is what bounds the chunks in flight.
  const sink: DocumentSink =
    context.extractionThreads === undefined
      ? new ChunkProcessor(setup, upload)
      : await context.extractionThreads.open(setup, upload, chunk.expectedDocuments);

  const db = (await context.mongo()).db(source.database);
  const filter = chunkFilter(chunk, await supportedTypeAliases(db, chunk.collection));
  // raw: each document stays its BSON bytes; the processor decodes it once and writes `_doc_ejson` from them.
  const cursor = db
    .collection(chunk.collection)
    .find(filter, { sort: keySort(chunk.key), batchSize: extraction.cursorBatchDocs, raw: true });
  let read = false;
  try {
    for await (const raw of cursor as unknown as AsyncIterable<Uint8Array>) {
      const busy = sink.add(raw);
      if (busy !== undefined) await busy;
    }
    read = true;
  } finally {
    await cursor.close();
    if (!read) sink.abort();
  }
  const processed = await sink.finish();
  const { documents, contentSha256 } = processed;
  const unchanged = contentSha256 !== undefined && (await lastReloadRead(context, chunk)) === contentSha256;
  const files = unchanged ? [] : processed.files;
  await deleteAllBut(
    context.store,
    stagingLayout.chunkDataPrefix(app, chunk.collection, runId, chunk.index),
    files,
  );

  const manifest: ChunkManifest = {
    runId,
    collection: chunk.collection,
    index: chunk.index,
    documents,
    rows: files.reduce((sum, f) => sum + f.rows, 0),
    quarantined: processed.quarantined,
    quarantineReasons: processed.quarantineReasons,
    undeclaredFields: processed.undeclaredFields,
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    ...(contentSha256 === undefined ? {} : { contentSha256, unchangedDocuments: unchanged ? documents : 0 }),
  };
  await context.store.putJson(
    stagingLayout.chunkManifest(app, runId, chunk.collection, chunk.index),
    manifest,
  );
  logger.info('chunk extracted', {
    runId,
    collection: chunk.collection,
    chunk: chunk.index,
    kind: chunk.kind,
    documents,
    quarantined: processed.quarantined,
    files: files.length,
    bytes: manifest.bytes,
    seconds: manifest.seconds,
  });
  return manifest;
}

/** What the last committed reload read in this chunk's key range, if one was recorded. */
async function lastReloadRead(context: PipelineContext, chunk: ChunkSpec): Promise<string | undefined> {
  const fingerprint = await context.store.getJson<ReloadFingerprint>(
    stagingLayout.reloadFingerprint(context.config.app, chunk.collection),
  );
  return fingerprint?.chunks.find((c) => c.lower === chunk.lower && c.upper === chunk.upper)?.contentSha256;
}
