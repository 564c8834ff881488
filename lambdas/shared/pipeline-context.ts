import type { MongoClient } from 'mongodb';
import type { LedgerlakeConfig } from '../../lib/config/index.ts';
import type { TableModel } from '../../lib/model/index.ts';
import type { ExtractionThreads } from '../extract/extraction-threads.ts';
import type { ObjectStore } from './object-store.ts';
import type { RunStateStore } from './run-state.ts';

/** What plan, extract and commit need; handlers build it from the environment, tests from local parts. */
export interface PipelineContext {
  readonly config: LedgerlakeConfig;
  readonly model: TableModel;
  readonly store: ObjectStore;
  readonly runState: RunStateStore;
  readonly mongo: () => Promise<MongoClient>;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Folder for Parquet files while they are written. @default os.tmpdir() */
  readonly workDir?: string;
  /**
   * Worker threads for the CPU-bound half of extraction, shared by the chunks
   * a process extracts at once (the local runner). @default - each chunk on
   * its own thread, as on Lambda
   */
  readonly extractionThreads?: ExtractionThreads;
  /**
   * Called at named points inside a step (e.g. `commit:after-watermark:<collection>`), so tests can
   * fail or kill a run exactly there. @default - none
   */
  readonly faultPoint?: (point: string) => void | Promise<void>;
}

/**
 * What a chunk reads: `range` the documents whose range key is in
 * `(lower, upper]`; `irregular` the documents whose watermark field is
 * missing, not a Date or in the future (read on every run, by `_id` in
 * `(lower, upper]`); `keys` every `_id` of the collection, listed for delete
 * detection.
 */
export type ChunkKind = 'range' | 'irregular' | 'keys';

/** One unit of extraction work, run by the same function for every kind. */
export interface ChunkSpec {
  readonly runId: string;
  readonly collection: string;
  readonly index: number;
  readonly kind: ChunkKind;
  /** Range key fields, e.g. ['updatedAt', '_id']; ['_id'] for irregular and key chunks. */
  readonly key: readonly string[];
  /** Encoded exclusive lower bound; null reads from the start. */
  readonly lower: string | null;
  /** Encoded inclusive upper bound; null (key listings) reads to the end. */
  readonly upper: string | null;
  readonly expectedDocuments: number;
  /**
   * Ingest timestamp of the whole run (ISO 8601), so a retried chunk writes identical rows. It is
   * also the plan time that decides which watermarks are in the future (irregular chunks).
   */
  readonly ingestTs: string;
  /** The watermark field an irregular chunk classifies by. @default - none (range and key chunks) */
  readonly watermarkField?: string;
}

/** Documents a run reads apart from its range because of their watermark field, by reason. */
export interface IrregularWatermarks {
  /** The watermark field is missing or null. */
  readonly missingWatermarkField: number;
  /** The watermark field holds something other than a Date (a string, a number, a Timestamp, an array, ...). */
  readonly watermarkFieldType: number;
  /** The watermark field is a Date more than FUTURE_WATERMARK_TOLERANCE_MS after the plan time. */
  readonly futureWatermark: number;
}

export interface CollectionPlan extends IrregularWatermarks {
  readonly collection: string;
  /** How this run reads the collection: its configured mode, or what the run request asked for. */
  readonly mode: 'incremental' | 'full' | 'backfill';
  readonly key: readonly string[];
  /** Watermark read when the run was planned (incremental only). */
  readonly previousWatermark: string | null;
  /** The upper bound fixed for this run; never after the plan time. Null when nothing is in range. */
  readonly high: string | null;
  /** Whether commit moves the watermark to `high`. */
  readonly advancesWatermark: boolean;
  /** Documents in the range `(previousWatermark, high]` (irregular ones are counted apart). */
  readonly documents: number;
  /** Chunks reading documents (range and irregular; the key listing not included). */
  readonly chunks: number;
  /**
   * Whether the plan lists every `_id` for delete detection beside the extraction (`deletes:
   * 'every-run'` when raw's live count is unknown, or the source holds fewer documents).
   */
  readonly detectDeletes: boolean;
  /**
   * Set when `deletes: 'every-run'` needs no listing: the source holds exactly as many documents
   * as raw holds live (LiveKeys) plus those the run reads, so none of raw's is gone (see
   * deleteDetection in plan-run.ts). The source's count.
   */
  readonly documentsCountedLikeRaw?: number;
  /**
   * Set when the run reads documents raw may already hold, so the count decides only after the
   * raw append: CheckDeletes lists the keys when raw's live count then differs from this, the
   * source's count at the plan time.
   */
  readonly countAfterAppend?: number;
}

/**
 * The documents a run reads of a collection as its plan counted them: its range, plus those read
 * apart for their watermark field (counts absent from plans made before they were kept read as 0).
 */
export function plannedDocuments(plan: CollectionPlan): number {
  return (
    plan.documents +
    (plan.missingWatermarkField ?? 0) +
    (plan.watermarkFieldType ?? 0) +
    (plan.futureWatermark ?? 0)
  );
}

/**
 * How many documents a collection's raw table holds live (their latest version is not a tombstone),
 * at stagingLayout.liveKeys. The raw append keeps it: a job about to change the table removes it
 * first, and writes the new count once its snapshot is committed (or when a key listing changed
 * nothing); a job that leaves the table as it is leaves the file too. So it describes raw as the
 * last raw append left it, whether or not that run went on to commit, and is missing when a job
 * failed in between. `runId` names the run whose raw append wrote it.
 */
export interface LiveKeys {
  readonly runId: string;
  readonly liveKeys: number;
  /**
   * The raw table's snapshot the count is of ('none' before the table's first commit; absent from
   * files written before it was kept). While it is still the table's current snapshot, the next raw
   * append, on either engine, counts from it and the raw rows of the keys it stages, instead of
   * over the whole table.
   */
  readonly snapshotId?: string;
}

export interface RunPlan {
  readonly runId: string;
  readonly app: string;
  readonly plannedAt: string;
  readonly collections: readonly CollectionPlan[];
  readonly chunkCount: number;
  /**
   * Raw rows ingested after this instant (ISO 8601) are curated by this run: the ingest time of the
   * last committed run, so the rows of failed runs since then are curated too. Absent: all of raw.
   */
  readonly curateSince?: string;
}

export interface ChunkManifest {
  readonly runId: string;
  readonly collection: string;
  readonly index: number;
  readonly documents: number;
  readonly rows: number;
  readonly quarantined: number;
  readonly quarantineReasons: Readonly<Record<string, number>>;
  readonly undeclaredFields: readonly string[];
  readonly files: readonly { readonly key: string; readonly rows: number; readonly bytes: number }[];
  readonly bytes: number;
  readonly seconds: number;
  /**
   * Full-reload collections: SHA-256 of the raw table's schema and of every document's BSON, in
   * key order. Equal to the last committed reload's (ReloadFingerprint), the chunk stages nothing.
   */
  readonly contentSha256?: string;
  /** Documents read but not staged, because raw already holds them exactly (the reload is unchanged). */
  readonly unchangedDocuments?: number;
}

/** What the last committed reload of a full-mode collection read, chunk by chunk (stagingLayout.reloadFingerprint). */
export interface ReloadFingerprint {
  readonly runId: string;
  readonly chunks: readonly {
    readonly lower: string | null;
    readonly upper: string | null;
    readonly contentSha256: string;
  }[];
}

export function collectionConfig(context: PipelineContext, collection: string) {
  const found = context.config.collections.find((c) => c.name === collection);
  if (found === undefined) {
    throw new Error(
      `collection '${collection}' is not configured (configured: ${context.config.collections.map((c) => c.name).join(', ')})`,
    );
  }
  return found;
}
