import { NORMAL_SIDE } from '../model/tables/curated.ts';
import { RAW_OP } from '../model/tables/raw.ts';
import { DATA_QUALITY_CODES as DQ, NAMING_A_CALENDAR_DATE } from './data-quality.ts';
import type { SqlDialect } from './dialect.ts';

/**
 * The silver, gold and data-quality logic, written once as SELECTs in a
 * dialect. Curated rows are a function of raw: for the documents a run
 * touches they are computed from the latest raw version of each document,
 * whatever order runs happened in. lib/curate/statements.ts puts these into
 * steps.
 */

/**
 * Orders the raw versions of one document, newest first: by ingest time
 * (runs are serialized by the lease and a run is never extracted again once
 * a later run was planned, so ingest order is read order, and a tombstone
 * has no watermark value to compare), then a tombstone before a read of the
 * same run, then the source's own watermark, then the document text so both
 * engines pick the same row.
 */
export function versionOrder(d: SqlDialect, alias: string): string {
  return `${versionOrderBeforeText(d, alias)}, ${alias}.${d.ident('_doc_ejson')} DESC`;
}

/** versionOrder without its last key, the document text: what decides between versions but for a tie. */
function versionOrderBeforeText(d: SqlDialect, alias: string): string {
  const c = (name: string) => `${alias}.${d.ident(name)}`;
  return `${c('ingest_ts')} DESC, CASE WHEN ${c('_op')} = '${RAW_OP.delete}' THEN 0 ELSE 1 END, ${c('updated_at')} DESC NULLS LAST`;
}

/**
 * latestVersions of the documents in `touched`, from the rows since the last
 * committed run (`changed`) for those that have any (each of those was
 * ingested after every row before it, and ingest time comes first in
 * versionOrder, so the newest version is among them), and from the rows up
 * to it (`before`) for the others. A run whose touched documents all changed
 * (the usual case) reads no raw row older than itself here; a full load has
 * no `before`, so it ranks raw once, as ever.
 */
export function latestTouchedVersions(
  d: SqlDialect,
  r: {
    /** Raw rows up to the last committed run, and since it. */
    readonly before: string;
    readonly changed: string;
    /** A relation of the touched documents' `_id`s. */
    readonly touched: string;
  },
  columns: readonly string[],
): string {
  const id = d.ident('_id');
  const unchanged = `(SELECT t.${id} FROM ${r.touched} t WHERE NOT EXISTS (SELECT 1 FROM ${r.changed} c WHERE c.${id} = t.${id})) touched_unchanged`;
  return `SELECT * FROM (
${latestVersions(d, r.changed, r.touched, columns)}
) changed_latest
UNION ALL
SELECT * FROM (
${latestVersions(d, r.before, unchanged, columns)}
) unchanged_latest`;
}

/**
 * The latest raw version (a tombstone included) of each document of `raw`
 * whose `_id` is in `ids` (a relation with an `_id` column), or of every
 * document when `ids` is null. Keeps every raw column plus `version_rank`,
 * or with `ids`, the raw columns `columns` plus `version_rank`.
 *
 * With `ids`, only documents with more than one raw version are ranked; the
 * rest are taken as they are, so a full load sorts nothing. They are ranked
 * without the document's text, the last key of versionOrder: it is read, from
 * a second scan, only for the documents whose newest versions tie on every
 * other key. The text is the widest column of raw, and such ties are rare
 * (two reads of one document in one run, with one watermark value).
 */
export function latestVersions(
  d: SqlDialect,
  raw: string,
  ids: string | null,
  columns: readonly string[] = [],
): string {
  const id = d.ident('_id');
  const ranked = (select: string, join: string) => `SELECT * FROM (
  SELECT ${select}, row_number() OVER (PARTITION BY r.${id} ORDER BY ${versionOrder(d, 'r')}) AS version_rank
  FROM ${raw} r${join}
) ranked WHERE version_rank = 1`;
  if (ids === null) return ranked('r.*', '');
  if (columns.length === 0)
    throw new Error(`latestVersions of ${raw} for the ids of ${ids} needs the columns to keep`);
  const kept = columns.map((c) => `r.${d.ident(c)}`).join(', ');
  const keptNames = columns.map((c) => d.ident(c)).join(', ');
  // The documents of `ids` with `versions` raw rows (counted once): one, or more than one.
  const withVersions = (versions: string) =>
    `JOIN versions v ON v.${id} = r.${id} AND v.versions ${versions}`;
  const tiedOnly = `JOIN (SELECT DISTINCT ${id} FROM newest WHERE tied > 1) n ON n.${id} = r.${id}`;
  return `WITH versions AS (
  SELECT x.${id}, count(*) AS versions FROM ${raw} x WHERE x.${id} IN (SELECT ${id} FROM ${ids}) GROUP BY x.${id}
),
newest AS (
  SELECT ${keptNames}, count(*) OVER (PARTITION BY ${id}) AS tied FROM (
    SELECT ${kept}, rank() OVER (PARTITION BY r.${id} ORDER BY ${versionOrderBeforeText(d, 'r')}) AS newest_rank
    FROM ${raw} r
    ${withVersions('> 1')}
  ) ranked WHERE newest_rank = 1
)
SELECT ${kept}, 1 AS version_rank FROM ${raw} r
${withVersions('= 1')}
UNION ALL
SELECT ${keptNames}, 1 AS version_rank FROM newest WHERE tied = 1
UNION ALL
${ranked(kept, `\n  ${tiedOnly}`)}`;
}

/** Rows of a latest-versions relation that silver and gold take: live documents that map cleanly. */
export function liveClean(d: SqlDialect): string {
  return `${d.ident('_op')} = '${RAW_OP.upsert}' AND ${d.ident('_mapping_errors')} IS NULL`;
}

/**
 * The chart of accounts now: account_id → name and type from the latest
 * version of every live, clean account document; when two documents share an
 * account_id, the smaller `_id` wins.
 */
export function currentAccounts(d: SqlDialect, rawAccounts: string): string {
  const id = d.ident('_id');
  return `SELECT account_id, ${id}, account_name, account_type, is_active, ingest_ts FROM (
  SELECT account_id, ${id}, account_name, account_type, is_active, ingest_ts,
    row_number() OVER (PARTITION BY account_id ORDER BY ${d.ident('_id')}) AS account_rank
  FROM (${latestVersions(d, rawAccounts, null)}) l
  WHERE ${liveClean(d)} AND account_id IS NOT NULL
) ranked WHERE account_rank = 1`;
}

/** accounts_silver: the chart `accounts` (currentAccounts) with each account's normal balance side. */
export function accountsSilver(d: SqlDialect, accounts: string): string {
  const sides = Object.entries(NORMAL_SIDE)
    .map(([type, side]) => `WHEN '${type}' THEN '${side}'`)
    .join(' ');
  return `SELECT account_id, ${d.ident('_id')}, account_name, account_type, is_active,
  CASE account_type ${sides} END AS normal_side, ingest_ts
FROM ${accounts}`;
}

/**
 * Account ids whose name or type in the chart `now` differs from the chart
 * `before` (the one of the last committed run), or that are in only one of
 * them (`added_or_removed`: lines on it became known or unknown): their
 * entries' lines must be recomputed even when a failed run already rewrote
 * some of them.
 */
export function changedAccountIds(d: SqlDialect, now: string, before: string): string {
  return `SELECT coalesce(n.account_id, b.account_id) AS account_id,
  n.account_id IS NULL OR b.account_id IS NULL AS added_or_removed
FROM ${now} n FULL OUTER JOIN ${before} b ON n.account_id = b.account_id
WHERE n.account_id IS NULL OR b.account_id IS NULL
  OR ${d.distinct('n.account_name', 'b.account_name')} OR ${d.distinct('n.account_type', 'b.account_type')}`;
}

/**
 * Journal entries curated again from their latest raw version: those with
 * raw rows since the last committed run; those with a silver line on an
 * account that is in only one of the charts (its lines became known or
 * unknown: the entry's facts and issues change), or whose account name or
 * type silver holds otherwise than the chart for an account the chart did
 * not change (a repair); and those that ever shared an entry_id with a
 * changed entry (their duplicate_entry_id issue may appear or go).
 * Everything is measured against the last committed run, not against tables
 * a failed run may have half rewritten, so the next run after a failure
 * recomputes all it touched.
 *
 * An account renamed or retyped changes nothing of an entry but its silver
 * lines' names: those lines are taken from silver (renamedJournalLines), not
 * recomputed from raw, so a rename costs the lines posting to the account.
 */
export function touchedJournalEntries(
  d: SqlDialect,
  r: {
    /** Raw rows since the last committed run, and the whole raw table. */
    readonly changed: string;
    readonly raw: string;
    readonly silver: string;
    readonly accounts: string;
    readonly changedAccounts: string;
  },
): string {
  const id = d.ident('_id');
  return `SELECT ${id} FROM ${r.changed}
UNION
SELECT s.${id} FROM ${r.silver} s
LEFT JOIN ${r.accounts} a ON a.account_id = s.account_id
LEFT JOIN ${r.changedAccounts} c ON c.account_id = s.account_id
WHERE c.added_or_removed
  OR (c.account_id IS NULL AND (${d.distinct('s.account_name', 'a.account_name')} OR ${d.distinct('s.account_type', 'a.account_type')}))
UNION
SELECT e.${id} FROM ${r.raw} e
WHERE e.entry_id IN (
  SELECT entry_id FROM ${r.raw} WHERE ${id} IN (SELECT ${id} FROM ${r.changed})
)`;
}

/**
 * The silver lines, on an account the chart changed, of the entries not
 * curated again (not in `touched`), with the chart's name and type: all that
 * a rename or a change of type changes. `silver` holds at least every line
 * on a changed account (silver itself, or the rows the run may change);
 * `columns` are silver's, in order.
 */
export function renamedJournalLines(
  d: SqlDialect,
  r: {
    readonly silver: string;
    readonly accounts: string;
    readonly changedAccounts: string;
    readonly touched: string;
  },
  columns: readonly string[],
): string {
  const id = d.ident('_id');
  const fromChart = new Set(['account_name', 'account_type']);
  const select = columns.map((c) => (fromChart.has(c) ? `a.${d.ident(c)}` : `s.${d.ident(c)}`)).join(', ');
  return `SELECT ${select}
FROM ${r.silver} s
JOIN ${r.changedAccounts} c ON c.account_id = s.account_id
LEFT JOIN ${r.accounts} a ON a.account_id = s.account_id
WHERE NOT EXISTS (SELECT 1 FROM ${r.touched} x WHERE x.${id} = s.${id})`;
}

/** A silver column that copies a raw value (ColumnSpec.from): `line.<field>` or a raw column. */
export interface Copied {
  readonly name: string;
  readonly from: string;
}

const LINE_PREFIX = 'line.';

/**
 * One row per line of each live, clean entry in `latest`, joined to the chart:
 * silver's columns plus `account_known`, and the `copied` raw values.
 */
export function journalLines(
  d: SqlDialect,
  latest: string,
  accounts: string,
  copied: readonly Copied[] = [],
): string {
  const id = d.ident('_id');
  const entryColumns = copied.filter((c) => !c.from.startsWith(LINE_PREFIX)).map((c) => d.ident(c.from));
  const exploded = d.explode(
    `(SELECT * FROM ${latest} WHERE ${liveClean(d)}) clean`,
    [id, 'entry_id', 'date', 'description', 'ingest_ts', ...entryColumns].join(', '),
    'lines',
    'line',
    'line_no',
  );
  const copies = copied.map((c) =>
    c.from.startsWith(LINE_PREFIX)
      ? `,\n  e.line.${d.ident(c.from.slice(LINE_PREFIX.length))} AS ${d.ident(c.name)}`
      : `,\n  e.${d.ident(c.from)} AS ${d.ident(c.name)}`,
  );
  return `SELECT e.${id}, e.entry_id, e.date AS entry_date, e.description,
  e.line.account_id AS account_id, a.account_name, a.account_type,
  e.line.debit AS debit, e.line.credit AS credit, e.ingest_ts, CAST(e.line_no AS INT) AS line_no,
  a.account_id IS NOT NULL AS account_known${copies.join('')}
FROM (${exploded}) e
LEFT JOIN ${accounts} a ON a.account_id = e.line.account_id`;
}

/**
 * One row per live, clean entry in `latest` (entries without lines too):
 * totals and the per-line counts the data-quality codes need.
 */
export function journalEntryFacts(d: SqlDialect, latest: string, lines: string): string {
  const id = d.ident('_id');
  const total = (column: string) => `CAST(coalesce(l.${column}, 0) AS DECIMAL(28, 4))`;
  return `SELECT e.${id}, e.entry_id, e.date AS entry_date, e.ingest_ts,
  ${total('total_debit')} AS total_debit, ${total('total_credit')} AS total_credit,
  CAST(coalesce(l.line_count, 0) AS INT) AS line_count,
  coalesce(l.unknown_lines, 0) AS unknown_lines, l.unknown_accounts,
  coalesce(l.lines_without_amount, 0) AS lines_without_amount,
  coalesce(l.negative_lines, 0) AS negative_lines
FROM (SELECT * FROM ${latest} WHERE ${liveClean(d)}) e
LEFT JOIN (
  SELECT ${id}, sum(debit) AS total_debit, sum(credit) AS total_credit, count(*) AS line_count,
    sum(CASE WHEN account_known THEN 0 ELSE 1 END) AS unknown_lines,
    ${d.sortedDistinctList(`CASE WHEN account_known THEN NULL ELSE coalesce(account_id, '(none)') END`)} AS unknown_accounts,
    sum(CASE WHEN coalesce(debit, 0) = 0 AND coalesce(credit, 0) = 0 THEN 1 ELSE 0 END) AS lines_without_amount,
    sum(CASE WHEN debit < 0 OR credit < 0 THEN 1 ELSE 0 END) AS negative_lines
  FROM ${lines} GROUP BY ${id}
) l ON l.${id} = e.${id}`;
}

/** journal_entries_gold's rows for the entries in `facts`. */
export function journalEntriesGold(d: SqlDialect, facts: string): string {
  return `SELECT ${d.ident('_id')}, entry_id, entry_date, total_credit, total_debit,
  total_debit = total_credit AS is_balanced, line_count
FROM ${facts}`;
}

/** close_tasks_silver's rows for the live, clean tasks in `latest`; a task closes the month before its due date's. */
export function closeTasksSilver(d: SqlDialect, latest: string, copied: readonly Copied[] = []): string {
  const copies = copied.map((c) => `, ${d.ident(c.from)} AS ${d.ident(c.name)}`).join('');
  const period = d.addMonths(d.monthStart('due_date'), '-1');
  return `SELECT ${d.ident('_id')}, task_id, name, assigned_to, status, due_date, ${period} AS period, ingest_ts${copies}
FROM ${latest} WHERE ${liveClean(d)}`;
}

/**
 * The ledger's latest month now (`new_last`, from silver as this run left
 * it) and as trial_balance_gold holds it (`old_last`): when they differ,
 * every account gains or loses months at the end.
 */
export function ledgerSpan(d: SqlDialect, silver: string, trialBalance: string): string {
  return `SELECT (SELECT ${d.monthStart('max(entry_date)')} FROM ${silver}) AS new_last,
  (SELECT max(period) FROM ${trialBalance}) AS old_last`;
}

/** A month before any ledger: "every month of the account". */
const ALL_MONTHS = '0001-01-01';

/**
 * Per account, the first month whose trial balance rows may change
 * (`from_period`): the months of every raw version's lines of the touched
 * journal entries (the old postings as well as the new, whatever a failed run
 * rewrote), every month of an account the chart changed, and the months the
 * ledger's span gained or lost.
 */
export function touchedBalances(
  d: SqlDialect,
  r: {
    readonly raw: string;
    readonly touchedEntries: string;
    readonly changedAccounts: string;
    readonly silver: string;
    readonly trialBalance: string;
    readonly span: string;
  },
): string {
  const id = d.ident('_id');
  const versions = d.explode(
    `(SELECT ${id}, date, lines FROM ${r.raw} WHERE ${id} IN (SELECT ${id} FROM ${r.touchedEntries})) v`,
    'date',
    'lines',
    'line',
    'line_no',
  );
  const all = d.date(ALL_MONTHS);
  return `SELECT account_id, min(from_period) AS from_period FROM (
  SELECT line.account_id AS account_id, ${d.monthStart('date')} AS from_period FROM (${versions}) posted
  UNION ALL
  SELECT account_id, ${all} AS from_period FROM ${r.changedAccounts}
  UNION ALL
  SELECT a.account_id, CASE WHEN s.old_last IS NULL OR s.new_last IS NULL THEN ${all}
    ELSE ${d.addMonths('least(s.old_last, s.new_last)', '1')} END AS from_period
  FROM (SELECT account_id FROM ${r.silver} UNION SELECT account_id FROM ${r.trialBalance}) a
  CROSS JOIN ${r.span} s
  WHERE ${d.distinct('s.old_last', 's.new_last')}
) touched WHERE account_id IS NOT NULL AND from_period IS NOT NULL
GROUP BY account_id`;
}

/** Debits and credits per month of the accounts in `touched`, from silver (lines without a date or an account are not posted). */
export function balanceActivity(d: SqlDialect, silver: string, touched: string): string {
  const month = d.monthStart('entry_date');
  return `SELECT account_id, ${month} AS period,
  CAST(sum(coalesce(debit, 0)) AS DECIMAL(28, 4)) AS period_debit,
  CAST(sum(coalesce(credit, 0)) AS DECIMAL(28, 4)) AS period_credit
FROM ${silver}
WHERE account_id IN (SELECT account_id FROM ${touched}) AND entry_date IS NOT NULL
GROUP BY account_id, ${month}`;
}

/** Every month of each account of `activity`, from its first posting to the ledger's latest month. */
export function balanceMonths(d: SqlDialect, activity: string, span: string): string {
  return d.eachMonth(
    `(SELECT a.account_id, min(a.period) AS first_period, s.new_last AS last_period
  FROM ${activity} a CROSS JOIN ${span} s GROUP BY a.account_id, s.new_last) spans`,
    'account_id',
    'first_period',
    'last_period',
    'period',
  );
}

/**
 * trial_balance_gold's rows of the touched accounts from their `from_period`
 * on: each month's activity signed by the account's normal side (debit when
 * unknown) and accumulated into closing balances.
 */
export function trialBalance(r: {
  readonly months: string;
  readonly activity: string;
  readonly chart: string;
  readonly touched: string;
}): string {
  const closing = `sum(movement) OVER (PARTITION BY account_id ORDER BY period ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  return `SELECT b.period, b.account_id, b.account_name, b.account_type, b.normal_side,
  CAST(b.closing_balance - b.movement AS DECIMAL(28, 4)) AS opening_balance,
  b.period_debit, b.period_credit, b.closing_balance
FROM (
  SELECT signed.*, CAST(${closing} AS DECIMAL(28, 4)) AS closing_balance
  FROM (
    SELECT f.period, f.account_id, c.account_name, c.account_type, c.normal_side, f.period_debit, f.period_credit,
      CASE WHEN c.normal_side = 'credit' THEN f.period_credit - f.period_debit
        ELSE f.period_debit - f.period_credit END AS movement
    FROM (
      SELECT m.account_id, m.period,
        coalesce(x.period_debit, 0) AS period_debit, coalesce(x.period_credit, 0) AS period_credit
      FROM ${r.months} m LEFT JOIN ${r.activity} x ON x.account_id = m.account_id AND x.period = m.period
    ) f
    LEFT JOIN ${r.chart} c ON c.account_id = f.account_id
  ) signed
) b
JOIN ${r.touched} t ON t.account_id = b.account_id AND b.period >= t.from_period`;
}

/** The trial balance rows (alias `t`) of the accounts and months in `touched`. */
export function touchedBalanceRows(touched: string): string {
  return `EXISTS (SELECT 1 FROM ${touched} b WHERE b.account_id = t.account_id AND t.period >= b.from_period)`;
}

/** income_statement_gold, whole, from trial_balance_gold. */
export function incomeStatement(d: SqlDialect, trialBalance: string): string {
  const amount = (expression: string) => `CAST(${expression} AS DECIMAL(28, 4))`;
  return `SELECT period, revenue, expenses, ${amount('revenue - expenses')} AS net_income,
  ${amount(`sum(revenue - expenses) OVER (PARTITION BY ${d.yearStart('period')} ORDER BY period ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`)} AS ytd_net_income
FROM (
  SELECT period,
    ${amount(`sum(CASE WHEN account_type = 'Revenue' THEN period_credit - period_debit ELSE 0 END)`)} AS revenue,
    ${amount(`sum(CASE WHEN account_type = 'Expense' THEN period_debit - period_credit ELSE 0 END)`)} AS expenses
  FROM ${trialBalance} GROUP BY period
) months`;
}

/** balance_sheet_gold, whole, from trial_balance_gold and the income statement. */
export function balanceSheet(trialBalance: string, incomeStatement: string): string {
  const amount = (expression: string) => `CAST(${expression} AS DECIMAL(28, 4))`;
  const total = (type: string) =>
    amount(`sum(CASE WHEN account_type = '${type}' THEN closing_balance ELSE 0 END)`);
  return `SELECT b.period, b.total_assets, b.total_liabilities, b.total_equity,
  ${amount('b.earnings - i.ytd_net_income')} AS prior_years_earnings,
  i.ytd_net_income AS current_year_earnings,
  ${amount('b.total_liabilities + b.total_equity + b.earnings')} AS total_liabilities_and_equity,
  ${amount('b.total_assets - b.total_liabilities - b.total_equity - b.earnings')} AS out_of_balance
FROM (
  SELECT period, ${total('Asset')} AS total_assets, ${total('Liability')} AS total_liabilities, ${total('Equity')} AS total_equity,
    ${amount(`sum(CASE WHEN account_type = 'Revenue' THEN closing_balance WHEN account_type = 'Expense' THEN -closing_balance ELSE 0 END)`)} AS earnings
  FROM ${trialBalance} GROUP BY period
) b JOIN ${incomeStatement} i ON i.period = b.period`;
}

/** Close task statuses close_progress_gold counts. */
export const CLOSE_TASK_STATUS = {
  notStarted: 'Not Started',
  inProgress: 'In Progress',
  complete: 'Complete',
  blocked: 'Blocked',
} as const;

/** close_progress_gold, whole, from close_tasks_silver; overdue as of the UTC day of `clock`'s planned_at. */
export function closeProgress(d: SqlDialect, tasks: string, clock: string): string {
  const count = (condition: string) => `CAST(sum(CASE WHEN ${condition} THEN 1 ELSE 0 END) AS INT)`;
  const status = (value: string) => `status = '${value}'`;
  return `SELECT t.period, CAST(count(*) AS INT) AS tasks,
  ${count(status(CLOSE_TASK_STATUS.notStarted))} AS not_started,
  ${count(status(CLOSE_TASK_STATUS.inProgress))} AS in_progress,
  ${count(status(CLOSE_TASK_STATUS.complete))} AS complete,
  ${count(status(CLOSE_TASK_STATUS.blocked))} AS blocked,
  ${count(`coalesce(status, '') <> '${CLOSE_TASK_STATUS.complete}' AND t.due_date < c.as_of`)} AS overdue,
  CAST(round(CAST(100 * ${count(status(CLOSE_TASK_STATUS.complete))} AS DOUBLE) / count(*), 2) AS DECIMAL(5, 2)) AS percent_complete,
  c.as_of
FROM ${tasks} t CROSS JOIN (SELECT ${d.utcDate('planned_at')} AS as_of FROM ${clock}) c
WHERE t.period IS NOT NULL
GROUP BY t.period, c.as_of`;
}

/**
 * posted_after_close: the journal entries of `candidates` (an `_id` relation)
 * that have a version dated in a closed month and a version ingested after
 * the books the month's latest close in `closed` (trial_balance_closed_gold)
 * was made from (`books_as_of`). Every
 * version counts, so an entry created, changed, moved out of the month or
 * deleted after the close is listed; the detail names the months.
 */
export function postedAfterClose(
  d: SqlDialect,
  r: { readonly raw: string; readonly candidates: string; readonly closed: string },
): string {
  const id = d.ident('_id');
  return `SELECT 'journal_entries' AS source_collection, f.${id}, f.business_key, '${DQ.postedAfterClose}' AS code,
  concat('dated in closed month ', f.months, ': created, changed or deleted after the close') AS detail,
  f.entry_date, f.ingest_ts
FROM (
  SELECT v.${id}, max(v.entry_id) AS business_key, max(CASE WHEN c.period IS NOT NULL THEN v.date END) AS entry_date,
    max(v.last_ingest) AS ingest_ts,
    ${d.sortedDistinctList(`CASE WHEN v.last_ingest > c.closed_at THEN substr(CAST(c.period AS STRING), 1, 7) END`)} AS months
  FROM (
    SELECT ${id}, entry_id, date, max(ingest_ts) OVER (PARTITION BY ${id}) AS last_ingest
    FROM ${r.raw} WHERE ${id} IN (SELECT ${id} FROM ${r.candidates})
  ) v
  LEFT JOIN (SELECT period, max(books_as_of) AS closed_at FROM ${r.closed} GROUP BY period) c
    ON c.period = ${d.monthStart('v.date')}
  GROUP BY v.${id}
) f
WHERE f.months <> ''`;
}

/** A collection's latest versions and how its documents are named in data_quality_issues. */
export interface IssueSource {
  readonly collection: string;
  /** Latest versions of the documents whose issues are recomputed. */
  readonly latest: string;
  /** Column holding the document's business key (entry_id, task_id, account_id). */
  readonly businessKey: string;
  /** Column mapped from the watermark field; null when the collection has none (`_id` watermark). */
  readonly watermark: string | null;
  /** Column with the entry date (journal entries); null elsewhere. */
  readonly entryDate: string | null;
}

/**
 * The data-quality issues of the documents in each source that concern any
 * collection: mapping errors (and invalid dates among them) and watermark
 * fields that are missing, not a Date, or in the future of the run that read them.
 */
export function documentIssues(d: SqlDialect, source: IssueSource): string {
  const id = d.ident('_id');
  const errors = d.ident('_mapping_errors');
  const live = `${d.ident('_op')} = '${RAW_OP.upsert}'`;
  const issue = (code: string, detail: string, where: string) =>
    `SELECT '${source.collection}' AS source_collection, ${id}, CAST(${source.businessKey} AS STRING) AS business_key, '${code}' AS code,
  ${detail} AS detail, ${source.entryDate === null ? 'CAST(NULL AS DATE)' : source.entryDate} AS entry_date, ingest_ts
FROM ${source.latest} WHERE ${live} AND ${where}`;
  const parts = [
    issue(DQ.mappingError, errors, `${errors} IS NOT NULL`),
    issue(DQ.invalidDate, errors, `${errors} LIKE '%${NAMING_A_CALENDAR_DATE}%'`),
  ];
  if (source.watermark !== null) {
    parts.push(
      issue(
        DQ.missingWatermark,
        `'the watermark field is missing, null or not a Date: the document is read on every run'`,
        `${source.watermark} IS NULL`,
      ),
      issue(
        DQ.futureWatermark,
        `'the watermark field is later than the run that read the document: it is read on every run until then'`,
        `${source.watermark} > ingest_ts`,
      ),
    );
  }
  return parts.join('\nUNION ALL\n');
}

/** The ledger issues of the journal entries in `facts`; duplicates are counted over the whole of `gold`. */
export function journalEntryIssues(d: SqlDialect, facts: string, gold: string): string {
  const id = d.ident('_id');
  const issue = (code: string, detail: string, where: string) =>
    `SELECT 'journal_entries' AS source_collection, ${id}, entry_id AS business_key, '${code}' AS code,
  ${detail} AS detail, entry_date, ingest_ts
FROM ${facts} WHERE ${where}`;
  const amount = (column: string) => `CAST(${column} AS STRING)`;
  return [
    issue(
      DQ.unbalancedEntry,
      `concat('debits ', ${amount('total_debit')}, ' differ from credits ', ${amount('total_credit')})`,
      'line_count > 0 AND total_debit <> total_credit',
    ),
    issue(
      DQ.unknownAccount,
      `concat('accounts not in the chart of accounts: ', unknown_accounts)`,
      'unknown_lines > 0',
    ),
    issue(DQ.missingEntryId, `'the entry has no entry_id'`, `entry_id IS NULL OR entry_id = ''`),
    issue(DQ.noLines, `'the entry has no lines'`, 'line_count = 0'),
    issue(
      DQ.lineWithoutAmount,
      `concat(CAST(lines_without_amount AS STRING), ' line(s) with neither a debit nor a credit')`,
      'lines_without_amount > 0',
    ),
    issue(
      DQ.negativeAmount,
      `concat(CAST(negative_lines AS STRING), ' line(s) with a negative amount')`,
      'negative_lines > 0',
    ),
    `SELECT 'journal_entries' AS source_collection, f.${id}, f.entry_id AS business_key, '${DQ.duplicateEntryId}' AS code,
  concat('entry_id ', f.entry_id, ' is on ', CAST(shared.documents AS STRING), ' journal entries') AS detail, f.entry_date, f.ingest_ts
FROM ${facts} f
JOIN (
  SELECT entry_id, count(*) AS documents FROM ${gold}
  WHERE entry_id IN (SELECT entry_id FROM ${facts})
  GROUP BY entry_id HAVING count(*) > 1
) shared ON shared.entry_id = f.entry_id`,
  ].join('\nUNION ALL\n');
}

/**
 * The changes that bring `target` to `desired` for the documents in
 * `touched`: desired rows that are new or differ (in any column but
 * `ignored`), flagged `_delete = false`, and target rows of touched documents
 * that are no longer desired, flagged true. Empty when nothing changes, so a
 * MERGE of it is skipped and no snapshot is written.
 *
 * The target is read once, filtered to the touched rows, and both sides join
 * that: desired rows are rows of touched documents, so the target row holding a
 * desired row's key is a touched one. (Were it not, the desired row would be
 * written again unchanged: the same table, one more rewrite.) A small run
 * then joins its own rows, not the whole table.
 */
export function changesTo(
  d: SqlDialect,
  target: {
    readonly table: string;
    readonly keys: readonly string[];
    readonly columns: readonly string[];
    /** Columns that do not by themselves make a row changed (ingest times). */
    readonly ignored: readonly string[];
  },
  /** A relation (table or view name) of the desired rows of the touched documents. */
  desired: string,
  touched: string,
  deleteFlag: string,
): string {
  const q = d.ident;
  const on = (a: string, b: string) => target.keys.map((k) => `${a}.${q(k)} = ${b}.${q(k)}`).join(' AND ');
  const compared = target.columns.filter((c) => !target.keys.includes(c) && !target.ignored.includes(c));
  const differs = compared.map((c) => d.distinct(`t.${q(c)}`, `n.${q(c)}`));
  const firstKey = q(target.keys[0] as string);
  const select = (alias: string) => target.columns.map((c) => `${alias}.${q(c)}`).join(', ');
  return `WITH touched_rows AS (SELECT * FROM ${target.table} t WHERE ${touched})
SELECT ${select('n')}, false AS ${q(deleteFlag)}
FROM ${desired} n
LEFT JOIN touched_rows t ON ${on('t', 'n')}
WHERE t.${firstKey} IS NULL${differs.length === 0 ? '' : ` OR ${differs.join(' OR ')}`}
UNION ALL
SELECT ${select('t')}, true AS ${q(deleteFlag)}
FROM touched_rows t
LEFT JOIN ${desired} n ON ${on('t', 'n')}
WHERE n.${firstKey} IS NULL`;
}
