import { tmpdir } from 'node:os';
import { BSON } from 'mongodb';
import { assertRunId, stagingLayout } from '../../lib/contracts/index.ts';
import { RAW_ID, type Table } from '../../lib/model/index.ts';
import type { KeysManifest } from '../shared/job-reports.ts';
import { logger } from '../shared/logger.ts';
import { deleteAllBut } from '../shared/object-store.ts';
import { ParquetStager } from '../shared/parquet-stager.ts';
import { type ChunkSpec, collectionConfig, type PipelineContext } from '../shared/pipeline-context.ts';
import { idText } from '../shared/row-mapper.ts';

/** Keys are small: larger files and row groups than documents, still bounded in memory. */
const KEYS_FILE_ROWS = 5_000_000;
const KEYS_ROW_GROUP_ROWS = 100_000;
const KEYS_BATCH_DOCS = 50_000;

/**
 * Lists every `_id` of a collection for delete detection: a cursor sorted by
 * `_id` that projects only `_id` (on MongoDB a covered scan of the `_id`
 * index, no document is fetched), streamed into Parquet files with one
 * column, `_id` in the raw table's text form. The manifest is deleted first
 * and written last, so it exists only when the files hold one whole listing:
 * the raw append reconciles deletes only then.
 */
export async function listKeys(chunk: ChunkSpec, context: PipelineContext): Promise<KeysManifest> {
  if (chunk.kind !== 'keys') {
    throw new Error(`chunk ${chunk.index} of ${chunk.collection} is not a key listing (kind ${chunk.kind})`);
  }
  const started = performance.now();
  const runId = assertRunId(chunk.runId);
  const { app, source } = context.config;
  collectionConfig(context, chunk.collection);
  const manifestKey = stagingLayout.keysManifest(app, runId, chunk.collection);
  await context.store.deleteKeys([manifestKey]);

  const stager = new ParquetStager({
    table: keysTable(context.model.rawTableFor(chunk.collection)),
    workDir: context.workDir ?? tmpdir(),
    keyFor: (part) => stagingLayout.keysFile(app, chunk.collection, runId, part),
    upload: (path, key) => context.store.uploadFile(path, key),
    fileRows: KEYS_FILE_ROWS,
    rowGroupRows: KEYS_ROW_GROUP_ROWS,
    // Unique values: no dictionary attempt; no reader prunes a key listing by statistics.
    opaqueColumns: [RAW_ID.name],
  });
  const cursor = (await context.mongo())
    .db(source.database)
    .collection(chunk.collection)
    // raw: each document stays its BSON bytes; an ObjectId `_id` is read straight from them.
    .find({}, { projection: { _id: 1 }, sort: { _id: 1 }, batchSize: KEYS_BATCH_DOCS, raw: true });
  let keys = 0;
  const add = async (doc: unknown) => {
    const flushing = stager.add({ [RAW_ID.name]: rawIdText(doc as Uint8Array) });
    if (flushing !== undefined) await flushing;
    keys++;
  };
  try {
    // A batch at a time (as the driver's toArray reads): the async iterator's promise per key costs more than the key.
    for await (const first of cursor) {
      await add(first);
      for (const doc of cursor.readBufferedDocuments()) await add(doc);
    }
  } finally {
    await cursor.close();
  }
  const files = await stager.finish();
  await deleteAllBut(context.store, stagingLayout.keysPrefix(app, chunk.collection, runId), files);

  const manifest: KeysManifest = {
    runId,
    collection: chunk.collection,
    ingestTs: chunk.ingestTs,
    keys,
    files,
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  };
  await context.store.putJson(manifestKey, manifest);
  logger.info('keys listed', {
    runId,
    collection: chunk.collection,
    chunk: chunk.index,
    keys,
    files: files.length,
    seconds: manifest.seconds,
  });
  return manifest;
}

const OBJECT_ID_TYPE = 0x07;
/** `{_id: ObjectId}` as the server sends it: length, type, "_id\0", 12 bytes, end. */
const OBJECT_ID_ONLY_BYTES = 4 + 1 + 4 + 12 + 1;

/**
 * `_id` of a projected `{_id}` document in the raw table's text form
 * (idText): the usual ObjectId is hex of its 12 bytes, read without decoding
 * the document; any other `_id` is decoded.
 */
export function rawIdText(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    buffer.length === OBJECT_ID_ONLY_BYTES &&
    buffer[4] === OBJECT_ID_TYPE &&
    buffer.toString('latin1', 5, 9) === '_id\0'
  ) {
    return buffer.toString('hex', 9, 21);
  }
  return idText(BSON.deserialize(buffer, { promoteValues: false })._id);
}

/** The raw table reduced to its `_id` column (same field id), the layout of a key listing file. */
function keysTable(raw: Table): Table {
  return { ...raw, fields: raw.fields.filter((field) => field.name === RAW_ID.name) };
}
