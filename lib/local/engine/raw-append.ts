import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { assertRunId, stagingLayout } from '../../../lambdas/shared/staging-layout.ts';
import type { Table } from '../../model/index.ts';
import { describeDataFile } from '../iceberg/data-files.ts';
import type { DataFile } from '../iceberg/manifests.ts';
import { partitionPath } from '../iceberg/partition-sql.ts';
import { type EngineContext, openTable, RUN_ID_PROPERTY } from './context.ts';

export interface RawAppendResult {
  readonly collection: string;
  readonly table: string;
  /** `appended`: one new snapshot; `already-appended`: a snapshot of this run exists (a rerun); `nothing-staged`. */
  readonly status: 'appended' | 'already-appended' | 'nothing-staged';
  readonly rows: number;
  readonly files: number;
  readonly snapshotId?: string;
}

/**
 * The raw append job: a run's staged Parquet → one snapshot of each raw
 * table, its summary carrying the run id. Staged files already have the raw
 * table's exact schema and field ids, and every row of a run shares the
 * run's ingest day, so each file becomes a data file as it is (copied into
 * the table's data folder) with its metrics read by DuckDB. A run id that
 * already has a snapshot is not appended again (rerun safety, DESIGN 2).
 */
export async function rawAppend(
  input: { readonly runId: unknown; readonly collections?: readonly string[] },
  context: EngineContext,
): Promise<RawAppendResult[]> {
  const runId = assertRunId(input.runId);
  const collections = input.collections ?? context.config.collections.map((c) => c.name);
  const results: RawAppendResult[] = [];
  for (const collection of collections) {
    results.push(await appendCollection(runId, context.model.rawTableFor(collection), context));
  }
  return results;
}

async function appendCollection(
  runId: string,
  table: Table,
  context: EngineContext,
): Promise<RawAppendResult> {
  const collection = table.sourceCollection as string;
  const base = { collection, table: `${table.database}.${table.name}` };
  const iceberg = await openTable(context, table);
  const existing = (await iceberg.load()).metadata.snapshots.find(
    (s) => s.summary[RUN_ID_PROPERTY] === runId,
  );
  if (existing !== undefined) {
    return {
      ...base,
      status: 'already-appended',
      rows: Number(existing.summary['added-records'] ?? 0),
      files: Number(existing.summary['added-data-files'] ?? 0),
      snapshotId: String(existing['snapshot-id']),
    };
  }
  const staged = await stagedFiles(context, collection, runId);
  if (staged.length === 0) return { ...base, status: 'nothing-staged', rows: 0, files: 0 };
  const files: DataFile[] = [];
  for (const source of staged) {
    const described = await describeDataFile(context.connection, table, source);
    const target = iceberg.dataFilePath(partitionPath(table, described.partition));
    await mkdir(dirname(target), { recursive: true });
    await copyFile(source, target);
    files.push({ ...described, path: target });
  }
  const committed = await iceberg.commit({
    operation: 'append',
    added: files,
    properties: { [RUN_ID_PROPERTY]: runId },
    // A concurrent rerun of the same run may have won the race: then this one appends nothing.
    precondition: (latest) => {
      if (latest.metadata.snapshots.some((s) => s.summary[RUN_ID_PROPERTY] === runId)) {
        throw new Error(`run ${runId} was appended to ${table.name} by a concurrent job`);
      }
    },
  });
  return {
    ...base,
    status: 'appended',
    rows: files.reduce((sum, f) => sum + Number(f.recordCount), 0),
    files: files.length,
    snapshotId: String(committed.metadata['current-snapshot-id']),
  };
}

async function stagedFiles(context: EngineContext, collection: string, runId: string): Promise<string[]> {
  const folder = join(
    context.stagingRoot,
    stagingLayout.runDataPrefix(context.config.app, collection, runId),
  );
  try {
    return (await readdir(folder))
      .filter((name) => name.endsWith('.parquet'))
      .sort()
      .map((name) => join(folder, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
