import type { LedgerlakeConfig } from '../config/index.ts';
import { DOC_EJSON_COLUMN, type Table, type TableModel } from '../model/index.ts';
import {
  ACCOUNTS_SILVER,
  BALANCE_SHEET_GOLD,
  CLOSE_PROGRESS_GOLD,
  CLOSE_TASKS_SILVER,
  DATA_QUALITY_ISSUES,
  INCOME_STATEMENT_GOLD,
  JOURNAL_ENTRIES_GOLD,
  JOURNAL_ENTRIES_SILVER,
  TRIAL_BALANCE_GOLD,
} from '../model/tables/curated.ts';
import { DATA_QUALITY_CODES as DQ } from './data-quality.ts';
import type { SqlDialect } from './dialect.ts';
import {
  accountsSilver,
  balanceActivity,
  balanceMonths,
  balanceSheet,
  type Copied,
  changedAccountIds,
  changesTo,
  closeProgress,
  closeTasksSilver,
  currentAccounts,
  documentIssues,
  incomeStatement,
  journalEntriesGold,
  journalEntryFacts,
  journalEntryIssues,
  journalLines,
  latestTouchedVersions,
  ledgerSpan,
  postedAfterClose,
  renamedJournalLines,
  touchedBalanceRows,
  touchedBalances,
  touchedJournalEntries,
  trialBalance,
} from './transforms.ts';

/** The relations a curate run reads, as each engine names them. */
export interface CurateRelations {
  /** Raw rows ingested after the last committed run (tombstones included), per collection. */
  readonly changedJournalEntries: string;
  readonly changedCloseTasks: string;
  readonly changedAccounts: string;
  /** The whole raw tables. */
  readonly rawJournalEntries: string;
  readonly rawAccounts: string;
  /** Raw account rows ingested up to the last committed run: the chart the curated tables were last known to follow. */
  readonly accountsBefore: string;
  /** Raw rows ingested up to the last committed run (none before the first). */
  readonly journalEntriesBefore: string;
  readonly closeTasksBefore: string;
  /** The curated tables as they are now (read). */
  readonly accountsSilver: string;
  readonly journalEntriesSilver: string;
  readonly closeTasksSilver: string;
  readonly journalEntriesGold: string;
  readonly trialBalanceGold: string;
  readonly incomeStatementGold: string;
  readonly balanceSheetGold: string;
  readonly closeProgressGold: string;
  readonly dataQualityIssues: string;
  /** The closes of months (read only: the close job appends to it). */
  readonly trialBalanceClosedGold: string;
  /** One row, `planned_at`: when the run was planned (the time overdue close tasks are counted at). */
  readonly runClock: string;
  /** The relation a MERGE writes for a curated table (the table itself on Spark). */
  readonly mergeTarget: (table: string) => string;
}

/** The raw collections curate reads. */
export const CURATE_RAW_COLLECTIONS = ['journal_entries', 'close_tasks', 'accounts'] as const;
/** Temp relation of one row, `planned_at` (TIMESTAMP WITH TIME ZONE), which each engine creates from the run's plan. */
export const RUN_CLOCK_RELATION = 'run_clock';
/** Temp relation over a whole raw table, which each engine creates before the steps. */
export const rawRelation = (collection: string) => `raw_${collection}`;
/** Temp relation over a raw table's rows ingested since the last committed run. */
export const changedRelation = (collection: string) => `changed_${collection}`;
/** Temp relation over a raw table's rows ingested up to the last committed run (none before the first). */
export const beforeRelation = (collection: string) => `before_${collection}`;

/**
 * The relations of a curate run: raw ones by the names above, curated tables
 * as `curated(table)` names them for reading and `mergeTarget(table)` for MERGE.
 */
export function curateRelations(
  curated: (table: string) => string,
  mergeTarget: (table: string) => string,
): CurateRelations {
  return {
    changedJournalEntries: changedRelation('journal_entries'),
    changedCloseTasks: changedRelation('close_tasks'),
    changedAccounts: changedRelation('accounts'),
    rawJournalEntries: rawRelation('journal_entries'),
    rawAccounts: rawRelation('accounts'),
    accountsBefore: beforeRelation('accounts'),
    journalEntriesBefore: beforeRelation('journal_entries'),
    closeTasksBefore: beforeRelation('close_tasks'),
    accountsSilver: curated('accounts_silver'),
    journalEntriesSilver: curated('journal_entries_silver'),
    closeTasksSilver: curated('close_tasks_silver'),
    journalEntriesGold: curated('journal_entries_gold'),
    trialBalanceGold: curated('trial_balance_gold'),
    incomeStatementGold: curated('income_statement_gold'),
    balanceSheetGold: curated('balance_sheet_gold'),
    closeProgressGold: curated('close_progress_gold'),
    dataQualityIssues: curated('data_quality_issues'),
    trialBalanceClosedGold: curated('trial_balance_closed_gold'),
    runClock: RUN_CLOCK_RELATION,
    mergeTarget,
  };
}

/** The raw column each collection's watermark field maps to; null for an `_id` watermark. */
export type WatermarkColumns = Readonly<
  Record<'accounts' | 'journal_entries' | 'close_tasks', string | null>
>;

export type CurateStep =
  /** Compute `sql` once and keep it as the temporary relation `name` (later steps read it). */
  | { readonly kind: 'relation'; readonly name: string; readonly sql: string }
  /**
   * Compute the changes `sql` as the relation `name`; when it has rows, run
   * `merge` (a MERGE INTO the table using that relation). No rows: no commit.
   */
  | {
      readonly kind: 'merge';
      readonly table: string;
      readonly name: string;
      readonly sql: string;
      readonly merge: string;
    };

/** Source column marking target rows the MERGE deletes. */
export const DELETE_FLAG = '_delete';

const R = {
  accounts: 'current_accounts',
  accountsBefore: 'committed_accounts',
  changedAccountIds: 'changed_account_ids',
  touchedEntries: 'touched_journal_entries',
  latestEntries: 'latest_journal_entries',
  latestTasks: 'latest_close_tasks',
  latestAccounts: 'latest_accounts',
  lines: 'journal_lines',
  touchedSilver: 'touched_journal_silver',
  renamedLines: 'renamed_journal_lines',
  facts: 'journal_entry_facts',
  chart: 'chart_of_accounts',
  span: 'ledger_span',
  touchedBalances: 'touched_balances',
  activity: 'balance_activity',
  months: 'balance_months',
  lateCandidates: 'posted_after_close_candidates',
} as const;

/** The relation of a table's desired rows of the touched documents, which its merge step computes first. */
const desiredRelation = (table: string) => `desired_${table}`;

const columnsOf = (table: Table) => table.fields.map((f) => f.name);

/**
 * The columns of a silver table that copy raw values (ColumnSpec.from),
 * checked against the raw table they come from: `line.<field>` must be a
 * field of its lines, any other `from` one of its columns.
 */
export function copiedColumns(silver: Table, raw: Table): Copied[] {
  const lines = raw.fields.find((f) => f.name === 'lines')?.type;
  const lineFields =
    lines?.kind === 'list' && lines.element.kind === 'struct' ? lines.element.fields.map((f) => f.name) : [];
  return silver.fields.flatMap((f) => {
    if (f.from === undefined) return [];
    const known = f.from.startsWith('line.')
      ? lineFields.includes(f.from.slice('line.'.length))
      : raw.fields.some((r) => r.name === f.from);
    if (!known)
      throw new Error(
        `table ${silver.name}: column '${f.name}' copies '${f.from}', which raw ${raw.name} does not have (columns: ${raw.fields.map((r) => r.name).join(', ')}${lineFields.length > 0 ? `; line fields: ${lineFields.join(', ')}` : ''})`,
      );
    return [{ name: f.name, from: f.from }];
  });
}

/**
 * The steps of one curate run, in order. Curated rows are recomputed from the
 * latest raw version of every document the run touches (the silver lines on a
 * renamed or retyped account aside: they are silver's, with the chart's names),
 * and each table gets only the rows that differ, so replaying any run, in
 * any order, changes nothing, and a run with no changes commits nothing.
 * Both engines run exactly these (Spark on Glue; DuckDB in the local engine).
 */
export function curateSteps(
  d: SqlDialect,
  r: CurateRelations,
  watermark: WatermarkColumns,
  model: TableModel,
): readonly CurateStep[] {
  const journalSilver = model.table(JOURNAL_ENTRIES_SILVER.name);
  const tasksSilver = model.table(CLOSE_TASKS_SILVER.name);
  const id = d.ident('_id');
  const touchedEntry = `t.${id} IN (SELECT ${id} FROM ${R.touchedEntries})`;
  // Silver's touched rows: the lines of the entries curated again, and every line on an account the chart changed.
  const touchedLine = `${touchedEntry} OR t.account_id IN (SELECT account_id FROM ${R.changedAccountIds})`;
  const touchedTask = `t.${id} IN (SELECT ${id} FROM ${r.changedCloseTasks})`;
  const touchedAccount = `t.${id} IN (SELECT ${id} FROM ${r.changedAccounts})`;
  const silverColumns = columnsOf(journalSilver).map(d.ident).join(', ');
  // What the steps read of a document's latest version: every raw column but the document's text.
  const versionColumns = (collection: string) =>
    columnsOf(model.rawTableFor(collection)).filter((c) => c !== DOC_EJSON_COLUMN);
  // The desired rows are computed once: the changes read them twice (new or different rows, rows to delete).
  const merge = (
    spec: Table,
    read: string,
    desired: string,
    touched: string,
    ignored: readonly string[] = ['ingest_ts'],
  ): CurateStep[] => {
    const name = `changes_${spec.name}`;
    const desiredName = desiredRelation(spec.name);
    const columns = columnsOf(spec);
    return [
      { kind: 'relation', name: desiredName, sql: desired },
      {
        kind: 'merge',
        table: spec.name,
        name,
        sql: changesTo(
          d,
          { table: read, keys: spec.keyColumns, columns, ignored },
          desiredName,
          touched,
          DELETE_FLAG,
        ),
        merge: d.merge(
          r.mergeTarget(spec.name),
          `SELECT * FROM ${name}`,
          spec.keyColumns,
          columns,
          DELETE_FLAG,
        ),
      },
    ];
  };
  const postedLate = `t.source_collection = 'journal_entries' AND t.code = '${DQ.postedAfterClose}'`;
  const issues = [
    journalEntryIssues(d, R.facts, r.journalEntriesGold),
    postedAfterClose(d, {
      raw: r.rawJournalEntries,
      candidates: R.lateCandidates,
      closed: r.trialBalanceClosedGold,
    }),
    documentIssues(d, {
      collection: 'journal_entries',
      latest: R.latestEntries,
      businessKey: 'entry_id',
      watermark: watermark.journal_entries,
      entryDate: 'date',
    }),
    documentIssues(d, {
      collection: 'close_tasks',
      latest: R.latestTasks,
      businessKey: 'task_id',
      watermark: watermark.close_tasks,
      entryDate: null,
    }),
    documentIssues(d, {
      collection: 'accounts',
      latest: R.latestAccounts,
      businessKey: 'account_id',
      watermark: watermark.accounts,
      entryDate: null,
    }),
  ].join('\nUNION ALL\n');
  return [
    { kind: 'relation', name: R.accounts, sql: currentAccounts(d, r.rawAccounts) },
    { kind: 'relation', name: R.accountsBefore, sql: currentAccounts(d, r.accountsBefore) },
    { kind: 'relation', name: R.changedAccountIds, sql: changedAccountIds(d, R.accounts, R.accountsBefore) },
    {
      kind: 'relation',
      name: R.touchedEntries,
      sql: touchedJournalEntries(d, {
        changed: r.changedJournalEntries,
        raw: r.rawJournalEntries,
        silver: r.journalEntriesSilver,
        accounts: R.accounts,
        changedAccounts: R.changedAccountIds,
      }),
    },
    {
      kind: 'relation',
      name: R.latestEntries,
      sql: latestTouchedVersions(
        d,
        { before: r.journalEntriesBefore, changed: r.changedJournalEntries, touched: R.touchedEntries },
        versionColumns('journal_entries'),
      ),
    },
    {
      kind: 'relation',
      name: R.latestTasks,
      sql: latestTouchedVersions(
        d,
        { before: r.closeTasksBefore, changed: r.changedCloseTasks, touched: r.changedCloseTasks },
        versionColumns('close_tasks'),
      ),
    },
    {
      kind: 'relation',
      name: R.latestAccounts,
      sql: latestTouchedVersions(
        d,
        { before: r.accountsBefore, changed: r.changedAccounts, touched: r.changedAccounts },
        versionColumns('accounts'),
      ),
    },
    {
      kind: 'relation',
      name: R.lines,
      sql: journalLines(
        d,
        R.latestEntries,
        R.accounts,
        copiedColumns(journalSilver, model.rawTableFor('journal_entries')),
      ),
    },
    { kind: 'relation', name: R.facts, sql: journalEntryFacts(d, R.latestEntries, R.lines) },
    // Silver's rows this run may change, read from silver once: the renamed lines come from them, and the changes compare with them.
    {
      kind: 'relation',
      name: R.touchedSilver,
      sql: `SELECT * FROM ${r.journalEntriesSilver} t WHERE ${touchedLine}`,
    },
    {
      kind: 'relation',
      name: R.renamedLines,
      sql: renamedJournalLines(
        d,
        {
          silver: R.touchedSilver,
          accounts: R.accounts,
          changedAccounts: R.changedAccountIds,
          touched: R.touchedEntries,
        },
        columnsOf(journalSilver),
      ),
    },
    { kind: 'relation', name: R.chart, sql: accountsSilver(d, R.accounts) },
    // The chart is small: recomputed whole every run, and only rows that differ are MERGEd.
    ...merge(model.table(ACCOUNTS_SILVER.name), r.accountsSilver, `SELECT * FROM ${R.chart}`, 'true'),
    ...merge(
      tasksSilver,
      r.closeTasksSilver,
      closeTasksSilver(d, R.latestTasks, copiedColumns(tasksSilver, model.rawTableFor('close_tasks'))),
      touchedTask,
    ),
    ...merge(
      journalSilver,
      R.touchedSilver,
      `SELECT ${silverColumns} FROM ${R.lines}\nUNION ALL\nSELECT ${silverColumns} FROM ${R.renamedLines}`,
      'true',
    ),
    ...merge(
      model.table(JOURNAL_ENTRIES_GOLD.name),
      r.journalEntriesGold,
      journalEntriesGold(d, R.facts),
      touchedEntry,
    ),
    // Balances read silver as this run left it.
    { kind: 'relation', name: R.span, sql: ledgerSpan(d, r.journalEntriesSilver, r.trialBalanceGold) },
    {
      kind: 'relation',
      name: R.touchedBalances,
      sql: touchedBalances(d, {
        raw: r.rawJournalEntries,
        touchedEntries: R.touchedEntries,
        changedAccounts: R.changedAccountIds,
        silver: r.journalEntriesSilver,
        trialBalance: r.trialBalanceGold,
        span: R.span,
      }),
    },
    {
      kind: 'relation',
      name: R.activity,
      sql: balanceActivity(d, r.journalEntriesSilver, R.touchedBalances),
    },
    { kind: 'relation', name: R.months, sql: balanceMonths(d, R.activity, R.span) },
    ...merge(
      model.table(TRIAL_BALANCE_GOLD.name),
      r.trialBalanceGold,
      trialBalance({
        months: R.months,
        activity: R.activity,
        chart: R.chart,
        touched: R.touchedBalances,
      }),
      touchedBalanceRows(R.touchedBalances),
    ),
    // The statements are one row per month: recomputed whole from the trial balance as this run left it.
    ...merge(
      model.table(INCOME_STATEMENT_GOLD.name),
      r.incomeStatementGold,
      incomeStatement(d, r.trialBalanceGold),
      'true',
    ),
    ...merge(
      model.table(BALANCE_SHEET_GOLD.name),
      r.balanceSheetGold,
      balanceSheet(r.trialBalanceGold, desiredRelation(INCOME_STATEMENT_GOLD.name)),
      'true',
    ),
    ...merge(
      model.table(CLOSE_PROGRESS_GOLD.name),
      r.closeProgressGold,
      closeProgress(d, r.closeTasksSilver, r.runClock),
      'true',
      ['as_of'],
    ),
    // The entries whose posted_after_close row may change: the touched ones, and those listed now
    // (a month closed again after a reopening may clear them).
    {
      kind: 'relation',
      name: R.lateCandidates,
      sql: `SELECT ${id} FROM ${R.touchedEntries}
UNION
SELECT t.${id} FROM ${r.dataQualityIssues} t WHERE ${postedLate}`,
    },
    // Last: duplicate entry ids are counted over gold as the run left it.
    ...merge(
      model.table(DATA_QUALITY_ISSUES.name),
      r.dataQualityIssues,
      issues,
      `(t.source_collection = 'journal_entries' AND ${touchedEntry})
  OR (${postedLate})
  OR (t.source_collection = 'close_tasks' AND ${touchedTask})
  OR (t.source_collection = 'accounts' AND ${touchedAccount})`,
    ),
  ];
}

/** The raw column mapped from each collection's configured watermark field. */
export function watermarkColumns(config: LedgerlakeConfig, model: TableModel): WatermarkColumns {
  const column = (collection: 'accounts' | 'journal_entries' | 'close_tasks') => {
    const configured = config.collections.find((c) => c.name === collection);
    if (configured === undefined || configured.watermarkField === '_id') return null;
    const field = model
      .rawTableFor(collection)
      .fields.find((f) => (f.sourceField ?? f.name) === configured.watermarkField);
    return field?.name ?? null;
  };
  return {
    accounts: column('accounts'),
    journal_entries: column('journal_entries'),
    close_tasks: column('close_tasks'),
  };
}
