import { createHash, type Hash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { BSON } from 'mongodb';
import { assertRunId, stagingLayout } from '../../lib/contracts/index.ts';
import { DOC_EJSON_COLUMN, type Table } from '../../lib/model/index.ts';
import { chunkFilter } from '../shared/chunk-filter.ts';
import { logger } from '../shared/logger.ts';
import { deleteAllBut } from '../shared/object-store.ts';
import { ParquetStager } from '../shared/parquet-stager.ts';
import {
  type ChunkManifest,
  type ChunkSpec,
  collectionConfig,
  type PipelineContext,
  type ReloadFingerprint,
} from '../shared/pipeline-context.ts';
import { keySort, supportedTypeAliases } from '../shared/range-key.ts';
import { RowMapper } from '../shared/row-mapper.ts';

/**
 * As the driver decodes a cursor's documents with `promoteValues: false`, which
 * keeps Int32/Long/Double/Decimal128 distinct, for exact money and faithful
 * Extended JSON (the driver's other defaults are deserialize's own).
 */
const DECODE = { promoteValues: false } as const;

/**
 * Extracts one range or irregular chunk: reads its documents with a cursor
 * sorted by the chunk's key, maps each to the raw row shape and streams the
 * rows into Parquet files under the run's staging folder. File names depend
 * only on run, collection, chunk and part, so a retry overwrites its own
 * files; parts left over from an earlier, larger attempt are deleted.
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
  const table = context.model.rawTableFor(chunk.collection);
  const mapper = new RowMapper(
    table,
    config.watermarkField === '_id' ? {} : { watermarkField: config.watermarkField },
  );
  const stamp = { runId, ingestTsMicros: BigInt(Date.parse(chunk.ingestTs)) * 1000n };
  const stager = new ParquetStager({
    table,
    workDir: context.workDir ?? tmpdir(),
    keyFor: (part) => stagingLayout.dataFile(app, chunk.collection, runId, chunk.index, part),
    upload: (path, key) => context.store.uploadFile(path, key),
    fileRows: extraction.stagingFileRows,
    opaqueColumns: [DOC_EJSON_COLUMN],
  });

  const db = (await context.mongo()).db(source.database);
  const filter = chunkFilter(chunk, await supportedTypeAliases(db, chunk.collection));
  // raw: each document's BSON bytes, decoded once here for the mapper, which also writes `_doc_ejson` from them.
  const cursor = db
    .collection(chunk.collection)
    .find(filter, { sort: keySort(chunk.key), batchSize: extraction.cursorBatchDocs, raw: true });

  const content = config.mode === 'full' && chunk.kind === 'range' ? contentHash(table) : undefined;
  let documents = 0;
  let quarantined = 0;
  const reasons = new Map<string, number>();
  try {
    for await (const raw of cursor as unknown as AsyncIterable<Uint8Array>) {
      content?.update(raw);
      const { row, errors } = mapper.map(BSON.deserialize(raw, DECODE), stamp, raw);
      const flushing = stager.add(row);
      if (flushing !== undefined) await flushing;
      documents++;
      if (errors.length > 0) {
        quarantined++;
        for (const error of errors) {
          const reason = reasonOf(error);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }
    }
  } finally {
    await cursor.close();
  }
  const staged = await stager.finish();
  const contentSha256 = content?.digest('hex');
  const unchanged = contentSha256 !== undefined && (await lastReloadRead(context, chunk)) === contentSha256;
  const files = unchanged ? [] : staged;
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
    quarantined,
    quarantineReasons: Object.fromEntries([...reasons].sort(([a], [b]) => a.localeCompare(b))),
    undeclaredFields: [...mapper.undeclaredFields].sort(),
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
    quarantined,
    files: files.length,
    bytes: manifest.bytes,
    seconds: manifest.seconds,
  });
  return manifest;
}

/** A hash that starts with the raw table's schema: a model change makes every reload differ. */
function contentHash(table: Table): Hash {
  return createHash('sha256').update(JSON.stringify(table.fields)).update('\0');
}

/** What the last committed reload read in this chunk's key range, if one was recorded. */
async function lastReloadRead(context: PipelineContext, chunk: ChunkSpec): Promise<string | undefined> {
  const fingerprint = await context.store.getJson<ReloadFingerprint>(
    stagingLayout.reloadFingerprint(context.config.app, chunk.collection),
  );
  return fingerprint?.chunks.find((c) => c.lower === chunk.lower && c.upper === chunk.upper)?.contentSha256;
}

/** Groups messages by field and problem, without the offending value or list positions. */
export function reasonOf(error: string): string {
  return error.replace(/\[\d+\]/g, '[]').replace(/(, got .*| \(.*\))$/s, '');
}
