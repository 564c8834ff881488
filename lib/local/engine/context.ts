import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { stagingLayout } from '../../../lambdas/shared/staging-layout.ts';
import type { LedgerlakeConfig } from '../../config/index.ts';
import { RUN_ID_SUMMARY_KEY } from '../../glue/job-arguments.ts';
import type { Table, TableModel } from '../../model/index.ts';
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

/** The summary property that ties a snapshot to the pipeline run that wrote it (the Glue jobs write the same). */
export const RUN_ID_PROPERTY = RUN_ID_SUMMARY_KEY;

/** Writes a job's report where Commit reads it (`stagingLayout.jobReport`), as the Glue job does in S3. */
export async function writeJobReport(
  context: EngineContext,
  runId: string,
  job: 'raw-append' | 'curate',
  report: unknown,
): Promise<void> {
  const path = join(context.stagingRoot, stagingLayout.jobReport(context.config.app, runId, job));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}

/** A JSON object the pipeline wrote under the staging root, or undefined when there is none. */
export async function readStagedJson<T>(context: EngineContext, key: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(join(context.stagingRoot, key), 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
