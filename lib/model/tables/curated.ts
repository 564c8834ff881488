import { AMOUNT, AMOUNT_TOTAL } from '../money.ts';
import type { TableSpec } from '../table.ts';
import { column, t } from '../types.ts';

// Curated columns are all optional, keys included: Iceberg 1.0.0 (Glue 4.0) cannot MERGE INTO a table
// with required columns (apache/iceberg#5739, fixed in 1.1.0). tableFromSpec enforces it; the MERGE keys
// are never null by construction (they come from required raw columns).

export const JOURNAL_ENTRIES_SILVER: TableSpec = {
  name: 'journal_entries_silver',
  layer: 'silver',
  doc: 'One row per journal line, joined to its account; latest version of each entry',
  columns: [
    column('_id', t.string(), 'Source document _id of the entry'),
    column('entry_id', t.string(), 'Business key of the journal entry'),
    column('entry_date', t.date(), 'Accounting date of the entry'),
    column('description', t.string(), 'Narrative of the entry'),
    column('account_id', t.string(), 'Account code the line posts to'),
    column('account_name', t.string(), 'Account name from the chart of accounts'),
    column('account_type', t.string(), 'Account type from the chart of accounts'),
    column('debit', AMOUNT, 'Debit amount'),
    column('credit', AMOUNT, 'Credit amount'),
    column('ingest_ts', t.timestamptz(), 'Ingest time of the raw row this line came from'),
    // Not in the brief's sample: without it two lines of one entry on the same account could not be told apart by MERGE.
    column('line_no', t.int(), 'Position of the line within its entry, from 1'),
  ],
  partitionBy: [{ column: 'entry_date', transform: 'year' }],
  sortBy: [
    { column: 'entry_date', direction: 'asc' },
    { column: 'entry_id', direction: 'asc' },
  ],
  keyColumns: ['_id', 'line_no'],
};

export const CLOSE_TASKS_SILVER: TableSpec = {
  name: 'close_tasks_silver',
  layer: 'silver',
  doc: 'Month-end close tasks, latest version of each task',
  columns: [
    column('_id', t.string(), 'Source document _id of the task'),
    column('task_id', t.string(), 'Business key of the close task'),
    column('name', t.string(), 'What has to be done'),
    column('assigned_to', t.string(), 'Owner of the task'),
    column('status', t.string(), 'Not Started, In Progress, Complete or Blocked'),
    column('due_date', t.date(), 'When the task is due'),
    column('ingest_ts', t.timestamptz(), 'Ingest time of the raw row'),
    // Not in the brief's sample: the month-end views need it (issue 12).
    column(
      'period',
      t.date(),
      "First day of the month the task closes: the month before the due date's (close work is due after the month ends)",
    ),
  ],
  partitionBy: [{ column: 'due_date', transform: 'year' }],
  sortBy: [{ column: 'due_date', direction: 'asc' }],
  keyColumns: ['_id'],
};

export const JOURNAL_ENTRIES_GOLD: TableSpec = {
  name: 'journal_entries_gold',
  layer: 'gold',
  doc: 'Debit and credit totals per journal entry: one row per live source document',
  columns: [
    // Keyed by the source document, not entry_id: two documents sharing an entry_id stay two rows.
    column('_id', t.string(), 'Source document _id of the entry'),
    column('entry_id', t.string(), 'Business key of the journal entry'),
    column('entry_date', t.date(), 'Accounting date of the entry'),
    column('total_credit', AMOUNT_TOTAL, 'Sum of credit amounts over the entry lines (0 without lines)'),
    column('total_debit', AMOUNT_TOTAL, 'Sum of debit amounts over the entry lines (0 without lines)'),
    // An extension of the brief: unbalanced entries are what an accountant looks for first.
    column('is_balanced', t.boolean(), 'Whether total debit equals total credit'),
    column('line_count', t.int(), 'Number of lines of the entry'),
  ],
  partitionBy: [],
  // By date first: period queries read few files, and corrections (which cluster on recent dates) rewrite few.
  sortBy: [
    { column: 'entry_date', direction: 'asc' },
    { column: 'entry_id', direction: 'asc' },
  ],
  keyColumns: ['_id'],
};

export const DATA_QUALITY_ISSUES: TableSpec = {
  name: 'data_quality_issues',
  layer: 'gold',
  doc: 'One row per source document and data-quality issue that is currently true; a row disappears when the document is fixed or deleted',
  columns: [
    column('source_collection', t.string(), 'MongoDB collection of the document'),
    column('_id', t.string(), 'Source document _id'),
    column('business_key', t.string(), 'entry_id, task_id or account_id of the document, when it has one'),
    column('code', t.string(), 'Issue code, e.g. unbalanced_entry (see lib/curate/data-quality.ts)'),
    column('detail', t.string(), 'What is wrong, e.g. the unknown account ids or the mapping error'),
    column('entry_date', t.date(), 'Accounting date of a journal entry (null for other collections)'),
    column('ingest_ts', t.timestamptz(), 'Ingest time of the raw row the issue was found in'),
  ],
  partitionBy: [],
  sortBy: [
    { column: 'code', direction: 'asc' },
    { column: '_id', direction: 'asc' },
  ],
  keyColumns: ['source_collection', '_id', 'code'],
};

/** Normal balance side of each account type: the side on which a balance is positive. */
export const NORMAL_SIDE: Readonly<Record<string, 'debit' | 'credit'>> = {
  Asset: 'debit',
  Expense: 'debit',
  Liability: 'credit',
  Equity: 'credit',
  Revenue: 'credit',
};

export const ACCOUNTS_SILVER: TableSpec = {
  name: 'accounts_silver',
  layer: 'silver',
  doc: 'The chart of accounts now: one row per account_id, from the latest version of its account document (the smaller _id when two share an account_id)',
  columns: [
    column('account_id', t.string(), 'Account code from the chart of accounts'),
    column('_id', t.string(), 'Source document _id of the account'),
    column('account_name', t.string(), 'Account name'),
    column('account_type', t.string(), 'Asset, Liability, Equity, Revenue or Expense'),
    column('is_active', t.boolean(), 'Whether the account accepts postings'),
    column(
      'normal_side',
      t.string(),
      "'debit' for Asset and Expense accounts, 'credit' for Liability, Equity and Revenue; null for any other type",
    ),
    column('ingest_ts', t.timestamptz(), 'Ingest time of the raw row'),
  ],
  partitionBy: [],
  sortBy: [{ column: 'account_id', direction: 'asc' }],
  keyColumns: ['account_id'],
};

const balance = (name: string, doc: string) => column(name, AMOUNT_TOTAL, doc);

export const TRIAL_BALANCE_GOLD: TableSpec = {
  name: 'trial_balance_gold',
  layer: 'gold',
  doc: "One row per account and month, from the account's first posting to the ledger's latest month (months without activity included); balances signed by the account's normal side",
  columns: [
    column('period', t.date(), 'First day of the month'),
    column('account_id', t.string(), 'Account code the lines post to'),
    column(
      'account_name',
      t.string(),
      'Account name from the chart of accounts (null for an unknown account)',
    ),
    column(
      'account_type',
      t.string(),
      'Account type from the chart of accounts (null for an unknown account)',
    ),
    column(
      'normal_side',
      t.string(),
      "'debit' or 'credit': the side on which the balances are positive (null, and signed as debit, for an unknown account or type)",
    ),
    balance('opening_balance', 'Balance at the start of the month: the closing balance of the month before'),
    balance('period_debit', 'Sum of the debits of the month'),
    balance('period_credit', 'Sum of the credits of the month'),
    balance('closing_balance', 'Balance at the end of the month, signed by the normal side'),
  ],
  partitionBy: [],
  sortBy: [
    { column: 'period', direction: 'asc' },
    { column: 'account_id', direction: 'asc' },
  ],
  keyColumns: ['account_id', 'period'],
};

export const INCOME_STATEMENT_GOLD: TableSpec = {
  name: 'income_statement_gold',
  layer: 'gold',
  doc: 'Revenue, expenses and net income per month of the ledger (the fiscal year is the calendar year)',
  columns: [
    column('period', t.date(), 'First day of the month'),
    balance('revenue', 'Credits less debits of the month on Revenue accounts'),
    balance('expenses', 'Debits less credits of the month on Expense accounts'),
    balance('net_income', 'revenue - expenses'),
    balance('ytd_net_income', 'Net income from January of the same year to this month'),
  ],
  partitionBy: [],
  sortBy: [{ column: 'period', direction: 'asc' }],
  keyColumns: ['period'],
};

export const BALANCE_SHEET_GOLD: TableSpec = {
  name: 'balance_sheet_gold',
  layer: 'gold',
  doc: 'Totals at each month end: assets = liabilities + equity + earnings not yet closed to equity; out_of_balance shows what unbalanced entries and accounts of no known type leave over',
  columns: [
    column('period', t.date(), 'First day of the month; the balances are those at its end'),
    balance('total_assets', 'Closing balances of Asset accounts'),
    balance('total_liabilities', 'Closing balances of Liability accounts'),
    balance('total_equity', 'Closing balances of Equity accounts'),
    balance(
      'prior_years_earnings',
      'Revenue less expenses of earlier years still on Revenue and Expense accounts (no closing entry moved them to equity)',
    ),
    balance('current_year_earnings', 'Net income from January of the same year to this month'),
    balance(
      'total_liabilities_and_equity',
      'total_liabilities + total_equity + prior_years_earnings + current_year_earnings',
    ),
    balance('out_of_balance', 'total_assets - total_liabilities_and_equity: zero when every entry balances'),
  ],
  partitionBy: [],
  sortBy: [{ column: 'period', direction: 'asc' }],
  keyColumns: ['period'],
};

export const CLOSE_PROGRESS_GOLD: TableSpec = {
  name: 'close_progress_gold',
  layer: 'gold',
  doc: 'Month-end close progress per period, from close_tasks_silver',
  columns: [
    column('period', t.date(), 'First day of the month being closed'),
    column('tasks', t.int(), 'Close tasks of the period'),
    column('not_started', t.int(), "Tasks with status 'Not Started'"),
    column('in_progress', t.int(), "Tasks with status 'In Progress'"),
    column('complete', t.int(), "Tasks with status 'Complete'"),
    column('blocked', t.int(), "Tasks with status 'Blocked'"),
    column('overdue', t.int(), "Tasks not 'Complete' whose due date is before as_of"),
    column('percent_complete', t.decimal(5, 2), '100 * complete / tasks, rounded half up to 2 places'),
    column(
      'as_of',
      t.date(),
      'UTC date of the run that counted overdue; a row is rewritten only when a count changes',
    ),
  ],
  partitionBy: [],
  sortBy: [{ column: 'period', direction: 'asc' }],
  keyColumns: ['period'],
};

export const TRIAL_BALANCE_CLOSED_GOLD: TableSpec = {
  name: 'trial_balance_closed_gold',
  layer: 'gold',
  doc: 'The trial balance of each closed month as it was closed: appended by every close (and by every close after a reopening), never changed; the snapshots tagged close-YYYY-MM hold the rest of the books as closed',
  columns: [
    ...TRIAL_BALANCE_GOLD.columns,
    column('close_number', t.int(), 'Which close of the month: 1, then 2 after the first reopening, ...'),
    column(
      'reopened',
      t.boolean(),
      'Whether this close followed a reopening of the month (close_number > 1)',
    ),
    column('closed_at', t.timestamptz(), 'When the month was closed'),
    column(
      'books_as_of',
      t.timestamptz(),
      'The latest ingest time of raw journal entries at the close: a version ingested later was posted after the close',
    ),
    column('run_id', t.string(), 'The pipeline run that closed the month'),
    column(
      'snapshots',
      t.list(
        t.struct([
          column('table_name', t.string(), 'A curated table'),
          column(
            'snapshot_id',
            t.long(),
            'Its snapshot tagged close-YYYY-MM: FOR VERSION AS OF <snapshot_id>',
          ),
        ]),
      ),
      'The snapshot of every curated table at the close (Athena time travel takes snapshot ids, not tags)',
    ),
  ],
  partitionBy: [],
  sortBy: [
    { column: 'period', direction: 'asc' },
    { column: 'close_number', direction: 'asc' },
    { column: 'account_id', direction: 'asc' },
  ],
  keyColumns: ['period', 'close_number', 'account_id'],
};

export const CURATED_TABLES: readonly TableSpec[] = [
  ACCOUNTS_SILVER,
  JOURNAL_ENTRIES_SILVER,
  CLOSE_TASKS_SILVER,
  JOURNAL_ENTRIES_GOLD,
  TRIAL_BALANCE_GOLD,
  INCOME_STATEMENT_GOLD,
  BALANCE_SHEET_GOLD,
  CLOSE_PROGRESS_GOLD,
  DATA_QUALITY_ISSUES,
  TRIAL_BALANCE_CLOSED_GOLD,
];
