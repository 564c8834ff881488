import { assertRunId } from '../../../lambdas/shared/staging-layout.ts';
import { duckdb } from '../../curate/dialect.ts';
import { type CurateRelations, curateStatements } from '../../curate/statements.ts';
import { changedAccounts } from '../../curate/transforms.ts';
import type { Table } from '../../model/index.ts';
import { deserializeStringBound } from '../iceberg/bounds.ts';
import { writePartitionedFiles } from '../iceberg/data-files.ts';
import { EntryStatus, type ManifestEntry } from '../iceberg/manifests.ts';
import { quoteIdent, quoteString } from '../iceberg/partition-sql.ts';
import type { SchemaJson } from '../iceberg/schema-json.ts';
import { currentSchema, type IcebergTable, relationOver } from '../iceberg/table-ops.ts';
import { type EngineContext, openTable, RUN_ID_PROPERTY } from './context.ts';

export interface CurateResult {
  readonly table: string;
  /** `merged`: a new snapshot; `unchanged`: the run touched no row of this table. */
  readonly status: 'merged' | 'unchanged';
  /** Data files the MERGE rewrote (copy-on-write) and the files that replace them. */
  readonly filesRewritten: number;
  readonly filesWritten: number;
  /** Live data files the MERGE left untouched. */
  readonly filesKept: number;
  /** Rows in the rewritten files after the MERGE. */
  readonly rowsWritten: number;
  readonly snapshotId?: string;
}

/** A column of a curated table and the relation (one column, `key`) of its values this run changes. */
interface TouchedKeys {
  readonly column: string;
  readonly values: string;
}

/** A curated table, the scratch table its MERGEs run on, and what the run touches in it. */
interface Target {
  readonly table: Table;
  readonly scratch: string;
  readonly touched: readonly TouchedKeys[];
}

/**
 * The curate job: the rows a run appended to raw are MERGEd into silver
 * (latest version of each document, journal lines flattened and joined to
 * accounts), then gold is brought up to date for the entries that changed.
 * The MERGE statements are the ones Glue runs, in DuckDB's rendering. Work
 * follows what changed: only data files holding a touched key are read and
 * rewritten (copy-on-write), found through manifest bounds and then a
 * key-only scan of the candidates.
 */
export async function curate(
  input: { readonly runId: unknown },
  context: EngineContext,
): Promise<CurateResult[]> {
  const runId = assertRunId(input.runId);
  const { connection, model } = context;
  const relations: CurateRelations = {
    runJournalEntries: 'run_journal_entries',
    runCloseTasks: 'run_close_tasks',
    rawAccounts: 'raw_accounts',
    journalEntriesSilver: 'target_journal_entries_silver',
    closeTasksSilver: 'target_close_tasks_silver',
    journalEntriesGold: 'target_journal_entries_gold',
  };
  await createView(relations.runJournalEntries, await runRows(context, 'journal_entries', runId), context);
  await createView(relations.runCloseTasks, await runRows(context, 'close_tasks', runId), context);
  const accounts = await openTable(context, model.rawTableFor('accounts'));
  await createView(relations.rawAccounts, await accounts.scanSql(), context);

  const clean = (raw: string, column: string) =>
    `(SELECT DISTINCT ${quoteIdent(column)} AS key FROM ${raw} WHERE "_mapping_errors" IS NULL)`;
  const targets: Target[] = [
    {
      table: model.table('close_tasks_silver'),
      scratch: relations.closeTasksSilver,
      touched: [{ column: '_id', values: clean(relations.runCloseTasks, '_id') }],
    },
    {
      table: model.table('journal_entries_silver'),
      scratch: relations.journalEntriesSilver,
      touched: [
        { column: '_id', values: clean(relations.runJournalEntries, '_id') },
        // Lines of accounts this run renamed or retyped take the new name.
        {
          column: 'account_id',
          values: `(SELECT account_id AS key FROM (${changedAccounts(duckdb, relations.rawAccounts)}) c)`,
        },
      ],
    },
    {
      table: model.table('journal_entries_gold'),
      scratch: relations.journalEntriesGold,
      touched: [{ column: 'entry_id', values: clean(relations.runJournalEntries, 'entry_id') }],
    },
  ];
  const opened = new Map<Target, { iceberg: IcebergTable; affected: string[] }>();
  for (const target of targets) {
    const iceberg = await openTable(context, target.table);
    const schema = currentSchema((await iceberg.load()).metadata);
    const live = await iceberg.liveEntries();
    const affected = [
      ...new Set(
        (await Promise.all(target.touched.map((keys) => affectedFiles(context, live, schema, keys)))).flat(),
      ),
    ];
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE ${target.scratch} AS SELECT * FROM ${relationOver(affected, schema)}`,
    );
    opened.set(target, { iceberg, affected });
  }
  for (const statement of curateStatements(duckdb, relations)) await connection.run(statement.sql);

  const results: CurateResult[] = [];
  for (const target of targets) {
    const { iceberg, affected } = opened.get(target) as { iceberg: IcebergTable; affected: string[] };
    const name = `${target.table.database}.${target.table.name}`;
    let touched = 0;
    for (const keys of target.touched) {
      touched += Number(await scalar(context, `SELECT count(*) FROM ${keys.values} t`));
    }
    if (touched === 0) {
      results.push({
        table: name,
        status: 'unchanged',
        filesRewritten: 0,
        filesWritten: 0,
        filesKept: (await iceberg.stats()).files,
        rowsWritten: 0,
      });
      continue;
    }
    const written = await writePartitionedFiles(
      connection,
      target.table,
      `SELECT * FROM ${target.scratch}`,
      (p) => iceberg.dataFilePath(p),
    );
    const committed = await iceberg.commit({
      operation: affected.length === 0 ? 'append' : 'overwrite',
      added: written,
      removed: affected,
      properties: { [RUN_ID_PROPERTY]: runId },
    });
    results.push({
      table: name,
      status: 'merged',
      filesRewritten: affected.length,
      filesWritten: written.length,
      filesKept: (await iceberg.stats()).files - written.length,
      rowsWritten: written.reduce((sum, f) => sum + Number(f.recordCount), 0),
      snapshotId: String(committed.metadata['current-snapshot-id']),
    });
  }
  for (const target of targets) await connection.run(`DROP TABLE IF EXISTS ${target.scratch}`);
  return results;
}

/**
 * The rows `runId` appended to a raw table: the data files its snapshot
 * added. Once that snapshot has expired, the current table filtered on the
 * run id (slower, same rows).
 */
async function runRows(context: EngineContext, collection: string, runId: string): Promise<string> {
  const iceberg = await openTable(context, context.model.rawTableFor(collection));
  const loaded = await iceberg.load();
  const schema = currentSchema(loaded.metadata);
  const snapshot = loaded.metadata.snapshots.find((s) => s.summary[RUN_ID_PROPERTY] === runId);
  if (snapshot === undefined) {
    return `(SELECT * FROM ${await iceberg.scanSql()} WHERE "_run_id" = ${quoteString(runId)})`;
  }
  const entries = await iceberg.liveEntries({ snapshotId: snapshot['snapshot-id'] });
  const added = entries.filter(
    (e) => e.status === EntryStatus.Added && e.snapshotId === snapshot['snapshot-id'],
  );
  return relationOver(
    added.map((e) => e.dataFile.path),
    schema,
  );
}

/** The live data files holding any touched key: pruned by manifest bounds, then confirmed by a key scan. */
async function affectedFiles(
  context: EngineContext,
  live: readonly ManifestEntry[],
  schema: SchemaJson,
  keys: TouchedKeys,
): Promise<string[]> {
  const range = (
    await context.connection.runAndReadAll(`SELECT min(key), max(key) FROM ${keys.values} t`)
  ).getRows()[0] as [string | null, string | null];
  const [min, max] = range;
  if (min === null || max === null) return [];
  const fieldId = schema.fields.find((f) => f.name === keys.column)?.id as number;
  const candidates = live
    .filter((e) => {
      const lower = e.dataFile.lowerBounds.get(fieldId);
      const upper = e.dataFile.upperBounds.get(fieldId);
      if (lower !== undefined && deserializeStringBound(lower) > max) return false;
      if (upper !== undefined && deserializeStringBound(upper) < min) return false;
      return true;
    })
    .map((e) => e.dataFile.path);
  if (candidates.length === 0) return [];
  const hits = await context.connection.runAndReadAll(
    `SELECT DISTINCT filename FROM read_parquet([${candidates.map(quoteString).join(', ')}], filename = true)
     WHERE ${quoteIdent(keys.column)} IN (SELECT key FROM ${keys.values} t)`,
  );
  return hits.getRows().map((row) => row[0] as string);
}

async function createView(name: string, relation: string, context: EngineContext): Promise<void> {
  await context.connection.run(`CREATE OR REPLACE TEMP VIEW ${name} AS SELECT * FROM ${relation}`);
}

async function scalar(context: EngineContext, sql: string): Promise<unknown> {
  return (await context.connection.runAndReadAll(sql)).getRows()[0]?.[0];
}
