import type { DuckDBConnection } from '@duckdb/node-api';
import type { LedgerlakeConfig } from '../../config/index.ts';
import type { Table, TableModel } from '../../model/index.ts';
import { FsObjectStore } from '../fs-object-store.ts';
import type { FsCatalog } from '../iceberg/catalog.ts';
import { evolveSchema } from '../iceberg/schema-evolution.ts';
import { IcebergTable } from '../iceberg/table-ops.ts';

/** What the local engine's jobs (the Glue jobs' local twins) work with. */
export interface EngineContext {
  readonly config: LedgerlakeConfig;
  readonly model: TableModel;
  readonly catalog: FsCatalog;
  /** DuckDB does the compute: reading staged and table Parquet, running the curate SQL, writing data files. */
  readonly connection: DuckDBConnection;
  /** Local folder holding the object store's keys (`staging/<app>/...`). */
  readonly stagingRoot: string;
  /**
   * Called at named points inside a job (`raw-append:before-commit:<collection>`,
   * `curate:after-commit:<table>`), so tests can fail or kill a run exactly there. @default - none
   */
  readonly faultPoint?: (point: string) => void | Promise<void>;
}

/** The table of `model`, created from the model on first use and evolved when the model gained columns. */
export async function openTable(context: EngineContext, table: Table): Promise<IcebergTable> {
  const loaded = await context.catalog.createIfAbsent(table);
  await evolveSchema(context.catalog, loaded, table);
  return new IcebergTable(context.catalog, loaded.location);
}

/**
 * The staging root as the object store the functions use locally, so the jobs read plans and key
 * listings and write their reports (`stagingLayout.jobReport`) where Commit reads them, as the Glue jobs do in S3.
 */
export function stagingStore(context: EngineContext): FsObjectStore {
  return new FsObjectStore(context.stagingRoot);
}
