import type { SqlDialect } from './dialect.ts';

/**
 * The silver and gold logic, written once. Each function returns a SELECT
 * whose columns are exactly the target table's (model order), in the given
 * dialect; lib/curate/statements.ts MERGEs its rows into the table on the
 * model's key.
 */
export interface CurateSources {
  /** Raw rows appended by the run being curated: work follows what changed (a table, view or parenthesised query). */
  readonly runJournalEntries: string;
  readonly runCloseTasks: string;
  /** Every raw account row: the chart of accounts is joined at its latest version. */
  readonly rawAccounts: string;
}

/**
 * The latest clean version of each document in `raw`: quarantined rows
 * (mapping errors) stay in raw only, and duplicates in one batch collapse.
 */
export function latestVersions(d: SqlDialect, raw: string, columns: string): string {
  return `SELECT ${columns} FROM (
  SELECT r.*, row_number() OVER (PARTITION BY ${d.ident('_id')} ORDER BY updated_at DESC NULLS LAST, ingest_ts DESC) AS version_rank
  FROM ${raw} r
  WHERE ${d.ident('_mapping_errors')} IS NULL
) ranked WHERE version_rank = 1`;
}

/** Every clean version of every account, newest first (version_rank 1) per account. */
function rankedAccounts(d: SqlDialect, raw: string): string {
  return `SELECT account_id, account_name, account_type,
    row_number() OVER (PARTITION BY account_id ORDER BY updated_at DESC NULLS LAST, ingest_ts DESC) AS version_rank
  FROM ${raw}
  WHERE ${d.ident('_mapping_errors')} IS NULL`;
}

/** The chart of accounts as of now: latest version of each account across all runs. */
export function currentAccounts(d: SqlDialect, raw: string): string {
  return `SELECT account_id, account_name, account_type FROM (${rankedAccounts(d, raw)}) ranked WHERE version_rank = 1`;
}

/**
 * Accounts whose latest version renamed or retyped them compared with the
 * version before (the chart of accounts is reloaded whole each run, so an
 * unchanged account's two latest versions are equal).
 */
export function changedAccounts(d: SqlDialect, raw: string): string {
  return `SELECT cur.account_id FROM (${rankedAccounts(d, raw)}) cur
JOIN (${rankedAccounts(d, raw)}) prev ON prev.account_id = cur.account_id AND prev.version_rank = 2
WHERE cur.version_rank = 1
  AND (${d.distinct('cur.account_name', 'prev.account_name')} OR ${d.distinct('cur.account_type', 'prev.account_type')})`;
}

/** The latest version of each journal entry of the run, before its lines are exploded. */
export function latestJournalEntries(d: SqlDialect, sources: CurateSources): string {
  return latestVersions(
    d,
    sources.runJournalEntries,
    `${d.ident('_id')}, entry_id, date, description, lines, ingest_ts`,
  );
}

export function journalEntriesSilverSource(d: SqlDialect, sources: CurateSources): string {
  const exploded = d.explode(
    `(${latestJournalEntries(d, sources)}) latest`,
    `${d.ident('_id')}, entry_id, date, description, ingest_ts`,
    'lines',
    'line',
    'line_no',
  );
  return `SELECT e.${d.ident('_id')}, e.entry_id, e.date AS entry_date, e.description,
  e.line.account_id AS account_id, a.account_name, a.account_type,
  e.line.debit AS debit, e.line.credit AS credit, e.ingest_ts, CAST(e.line_no AS INT) AS line_no
FROM (${exploded}) e
LEFT JOIN (${currentAccounts(d, sources.rawAccounts)}) a ON a.account_id = e.line.account_id`;
}

export function closeTasksSilverSource(d: SqlDialect, sources: CurateSources): string {
  return latestVersions(
    d,
    sources.runCloseTasks,
    `${d.ident('_id')}, task_id, name, assigned_to, status, due_date, ingest_ts`,
  );
}

/**
 * Totals of the entries this run touched, recomputed from all of their silver
 * lines. Plain SQL that both engines read the same way, so it takes no dialect.
 */
export function journalEntriesGoldSource(silver: string, touchedEntries: string): string {
  return `SELECT entry_id, max(entry_date) AS entry_date,
  CAST(sum(credit) AS DECIMAL(28, 4)) AS total_credit, CAST(sum(debit) AS DECIMAL(28, 4)) AS total_debit,
  sum(debit) = sum(credit) AS is_balanced
FROM ${silver}
WHERE entry_id IN (SELECT entry_id FROM ${touchedEntries})
GROUP BY entry_id`;
}
