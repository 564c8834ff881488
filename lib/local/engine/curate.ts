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
  type CurateStep,
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
import { writePartitionedFiles, writePositionDeletes } from '../iceberg/data-files.ts';
import type { DataFile } from '../iceberg/manifests.ts';
import { quoteIdent } from '../iceberg/partition-sql.ts';
import { duckdbTypeOfJson } from '../iceberg/schema-json.ts';
import { currentSchema, type IcebergTable, type LiveFiles, scanOver } from '../iceberg/table-ops.ts';
import { type EngineContext, type OpenedTable, openTable, openTables, stagingStore } from './context.ts';
import { timed } from './profile.ts';

export interface CurateResult {
  readonly table: string;
  /** `merged`: a new snapshot; `unchanged`: the run changed no row of this table (no snapshot). */
  readonly status: 'merged' | 'unchanged';
  readonly upserted: number;
  readonly deleted: number;
  /** Data files the MERGE rewrote (copy-on-write) and the files that replace them. */
  readonly filesRewritten: number;
  readonly filesWritten: number;
  /** Position delete files written (merge-on-read): one for each data file holding a changed row. */
  readonly deleteFilesWritten: number;
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
 * version; each curated table gets only the rows that differ, by a MERGE
 * as its properties say: merge-on-read (position deletes for the rows
 * replaced) or copy-on-write (a rewrite of just the data files holding
 * them). A table with no changes gets no snapshot.
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
  const results = await runSteps(context, runId, steps, tables);
  await timed('curate', 'report', async () =>
    stagingStore(context).putJson(
      stagingLayout.jobReport(context.config.app, runId, 'curate'),
      await report(context, runId, results),
    ),
  );
  return results;
}

/**
 * Runs the steps in order. A relation is kept as a temp table until the last
 * step that reads it (memory is what bounds a large run); one that only the
 * next step reads, a merge into a table with no rows yet (a full load), is a
 * view instead, read once by that merge. All are removed when the run ends or fails.
 */
async function runSteps(
  context: EngineContext,
  runId: string,
  steps: readonly CurateStep[],
  tables: ReadonlyMap<string, OpenedTable>,
): Promise<CurateResult[]> {
  const { connection } = context;
  const empty = new Set<string>();
  for (const [name, target] of tables) {
    if ((await target.iceberg.liveEntries()).length === 0) empty.add(name);
  }
  const plan = stepPlan(steps, empty);
  const kept = new Map<string, 'TABLE' | 'VIEW'>();
  const keep = async (name: string, kind: 'TABLE' | 'VIEW', sql: string) => {
    await timed('curate', name, () => connection.run(`CREATE OR REPLACE TEMP ${kind} ${name} AS ${sql}`));
    kept.set(name, kind);
  };
  const drop = async (name: string) => {
    await connection.run(`DROP ${kept.get(name)} IF EXISTS ${name}`);
    kept.delete(name);
  };
  const results: CurateResult[] = [];
  try {
    for (const [i, step] of steps.entries()) {
      if (step.kind === 'relation') {
        await keep(step.name, plan.views.has(step.name) ? 'VIEW' : 'TABLE', step.sql);
      } else {
        const target = tables.get(step.table) as OpenedTable;
        const intoEmpty = empty.has(step.table);
        await keep(step.name, intoEmpty ? 'VIEW' : 'TABLE', step.sql);
        results.push(
          await timed('curate', step.table, () =>
            intoEmpty
              ? appendChanges(context, runId, target, step.name)
              : mergeChanges(context, runId, target, step.name, step.merge),
          ),
        );
        await context.faultPoint?.(`curate:after-commit:${step.table}`);
      }
      for (const name of [...kept.keys()]) if ((plan.lastUse.get(name) ?? i) <= i) await drop(name);
    }
  } finally {
    for (const name of [...kept.keys()]) await drop(name);
  }
  return results;
}

/**
 * Which relations are views (see runSteps), and for each relation the index
 * of the last step that reads it, directly or through a view.
 */
function stepPlan(
  steps: readonly CurateStep[],
  emptyTables: ReadonlySet<string>,
): { views: Set<string>; lastUse: Map<string, number> } {
  const text = (step: CurateStep) => (step.kind === 'merge' ? `${step.sql}\n${step.merge}` : step.sql);
  const reads = (step: CurateStep, name: string) => new RegExp(`(?<!\\w)${name}(?!\\w)`).test(text(step));
  const readers = (i: number) =>
    steps.flatMap((step, j) => (j > i && reads(step, steps[i]?.name as string) ? [j] : []));
  const views = new Set<string>();
  const lastUse = new Map<string, number>();
  for (const [i, step] of steps.entries()) {
    const next = steps[i + 1];
    const only = readers(i);
    if (
      step.kind === 'relation' &&
      next?.kind === 'merge' &&
      emptyTables.has(next.table) &&
      only.length === 1 &&
      only[0] === i + 1
    ) {
      views.add(step.name);
    }
    lastUse.set(step.name, Math.max(i, ...only));
  }
  // What a view reads is read when the view is, so it lives as long as the view.
  for (const [i, step] of [...steps.entries()].reverse()) {
    if (!views.has(step.name)) continue;
    for (const [j, earlier] of steps.slice(0, i).entries()) {
      if (reads(step, earlier.name)) {
        lastUse.set(earlier.name, Math.max(lastUse.get(earlier.name) ?? j, lastUse.get(step.name) ?? i));
      }
    }
  }
  return { views, lastUse };
}

/** Counts the rows `changes` upserts and deletes. */
async function countChanges(
  context: EngineContext,
  changes: string,
): Promise<{ upserted: number; deleted: number }> {
  const flag = quoteIdent(DELETE_FLAG);
  const [upserted, deleted] = (
    await context.connection.runAndReadAll(
      `SELECT count(*) FILTER (WHERE NOT ${flag}), count(*) FILTER (WHERE ${flag}) FROM ${changes}`,
    )
  ).getRows()[0] as [bigint, bigint];
  return { upserted: Number(upserted), deleted: Number(deleted) };
}

async function unchanged(
  { table, iceberg }: OpenedTable,
  counts: { upserted: number; deleted: number },
): Promise<CurateResult> {
  return {
    table: `${table.database}.${table.name}`,
    status: 'unchanged',
    ...counts,
    filesRewritten: 0,
    filesWritten: 0,
    deleteFilesWritten: 0,
    filesKept: (await iceberg.stats()).files,
  };
}

/**
 * Applies `changes` to a table with no rows, as a MERGE would: every row not
 * flagged for deletion is inserted, typed as the table's columns, and there
 * is nothing to delete. `changes` is read once, by the write, so it may be a view.
 */
async function appendChanges(
  context: EngineContext,
  runId: string,
  target: OpenedTable,
  changes: string,
): Promise<CurateResult> {
  const written = await writeInserts(context, target, changes);
  const upserted = written.reduce((sum, f) => sum + Number(f.recordCount), 0);
  if (upserted === 0) return unchanged(target, { upserted, deleted: 0 });
  return commitChanges(context, runId, target, { upserted, deleted: 0 }, { written });
}

/** Writes the rows of `changes` not flagged for deletion as new data files of the target table. */
async function writeInserts(
  context: EngineContext,
  { table, iceberg }: OpenedTable,
  changes: string,
): Promise<DataFile[]> {
  const schema = currentSchema((await iceberg.load()).metadata);
  const columns = schema.fields
    .map((f) => `CAST(${quoteIdent(f.name)} AS ${duckdbTypeOfJson(f.type)}) AS ${quoteIdent(f.name)}`)
    .join(', ');
  return await timed('curate', `${table.name} write files`, () =>
    writePartitionedFiles(
      context.connection,
      table,
      `SELECT ${columns} FROM ${changes} WHERE NOT ${quoteIdent(DELETE_FLAG)}`,
      (p) => iceberg.dataFilePath(p),
    ),
  );
}

/**
 * Applies one table's changes (the relation `changes`) as `merge` would.
 * Merge-on-read (the table's `write.merge.mode`, as Spark reads it): the rows
 * a change matches get position deletes, and every change not flagged for
 * deletion is written as a new row. Copy-on-write: the data files holding a
 * changed key are rewritten with what the MERGE leaves of them (mergedRows).
 * Either way, changes that match no row are inserts. Commits nothing when
 * there are no changes.
 */
async function mergeChanges(
  context: EngineContext,
  runId: string,
  target: OpenedTable,
  changes: string,
  merge: string,
): Promise<CurateResult> {
  const { connection } = context;
  const { table, iceberg } = target;
  const counts = await countChanges(context, changes);
  if (counts.upserted + counts.deleted === 0) return unchanged(target, counts);
  const loaded = await iceberg.load();
  const schema = currentSchema(loaded.metadata);
  const live = await iceberg.liveFiles();
  const hits = `__ll_hits_${table.name}`;
  await timed('curate', `${table.name} affected rows`, async () =>
    connection.run(
      `CREATE OR REPLACE TEMP TABLE ${hits} AS ${await matchedRows(context, table, live, schema, changes)}`,
    ),
  );
  try {
    const affected = (await connection.runAndReadAll(`SELECT DISTINCT __ll_file FROM ${hits} ORDER BY 1`))
      .getRows()
      .map((row) => row[0] as string);
    if (affected.length === 0) {
      return commitChanges(context, runId, target, counts, {
        written: await writeInserts(context, target, changes),
      });
    }
    const repeated = await hasRepeatedKeys(context, table, changes);
    const rewritten = new Set(affected);
    const files = scanOver(
      { data: live.data.filter((e) => rewritten.has(e.dataFile.path)), deletes: live.deletes },
      schema,
    );
    const merged = repeated ? undefined : mergedRows(table, schema, files, changes);
    if (merged !== undefined && loaded.metadata.properties['write.merge.mode'] === 'merge-on-read') {
      const deletes = await timed('curate', `${table.name} write deletes`, () =>
        writePositionDeletes(connection, hits, live.data),
      );
      const written = await writeInserts(context, target, changes);
      return commitChanges(context, runId, target, counts, { written, deletes });
    }
    if (merged === undefined) {
      await timed('curate', `${table.name} merge`, async () => {
        await connection.run(`CREATE OR REPLACE TEMP TABLE ${scratch(table.name)} AS SELECT * FROM ${files}`);
        await connection.run(merge);
      });
    }
    const written = await timed('curate', `${table.name} write files`, () =>
      writePartitionedFiles(connection, table, merged ?? `SELECT * FROM ${scratch(table.name)}`, (p) =>
        iceberg.dataFilePath(p),
      ),
    );
    await connection.run(`DROP TABLE IF EXISTS ${scratch(table.name)}`);
    return commitChanges(context, runId, target, counts, { written, rewritten: affected });
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${hits}`);
  }
}

/**
 * What `merge` leaves of the affected data files (`files`, a relation over
 * them), as one SELECT the writer sorts and cuts into files. With no two
 * changes sharing a key, this is the MERGE's own rule, row by row: a row a
 * change matches is deleted when the change is flagged, else it takes the
 * change's values (the UPDATE sets every column); a row no change matches
 * stays; a change that matches no row is inserted unless flagged. Values are
 * typed as the table's columns, as the MERGE's assignments cast them.
 * Running the MERGE on a copy of the files costs more than the rewrite
 * itself: the copy (2.5 million silver lines at 1M entries) is read and
 * written once more, and DuckDB keeps updated rows as versions that the
 * writer's scan of the copy must merge back in (about 6 s of CPU against
 * 4.2 s this way). Undefined, so the MERGE itself runs, when the table has a
 * column the model, and so the changes, lack.
 */
function mergedRows(
  table: Table,
  schema: ReturnType<typeof currentSchema>,
  files: string,
  changes: string,
): string | undefined {
  if (schema.fields.some((f) => !table.fields.some((c) => c.name === f.name))) return undefined;
  const hit = quoteIdent('__ll_change');
  const on = table.keyColumns.map(quoteIdent).map((k) => `c.${k} = f.${k}`);
  const columns = schema.fields.map((f) => {
    const name = quoteIdent(f.name);
    return `CASE WHEN c.${hit} THEN CAST(c.${name} AS ${duckdbTypeOfJson(f.type)}) ELSE f.${name} END AS ${name}`;
  });
  return `SELECT ${columns.join(', ')}
FROM ${files} f
FULL OUTER JOIN (SELECT *, true AS ${hit} FROM ${changes}) c ON ${on.join(' AND ')}
WHERE c.${quoteIdent(DELETE_FLAG)} IS NOT TRUE`;
}

/** Whether two rows of `changes` share a key (then only the MERGE itself says what it does with them). */
async function hasRepeatedKeys(context: EngineContext, table: Table, changes: string): Promise<boolean> {
  const keys = table.keyColumns.map(quoteIdent).join(', ');
  const [repeated] = (
    await context.connection.runAndReadAll(
      `SELECT count(*) FROM (SELECT ${keys} FROM ${changes} GROUP BY ${keys} HAVING count(*) > 1)`,
    )
  ).getRows()[0] as [bigint];
  return repeated > 0n;
}

/**
 * Commits the files written for a table's changes (new data files, in place
 * of the ones they rewrite or beside position deletes), and reads the table anew.
 */
async function commitChanges(
  context: EngineContext,
  runId: string,
  { table, iceberg }: OpenedTable,
  counts: { upserted: number; deleted: number },
  files: {
    readonly written: readonly DataFile[];
    readonly rewritten?: readonly string[];
    readonly deletes?: readonly DataFile[];
  },
): Promise<CurateResult> {
  const { written, rewritten = [], deletes = [] } = files;
  const committed = await timed('curate', `${table.name} commit`, () =>
    iceberg.commit({
      operation: rewritten.length === 0 && deletes.length === 0 ? 'append' : 'overwrite',
      added: written,
      addedDeletes: deletes,
      removed: rewritten,
      properties: { [RUN_ID_SUMMARY_KEY]: runId, [CURATE_TABLE_SUMMARY_KEY]: table.name },
    }),
  );
  await refreshView(context, table.name, iceberg);
  return {
    table: `${table.database}.${table.name}`,
    status: 'merged',
    ...counts,
    filesRewritten: rewritten.length,
    filesWritten: written.length,
    deleteFilesWritten: deletes.length,
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
 * A query for the live rows whose key is in `changes`, as (`__ll_file`,
 * `__ll_pos`): data files are pruned by the bounds of the first key column
 * when it is a string, then confirmed by a key-only scan that leaves out rows
 * already deleted.
 */
async function matchedRows(
  context: EngineContext,
  table: Table,
  live: LiveFiles,
  schema: ReturnType<typeof currentSchema>,
  changes: string,
): Promise<string> {
  const keys = table.keyColumns.map(quoteIdent);
  const first = schema.fields.find((f) => f.name === table.keyColumns[0]);
  let candidates = live.data;
  if (first !== undefined && first.type === 'string') {
    const [min, max] = (
      await context.connection.runAndReadAll(`SELECT min(${keys[0]}), max(${keys[0]}) FROM ${changes}`)
    ).getRows()[0] as [string | null, string | null];
    candidates = candidates.filter((entry) => {
      if (min === null || max === null) return false;
      const lower = entry.dataFile.lowerBounds.get(first.id);
      const upper = entry.dataFile.upperBounds.get(first.id);
      if (lower !== undefined && deserializeStringBound(lower) > max) return false;
      if (upper !== undefined && deserializeStringBound(upper) < min) return false;
      return true;
    });
  }
  const matches = keys.map((k) => `c.${k} = f.${k}`).join(' AND ');
  return `SELECT f.__ll_file, f.__ll_pos FROM ${scanOver({ data: candidates, deletes: live.deletes }, schema, true)} f
     WHERE EXISTS (SELECT 1 FROM ${changes} c WHERE ${matches})`;
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
