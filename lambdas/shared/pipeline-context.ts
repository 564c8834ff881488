import type { MongoClient } from 'mongodb';
import type { LedgerlakeConfig } from '../../lib/config/index.ts';
import type { TableModel } from '../../lib/model/index.ts';
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
   * Called at named points inside a step (e.g. `commit:after-watermark:<collection>`), so tests can
   * fail or kill a run exactly there. @default - none
   */
  readonly faultPoint?: (point: string) => void | Promise<void>;
}

/** One unit of extraction work: documents of `collection` with key in `(lower, upper]`. */
export interface ChunkSpec {
  readonly runId: string;
  readonly collection: string;
  readonly index: number;
  /** Range key fields, e.g. ['updatedAt', '_id']. */
  readonly key: readonly string[];
  /** Encoded exclusive lower bound; null reads from the start. */
  readonly lower: string | null;
  /** Encoded inclusive upper bound. */
  readonly upper: string;
  readonly expectedDocuments: number;
  /** Ingest timestamp of the whole run (ISO 8601), so a retried chunk writes identical rows. */
  readonly ingestTs: string;
}

export interface CollectionPlan {
  readonly collection: string;
  /** How this run reads the collection: its configured mode, or what the run request asked for. */
  readonly mode: 'incremental' | 'full' | 'backfill';
  readonly key: readonly string[];
  /** Watermark read when the run was planned (incremental only). */
  readonly previousWatermark: string | null;
  /** The upper bound fixed for this run; null when the collection is empty. */
  readonly high: string | null;
  /** Whether commit moves the watermark to `high`. */
  readonly advancesWatermark: boolean;
  readonly documents: number;
  readonly chunks: number;
  /** Documents without the watermark field: incremental runs cannot see them, so they are reported. */
  readonly missingWatermarkField: number;
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
