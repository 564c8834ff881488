/**
 * What the Glue jobs (and the local engine's twins) report about a run, as
 * JSON at `stagingLayout.jobReport(app, runId, job)`. Commit reads them into
 * the run summary and its metrics; the generated Python writes the same keys.
 */

/** The key listing of one collection, written after its Parquet files (see `stagingLayout.keysManifest`). */
export interface KeysManifest {
  readonly runId: string;
  readonly collection: string;
  /** The run's ingest timestamp (ISO 8601), as in the plan. */
  readonly ingestTs: string;
  /** Number of `_id`s listed. */
  readonly keys: number;
  readonly files: readonly { readonly key: string; readonly rows: number; readonly bytes: number }[];
  readonly seconds: number;
}

export interface RawAppendCollectionReport {
  /** `appended`: one new snapshot; `already-appended`: a snapshot of this run existed; `nothing-staged`. */
  readonly status: 'appended' | 'already-appended' | 'nothing-staged';
  /** Rows read from the source that the run appended (tombstones not included). */
  readonly rows: number;
  /** Tombstones appended: documents live in raw that the run's key listing no longer had. */
  readonly deletes: number;
  /** Whether the run listed the collection's keys (delete reconciliation ran). */
  readonly keysListed: boolean;
  /** Listed source keys with no raw row at all after the append: documents extraction never read. */
  readonly sourceKeysNotInRaw: number;
  /**
   * Documents live in raw after the append (its tombstones subtracted), also written as the
   * collection's LiveKeys; absent when the run neither staged nor listed anything for it.
   */
  readonly liveKeys?: number;
}

export interface RawAppendReport {
  readonly runId: string;
  readonly collections: Readonly<Record<string, RawAppendCollectionReport>>;
}

export interface CurateTableReport {
  /** `merged`: a new snapshot; `unchanged`: the run changed no row of this table (no snapshot). */
  readonly status: 'merged' | 'unchanged';
  /** Rows the MERGE inserted or updated, and rows it deleted. */
  readonly upserted: number;
  readonly deleted: number;
}

export interface CurateReport {
  readonly runId: string;
  /** By table name (without database). */
  readonly tables: Readonly<Record<string, CurateTableReport>>;
  /** Open data-quality issues per code after the run (the whole table, not only this run's documents). */
  readonly dataQuality: Readonly<Record<string, number>>;
}
