import type { Collection, Document } from 'mongodb';
import type { CollectionConfig } from '../../lib/config/index.ts';
import { assertRunId, PLAN_STATUS, stagingLayout } from '../../lib/contracts/index.ts';
import { keyRangeFilter } from '../shared/chunk-filter.ts';
import { logger } from '../shared/logger.ts';
import type {
  ChunkKind,
  ChunkSpec,
  CollectionPlan,
  IrregularWatermarks,
  LiveKeys,
  PipelineContext,
  RunPlan,
} from '../shared/pipeline-context.ts';
import {
  decodeBound,
  encodeBound,
  type KeyValues,
  keyProjection,
  keySort,
  keyValuesOf,
  type RangeKey,
  rangeKeyFor,
  supportedTypeAliases,
} from '../shared/range-key.ts';
import { RunSuperseded, releaseOwnLease } from '../shared/run-state.ts';
import {
  futureCutoff,
  irregularWatermarkFilter,
  irregularWatermarkFilters,
  notAnArray,
} from '../shared/watermark-filters.ts';
import type { RunRequest } from '../validate/run-request.ts';

/** Step Functions passes at most 256 KB between states; larger chunk lists are read from S3 instead. */
export const INLINE_CHUNKS_MAX_BYTES = 200_000;

export type PlanResult =
  | {
      readonly status: typeof PLAN_STATUS.planned;
      readonly runId: string;
      readonly chunkCount: number;
      /** S3 key of the full chunk list (always written). */
      readonly chunksKey: string;
      /** The chunk list itself when it is small enough to pass between states. */
      readonly chunks?: readonly ChunkSpec[];
      /** True when this run id had been planned before (a resume or replay): the same plan is returned. */
      readonly resumed: boolean;
      readonly collections: readonly CollectionPlan[];
    }
  | {
      readonly status: typeof PLAN_STATUS.alreadyRunning;
      readonly runId: string;
      readonly heldBy: string;
      readonly since: string;
    }
  | {
      /** `request.maintenance`: the lease is taken for the maintenance job; nothing is planned. */
      readonly status: typeof PLAN_STATUS.maintenance;
      readonly runId: string;
    }
  | {
      /** The run committed before (a replay): nothing to do, and the lease was not taken. */
      readonly status: typeof PLAN_STATUS.alreadyCommitted;
      readonly runId: string;
    };

/**
 * Plans a run: takes the lease, fixes each collection's upper bound and splits
 * `(watermark, high]` into chunks by range key, adds chunks for documents
 * whose watermark field cannot place them in a range, and a key listing per
 * collection for delete detection.
 *
 * Replays and resumes (`request.resume`, a new execution running an earlier
 * run id): a run id that committed before returns ALREADY_COMMITTED without
 * taking the lease; one planned before gets its original plan back, so the
 * resumed run reads the same ranges and keeps what it staged, unless a later
 * run has been planned since (RunSuperseded: that run and the ones after it
 * read everything this one would). Resuming a run never planned fails
 * (RunNotFound).
 *
 * `request` (validated by the ValidateInput state) narrows the run to some
 * collections, reloads them whole (`full`: incremental collections are read
 * from the beginning and their watermark still advances), or re-reads a
 * `[from, to)` window of the watermark field (`backfill`: the watermark stays).
 */
/** `input.resume` names a run that was never planned: there is nothing to resume. */
export class RunNotFound extends Error {
  constructor(readonly runId: string) {
    super(
      `input.resume: run ${runId} was never planned here, so there is nothing to resume; start a new run without "resume"`,
    );
    this.name = 'RunNotFound';
  }
}

export async function planRun(
  input: { readonly runId: unknown; readonly request?: RunRequest | null },
  context: PipelineContext,
): Promise<PlanResult> {
  const runId = assertRunId(input.runId);
  const app = context.config.app;
  if (input.request?.maintenance === true) return takeMaintenanceLease(runId, context);
  if ((await context.store.getJson(stagingLayout.summary(app, runId))) !== undefined) {
    logger.info('run was committed before; nothing to do', { runId });
    // Not taken: only given back if a commit of this run stopped before releasing it.
    await releaseOwnLease(context.runState, runId);
    return { status: PLAN_STATUS.alreadyCommitted, runId };
  }
  if (
    input.request?.resume != null &&
    (await context.store.getJson(stagingLayout.plan(app, runId))) === undefined
  ) {
    throw new RunNotFound(runId);
  }
  const now = (context.now ?? (() => new Date()))();
  const lease = await context.runState.acquireLease(runId, now, context.config.extraction.leaseMinutes);
  if (!lease.acquired) {
    logger.warn('another run holds the lease', { runId, heldBy: lease.heldBy, since: lease.since });
    return { status: PLAN_STATUS.alreadyRunning, runId, heldBy: lease.heldBy, since: lease.since };
  }
  const chunksKey = stagingLayout.chunkList(app, runId);
  const existing = await context.store.getJson<RunPlan>(stagingLayout.plan(app, runId));
  if (existing !== undefined) {
    const latest = await context.runState.readLastPlannedRun();
    if (latest !== null && latest.runId !== runId) {
      await context.runState.releaseLease(runId);
      throw new RunSuperseded(runId, latest);
    }
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
      planTime: now,
      full: request?.mode === 'full',
      backfill:
        request?.backfill == null
          ? null
          : { from: new Date(request.backfill.from), to: new Date(request.backfill.to) },
      typeAliases: await supportedTypeAliases(db, collectionConfig.name),
    });
    collections.push(planned.plan);
    chunks.push(...planned.chunks);
    logger.info('collection planned', { runId, ...planned.plan });
  }
  const lastCommitted = await context.runState.readLastCommittedRun();
  // Recorded first: from here on, an older run that was planned but not committed is superseded.
  await context.runState.recordPlannedRun({ runId, plannedAt: now.toISOString() });
  // The chunk list is written before the plan: a plan object means the whole plan exists.
  await context.store.putJson(chunksKey, chunks);
  const plan: RunPlan = {
    runId,
    app,
    plannedAt: now.toISOString(),
    collections,
    chunkCount: chunks.length,
    ...(lastCommitted === null ? {} : { curateSince: lastCommitted.ingestTs }),
  };
  if (!(await context.store.putJsonIfAbsent(stagingLayout.plan(app, runId), plan))) {
    throw new Error(
      `run ${runId} was planned concurrently by another execution; resume it ({"resume": "${runId}"}) to use that plan`,
    );
  }
  return planResult(runId, chunksKey, chunks, collections, false);
}

/**
 * Maintenance (compaction, manifest rewrite, snapshot expiry, orphan removal)
 * rewrites the tables an ingest run commits to, so it runs under the same
 * lease: held for the Glue job's whole timeout, since the lease is not renewed.
 */
async function takeMaintenanceLease(runId: string, context: PipelineContext): Promise<PlanResult> {
  const now = (context.now ?? (() => new Date()))();
  const minutes = Math.max(
    context.config.extraction.leaseMinutes,
    context.config.aws.glue.timeoutMinutes + 5,
  );
  const lease = await context.runState.acquireLease(runId, now, minutes);
  if (!lease.acquired) {
    logger.info('maintenance waits: a run holds the lease', { runId, heldBy: lease.heldBy });
    return { status: PLAN_STATUS.alreadyRunning, runId, heldBy: lease.heldBy, since: lease.since };
  }
  logger.info('lease taken for maintenance', { runId, leaseMinutes: minutes });
  return { status: PLAN_STATUS.maintenance, runId };
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
    status: PLAN_STATUS.planned,
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
  /** Also the run's ingest timestamp. */
  readonly planTime: Date;
  /** Read incremental collections from the beginning (the watermark still advances). */
  readonly full: boolean;
  /** Read only documents whose watermark field is in `[from, to)`; the watermark stays. */
  readonly backfill: { readonly from: Date; readonly to: Date } | null;
  readonly typeAliases: ReadonlySet<string>;
}

const NO_IRREGULAR: IrregularWatermarks = {
  missingWatermarkField: 0,
  watermarkFieldType: 0,
  futureWatermark: 0,
};

async function planCollection(
  collection: Collection<Document>,
  config: CollectionConfig,
  context: PipelineContext,
  run: RunScope,
): Promise<{ plan: CollectionPlan; chunks: ChunkSpec[] }> {
  // A configured full reload walks `_id`, which every document has; the watermark field may be missing.
  const incremental = config.mode === 'incremental';
  const key = incremental || run.backfill !== null ? rangeKeyFor(config.watermarkField) : rangeKeyFor('_id');
  const byWatermark = key[0] !== '_id';
  const previousWatermark = incremental ? (await context.runState.readWatermark(config.name)).bound : null;
  const watermark = usableWatermark(config, key, previousWatermark, run.planTime);
  const low =
    run.backfill !== null
      ? await lastKeyBelow(collection, key, run.backfill.from)
      : run.full
        ? null
        : watermark;
  const ranges = new RangeQueries(collection, key, run.typeAliases);
  const high = await ranges.maxKey(low, byWatermark ? run.planTime : null, run.backfill?.to ?? null);
  const irregular = byWatermark
    ? await countIrregular(collection, config.watermarkField, run.planTime)
    : NO_IRREGULAR;
  const documents = high === null ? 0 : await collection.countDocuments(ranges.filter(low, high));
  const bounds = high === null ? [] : await ranges.chunkBounds(low, high, documents, config.chunkDocs);
  const chunkOf = (kind: ChunkKind, index: number, chunkKey: RangeKey, bound: ChunkBound): ChunkSpec => ({
    runId: run.runId,
    collection: config.name,
    index,
    kind,
    key: chunkKey,
    lower: bound.lower === null ? null : encodeBound(bound.lower),
    upper: bound.upper === null ? null : encodeBound(bound.upper),
    expectedDocuments: bound.documents,
    ingestTs: run.planTime.toISOString(),
  });
  const chunks = bounds.map((b, index) => chunkOf('range', index, key, b));
  // Read apart, by `_id`: they have no place in the watermark's order.
  const irregularTotal =
    irregular.missingWatermarkField + irregular.watermarkFieldType + irregular.futureWatermark;
  if (irregularTotal > 0) {
    const idKey = rangeKeyFor('_id');
    const subset = irregularWatermarkFilter(config.watermarkField, run.planTime);
    const idRanges = new RangeQueries(collection, idKey, run.typeAliases, subset);
    for (const b of await idRanges.chunkBounds(null, null, irregularTotal, config.chunkDocs)) {
      chunks.push({
        ...chunkOf('irregular', chunks.length, idKey, b),
        watermarkField: config.watermarkField,
      });
    }
  }
  const readChunks = chunks.length;
  const deletes =
    config.deletes === 'every-run'
      ? await deleteDetection(collection, context, documents + irregularTotal)
      : ({ kind: 'none' } as const);
  if (deletes.kind === 'list') {
    const everything = { lower: null, upper: null, documents: deletes.sourceDocuments };
    chunks.push(chunkOf('keys', chunks.length, rangeKeyFor('_id'), everything));
  }
  return {
    plan: {
      collection: config.name,
      mode: run.backfill !== null ? 'backfill' : run.full ? 'full' : config.mode,
      key,
      previousWatermark,
      high: high === null ? previousWatermark : encodeBound(high),
      advancesWatermark: high !== null && incremental && run.backfill === null,
      documents,
      chunks: readChunks,
      ...irregular,
      detectDeletes: deletes.kind === 'list',
      ...(deletes.kind === 'counted' ? { documentsCountedLikeRaw: deletes.sourceDocuments } : {}),
      ...(deletes.kind === 'after-append' ? { countAfterAppend: deletes.sourceDocuments } : {}),
    },
    chunks,
  };
}

/**
 * How a run finds the documents gone from the source, from its document
 * count. Let L be what raw holds live (LiveKeys, as the last raw append left
 * it), R the documents this run reads, I ≤ R those new to raw, D the
 * documents raw holds that the source lost, and U the source's documents
 * that no range reads (written with a watermark the pipeline has passed):
 * the count is L + I − D + U.
 * - `counted`: count = L + R gives D = U − (R − I) ≤ U. A run that reads
 *   nothing, or only new documents, lists no keys unless such unreadable
 *   documents exist.
 * - `list` up front, beside the extraction: raw's count is unknown (no
 *   LiveKeys), or count < L, so D > I + U ≥ 0 and something is gone.
 * - `after-append`: anything else (the run reads updates). The raw append
 *   learns L' = L + I, and CheckDeletes lists the keys only when the count
 *   differs from it: count = L' gives D = U. So a run of updates with no
 *   deletes lists nothing, and its work follows the change, not the
 *   collection. When unreadable documents exist and deletes exactly offset
 *   them, the next listing (any count that differs) finds both.
 */
type DeleteDetection =
  | { readonly kind: 'none' }
  | { readonly kind: 'counted' | 'list' | 'after-append'; readonly sourceDocuments: number };

async function deleteDetection(
  collection: Collection<Document>,
  context: PipelineContext,
  read: number,
): Promise<DeleteDetection> {
  const live = await context.store.getJson<LiveKeys>(
    stagingLayout.liveKeys(context.config.app, collection.collectionName),
  );
  const sourceDocuments = await collection.countDocuments({});
  if (live === undefined || sourceDocuments < live.liveKeys) return { kind: 'list', sourceDocuments };
  if (sourceDocuments === live.liveKeys + read) return { kind: 'counted', sourceDocuments };
  return { kind: 'after-append', sourceDocuments };
}

/**
 * The committed watermark as a lower bound. One that no range can have
 * produced (its watermark value not a Date, or in the future: a poisoned
 * watermark from before ranges were limited to the plan time) would hide
 * every later change, so the collection is read from the start instead and
 * commit moves the watermark back to a real bound.
 */
function usableWatermark(
  config: CollectionConfig,
  key: RangeKey,
  stored: string | null,
  planTime: Date,
): KeyValues | null {
  if (stored === null) return null;
  const values = decodeBound(stored);
  if (values.length !== key.length) {
    throw new Error(
      `watermark of ${config.name} has ${values.length} key values but watermarkField '${config.watermarkField}' needs ${key.length}; was watermarkField changed? Reset the watermark to re-extract.`,
    );
  }
  if (key[0] === '_id') return values;
  const first = values[0];
  if (first instanceof Date && first.getTime() <= futureCutoff(planTime).getTime()) return values;
  logger.warn(
    'the stored watermark is not a Date up to the plan time; reading the collection from the start',
    {
      collection: config.name,
      watermark: stored,
    },
  );
  return null;
}

async function countIrregular(
  collection: Collection<Document>,
  field: string,
  planTime: Date,
): Promise<IrregularWatermarks> {
  const filters = irregularWatermarkFilters(field, planTime);
  return {
    missingWatermarkField: await collection.countDocuments(filters.missingWatermarkField),
    watermarkFieldType: await collection.countDocuments(filters.watermarkFieldType),
    futureWatermark: await collection.countDocuments(filters.futureWatermark),
  };
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
  const first = key[0] as string;
  const top = await collection
    .find({ $and: [{ [first]: { $lt: value } }, notAnArray(first)] }, { promoteValues: false })
    .sort(keySort(key, -1))
    .project(keyProjection(key))
    .limit(1)
    .next();
  return top === null ? null : keyValuesOf(top, key);
}

/** One chunk's `(lower, upper]` and how many documents the plan counted in it. */
interface ChunkBound {
  readonly lower: KeyValues | null;
  readonly upper: KeyValues | null;
  readonly documents: number;
}

/** The queries that plan a range of one key, optionally within a subset of the collection. */
class RangeQueries {
  constructor(
    private readonly collection: Collection<Document>,
    private readonly key: RangeKey,
    private readonly typeAliases: ReadonlySet<string>,
    private readonly within: Document | null = null,
  ) {}

  filter(lower: KeyValues | null, upper: KeyValues | null): Document {
    return keyRangeFilter(this.key, lower, upper, this.typeAliases, this.within);
  }

  /**
   * The largest key above `low`, or null when there is nothing new. A range
   * by a watermark field ends at the plan time (`notAfter`), so a document
   * dated in the future never becomes a bound; a backfill ends before `below`.
   */
  async maxKey(low: KeyValues | null, notAfter: Date | null, below: Date | null): Promise<KeyValues | null> {
    const first = this.key[0] as string;
    const limits: Document = {};
    if (notAfter !== null) limits.$lte = notAfter;
    if (below !== null) limits.$lt = below;
    const filter =
      Object.keys(limits).length === 0
        ? this.filter(low, null)
        : { $and: [this.filter(low, null), { [first]: limits }] };
    const top = await this.collection
      .find(filter, { promoteValues: false })
      .sort(keySort(this.key, -1))
      .project(keyProjection(this.key))
      .limit(1)
      .next();
    return top === null ? null : keyValuesOf(top, this.key);
  }

  /**
   * Splits `(low, high]` into chunks of `chunkDocs` documents by walking the
   * key order: each boundary is the key of the chunkDocs-th document after the
   * previous boundary, read with a key-only projection (a covered index scan on
   * Atlas). It needs only find with sort/skip/limit, so it works where
   * `$bucketAuto` and `splitVector` are refused (FerretDB, restricted Atlas
   * users), and chunk sizes are exact rather than estimated. A null `high`
   * leaves the last chunk open.
   */
  async chunkBounds(
    low: KeyValues | null,
    high: KeyValues | null,
    documents: number,
    chunkDocs: number,
  ): Promise<ChunkBound[]> {
    const bounds: ChunkBound[] = [];
    let lower = low;
    let remaining = documents;
    while (remaining > chunkDocs) {
      const boundary = await this.collection
        .find(this.filter(lower, high), { promoteValues: false })
        .sort(keySort(this.key))
        .project(keyProjection(this.key))
        .skip(chunkDocs - 1)
        .limit(1)
        .next();
      if (boundary === null) break;
      const upper = keyValuesOf(boundary, this.key);
      bounds.push({ lower, upper, documents: chunkDocs });
      lower = upper;
      remaining -= chunkDocs;
    }
    if (remaining > 0 || bounds.length === 0)
      bounds.push({ lower, upper: high, documents: Math.max(remaining, 0) });
    return bounds;
  }
}
