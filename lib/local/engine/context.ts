import type { DuckDBConnection } from '@duckdb/node-api';
import type { LedgerlakeConfig } from '../../config/index.ts';
import type { Table, TableModel } from '../../model/index.ts';
import { SchemaChangeRefused } from '../../model/schema-history.ts';
import { FsObjectStore } from '../fs-object-store.ts';
import type { FsCatalog } from '../iceberg/catalog.ts';
import { checkSchema, evolveSchema } from '../iceberg/schema-evolution.ts';
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

/** The table of `model`, created from the model on first use and evolved when the model changed it. */
export async function openTable(context: EngineContext, table: Table): Promise<IcebergTable> {
  return (await openTables(context, [table]))[0]?.iceberg as IcebergTable;
}

/** An Iceberg table a job writes, with the model's table as it is stored: the Iceberg table's own field ids. */
export interface OpenedTable {
  readonly iceberg: IcebergTable;
  readonly table: Table;
}

/**
 * Opens the tables a job writes: first checks every existing one against the
 * model (a refused change throws before any table is created or changed),
 * then creates the missing ones and evolves the rest (schema, and the
 * model's table properties).
 */
export async function openTables(context: EngineContext, tables: readonly Table[]): Promise<OpenedTable[]> {
  const existing = await Promise.all(tables.map((t) => context.catalog.load(context.catalog.locationOf(t))));
  const refused = tables.flatMap((table, i) => {
    const loaded = existing[i];
    if (loaded === undefined) return [];
    try {
      checkSchema(loaded, table);
      return [];
    } catch (error) {
      if (error instanceof SchemaChangeRefused) return error.reasons;
      throw error;
    }
  });
  if (refused.length > 0) throw new SchemaChangeRefused(refused);
  const opened: OpenedTable[] = [];
  for (const [i, table] of tables.entries()) {
    const loaded = existing[i] ?? (await context.catalog.createIfAbsent(table));
    const evolved = await evolveSchema(context.catalog, loaded, table);
    const iceberg = new IcebergTable(context.catalog, evolved.loaded.location);
    await iceberg.setProperties(table.properties);
    opened.push({ iceberg, table: evolved.table });
  }
  return opened;
}

/**
 * The staging root as the object store the functions use locally, so the jobs read plans and key
 * listings and write their reports (`stagingLayout.jobReport`) where Commit reads them, as the Glue jobs do in S3.
 */
export function stagingStore(context: EngineContext): FsObjectStore {
  return new FsObjectStore(context.stagingRoot);
}
