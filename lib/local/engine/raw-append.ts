import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type {
  KeysManifest,
  RawAppendCollectionReport,
  RawAppendReport,
} from '../../../lambdas/shared/job-reports.ts';
import type { LiveKeys } from '../../../lambdas/shared/pipeline-context.ts';
import {
  assertRunId,
  DELETES_SUMMARY_KEY,
  RUN_ID_SUMMARY_KEY,
  stagingLayout,
} from '../../contracts/index.ts';
import { deletedKeys, latestRawKeys, liveRawKeys, unreadSourceKeys } from '../../curate/deletes.ts';
import { duckdb } from '../../curate/dialect.ts';
import { DOC_EJSON_COLUMN, OP_COLUMN, RAW_OP, type Table } from '../../model/index.ts';
import { describeDataFile, writeDataFile, writePartitionedFiles } from '../iceberg/data-files.ts';
import { createTableSql } from '../iceberg/duckdb-types.ts';
import type { DataFile } from '../iceberg/manifests.ts';
import type { Snapshot } from '../iceberg/metadata.ts';
import { partitionPath, quoteIdent, quoteString } from '../iceberg/partition-sql.ts';
import { sameFieldIds } from '../iceberg/schema-evolution.ts';
import type { IcebergTable } from '../iceberg/table-ops.ts';
import { type EngineContext, type OpenedTable, openTables, stagingStore } from './context.ts';

export interface RawAppendResult extends RawAppendCollectionReport {
  readonly collection: string;
  readonly table: string;
  readonly files: number;
  readonly snapshotId?: string;
}

/**
 * The raw append job: a run's staged Parquet → one snapshot of each raw
 * table, its summary carrying the run id. Staged files already have the raw
 * table's exact schema and field ids, and every row of a run shares the
 * run's ingest day, so each file becomes a data file as it is (copied into
 * the table's data folder) with its metrics read by DuckDB. When the run
 * listed the collection's keys, the same snapshot adds a tombstone for each
 * document gone from the source (lib/curate/deletes.ts). A run id that
 * already has a snapshot is not appended again (rerun safety, DESIGN 2).
 * Each job that changes a raw table, or lists its keys, also keeps the count
 * of its live documents for the next plan (LiveKeys). Run again for a run
 * whose rows are in raw, with a key listing CheckDeletes asked for after the
 * first job, it reconciles that listing alone (ReconcileDeletes).
 */
export async function rawAppend(
  input: { readonly runId: unknown; readonly collections?: readonly string[] },
  context: EngineContext,
): Promise<RawAppendResult[]> {
  const runId = assertRunId(input.runId);
  const collections = input.collections ?? context.config.collections.map((c) => c.name);
  const tables = collections.map((collection) => context.model.rawTableFor(collection));
  const opened = await openTables(context, tables);
  const results: RawAppendResult[] = [];
  for (const [i, table] of tables.entries()) {
    results.push(await appendCollection(runId, table, opened[i] as OpenedTable, context));
  }
  const report: RawAppendReport = {
    runId,
    collections: Object.fromEntries(
      results.map((r) => [
        r.collection,
        {
          status: r.status,
          rows: r.rows,
          deletes: r.deletes,
          keysListed: r.keysListed,
          sourceKeysNotInRaw: r.sourceKeysNotInRaw,
          ...(r.liveKeys === undefined ? {} : { liveKeys: r.liveKeys }),
        },
      ]),
    ),
  };
  await stagingStore(context).putJson(
    stagingLayout.jobReport(context.config.app, runId, 'raw-append'),
    report,
  );
  return results;
}

async function appendCollection(
  runId: string,
  model: Table,
  { iceberg, table }: OpenedTable,
  context: EngineContext,
): Promise<RawAppendResult> {
  const collection = table.sourceCollection as string;
  const base = { collection, table: `${table.database}.${table.name}` };
  // Staged files carry the model's field ids; a table that numbers its fields otherwise gets rewritten copies.
  const stagedFitsTable = sameFieldIds(model, table);
  const { metadata } = await iceberg.load();
  const runSnapshots = metadata.snapshots.filter((s) => s.summary[RUN_ID_SUMMARY_KEY] === runId);
  const earlier = runTotals(runSnapshots);
  const keys = await keyListing(context, collection, runId);
  const liveKeys = liveKeysFile(context, collection, runId);
  const current = snapshotIdOf(metadata['current-snapshot-id']);
  const previous = await liveKeys.read();
  if (earlier !== undefined && keys === undefined) {
    // The job that appended may have failed before writing the count; raw is still as it left it.
    // A count that exists is raw's as the last raw append left it: no need to scan raw again.
    if (previous === undefined) await liveKeys.write(await liveKeysWith(context, iceberg, []), current);
    return { ...base, status: 'already-appended', ...earlier, keysListed: false, sourceKeysNotInRaw: 0 };
  }
  // The last count, when it is of raw as it is now.
  const counted = previous?.snapshotId === current ? previous.liveKeys : undefined;
  // An earlier job of this run appended its rows: this one only reconciles the key listing
  // (CheckDeletes asked for it after that job). Reconciling again tombstones nothing twice.
  const staged = earlier === undefined ? await stagedFiles(context, collection, runId) : [];
  const nothing = { ...base, status: 'nothing-staged', rows: 0, deletes: 0, files: 0 } as const;
  // Raw stays as it is, and so does its count.
  if (staged.length === 0 && keys === undefined)
    return { ...nothing, keysListed: false, sourceKeysNotInRaw: 0 };
  const files: DataFile[] = [];
  for (const source of staged) {
    const described = await describeDataFile(context.connection, table, source);
    const target = iceberg.dataFilePath(partitionPath(table, described.partition));
    await mkdir(dirname(target), { recursive: true });
    if (stagedFitsTable) {
      await copyFile(source, target);
      files.push({ ...described, path: target });
    } else {
      files.push(
        await writeDataFile(
          context.connection,
          table,
          `SELECT * FROM read_parquet(${quoteString(source)}, hive_partitioning = false)`,
          target,
        ),
      );
    }
  }
  const reconciled =
    keys === undefined ? undefined : await reconcileDeletes(context, table, iceberg, staged, keys, runId);
  const deletes = reconciled?.deletes ?? 0;
  files.push(...(reconciled?.tombstones ?? []));
  const rows = files.reduce((sum, f) => sum + Number(f.recordCount), 0) - deletes;
  const report = {
    keysListed: reconciled !== undefined,
    sourceKeysNotInRaw: reconciled?.unread ?? 0,
    liveKeys:
      reconciled === undefined
        ? await liveKeysWith(context, iceberg, staged, counted)
        : reconciled.live - deletes,
  };
  if (files.length === 0) {
    await liveKeys.write(report.liveKeys, current);
    return earlier === undefined
      ? { ...nothing, ...report }
      : { ...base, status: 'already-appended', ...earlier, ...report };
  }
  // Gone before raw changes: a job failing between the commit and the new count leaves none, not a wrong one.
  await liveKeys.remove();
  await context.faultPoint?.(`raw-append:before-commit:${collection}`);
  const committed = await iceberg.commit({
    operation: 'append',
    added: files,
    properties: { [RUN_ID_SUMMARY_KEY]: runId, [DELETES_SUMMARY_KEY]: String(deletes) },
    // A concurrent rerun of the same run may have won the race: then this one appends nothing.
    precondition: (latest) => {
      const now = latest.metadata.snapshots.filter((s) => s.summary[RUN_ID_SUMMARY_KEY] === runId);
      if (now.length !== runSnapshots.length) {
        throw new Error(`run ${runId} was appended to ${table.name} by a concurrent job`);
      }
    },
  });
  const snapshotId = snapshotIdOf(committed.metadata['current-snapshot-id']);
  await liveKeys.write(report.liveKeys, snapshotId);
  return {
    ...base,
    status: 'appended',
    rows: (earlier?.rows ?? 0) + rows,
    deletes: (earlier?.deletes ?? 0) + deletes,
    files: (earlier?.files ?? 0) + files.length,
    snapshotId,
    ...report,
  };
}

/** What a run's raw commits added (rows read, tombstones, files), or undefined when it has none. */
function runTotals(
  snapshots: readonly Snapshot[],
): { rows: number; deletes: number; files: number; snapshotId: string } | undefined {
  const last = snapshots.at(-1);
  if (last === undefined) return undefined;
  let rows = 0;
  let deletes = 0;
  let files = 0;
  for (const { summary } of snapshots) {
    const tombstones = Number(summary[DELETES_SUMMARY_KEY] ?? 0);
    rows += Number(summary['added-records'] ?? 0) - tombstones;
    deletes += tombstones;
    files += Number(summary['added-data-files'] ?? 0);
  }
  return { rows, deletes, files, snapshotId: String(last['snapshot-id']) };
}

/** The collection's LiveKeys file, as the run's raw append writes or removes it. */
function liveKeysFile(context: EngineContext, collection: string, runId: string) {
  const key = stagingLayout.liveKeys(context.config.app, collection);
  return {
    write: (liveKeys: number, snapshotId: string) =>
      stagingStore(context).putJson(key, { runId, liveKeys, snapshotId } satisfies LiveKeys),
    read: () => stagingStore(context).getJson<LiveKeys>(key),
    remove: () => stagingStore(context).deleteKeys([key]),
  };
}

/** The run's complete key listing of a collection (its manifest is written last), or undefined. */
async function keyListing(
  context: EngineContext,
  collection: string,
  runId: string,
): Promise<{ readonly files: string[]; readonly ingestTs: string } | undefined> {
  const manifest = await stagingStore(context).getJson<KeysManifest>(
    stagingLayout.keysManifest(context.config.app, runId, collection),
  );
  if (manifest === undefined) return undefined;
  return { files: manifest.files.map((f) => join(context.stagingRoot, f.key)), ingestTs: manifest.ingestTs };
}

/**
 * Tombstone data files for the documents the listing no longer has, the
 * count of listed keys never read, and how many keys are live in raw with
 * this run's rows (before its tombstones).
 */
async function reconcileDeletes(
  context: EngineContext,
  table: Table,
  iceberg: IcebergTable,
  staged: readonly string[],
  keys: { readonly files: readonly string[]; readonly ingestTs: string },
  runId: string,
): Promise<{ tombstones: DataFile[]; deletes: number; unread: number; live: number }> {
  const { connection } = context;
  const parquet = (files: readonly string[]) => `read_parquet([${files.map(quoteString).join(', ')}])`;
  const id = quoteIdent('_id');
  const op = quoteIdent(OP_COLUMN);
  const listed =
    keys.files.length === 0 ? `(SELECT NULL::VARCHAR AS ${id} WHERE false)` : parquet(keys.files);
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE latest_raw_keys AS ${latestRawKeys(duckdb, {
      raw: await iceberg.scanSql(),
      staged: stagedVersions(staged),
    })}`,
  );
  const tombstoneTable = `tombstones_${table.name}`;
  try {
    await connection.run(createTableSql(tombstoneTable, table, true));
    await connection.run(
      `INSERT INTO ${tombstoneTable} (${id}, ingest_ts, "_run_id", ${quoteIdent(DOC_EJSON_COLUMN)}, ${op})
       SELECT ${id}, ${duckdb.timestamp(keys.ingestTs)}, ${quoteString(runId)}, '{}', '${RAW_OP.delete}'
       FROM (${deletedKeys(duckdb, 'latest_raw_keys', listed, duckdb.timestamp(keys.ingestTs))}) deleted`,
    );
    const count = async (sql: string) => Number((await connection.runAndReadAll(sql)).getRows()[0]?.[0]);
    const unread = await count(unreadSourceKeys(duckdb, 'latest_raw_keys', listed));
    const live = await count(liveRawKeys(duckdb, 'latest_raw_keys'));
    const deletes = await count(`SELECT count(*) FROM ${tombstoneTable}`);
    const tombstones =
      deletes === 0
        ? []
        : await writePartitionedFiles(connection, table, `SELECT * FROM ${tombstoneTable}`, (p) =>
            iceberg.dataFilePath(p),
          );
    return { tombstones, deletes, unread, live };
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${tombstoneTable}`);
    await connection.run('DROP TABLE IF EXISTS latest_raw_keys');
  }
}

/**
 * Documents live in raw with this run's rows appended: what the next plan's
 * count check compares with. Given `counted`, the live documents of raw as
 * it is now, only the raw rows of the staged keys are read: the count moves
 * by how many of those keys the staged rows make live, less how many were.
 * Otherwise all of raw is counted.
 */
async function liveKeysWith(
  context: EngineContext,
  iceberg: IcebergTable,
  staged: readonly string[],
  counted?: number,
): Promise<number> {
  const raw = await iceberg.scanSql();
  const count = async (latest: string) =>
    Number(
      (await context.connection.runAndReadAll(liveRawKeys(duckdb, `(${latest}) latest`))).getRows()[0]?.[0],
    );
  if (counted === undefined) return count(latestRawKeys(duckdb, { raw, staged: stagedVersions(staged) }));
  if (staged.length === 0) return counted;
  const id = quoteIdent('_id');
  // Read from raw once, for both counts.
  const rawOfStaged = '__ll_staged_keys_raw';
  await context.connection.run(
    `CREATE OR REPLACE TEMP TABLE ${rawOfStaged} AS SELECT ${id}, ingest_ts, ${quoteIdent(OP_COLUMN)}
     FROM ${raw} WHERE ${id} IN (SELECT ${id} FROM ${stagedVersions(staged)})`,
  );
  try {
    const before = await count(latestRawKeys(duckdb, { raw: rawOfStaged, staged: stagedVersions([]) }));
    const after = await count(latestRawKeys(duckdb, { raw: rawOfStaged, staged: stagedVersions(staged) }));
    return counted - before + after;
  } finally {
    await context.connection.run(`DROP TABLE IF EXISTS ${rawOfStaged}`);
  }
}

/** A snapshot id as the LiveKeys file keeps it ('none' for a table without one). */
function snapshotIdOf(id: unknown): string {
  return id === undefined || id === null || String(id) === '-1' ? 'none' : String(id);
}

/** The staged rows as a relation with `_id`, `ingest_ts` and `_op` at least (empty when nothing is staged). */
function stagedVersions(staged: readonly string[]): string {
  return staged.length === 0
    ? `(SELECT NULL::VARCHAR AS ${quoteIdent('_id')}, NULL::TIMESTAMPTZ AS ingest_ts, NULL::VARCHAR AS ${quoteIdent(OP_COLUMN)} WHERE false)`
    : `read_parquet([${staged.map(quoteString).join(', ')}])`;
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
