import type { Collection, Document } from 'mongodb';
import type { CollectionConfig } from '../../lib/config/index.ts';
import { logger } from '../shared/logger.ts';
import type { ChunkSpec, CollectionPlan, PipelineContext, RunPlan } from '../shared/pipeline-context.ts';
import {
  decodeBound,
  encodeBound,
  type KeyValues,
  keyProjection,
  keySort,
  keyValuesOf,
  type RangeKey,
  rangeFilter,
  rangeKeyFor,
} from '../shared/range-key.ts';
import { assertRunId, stagingLayout } from '../shared/staging-layout.ts';
import type { RunRequest } from '../validate/run-request.ts';

/** Step Functions passes at most 256 KB between states; larger chunk lists are read from S3 instead. */
export const INLINE_CHUNKS_MAX_BYTES = 200_000;

export type PlanResult =
  | {
      readonly status: 'PLANNED';
      readonly runId: string;
      readonly chunkCount: number;
      /** S3 key of the full chunk list (always written). */
      readonly chunksKey: string;
      /** The chunk list itself when it is small enough to pass between states. */
      readonly chunks?: readonly ChunkSpec[];
      /** True when this run id had been planned before (a redrive): the same plan is returned. */
      readonly resumed: boolean;
      readonly collections: readonly CollectionPlan[];
    }
  | {
      readonly status: 'ALREADY_RUNNING';
      readonly runId: string;
      readonly heldBy: string;
      readonly since: string;
    };

/**
 * Plans a run: takes the lease, fixes each collection's upper bound and splits
 * `(watermark, high]` into chunks by range key. A run id planned before gets
 * its original plan back, so a redriven execution reads the same ranges.
 *
 * `request` (validated by the ValidateInput state) narrows the run to some
 * collections, reloads them whole (`full`: incremental collections are read
 * from the beginning and their watermark still advances), or re-reads a
 * `[from, to)` window of the watermark field (`backfill`: the watermark stays).
 */
export async function planRun(
  input: { readonly runId: unknown; readonly request?: RunRequest | null },
  context: PipelineContext,
): Promise<PlanResult> {
  const runId = assertRunId(input.runId);
  const now = (context.now ?? (() => new Date()))();
  const lease = await context.runState.acquireLease(runId, now, context.config.extraction.leaseMinutes);
  if (!lease.acquired) {
    logger.warn('another run holds the lease', { runId, heldBy: lease.heldBy, since: lease.since });
    return { status: 'ALREADY_RUNNING', runId, heldBy: lease.heldBy, since: lease.since };
  }
  const app = context.config.app;
  const chunksKey = stagingLayout.chunkList(app, runId);
  const existing = await context.store.getJson<RunPlan>(stagingLayout.plan(app, runId));
  if (existing !== undefined) {
    const chunks = (await context.store.getJson<ChunkSpec[]>(chunksKey)) ?? [];
    logger.info('run was planned before; reusing its plan', { runId, chunkCount: chunks.length });
    return planResult(runId, chunksKey, chunks, existing.collections, true);
  }

  const db = (await context.mongo()).db(context.config.source.database);
  const collections: CollectionPlan[] = [];
  const chunks: ChunkSpec[] = [];
  const request = input.request ?? null;
  const selected = context.config.collections.filter(
    (c) => request === null || request.collections.includes(c.name),
  );
  for (const collectionConfig of selected) {
    const planned = await planCollection(db.collection(collectionConfig.name), collectionConfig, context, {
      runId,
      ingestTs: now.toISOString(),
      full: request?.mode === 'full',
      backfill:
        request?.backfill == null
          ? null
          : { from: new Date(request.backfill.from), to: new Date(request.backfill.to) },
    });
    collections.push(planned.plan);
    chunks.push(...planned.chunks);
    logger.info('collection planned', { runId, ...planned.plan });
  }
  // The chunk list is written before the plan: a plan object means the whole plan exists.
  await context.store.putJson(chunksKey, chunks);
  const plan: RunPlan = { runId, app, plannedAt: now.toISOString(), collections, chunkCount: chunks.length };
  if (!(await context.store.putJsonIfAbsent(stagingLayout.plan(app, runId), plan))) {
    throw new Error(
      `run ${runId} was planned concurrently by another execution; redrive it to use that plan`,
    );
  }
  return planResult(runId, chunksKey, chunks, collections, false);
}

export function planResult(
  runId: string,
  chunksKey: string,
  chunks: readonly ChunkSpec[],
  collections: readonly CollectionPlan[],
  resumed: boolean,
): PlanResult {
  const inline = JSON.stringify(chunks).length <= INLINE_CHUNKS_MAX_BYTES;
  return {
    status: 'PLANNED',
    runId,
    chunkCount: chunks.length,
    chunksKey,
    ...(inline ? { chunks } : {}),
    resumed,
    collections,
  };
}

interface RunScope {
  readonly runId: string;
  readonly ingestTs: string;
  /** Read incremental collections from the beginning (the watermark still advances). */
  readonly full: boolean;
  /** Read only documents whose watermark field is in `[from, to)`; the watermark stays. */
  readonly backfill: { readonly from: Date; readonly to: Date } | null;
}

async function planCollection(
  collection: Collection<Document>,
  config: CollectionConfig,
  context: PipelineContext,
  run: RunScope,
): Promise<{ plan: CollectionPlan; chunks: ChunkSpec[] }> {
  // A configured full reload walks `_id`, which every document has; the watermark field may be missing.
  const incremental = config.mode === 'incremental';
  const key = incremental || run.backfill !== null ? rangeKeyFor(config.watermarkField) : rangeKeyFor('_id');
  const previousWatermark = incremental ? (await context.runState.readWatermark(config.name)).bound : null;
  const watermark = previousWatermark === null ? null : decodeBound(previousWatermark);
  if (watermark !== null && watermark.length !== key.length) {
    throw new Error(
      `watermark of ${config.name} has ${watermark.length} key values but watermarkField '${config.watermarkField}' needs ${key.length}; was watermarkField changed? Reset the watermark to re-extract.`,
    );
  }
  const low =
    run.backfill !== null
      ? await lastKeyBelow(collection, key, run.backfill.from)
      : run.full
        ? null
        : watermark;
  const missingWatermarkField =
    key[0] === '_id' ? 0 : await collection.countDocuments({ [key[0] as string]: null });
  const high = await maxKey(collection, key, low, run.backfill?.to ?? null);
  const base = {
    collection: config.name,
    mode: run.backfill !== null ? ('backfill' as const) : run.full ? ('full' as const) : config.mode,
    key,
    previousWatermark,
    missingWatermarkField,
  };
  if (high === null) {
    return {
      plan: { ...base, high: previousWatermark, advancesWatermark: false, documents: 0, chunks: 0 },
      chunks: [],
    };
  }
  const documents = await collection.countDocuments(rangeFilter(key, low, high));
  const bounds = await chunkBounds(collection, key, low, high, documents, config.chunkDocs);
  const chunks = bounds.map((b, index) => ({
    runId: run.runId,
    collection: config.name,
    index,
    key,
    lower: b.lower === null ? null : encodeBound(b.lower),
    upper: encodeBound(b.upper),
    expectedDocuments: b.documents,
    ingestTs: run.ingestTs,
  }));
  return {
    plan: {
      ...base,
      high: encodeBound(high),
      advancesWatermark: incremental && run.backfill === null,
      documents,
      chunks: chunks.length,
    },
    chunks,
  };
}

/** The largest key above `low` (and, when given, with its first field below `below`), or null when there is nothing new. */
async function maxKey(
  collection: Collection<Document>,
  key: RangeKey,
  low: KeyValues | null,
  below: Date | null,
): Promise<KeyValues | null> {
  const first = key[0] as string;
  const filter = {
    $and: [
      rangeFilter(key, low, null),
      { [first]: below === null ? { $ne: null } : { $ne: null, $lt: below } },
    ],
  };
  const top = await collection
    .find(filter, { promoteValues: false })
    .sort(keySort(key, -1))
    .project(keyProjection(key))
    .limit(1)
    .next();
  return top === null ? null : keyValuesOf(top, key);
}

/**
 * The key of the last document whose first key field is below `value`, so
 * that `(that key, high]` starts exactly at `value`; null when there is none.
 */
async function lastKeyBelow(
  collection: Collection<Document>,
  key: RangeKey,
  value: Date,
): Promise<KeyValues | null> {
  const top = await collection
    .find({ [key[0] as string]: { $lt: value } }, { promoteValues: false })
    .sort(keySort(key, -1))
    .project(keyProjection(key))
    .limit(1)
    .next();
  return top === null ? null : keyValuesOf(top, key);
}

/**
 * Splits `(low, high]` into chunks of `chunkDocs` documents by walking the
 * key order: each boundary is the key of the chunkDocs-th document after the
 * previous boundary, read with a key-only projection (a covered index scan on
 * Atlas). It needs only find with sort/skip/limit, so it works where
 * `$bucketAuto` and `splitVector` are refused (FerretDB, restricted Atlas
 * users), and chunk sizes are exact rather than estimated.
 */
async function chunkBounds(
  collection: Collection<Document>,
  key: RangeKey,
  low: KeyValues | null,
  high: KeyValues,
  documents: number,
  chunkDocs: number,
): Promise<{ lower: KeyValues | null; upper: KeyValues; documents: number }[]> {
  const bounds: { lower: KeyValues | null; upper: KeyValues; documents: number }[] = [];
  let lower = low;
  let remaining = documents;
  while (remaining > chunkDocs) {
    const boundary = await collection
      .find(rangeFilter(key, lower, high), { promoteValues: false })
      .sort(keySort(key))
      .project(keyProjection(key))
      .skip(chunkDocs - 1)
      .limit(1)
      .next();
    if (boundary === null) break;
    const upper = keyValuesOf(boundary, key);
    bounds.push({ lower, upper, documents: chunkDocs });
    lower = upper;
    remaining -= chunkDocs;
  }
  if (remaining > 0 || bounds.length === 0)
    bounds.push({ lower, upper: high, documents: Math.max(remaining, 0) });
  return bounds;
}
