import { tmpdir } from 'node:os';
import { assertRunId, stagingLayout } from '../../lib/contracts/index.ts';
import { DOC_EJSON_COLUMN } from '../../lib/model/index.ts';
import { chunkFilter } from '../shared/chunk-filter.ts';
import { logger } from '../shared/logger.ts';
import { deleteAllBut } from '../shared/object-store.ts';
import { ParquetStager } from '../shared/parquet-stager.ts';
import {
  type ChunkManifest,
  type ChunkSpec,
  collectionConfig,
  type PipelineContext,
} from '../shared/pipeline-context.ts';
import { keySort, supportedTypeAliases } from '../shared/range-key.ts';
import { RowMapper } from '../shared/row-mapper.ts';

/**
 * Extracts one range or irregular chunk: reads its documents with a cursor
 * sorted by the chunk's key, maps each to the raw row shape and streams the
 * rows into Parquet files under the run's staging folder. File names depend
 * only on run, collection, chunk and part, so a retry overwrites its own
 * files; parts left over from an earlier, larger attempt are deleted.
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
  const cursor = db
    .collection(chunk.collection)
    // promoteValues: false keeps Int32/Long/Double/Decimal128 distinct, for exact money and faithful Extended JSON.
    .find(filter, { sort: keySort(chunk.key), batchSize: extraction.cursorBatchDocs, promoteValues: false });

  let documents = 0;
  let quarantined = 0;
  const reasons = new Map<string, number>();
  try {
    for await (const doc of cursor) {
      const { row, errors } = mapper.map(doc, stamp);
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
  const files = await stager.finish();
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

/** Groups messages by field and problem, without the offending value or list positions. */
export function reasonOf(error: string): string {
  return error.replace(/\[\d+\]/g, '[]').replace(/(, got .*| \(.*\))$/s, '');
}
