import { type Db, type Document, ObjectId } from 'mongodb';
import { idText, RowMapper } from '../../lambdas/shared/row-mapper.ts';
import type { LedgerlakeConfig } from '../../lib/config/index.ts';
import { DATA_QUALITY_CODES as DQ } from '../../lib/curate/data-quality.ts';
import { buildTableModel } from '../../lib/model/index.ts';

/**
 * What silver, gold and data_quality_issues must hold, computed straight from
 * the source documents in plain TypeScript (exact integer arithmetic), with
 * nothing of lib/curate but the issue codes. The row mapper only decides
 * whether a document maps cleanly and gives its typed values, as it does for
 * the pipeline's raw rows.
 */

/** A cell in comparable form: dates 'YYYY-MM-DD', decimals exact text at scale 4, ints numbers. */
export type Cell = string | number | boolean | null;
export type Row = Readonly<Record<string, Cell>>;

export const CURATED_TABLE_NAMES = [
  'accounts_silver',
  'journal_entries_silver',
  'close_tasks_silver',
  'journal_entries_gold',
  'trial_balance_gold',
  'income_statement_gold',
  'balance_sheet_gold',
  'close_progress_gold',
  'data_quality_issues',
] as const;
export type CuratedTableName = (typeof CURATED_TABLE_NAMES)[number];
export type CuratedTables = Readonly<Record<CuratedTableName, readonly Row[]>>;

/** The columns compared (ingest times and data-quality details are not: each run stamps its own). */
export const COMPARED_COLUMNS: Readonly<Record<CuratedTableName, readonly string[]>> = {
  accounts_silver: ['account_id', '_id', 'account_name', 'account_type', 'is_active', 'normal_side'],
  journal_entries_silver: [
    '_id',
    'line_no',
    'entry_id',
    'entry_date',
    'description',
    'account_id',
    'account_name',
    'account_type',
    'debit',
    'credit',
  ],
  close_tasks_silver: ['_id', 'task_id', 'name', 'assigned_to', 'status', 'due_date', 'period'],
  journal_entries_gold: [
    '_id',
    'entry_id',
    'entry_date',
    'total_debit',
    'total_credit',
    'is_balanced',
    'line_count',
  ],
  trial_balance_gold: [
    'period',
    'account_id',
    'account_name',
    'account_type',
    'normal_side',
    'opening_balance',
    'period_debit',
    'period_credit',
    'closing_balance',
  ],
  income_statement_gold: ['period', 'revenue', 'expenses', 'net_income', 'ytd_net_income'],
  balance_sheet_gold: [
    'period',
    'total_assets',
    'total_liabilities',
    'total_equity',
    'prior_years_earnings',
    'current_year_earnings',
    'total_liabilities_and_equity',
    'out_of_balance',
  ],
  // as_of is the day of the run that last changed a count, not of the latest run.
  close_progress_gold: [
    'period',
    'tasks',
    'not_started',
    'in_progress',
    'complete',
    'blocked',
    'overdue',
    'percent_complete',
  ],
  data_quality_issues: ['source_collection', '_id', 'code', 'business_key'],
};

export const TABLE_KEYS: Readonly<Record<CuratedTableName, readonly string[]>> = {
  accounts_silver: ['account_id'],
  journal_entries_silver: ['_id', 'line_no'],
  close_tasks_silver: ['_id'],
  journal_entries_gold: ['_id'],
  trial_balance_gold: ['account_id', 'period'],
  income_statement_gold: ['period'],
  balance_sheet_gold: ['period'],
  close_progress_gold: ['period'],
  data_quality_issues: ['source_collection', '_id', 'code'],
};

export const SOURCE_COLLECTIONS = ['accounts', 'journal_entries', 'close_tasks'] as const;
export type SourceCollection = (typeof SOURCE_COLLECTIONS)[number];
export type SourceDocuments = Readonly<Record<SourceCollection, readonly Document[]>>;

/** Every current document of the three collections, as the extractor reads them (`promoteValues: false`). */
export async function readSourceDocuments(db: Db): Promise<SourceDocuments> {
  const read = (name: SourceCollection) => db.collection(name).find({}, { promoteValues: false }).toArray();
  return {
    accounts: await read('accounts'),
    journal_entries: await read('journal_entries'),
    close_tasks: await read('close_tasks'),
  };
}

const SCALE = 4;
const MS_PER_DAY = 86_400_000;
const WATERMARK_FIELD = 'updatedAt';
/** The declared date fields of each collection (source names). */
const DATE_FIELDS: Readonly<Record<SourceCollection, readonly string[]>> = {
  accounts: [],
  journal_entries: ['date'],
  close_tasks: ['due_date'],
};
const BUSINESS_KEY: Readonly<Record<SourceCollection, string>> = {
  accounts: 'account_id',
  journal_entries: 'entry_id',
  close_tasks: 'task_id',
};
const STAMP = { runId: 'oracle', ingestTsMicros: 0n };

interface Mapped {
  readonly collection: SourceCollection;
  readonly doc: Document;
  readonly id: string;
  /** The raw row's typed values (see RowMapper). */
  readonly row: Readonly<Record<string, unknown>>;
  readonly mappable: boolean;
}

interface Line {
  readonly account_id: string | null;
  readonly debit: bigint | null;
  readonly credit: bigint | null;
}

/**
 * The curated tables the pipeline must hold after a run planned at `plannedAt`
 * when the source holds `source`.
 */
export function expectedTables(
  source: SourceDocuments,
  plannedAt: Date,
  config: LedgerlakeConfig,
): CuratedTables {
  const model = buildTableModel(config);
  const mapAll = (collection: SourceCollection): Mapped[] => {
    // The watermark field maps leniently: a value that is not a Date is null, not a mapping error.
    const mapper = new RowMapper(model.rawTableFor(collection), { watermarkField: WATERMARK_FIELD });
    return source[collection].map((doc) => {
      const { row, errors } = mapper.map(doc, STAMP);
      return { collection, doc, id: idText(doc._id), row, mappable: errors.length === 0 };
    });
  };
  const accounts = mapAll('accounts');
  const entries = mapAll('journal_entries');
  const tasks = mapAll('close_tasks');
  const chart = chartOfAccounts(accounts);
  const liveEntries = entries.filter((e) => e.mappable);

  const silver: Row[] = [];
  const gold: Row[] = [];
  for (const entry of liveEntries) {
    const lines = linesOf(entry);
    const head = {
      _id: entry.id,
      entry_id: text(entry.row.entry_id),
      entry_date: dateText(entry.row.date),
    };
    lines.forEach((line, i) => {
      const account = line.account_id === null ? undefined : chart.get(line.account_id);
      silver.push({
        ...head,
        line_no: i + 1,
        description: text(entry.row.description),
        account_id: line.account_id,
        account_name: account?.name ?? null,
        account_type: account?.type ?? null,
        debit: decimalText(line.debit),
        credit: decimalText(line.credit),
      });
    });
    const totalDebit = sum(lines.map((l) => l.debit));
    const totalCredit = sum(lines.map((l) => l.credit));
    gold.push({
      ...head,
      total_debit: decimalText(totalDebit),
      total_credit: decimalText(totalCredit),
      is_balanced: totalDebit === totalCredit,
      line_count: lines.length,
    });
  }

  const closeTasks: Row[] = tasks
    .filter((t) => t.mappable)
    .map((t) => ({
      _id: t.id,
      task_id: text(t.row.task_id),
      name: text(t.row.name),
      assigned_to: text(t.row.assigned_to),
      status: text(t.row.status),
      due_date: dateText(t.row.due_date),
      period: taskPeriod(dateText(t.row.due_date)),
    }));
  const trialBalance = trialBalanceOf(silver, accountsSilver(chart));
  const incomeStatement = incomeStatementOf(trialBalance);

  return {
    accounts_silver: accountsSilver(chart),
    journal_entries_silver: silver,
    close_tasks_silver: closeTasks,
    journal_entries_gold: gold,
    trial_balance_gold: trialBalance,
    income_statement_gold: incomeStatement,
    balance_sheet_gold: balanceSheetOf(trialBalance, incomeStatement),
    close_progress_gold: closeProgressOf(closeTasks, plannedAt),
    data_quality_issues: [
      ...ledgerIssues(liveEntries, chart),
      ...[...accounts, ...entries, ...tasks].flatMap((m) => documentIssues(m, plannedAt)),
    ],
  };
}

type Chart = ReadonlyMap<string, { id: string; name: Cell; type: Cell; active: boolean | null }>;

function accountsSilver(chart: Chart): Row[] {
  return [...chart].map(([accountId, account]) => ({
    account_id: accountId,
    _id: account.id,
    account_name: account.name,
    account_type: account.type,
    is_active: account.active,
    normal_side:
      account.type === 'Asset' || account.type === 'Expense'
        ? 'debit'
        : account.type === 'Liability' || account.type === 'Equity' || account.type === 'Revenue'
          ? 'credit'
          : null,
  }));
}

/** The month a close task closes: the month before its due date's. */
function taskPeriod(dueDate: string | null): string | null {
  return dueDate === null ? null : addMonths(monthOf(dueDate), -1);
}

/** 'YYYY-MM-DD' → its month's first day. */
function monthOf(date: string): string {
  return `${date.slice(0, 7)}-01`;
}

/** A month's first day moved by whole months. */
function addMonths(month: string, months: number): string {
  const index = Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1 + months;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}-01`;
}

/** Exact text at scale 4 → unscaled bigint. */
function unscaled(amount: Cell | undefined): bigint {
  if (amount === undefined) return 0n;
  if (amount === null) return 0n;
  const [whole = '0', fraction = ''] = String(amount).replace('-', '').split('.');
  const value = BigInt(whole) * 10n ** BigInt(SCALE) + BigInt(fraction.padEnd(SCALE, '0') || '0');
  return String(amount).startsWith('-') ? -value : value;
}

/**
 * Per account with a dated line in silver, every month from its first
 * posting to the ledger's latest month, balances signed by the normal side
 * (debit when the account is unknown).
 */
function trialBalanceOf(silver: readonly Row[], accounts: readonly Row[]): Row[] {
  const dated = silver.filter((l) => l.entry_date !== null);
  const last = dated.reduce<string | null>((max, l) => {
    const month = monthOf(String(l.entry_date));
    return max === null || month > max ? month : max;
  }, null);
  const activity = new Map<string, Map<string, { debit: bigint; credit: bigint }>>();
  for (const line of dated) {
    if (line.account_id === null) continue;
    const months = activity.get(String(line.account_id)) ?? new Map();
    activity.set(String(line.account_id), months);
    const month = monthOf(String(line.entry_date));
    const sums = months.get(month) ?? { debit: 0n, credit: 0n };
    months.set(month, {
      debit: sums.debit + unscaled(line.debit),
      credit: sums.credit + unscaled(line.credit),
    });
  }
  const rows: Row[] = [];
  for (const [accountId, months] of activity) {
    const account = accounts.find((a) => a.account_id === accountId);
    const credit = account?.normal_side === 'credit';
    let balance = 0n;
    for (
      let month = [...months.keys()].sort()[0] as string;
      month <= (last as string);
      month = addMonths(month, 1)
    ) {
      const sums = months.get(month) ?? { debit: 0n, credit: 0n };
      const opening = balance;
      balance += credit ? sums.credit - sums.debit : sums.debit - sums.credit;
      rows.push({
        period: month,
        account_id: accountId,
        account_name: account?.account_name ?? null,
        account_type: account?.account_type ?? null,
        normal_side: account?.normal_side ?? null,
        opening_balance: decimalText(opening),
        period_debit: decimalText(sums.debit),
        period_credit: decimalText(sums.credit),
        closing_balance: decimalText(balance),
      });
    }
  }
  return rows;
}

/** Per month of the trial balance: revenue, expenses, net income and year-to-date net income. */
function incomeStatementOf(trialBalance: readonly Row[]): Row[] {
  const months = new Map<string, { revenue: bigint; expenses: bigint }>();
  for (const row of trialBalance) {
    const month = months.get(String(row.period)) ?? { revenue: 0n, expenses: 0n };
    const movement = unscaled(row.period_debit) - unscaled(row.period_credit);
    if (row.account_type === 'Revenue') month.revenue -= movement;
    if (row.account_type === 'Expense') month.expenses += movement;
    months.set(String(row.period), month);
  }
  let ytd = 0n;
  let year = '';
  return [...months.keys()].sort().map((period) => {
    const { revenue, expenses } = months.get(period) as { revenue: bigint; expenses: bigint };
    if (period.slice(0, 4) !== year) [ytd, year] = [0n, period.slice(0, 4)];
    ytd += revenue - expenses;
    return {
      period,
      revenue: decimalText(revenue),
      expenses: decimalText(expenses),
      net_income: decimalText(revenue - expenses),
      ytd_net_income: decimalText(ytd),
    };
  });
}

/** Per month: closing balances by type, earnings split at the start of the year, and what does not balance. */
function balanceSheetOf(trialBalance: readonly Row[], incomeStatement: readonly Row[]): Row[] {
  return incomeStatement.map((month) => {
    const rows = trialBalance.filter((r) => r.period === month.period);
    const total = (type: string) =>
      rows.filter((r) => r.account_type === type).reduce((sum, r) => sum + unscaled(r.closing_balance), 0n);
    const [assets, liabilities, equity] = [total('Asset'), total('Liability'), total('Equity')];
    const earnings = total('Revenue') - total('Expense');
    const current = unscaled(month.ytd_net_income);
    return {
      period: month.period ?? null,
      total_assets: decimalText(assets),
      total_liabilities: decimalText(liabilities),
      total_equity: decimalText(equity),
      prior_years_earnings: decimalText(earnings - current),
      current_year_earnings: decimalText(current),
      total_liabilities_and_equity: decimalText(liabilities + equity + earnings),
      out_of_balance: decimalText(assets - liabilities - equity - earnings),
    };
  });
}

/** Per period of the close tasks: counts by status, overdue at the UTC day of `plannedAt`, percent complete. */
function closeProgressOf(tasks: readonly Row[], plannedAt: Date): Row[] {
  const asOf = plannedAt.toISOString().slice(0, 10);
  const periods = new Map<string, Row[]>();
  for (const task of tasks) {
    if (task.period === null) continue;
    periods.set(String(task.period), [...(periods.get(String(task.period)) ?? []), task]);
  }
  return [...periods].map(([period, list]) => {
    const count = (test: (t: Row) => boolean) => list.filter(test).length;
    const complete = count((t) => t.status === 'Complete');
    // Half up at 2 places: 100 * complete / tasks in hundredths, rounded.
    const hundredths = (BigInt(complete) * 20000n + BigInt(list.length)) / (2n * BigInt(list.length));
    return {
      period,
      tasks: list.length,
      not_started: count((t) => t.status === 'Not Started'),
      in_progress: count((t) => t.status === 'In Progress'),
      complete,
      blocked: count((t) => t.status === 'Blocked'),
      overdue: count((t) => t.status !== 'Complete' && t.due_date !== null && String(t.due_date) < asOf),
      percent_complete: `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`,
    };
  });
}

function isDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/** account_id → the account, from mappable account documents; the smaller `_id` text wins a shared id. */
function chartOfAccounts(accounts: readonly Mapped[]): Chart {
  const chart = new Map<string, { id: string; name: Cell; type: Cell; active: boolean | null }>();
  for (const account of accounts) {
    if (!account.mappable) continue;
    const accountId = text(account.row.account_id);
    if (accountId === null) continue;
    const known = chart.get(accountId);
    if (known !== undefined && known.id < account.id) continue;
    chart.set(accountId, {
      id: account.id,
      name: text(account.row.account_name),
      type: text(account.row.account_type),
      active: (account.row.is_active ?? null) as boolean | null,
    });
  }
  return chart;
}

function linesOf(entry: Mapped): Line[] {
  const lines = entry.row.lines as readonly (Record<string, unknown> | null)[] | null | undefined;
  return (lines ?? []).map((line) => ({
    account_id: text(line?.account_id),
    debit: (line?.debit ?? null) as bigint | null,
    credit: (line?.credit ?? null) as bigint | null,
  }));
}

/** The ledger checks of mappable journal entries. */
function ledgerIssues(entries: readonly Mapped[], chart: ReadonlyMap<string, unknown>): Row[] {
  const holders = new Map<string, number>();
  for (const entry of entries) {
    const entryId = text(entry.row.entry_id);
    if (entryId !== null) holders.set(entryId, (holders.get(entryId) ?? 0) + 1);
  }
  const issues: Row[] = [];
  for (const entry of entries) {
    const entryId = text(entry.row.entry_id);
    const lines = linesOf(entry);
    const isZero = (amount: bigint | null) => amount === null || amount === 0n;
    const codes: [string, boolean][] = [
      [DQ.noLines, lines.length === 0],
      [
        DQ.unbalancedEntry,
        lines.length > 0 && sum(lines.map((l) => l.debit)) !== sum(lines.map((l) => l.credit)),
      ],
      [DQ.unknownAccount, lines.some((l) => l.account_id === null || !chart.has(l.account_id))],
      [DQ.lineWithoutAmount, lines.some((l) => isZero(l.debit) && isZero(l.credit))],
      [DQ.negativeAmount, lines.some((l) => (l.debit ?? 0n) < 0n || (l.credit ?? 0n) < 0n)],
      [DQ.missingEntryId, entryId === null || entryId === ''],
      // Literally the contract: any non-null entry_id, the empty one included, held by two live documents.
      [DQ.duplicateEntryId, entryId !== null && (holders.get(entryId) ?? 0) > 1],
    ];
    for (const [code, present] of codes) {
      if (present) issues.push(issue(entry, code));
    }
  }
  return issues;
}

/** Checks of any document: mapping, calendar dates, the watermark field. */
function documentIssues(mapped: Mapped, plannedAt: Date): Row[] {
  const issues: Row[] = [];
  if (!mapped.mappable) {
    issues.push(issue(mapped, DQ.mappingError));
    if (DATE_FIELDS[mapped.collection].some((field) => isNonCalendarDate(mapped.doc[field])))
      issues.push(issue(mapped, DQ.invalidDate));
  }
  const watermark = mapped.doc[WATERMARK_FIELD];
  if (!isDate(watermark)) issues.push(issue(mapped, DQ.missingWatermark));
  else if (watermark.getTime() > plannedAt.getTime()) issues.push(issue(mapped, DQ.futureWatermark));
  return issues;
}

function issue(mapped: Mapped, code: string): Row {
  return {
    source_collection: mapped.collection,
    _id: mapped.id,
    code,
    business_key: text(mapped.row[BUSINESS_KEY[mapped.collection]]),
  };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A 'YYYY-MM-DD' string that names no day of the Gregorian calendar (e.g. '2024-02-30'). */
export function isNonCalendarDate(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  return days === undefined || day < 1 || day > days;
}

function sum(amounts: readonly (bigint | null)[]): bigint {
  return amounts.reduce<bigint>((total, amount) => total + (amount ?? 0n), 0n);
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof ObjectId) return value.toHexString();
  return String(value);
}

/** Days since the epoch (the row mapper's date) as 'YYYY-MM-DD'. */
function dateText(days: unknown): string | null {
  if (days === null || days === undefined) return null;
  return new Date(Number(days) * MS_PER_DAY).toISOString().slice(0, 10);
}

/** An unscaled amount at scale 4 as exact text: 5000000n → '500.0000'. */
export function decimalText(unscaled: bigint | null): string | null {
  if (unscaled === null) return null;
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(SCALE + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -SCALE)}.${digits.slice(-SCALE)}`;
}
