import type { TableModel } from '../model/index.ts';

/**
 * The queries an accountant starts from: saved as Athena named queries by the
 * analytics stack and run locally by `npm run query -- --named <id>`. They
 * are written against the curated tables of the model (a renamed table fails
 * at synth, not in Athena), in the SQL both Athena (Trino) and DuckDB accept.
 */
export interface AccountantQuery {
  /** What `npm run query -- --named` calls it. */
  readonly id: string;
  /** The Athena named query's name. */
  readonly name: string;
  readonly description: string;
  readonly sql: string;
  /** Whether the SQL holds PERIOD_PARAMETER (the month it reports on; the latest when left NULL). */
  readonly takesPeriod: boolean;
}

/**
 * The month a query reports on, as the saved SQL holds it: NULL means the
 * latest month of the ledger. In Athena, replace it with DATE '2025-06-01';
 * locally, `--period 2025-06` does.
 */
export const PERIOD_PARAMETER = `CAST(NULL AS DATE) /* the month: DATE 'YYYY-MM-01'; NULL for the latest */`;

/** `--period YYYY-MM` as the SQL literal that replaces PERIOD_PARAMETER. */
export function periodLiteral(period: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period))
    throw new Error(`--period must be a month as YYYY-MM (e.g. 2025-06), got ${JSON.stringify(period)}`);
  return `DATE '${period}-01'`;
}

/** The SQL of a query with its period filled in (none: the latest month). */
export function withPeriod(query: AccountantQuery, period: string | undefined): string {
  if (period === undefined) return query.sql;
  if (!query.takesPeriod) throw new Error(`the named query '${query.id}' takes no --period`);
  return query.sql.replaceAll(PERIOD_PARAMETER, periodLiteral(period));
}

export function accountantQueries(model: TableModel): readonly AccountantQuery[] {
  const ref = (name: string) => {
    const table = model.table(name);
    return `"${table.database}"."${table.name}"`;
  };
  const balances = ref('trial_balance_gold');
  const closes = ref('trial_balance_closed_gold');
  /** A CTE `chosen` with the month reported on: the parameter, or the latest month of `table`. */
  const chosenOf = (table: string) => `chosen AS (
  SELECT coalesce(${PERIOD_PARAMETER}, (SELECT max(period) FROM ${table})) AS period
)`;
  const chosen = chosenOf(balances);
  /** CTEs `chosen` (the parameter, or the latest closed month) and `closed`: that month's latest close. */
  const lastClose = `${chosenOf(closes)},
closed AS (
  SELECT k.* FROM ${closes} k
  JOIN chosen c ON k.period = c.period
  WHERE k.close_number = (SELECT max(close_number) FROM ${closes} WHERE period = c.period)
)`;
  // The balance sheet's lines after the accounts: one of balance_sheet_gold's columns each, in this order.
  const totals = [
    ['Equity', 'Prior years earnings', 'prior_years_earnings'],
    ['Equity', 'Current year earnings', 'current_year_earnings'],
    ['Total', 'Total assets', 'total_assets'],
    ['Total', 'Total liabilities and equity', 'total_liabilities_and_equity'],
    ['Total', 'Out of balance', 'out_of_balance'],
  ]
    .map(
      ([section, label, column], i) => `  UNION ALL
  SELECT '${section}', NULL, '${label}', s.${column}, ${i + 4}
  FROM ${ref('balance_sheet_gold')} s JOIN chosen c ON s.period = c.period`,
    )
    .join('\n');
  return [
    {
      id: 'trial-balance',
      name: 'Trial balance as of a period',
      description:
        'Every account with a balance at the end of the month (the latest when the period is left NULL): opening balance, the month’s debits and credits, closing balance, and the closing balance in the debit or credit column, whose totals agree when every entry balances',
      takesPeriod: true,
      sql: `WITH ${chosen}
SELECT b.period,
       b.account_id,
       b.account_name,
       b.account_type,
       b.opening_balance,
       b.period_debit,
       b.period_credit,
       b.closing_balance,
       CASE WHEN (coalesce(b.normal_side, 'debit') = 'credit') = (b.closing_balance < 0)
            THEN abs(b.closing_balance) END AS debit_balance,
       CASE WHEN (coalesce(b.normal_side, 'debit') = 'credit') <> (b.closing_balance < 0)
            THEN abs(b.closing_balance) END AS credit_balance
FROM ${balances} b
JOIN chosen c ON b.period = c.period
ORDER BY b.account_id;`,
    },
    {
      id: 'income-statement',
      name: 'Income statement',
      description:
        'Revenue and expense accounts for the month and the year to date (the latest month when the period is left NULL), then net income',
      takesPeriod: true,
      sql: `WITH ${chosen},
amounts AS (
  SELECT b.period, b.account_type, b.account_id, b.account_name,
         CASE WHEN b.account_type = 'Revenue' THEN b.period_credit - b.period_debit
              ELSE b.period_debit - b.period_credit END AS amount
  FROM ${balances} b
  WHERE b.account_type IN ('Revenue', 'Expense')
)
SELECT line, account_id, account_name, month_amount, year_to_date FROM (
  SELECT a.account_type AS line, a.account_id, a.account_name,
         sum(CASE WHEN a.period = c.period THEN a.amount ELSE 0 END) AS month_amount,
         sum(a.amount) AS year_to_date,
         CASE a.account_type WHEN 'Revenue' THEN 1 ELSE 2 END AS part
  FROM amounts a
  JOIN chosen c ON a.period <= c.period AND year(a.period) = year(c.period)
  GROUP BY a.account_type, a.account_id, a.account_name
  UNION ALL
  SELECT 'Net income', NULL, NULL, i.net_income, i.ytd_net_income, 3
  FROM ${ref('income_statement_gold')} i
  JOIN chosen c ON i.period = c.period
) statement
ORDER BY part, account_id;`,
    },
    {
      id: 'balance-sheet',
      name: 'Balance sheet',
      description:
        'Asset, liability and equity balances at the end of the month (the latest when the period is left NULL), earnings not yet closed to equity, and the totals; out of balance is what unbalanced entries leave over',
      takesPeriod: true,
      sql: `WITH ${chosen}
SELECT section, account_id, account_name, balance FROM (
  SELECT b.account_type AS section, b.account_id, b.account_name, b.closing_balance AS balance,
         CASE b.account_type WHEN 'Asset' THEN 1 WHEN 'Liability' THEN 2 ELSE 3 END AS part
  FROM ${balances} b
  JOIN chosen c ON b.period = c.period
  WHERE b.account_type IN ('Asset', 'Liability', 'Equity')
${totals}
) sheet
ORDER BY part, account_id;`,
    },
    {
      id: 'books-as-closed',
      name: 'Books as closed for a period',
      description:
        'The trial balance of a closed month as it was closed (its latest close; the latest closed month when the period is left NULL), with when, by which run, and the snapshot id of trial_balance_gold at the close: FOR VERSION AS OF <that id> reads any curated table as closed (snapshots lists every table’s id; locally the tag close-YYYY-MM works too)',
      takesPeriod: true,
      sql: `WITH ${lastClose}
SELECT k.period,
       k.account_id,
       k.account_name,
       k.account_type,
       k.opening_balance,
       k.period_debit,
       k.period_credit,
       k.closing_balance,
       k.close_number,
       k.reopened,
       k.closed_at,
       k.run_id,
       filter(k.snapshots, s -> s.table_name = 'trial_balance_gold')[1].snapshot_id AS trial_balance_snapshot_id
FROM closed k
ORDER BY k.account_id;`,
    },
    {
      id: 'changes-after-close',
      name: 'Changes after close',
      description:
        'What moved in a closed month since its latest close (the latest closed month when the period is left NULL): per account, the balance as closed, the balance now and the difference; the entries behind it are the posted_after_close rows of data_quality_issues',
      takesPeriod: true,
      sql: `WITH ${lastClose},
now AS (
  SELECT b.* FROM ${balances} b JOIN chosen c ON b.period = c.period
)
SELECT coalesce(n.period, k.period) AS period,
       coalesce(n.account_id, k.account_id) AS account_id,
       coalesce(n.account_name, k.account_name) AS account_name,
       k.closing_balance AS closed_balance,
       n.closing_balance AS balance_now,
       coalesce(n.closing_balance, 0) - coalesce(k.closing_balance, 0) AS difference,
       coalesce(n.period_debit, 0) - coalesce(k.period_debit, 0) AS debit_difference,
       coalesce(n.period_credit, 0) - coalesce(k.period_credit, 0) AS credit_difference,
       k.closed_at
FROM closed k
FULL OUTER JOIN now n ON n.account_id = k.account_id
WHERE coalesce(n.closing_balance, 0) <> coalesce(k.closing_balance, 0)
   OR coalesce(n.period_debit, 0) <> coalesce(k.period_debit, 0)
   OR coalesce(n.period_credit, 0) <> coalesce(k.period_credit, 0)
ORDER BY 2;`,
    },
    {
      id: 'posted-after-close',
      name: 'Entries posted after close',
      description:
        'Journal entries dated in a closed month that were created, changed or deleted after its close (posted_after_close), with the month in the detail',
      takesPeriod: false,
      sql: `SELECT business_key AS entry_id,
       _id,
       entry_date,
       detail,
       ingest_ts
FROM ${ref('data_quality_issues')}
WHERE code = 'posted_after_close'
ORDER BY entry_date, entry_id, _id;`,
    },
    {
      id: 'close-progress',
      name: 'Close progress',
      description:
        'Per month being closed: tasks by status, overdue tasks (as of the last run that changed a count) and percent complete, latest month first',
      takesPeriod: false,
      sql: `SELECT period, tasks, not_started, in_progress, complete, blocked, overdue, percent_complete, as_of
FROM ${ref('close_progress_gold')}
ORDER BY period DESC;`,
    },
    {
      id: 'open-close-tasks',
      name: 'Open close tasks by due date',
      description: 'Month-end close tasks not yet complete, soonest due first, with the month they close',
      takesPeriod: false,
      sql: `SELECT task_id,
       name,
       period,
       assigned_to,
       status,
       due_date,
       date_diff('day', current_date, due_date) AS days_left
FROM ${ref('close_tasks_silver')}
WHERE status <> 'Complete'
ORDER BY due_date, task_id;`,
    },
    {
      id: 'unbalanced-entries',
      name: 'Unbalanced journal entries',
      description: 'Entries whose debits and credits differ, largest difference first',
      takesPeriod: false,
      sql: `SELECT entry_id,
       entry_date,
       total_debit,
       total_credit,
       total_debit - total_credit AS difference
FROM ${ref('journal_entries_gold')}
WHERE is_balanced = false
ORDER BY abs(total_debit - total_credit) DESC, entry_id;`,
    },
    {
      id: 'data-quality-issues',
      name: 'Open data-quality issues',
      description:
        'Source documents with a ledger or data problem that is true now (unbalanced, unknown account, duplicate entry id, ...), most frequent code first; a fixed document leaves the list at the next run',
      takesPeriod: false,
      sql: `SELECT code,
       count(*) OVER (PARTITION BY code) AS issues_with_code,
       source_collection,
       business_key,
       _id,
       entry_date,
       detail,
       ingest_ts
FROM ${ref('data_quality_issues')}
ORDER BY issues_with_code DESC, code, entry_date, business_key, _id;`,
    },
    {
      id: 'trial-balance-yesterday',
      name: 'Trial balance as of yesterday (time travel)',
      description:
        'The latest month’s trial balance from the Iceberg snapshot current 24 hours ago; use FOR VERSION AS OF <snapshot id> for an exact snapshot',
      takesPeriod: false,
      sql: `SELECT period,
       account_id,
       account_name,
       closing_balance
FROM ${balances} FOR TIMESTAMP AS OF (current_timestamp - interval '1' day)
WHERE period = (SELECT max(period) FROM ${balances} FOR TIMESTAMP AS OF (current_timestamp - interval '1' day))
ORDER BY account_id;`,
    },
  ];
}
