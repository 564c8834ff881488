import type { CurateReport, CurateTableReport } from '../../../lambdas/shared/job-reports.ts';
import type { RunPlan } from '../../../lambdas/shared/pipeline-context.ts';
import {
  assertRunId,
  CURATE_TABLE_SUMMARY_KEY,
  RUN_ID_SUMMARY_KEY,
  stagingLayout,
} from '../../contracts/index.ts';
import { duckdb } from '../../curate/dialect.ts';
import {
  beforeRelation,
  CURATE_RAW_COLLECTIONS,
  changedRelation,
  curateRelations,
  curateSteps,
  DELETE_FLAG,
  RUN_CLOCK_RELATION,
  rawRelation,
  watermarkColumns,
} from '../../curate/statements.ts';
import type { Table } from '../../model/index.ts';
import { deserializeStringBound } from '../iceberg/bounds.ts';
import { writePartitionedFiles } from '../iceberg/data-files.ts';
import type { ManifestEntry } from '../iceberg/manifests.ts';
import { quoteIdent, quoteString } from '../iceberg/partition-sql.ts';
import { currentSchema, type IcebergTable, relationOver } from '../iceberg/table-ops.ts';
import { type EngineContext, type OpenedTable, openTable, openTables, stagingStore } from './context.ts';

export interface CurateResult {
  readonly table: string;
  /** `merged`: a new snapshot; `unchanged`: the run changed no row of this table (no snapshot). */
  readonly status: 'merged' | 'unchanged';
  readonly upserted: number;
  readonly deleted: number;
  /** Data files the MERGE rewrote (copy-on-write) and the files that replace them. */
  readonly filesRewritten: number;
  readonly filesWritten: number;
  /** Live data files the MERGE left untouched. */
  readonly filesKept: number;
  readonly snapshotId?: string;
}

/** DuckDB names of what the steps read: views over the tables' live files, refreshed after each commit. */
const current = (table: string) => `current_${table}`;
const scratch = (table: string) => `scratch_${table}`;

/**
 * The curate job: the steps of lib/curate/statements.ts in DuckDB's
 * rendering, the same ones Glue runs. The documents touched since the last
 * committed run (as the run's plan says) are recomputed from their latest raw
 * version; each curated table gets only the rows that differ, by a
 * copy-on-write MERGE of just the data files holding those rows. A table with
 * no changes gets no snapshot.
 */
export async function curate(
  input: { readonly runId: unknown },
  context: EngineContext,
): Promise<CurateResult[]> {
  const runId = assertRunId(input.runId);
  const { connection, model, config } = context;
  const plan = await runPlan(context, runId);
  const since = plan?.curateSince;
  await connection.run(
    `CREATE OR REPLACE TEMP VIEW ${RUN_CLOCK_RELATION} AS SELECT ${duckdb.timestamp(plan?.plannedAt ?? new Date().toISOString())} AS planned_at`,
  );
  for (const collection of CURATE_RAW_COLLECTIONS) {
    const raw = await openTable(context, model.rawTableFor(collection));
    await connection.run(
      `CREATE OR REPLACE TEMP VIEW ${rawRelation(collection)} AS SELECT * FROM ${await raw.scanSql()}`,
    );
    const changed = since === undefined ? 'true' : `ingest_ts > ${duckdb.timestamp(since)}`;
    await connection.run(
      `CREATE OR REPLACE TEMP VIEW ${changedRelation(collection)} AS SELECT * FROM ${rawRelation(collection)} WHERE ${changed}`,
    );
    await connection.run(
      `CREATE OR REPLACE TEMP VIEW ${beforeRelation(collection)} AS SELECT * FROM ${rawRelation(collection)} WHERE NOT (${changed})`,
    );
  }
  const curated = model.tables.filter((t) => t.layer !== 'raw').map((t) => t.name);
  const tables = new Map<string, OpenedTable>();
  const opened = await openTables(
    context,
    curated.map((name) => model.table(name)),
  );
  for (const [i, name] of curated.entries()) {
    const target = opened[i] as OpenedTable;
    tables.set(name, target);
    await refreshView(context, name, target.iceberg);
  }
  const relations = curateRelations(current, scratch);
  const steps = curateSteps(duckdb, relations, watermarkColumns(config, model), model);
  const results: CurateResult[] = [];
  for (const step of steps) {
    await connection.run(`CREATE OR REPLACE TEMP TABLE ${step.name} AS ${step.sql}`);
    if (step.kind === 'relation') continue;
    const target = tables.get(step.table) as OpenedTable;
    results.push(await mergeChanges(context, runId, target, step.name, step.merge));
    await context.faultPoint?.(`curate:after-commit:${step.table}`);
  }
  for (const step of steps) await connection.run(`DROP TABLE IF EXISTS ${step.name}`);
  await stagingStore(context).putJson(
    stagingLayout.jobReport(context.config.app, runId, 'curate'),
    await report(context, runId, results),
  );
  return results;
}

/** Applies one table's changes (the relation `changes`) with `merge`, copy-on-write; commits nothing when there are none. */
async function mergeChanges(
  context: EngineContext,
  runId: string,
  target: { readonly table: Table; readonly iceberg: IcebergTable },
  changes: string,
  merge: string,
): Promise<CurateResult> {
  const { connection } = context;
  const { table, iceberg } = target;
  const name = `${table.database}.${table.name}`;
  const [upserted, deleted] = (
    await connection.runAndReadAll(
      `SELECT count(*) FILTER (WHERE NOT ${quoteIdent(DELETE_FLAG)}), count(*) FILTER (WHERE ${quoteIdent(DELETE_FLAG)}) FROM ${changes}`,
    )
  ).getRows()[0] as [bigint, bigint];
  const counts = { upserted: Number(upserted), deleted: Number(deleted) };
  if (counts.upserted + counts.deleted === 0) {
    return {
      table: name,
      status: 'unchanged',
      ...counts,
      filesRewritten: 0,
      filesWritten: 0,
      filesKept: (await iceberg.stats()).files,
    };
  }
  const schema = currentSchema((await iceberg.load()).metadata);
  const affected = await affectedFiles(context, table, await iceberg.liveEntries(), schema, changes);
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE ${scratch(table.name)} AS SELECT * FROM ${relationOver(affected, schema)}`,
  );
  await connection.run(merge);
  const written = await writePartitionedFiles(
    connection,
    table,
    `SELECT * FROM ${scratch(table.name)}`,
    (p) => iceberg.dataFilePath(p),
  );
  await connection.run(`DROP TABLE ${scratch(table.name)}`);
  const committed = await iceberg.commit({
    operation: affected.length === 0 ? 'append' : 'overwrite',
    added: written,
    removed: affected,
    properties: { [RUN_ID_SUMMARY_KEY]: runId, [CURATE_TABLE_SUMMARY_KEY]: table.name },
  });
  await refreshView(context, table.name, iceberg);
  return {
    table: name,
    status: 'merged',
    ...counts,
    filesRewritten: affected.length,
    filesWritten: written.length,
    filesKept: (await iceberg.stats()).files - written.length,
    snapshotId: String(committed.metadata['current-snapshot-id']),
  };
}

/**
 * The run's plan: raw rows ingested after its `curateSince` (the last
 * committed run) are the run's to curate, and overdue close tasks are counted
 * at its `plannedAt`. Without a plan (the job run on its own): all of raw, now.
 */
async function runPlan(context: EngineContext, runId: string): Promise<RunPlan | undefined> {
  return await stagingStore(context).getJson<RunPlan>(stagingLayout.plan(context.config.app, runId));
}

async function refreshView(context: EngineContext, name: string, iceberg: IcebergTable): Promise<void> {
  await context.connection.run(
    `CREATE OR REPLACE TEMP VIEW ${current(name)} AS SELECT * FROM ${await iceberg.scanSql()}`,
  );
}

/**
 * The live data files holding a row whose key is in `changes`: files are
 * pruned by the bounds of the first key column when it is a string, then
 * confirmed by a key-only scan.
 */
async function affectedFiles(
  context: EngineContext,
  table: Table,
  live: readonly ManifestEntry[],
  schema: ReturnType<typeof currentSchema>,
  changes: string,
): Promise<string[]> {
  const keys = table.keyColumns.map(quoteIdent);
  const first = schema.fields.find((f) => f.name === table.keyColumns[0]);
  let candidates = live.map((e) => e.dataFile);
  if (first !== undefined && first.type === 'string') {
    const [min, max] = (
      await context.connection.runAndReadAll(`SELECT min(${keys[0]}), max(${keys[0]}) FROM ${changes}`)
    ).getRows()[0] as [string | null, string | null];
    if (min === null || max === null) return [];
    candidates = candidates.filter((file) => {
      const lower = file.lowerBounds.get(first.id);
      const upper = file.upperBounds.get(first.id);
      if (lower !== undefined && deserializeStringBound(lower) > max) return false;
      if (upper !== undefined && deserializeStringBound(upper) < min) return false;
      return true;
    });
  }
  if (candidates.length === 0) return [];
  const matches = keys.map((k) => `c.${k} = f.${k}`).join(' AND ');
  const hits = await context.connection.runAndReadAll(
    `SELECT DISTINCT f.filename FROM read_parquet([${candidates.map((file) => quoteString(file.path)).join(', ')}], filename = true) f
     WHERE EXISTS (SELECT 1 FROM ${changes} c WHERE ${matches})`,
  );
  return hits.getRows().map((row) => row[0] as string);
}

async function report(
  context: EngineContext,
  runId: string,
  results: readonly CurateResult[],
): Promise<CurateReport> {
  const tables: Record<string, CurateTableReport> = {};
  for (const r of results) {
    tables[r.table.slice(r.table.indexOf('.') + 1)] = {
      status: r.status,
      upserted: r.upserted,
      deleted: r.deleted,
    };
  }
  const counts = await context.connection.runAndReadAll(
    `SELECT code, count(*) FROM ${current('data_quality_issues')} GROUP BY code ORDER BY code`,
  );
  const dataQuality = Object.fromEntries(counts.getRows().map(([code, n]) => [String(code), Number(n)]));
  return { runId, tables, dataQuality };
}
