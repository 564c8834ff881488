import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BSON,
  Decimal128,
  type Document,
  Double,
  Int32,
  Long,
  MaxKey,
  ObjectId,
  Timestamp,
  UUID,
} from 'mongodb';
import { resolveConfig } from '../../lib/config/index.ts';
import {
  type CuratedTableName,
  type CuratedTables,
  expectedTables,
  isNonCalendarDate,
  type Row,
  type SourceDocuments,
} from './oracle.ts';
import { diffTables } from './tables.ts';

const config = resolveConfig();
const PLANNED_AT = new Date('2026-01-01T00:00:00Z');
const at = (iso: string) => new Date(`${iso}T00:00:00Z`);
const oid = (n: number) => new ObjectId(n.toString(16).padStart(24, '0'));
const hex = (n: number) => n.toString(16).padStart(24, '0');
const dec = (text: string) => Decimal128.fromString(text);
const line = (account: unknown, debit: unknown, credit: unknown): Document => ({
  account_id: account,
  ...(debit === undefined ? {} : { debit }),
  ...(credit === undefined ? {} : { credit }),
});
/** As the extractor reads documents: through BSON with promoteValues false. */
const asRead = (docs: Document[]) =>
  docs.map((doc) => BSON.deserialize(BSON.serialize(doc), { promoteValues: false }));

const UUID_ID_TEXT = '{"$binary":{"base64":"AAAAAAAAQACAAAAAAAAABQ==","subType":"04"}}';

const SOURCE: SourceDocuments = {
  accounts: asRead([
    {
      _id: oid(1),
      account_id: new Int32(1000),
      account_name: 'Cash',
      account_type: 'Asset',
      is_active: true,
      updatedAt: at('2025-01-01'),
    },
    // Shares account 1000 with the document above, whose _id text is smaller: it loses.
    {
      _id: oid(2),
      account_id: '1000',
      account_name: 'Cash (copy)',
      account_type: 'Equity',
      is_active: true,
      updatedAt: at('2025-01-01'),
    },
    {
      _id: oid(3),
      account_id: new Int32(2000),
      account_name: 'Accounts Payable',
      account_type: 'Liability',
      is_active: true,
      updatedAt: at('2099-01-01'),
    },
    // Unmappable (a boolean name): not in the chart.
    {
      _id: oid(4),
      account_id: new Int32(3000),
      account_name: true,
      account_type: 'Equity',
      is_active: true,
      updatedAt: at('2025-01-01'),
    },
  ]),
  journal_entries: asRead([
    {
      _id: oid(0x11),
      entry_id: 'JE1',
      date: at('2025-05-31'),
      description: 'Vendor payment',
      lines: [line(new Int32(1000), dec('500.00'), dec('0.00')), line(new Int32(2000), dec('0'), dec('500'))],
      updatedAt: at('2025-06-01'),
    },
    {
      _id: 'je-2',
      entry_id: 'JE2',
      date: '2025-06-01',
      description: 'Accrual',
      lines: [line(new Int32(1000), dec('100'), dec('0')), line(new Int32(2000), dec('0'), dec('90'))],
      updatedAt: at('2025-06-01'),
    },
    {
      _id: new Int32(3),
      entry_id: 'JE2',
      date: at('2025-06-02'),
      description: 'Split',
      lines: [line('4000', dec('10'), dec('0')), line(null, dec('0'), dec('10'))],
      updatedAt: at('2025-06-02'),
    },
    {
      _id: Long.fromNumber(4),
      date: at('2025-06-03'),
      description: 'No lines',
      updatedAt: new Timestamp({ t: 1_700_000_000, i: 1 }),
    },
    {
      _id: new UUID('00000000-0000-4000-8000-000000000005'),
      entry_id: '',
      date: at('2025-06-04'),
      description: 'Empty lines',
      lines: [],
    },
    {
      _id: oid(0x16),
      entry_id: 'JE6',
      date: '2024-02-30',
      description: 'Not a date',
      lines: [line(new Int32(1000), dec('1'), dec('0')), line(new Int32(2000), dec('0'), dec('1'))],
      updatedAt: at('2025-06-05'),
    },
    {
      _id: oid(0x17),
      entry_id: 'JE7',
      date: at('2025-07-01'),
      description: 'Reversal',
      lines: [
        line(new Int32(1000), new Double(-5), new Int32(0)),
        line(new Int32(2000), dec('0'), dec('0')),
        line(new Int32(2000), undefined, dec('-5')),
      ],
      updatedAt: at('2025-07-01'),
    },
    {
      _id: oid(0x18),
      entry_id: 'JE8',
      date: at('2025-07-02'),
      description: 'Too precise',
      lines: [line(new Int32(1000), dec('1.23456'), dec('0'))],
      updatedAt: at('2025-07-02'),
    },
    {
      _id: oid(0x1a),
      entry_id: 'JE10',
      date: at('2025-07-03'),
      description: 'MaxKey watermark',
      lines: [line(new Int32(1000), new Int32(1), dec('0')), line(new Int32(2000), dec('0'), new Double(1))],
      updatedAt: new MaxKey(),
    },
  ]),
  close_tasks: asRead([
    {
      _id: oid(0x21),
      task_id: 'T1',
      name: 'Reconcile Cash',
      assigned_to: 'Alice',
      status: 'Complete',
      due_date: at('2025-06-05'),
      updatedAt: at('2025-06-05'),
    },
    {
      _id: oid(0x22),
      task_id: 'T2',
      name: 'Review AR',
      assigned_to: 'Carol',
      status: 'Blocked',
      due_date: '2025-13-01',
      updatedAt: at('2025-06-05'),
    },
    {
      _id: oid(0x23),
      task_id: 'T3',
      name: 'Review AP',
      assigned_to: 'Bob',
      status: 'In Progress',
      due_date: '2025-06-06',
      updatedAt: new Double(1.5),
    },
    {
      _id: oid(0x24),
      task_id: 'T4',
      name: 'Accrue payroll',
      assigned_to: 'Alice',
      status: 'Not Started',
      due_date: at('2025-07-04'),
      updatedAt: at('2025-06-05'),
    },
    {
      _id: oid(0x25),
      task_id: 'T5',
      name: 'Close AP subledger',
      assigned_to: 'Bob',
      status: 'Complete',
      due_date: at('2025-07-10'),
      updatedAt: at('2025-06-05'),
    },
    // Closes December 2025, due after the plan time: not overdue.
    {
      _id: oid(0x26),
      task_id: 'T6',
      name: 'Board pack',
      assigned_to: 'Carol',
      status: 'Blocked',
      due_date: at('2026-01-20'),
      updatedAt: at('2025-06-05'),
    },
  ]),
};

const silverLine = (
  head: { _id: string; entry_id: string; entry_date: string; description: string },
  line_no: number,
  account: [string | null, string | null, string | null],
  debit: string | null,
  credit: string | null,
): Row => ({
  ...head,
  line_no,
  account_id: account[0],
  account_name: account[1],
  account_type: account[2],
  debit,
  credit,
});
const CASH: [string, string, string] = ['1000', 'Cash', 'Asset'];
const AP: [string, string, string] = ['2000', 'Accounts Payable', 'Liability'];
const je1 = { _id: hex(0x11), entry_id: 'JE1', entry_date: '2025-05-31', description: 'Vendor payment' };
const je2 = { _id: '"je-2"', entry_id: 'JE2', entry_date: '2025-06-01', description: 'Accrual' };
const je3 = { _id: '{"$numberInt":"3"}', entry_id: 'JE2', entry_date: '2025-06-02', description: 'Split' };
const je7 = { _id: hex(0x17), entry_id: 'JE7', entry_date: '2025-07-01', description: 'Reversal' };
const je10 = { _id: hex(0x1a), entry_id: 'JE10', entry_date: '2025-07-03', description: 'MaxKey watermark' };

const gold = (
  _id: string,
  entry_id: string | null,
  entry_date: string,
  total_debit: string,
  total_credit: string,
  is_balanced: boolean,
  line_count: number,
): Row => ({ _id, entry_id, entry_date, total_debit, total_credit, is_balanced, line_count });

const balance = (
  period: string,
  account: [string, string | null, string | null, string | null],
  amounts: [opening: string, debit: string, credit: string, closing: string],
): Row => ({
  period,
  account_id: account[0],
  account_name: account[1],
  account_type: account[2],
  normal_side: account[3],
  opening_balance: amounts[0],
  period_debit: amounts[1],
  period_credit: amounts[2],
  closing_balance: amounts[3],
});
const task = (
  t: { _id: string; task_id: string; name: string; assigned_to: string; status: string },
  due_date: string,
  period: string,
): Row => ({ ...t, due_date, period });

const dq = (source_collection: string, _id: string, code: string, business_key: string | null): Row => ({
  source_collection,
  _id,
  code,
  business_key,
});

const EXPECTED: CuratedTables = {
  // Account 1000's copy loses to the smaller _id; the unmappable account 3000 is not in the chart.
  accounts_silver: [
    {
      account_id: '1000',
      _id: hex(1),
      account_name: 'Cash',
      account_type: 'Asset',
      is_active: true,
      normal_side: 'debit',
    },
    {
      account_id: '2000',
      _id: hex(3),
      account_name: 'Accounts Payable',
      account_type: 'Liability',
      is_active: true,
      normal_side: 'credit',
    },
  ],
  journal_entries_silver: [
    silverLine(je1, 1, CASH, '500.0000', '0.0000'),
    silverLine(je1, 2, AP, '0.0000', '500.0000'),
    silverLine(je2, 1, CASH, '100.0000', '0.0000'),
    silverLine(je2, 2, AP, '0.0000', '90.0000'),
    silverLine(je3, 1, ['4000', null, null], '10.0000', '0.0000'),
    silverLine(je3, 2, [null, null, null], '0.0000', '10.0000'),
    silverLine(je7, 1, CASH, '-5.0000', '0.0000'),
    silverLine(je7, 2, AP, '0.0000', '0.0000'),
    silverLine(je7, 3, AP, null, '-5.0000'),
    silverLine(je10, 1, CASH, '1.0000', '0.0000'),
    silverLine(je10, 2, AP, '0.0000', '1.0000'),
  ],
  // Due in June without a period of their own: they close May.
  close_tasks_silver: [
    task(
      { _id: hex(0x21), task_id: 'T1', name: 'Reconcile Cash', assigned_to: 'Alice', status: 'Complete' },
      '2025-06-05',
      '2025-05-01',
    ),
    task(
      { _id: hex(0x23), task_id: 'T3', name: 'Review AP', assigned_to: 'Bob', status: 'In Progress' },
      '2025-06-06',
      '2025-05-01',
    ),
    task(
      { _id: hex(0x24), task_id: 'T4', name: 'Accrue payroll', assigned_to: 'Alice', status: 'Not Started' },
      '2025-07-04',
      '2025-06-01',
    ),
    task(
      { _id: hex(0x25), task_id: 'T5', name: 'Close AP subledger', assigned_to: 'Bob', status: 'Complete' },
      '2025-07-10',
      '2025-06-01',
    ),
    task(
      { _id: hex(0x26), task_id: 'T6', name: 'Board pack', assigned_to: 'Carol', status: 'Blocked' },
      '2026-01-20',
      '2025-12-01',
    ),
  ],
  journal_entries_gold: [
    gold(hex(0x11), 'JE1', '2025-05-31', '500.0000', '500.0000', true, 2),
    gold('"je-2"', 'JE2', '2025-06-01', '100.0000', '90.0000', false, 2),
    gold('{"$numberInt":"3"}', 'JE2', '2025-06-02', '10.0000', '10.0000', true, 2),
    gold('{"$numberLong":"4"}', null, '2025-06-03', '0.0000', '0.0000', true, 0),
    gold(UUID_ID_TEXT, '', '2025-06-04', '0.0000', '0.0000', true, 0),
    gold(hex(0x17), 'JE7', '2025-07-01', '-5.0000', '-5.0000', true, 3),
    gold(hex(0x1a), 'JE10', '2025-07-03', '1.0000', '1.0000', true, 2),
  ],
  // Worked by hand from the dated silver lines; the ledger's latest month is July (JE10).
  // Cash 1000: May +500; June +100; July -5 + 1. AP 2000 (credit side): May 500; June 90; July -5 + 1.
  // 4000 is not in the chart: signed as debit, and it carries its June balance into July without activity.
  // The line without an account (JE2's split) is in no account's balance.
  trial_balance_gold: [
    balance('2025-05-01', [...CASH, 'debit'], ['0.0000', '500.0000', '0.0000', '500.0000']),
    balance('2025-06-01', [...CASH, 'debit'], ['500.0000', '100.0000', '0.0000', '600.0000']),
    balance('2025-07-01', [...CASH, 'debit'], ['600.0000', '-4.0000', '0.0000', '596.0000']),
    balance('2025-05-01', [...AP, 'credit'], ['0.0000', '0.0000', '500.0000', '500.0000']),
    balance('2025-06-01', [...AP, 'credit'], ['500.0000', '0.0000', '90.0000', '590.0000']),
    balance('2025-07-01', [...AP, 'credit'], ['590.0000', '0.0000', '-4.0000', '586.0000']),
    balance('2025-06-01', ['4000', null, null, null], ['0.0000', '10.0000', '0.0000', '10.0000']),
    balance('2025-07-01', ['4000', null, null, null], ['10.0000', '0.0000', '0.0000', '10.0000']),
  ],
  // No Revenue or Expense account: every month earns nothing.
  income_statement_gold: ['2025-05-01', '2025-06-01', '2025-07-01'].map((period) => ({
    period,
    revenue: '0.0000',
    expenses: '0.0000',
    net_income: '0.0000',
    ytd_net_income: '0.0000',
  })),
  // JE2 is 10 short on the credit side and 4000 has no type: June and July are out by 10.
  balance_sheet_gold: [
    ['2025-05-01', '500.0000', '500.0000', '0.0000'],
    ['2025-06-01', '600.0000', '590.0000', '10.0000'],
    ['2025-07-01', '596.0000', '586.0000', '10.0000'],
  ].map(([period, assets, liabilities, out]) => ({
    period: period as string,
    total_assets: assets as string,
    total_liabilities: liabilities as string,
    total_equity: '0.0000',
    prior_years_earnings: '0.0000',
    current_year_earnings: '0.0000',
    total_liabilities_and_equity: liabilities as string,
    out_of_balance: out as string,
  })),
  // Overdue at 2026-01-01: T3 (May) and T4 (June); T6 (December) is due after it.
  close_progress_gold: [
    {
      period: '2025-05-01',
      tasks: 2,
      not_started: 0,
      in_progress: 1,
      complete: 1,
      blocked: 0,
      overdue: 1,
      percent_complete: '50.00',
    },
    {
      period: '2025-06-01',
      tasks: 2,
      not_started: 1,
      in_progress: 0,
      complete: 1,
      blocked: 0,
      overdue: 1,
      percent_complete: '50.00',
    },
    {
      period: '2025-12-01',
      tasks: 1,
      not_started: 0,
      in_progress: 0,
      complete: 0,
      blocked: 1,
      overdue: 0,
      percent_complete: '0.00',
    },
  ],
  data_quality_issues: [
    dq('accounts', hex(3), 'future_watermark', '2000'),
    dq('accounts', hex(4), 'mapping_error', '3000'),
    dq('journal_entries', '"je-2"', 'unbalanced_entry', 'JE2'),
    dq('journal_entries', '"je-2"', 'duplicate_entry_id', 'JE2'),
    dq('journal_entries', '{"$numberInt":"3"}', 'unknown_account', 'JE2'),
    dq('journal_entries', '{"$numberInt":"3"}', 'duplicate_entry_id', 'JE2'),
    dq('journal_entries', '{"$numberLong":"4"}', 'no_lines', null),
    dq('journal_entries', '{"$numberLong":"4"}', 'missing_entry_id', null),
    dq('journal_entries', '{"$numberLong":"4"}', 'missing_watermark', null),
    dq('journal_entries', UUID_ID_TEXT, 'no_lines', ''),
    dq('journal_entries', UUID_ID_TEXT, 'missing_entry_id', ''),
    dq('journal_entries', UUID_ID_TEXT, 'missing_watermark', ''),
    dq('journal_entries', hex(0x16), 'mapping_error', 'JE6'),
    dq('journal_entries', hex(0x16), 'invalid_date', 'JE6'),
    dq('journal_entries', hex(0x17), 'line_without_amount', 'JE7'),
    dq('journal_entries', hex(0x17), 'negative_amount', 'JE7'),
    dq('journal_entries', hex(0x18), 'mapping_error', 'JE8'),
    dq('journal_entries', hex(0x1a), 'missing_watermark', 'JE10'),
    dq('close_tasks', hex(0x22), 'mapping_error', 'T2'),
    dq('close_tasks', hex(0x22), 'invalid_date', 'T2'),
    dq('close_tasks', hex(0x23), 'missing_watermark', 'T3'),
  ],
};

const sorted = (rows: readonly Row[]) => rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();

describe('the oracle: curated tables computed directly from source documents', () => {
  const computed = expectedTables(SOURCE, PLANNED_AT, config);

  for (const name of Object.keys(EXPECTED) as CuratedTableName[]) {
    it(`computes ${name} as written out by hand`, () => {
      assert.deepEqual(sorted(computed[name]), sorted(EXPECTED[name]));
    });
  }

  it('flags a Date watermark as future only when it is later than the plan time', () => {
    const later = expectedTables(SOURCE, new Date('2099-06-01T00:00:00Z'), config);
    assert.ok(!later.data_quality_issues.some((r) => r.code === 'future_watermark'));
  });

  it('tells calendar dates from strings that name none', () => {
    assert.equal(isNonCalendarDate('2024-02-29'), false, 'a leap day');
    assert.equal(isNonCalendarDate('2023-02-29'), true);
    assert.equal(isNonCalendarDate('1900-02-29'), true, 'not a leap year');
    assert.equal(isNonCalendarDate('2000-02-29'), false);
    assert.equal(isNonCalendarDate('2024-04-31'), true);
    assert.equal(isNonCalendarDate('2024-00-10'), true);
    assert.equal(isNonCalendarDate('31/01/2024'), false, 'not the YYYY-MM-DD form at all');
  });

  it('reports duplicate keys, missing, extra and differing rows between two sets of tables', () => {
    const goldRows = EXPECTED.journal_entries_gold;
    const [first, second] = goldRows as [Row, Row];
    const actual: CuratedTables = {
      ...EXPECTED,
      journal_entries_gold: [
        first,
        first,
        { ...second, total_debit: '99.0000' },
        gold('x', 'JE9', '2025-01-01', '0.0000', '0.0000', true, 0),
      ],
    };
    const problems = diffTables(EXPECTED, actual);
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0] ?? '', /journal_entries_gold: 1 duplicate keys in actual/);
    assert.match(problems[1] ?? '', /5 rows missing from actual/);
    assert.match(problems[2] ?? '', /1 rows in actual not expected/);
    assert.match(problems[3] ?? '', /total_debit expected "100.0000", actual "99.0000"/);
    assert.deepEqual(diffTables(EXPECTED, EXPECTED), []);
  });
});
