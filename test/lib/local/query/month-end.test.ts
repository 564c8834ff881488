import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closePeriod, curate, type EngineContext, rawAppend } from '../../../../lib/local/engine/index.ts';
import { parseJsonWithLongs } from '../../../../lib/local/iceberg/json-long.ts';
import { namedQueryCommand, queryCommand } from '../../../../lib/local/query/index.ts';
import { accountantQueries, periodLiteral } from '../../../../lib/queries/accountant-queries.ts';
import { engineIn, stageRun } from '../engine/engine-fixture.ts';
import { accountDoc, at, entryDoc } from '../ledger-docs.ts';

/**
 * A hand-made ledger whose statements are worked out by hand below: opening
 * balances in the prior year, a month without activity (February), a renamed
 * account and a corrected entry. The curated month-end tables and the named
 * queries must give exactly these figures.
 */
const RUN_1_AT = 1_750_000_000_000_000n;
const RUN_2_AT = RUN_1_AT + 60_000_000n;
const account = (n: number, id: number, name: string, type: string) =>
  accountDoc(n, id, name, type, '2024-12-01');
const ACCOUNTS = [
  account(1, 1000, 'Cash', 'Asset'),
  account(2, 2000, 'Accounts Payable', 'Liability'),
  account(3, 3000, 'Capital', 'Equity'),
  account(4, 4000, 'Sales', 'Revenue'),
  account(5, 6000, 'Rent', 'Expense'),
];
const entry = entryDoc;
const ENTRIES = [
  entry(1, '2024-12-15', [
    [1000, '1000', '0'],
    [3000, '0', '1000'],
  ]),
  entry(2, '2024-12-20', [
    [1000, '300', '0'],
    [4000, '0', '300'],
  ]),
  entry(3, '2025-01-10', [
    [6000, '200', '0'],
    [2000, '0', '200'],
  ]),
  // Nothing is posted in February.
  entry(4, '2025-03-05', [
    [2000, '200', '0'],
    [1000, '0', '200'],
  ]),
  entry(5, '2025-03-31', [
    [1000, '50.5', '0'],
    [4000, '0', '50.5'],
  ]),
];

/** Rows as plain objects: decimals and dates as exact text. */
async function rows(dir: string, sql: string): Promise<Record<string, string | number | null>[]> {
  let text = '';
  await queryCommand(sql, { dir, format: 'json' }, async (t) => {
    text += t;
  });
  return parseJsonWithLongs(text);
}

async function named(dir: string, id: string, period?: string, format: 'json' | 'csv' = 'json') {
  let text = '';
  await namedQueryCommand(id, period, { dir, format }, async (t) => {
    text += t;
  });
  // Snapshot ids pass 2^53: read exactly.
  return format === 'json' ? parseJsonWithLongs<Record<string, unknown>[]>(text) : text;
}

describe('month-end tables and named queries on a ledger worked by hand', () => {
  let dir: string;
  let engine: EngineContext;
  let secondRun: Awaited<ReturnType<typeof curate>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'month-end-'));
    engine = await engineIn(dir);
    await stageRun(engine, 'run-1', { accounts: ACCOUNTS, journal_entries: ENTRIES }, RUN_1_AT);
    await rawAppend({ runId: 'run-1' }, engine);
    await curate({ runId: 'run-1' }, engine);
    await closePeriod({ runId: 'run-1', period: '2025-01' }, engine);
    // January is closed. Then Sales is renamed, and January's rent is corrected from 200 to 250 on both lines.
    await stageRun(
      engine,
      'run-2',
      {
        accounts: [{ ...ACCOUNTS[3], account_name: 'Product sales', updatedAt: at('2025-04-01') }],
        journal_entries: [
          entry(3, '2025-01-10', [
            [6000, '250', '0'],
            [2000, '0', '250'],
          ]),
        ],
      },
      RUN_2_AT,
    );
    await rawAppend({ runId: 'run-2' }, engine);
    secondRun = await curate({ runId: 'run-2' }, engine);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('trial_balance_gold: every account from its first posting to March, February included, signed by its normal side', async () => {
    const balances = await rows(
      dir,
      `SELECT CAST(period AS VARCHAR) AS period, account_id, account_name, normal_side,
         CAST(opening_balance AS VARCHAR) AS opening, CAST(period_debit AS VARCHAR) AS debit,
         CAST(period_credit AS VARCHAR) AS credit, CAST(closing_balance AS VARCHAR) AS closing
       FROM trial_balance_gold ORDER BY account_id, period`,
    );
    const row = (
      period: string,
      id: string,
      name: string,
      side: string,
      [opening, debit, credit, closing]: string[],
    ) => ({ period, account_id: id, account_name: name, normal_side: side, opening, debit, credit, closing });
    const z = '0.0000';
    assert.deepEqual(balances, [
      // Cash: 1000 + 300 in December; nothing in January and February; +50.50 - 200 in March.
      row('2024-12-01', '1000', 'Cash', 'debit', [z, '1300.0000', z, '1300.0000']),
      row('2025-01-01', '1000', 'Cash', 'debit', ['1300.0000', z, z, '1300.0000']),
      row('2025-02-01', '1000', 'Cash', 'debit', ['1300.0000', z, z, '1300.0000']),
      row('2025-03-01', '1000', 'Cash', 'debit', ['1300.0000', '50.5000', '200.0000', '1150.5000']),
      // Payables: the corrected 250 in January, 200 paid in March.
      row('2025-01-01', '2000', 'Accounts Payable', 'credit', [z, z, '250.0000', '250.0000']),
      row('2025-02-01', '2000', 'Accounts Payable', 'credit', ['250.0000', z, z, '250.0000']),
      row('2025-03-01', '2000', 'Accounts Payable', 'credit', ['250.0000', '200.0000', z, '50.0000']),
      row('2024-12-01', '3000', 'Capital', 'credit', [z, z, '1000.0000', '1000.0000']),
      row('2025-01-01', '3000', 'Capital', 'credit', ['1000.0000', z, z, '1000.0000']),
      row('2025-02-01', '3000', 'Capital', 'credit', ['1000.0000', z, z, '1000.0000']),
      row('2025-03-01', '3000', 'Capital', 'credit', ['1000.0000', z, z, '1000.0000']),
      // The new name on every month of the account.
      row('2024-12-01', '4000', 'Product sales', 'credit', [z, z, '300.0000', '300.0000']),
      row('2025-01-01', '4000', 'Product sales', 'credit', ['300.0000', z, z, '300.0000']),
      row('2025-02-01', '4000', 'Product sales', 'credit', ['300.0000', z, z, '300.0000']),
      row('2025-03-01', '4000', 'Product sales', 'credit', ['300.0000', z, '50.5000', '350.5000']),
      row('2025-01-01', '6000', 'Rent', 'debit', [z, '250.0000', z, '250.0000']),
      row('2025-02-01', '6000', 'Rent', 'debit', ['250.0000', z, z, '250.0000']),
      row('2025-03-01', '6000', 'Rent', 'debit', ['250.0000', z, z, '250.0000']),
    ]);
  });

  it('the second run rewrote only the balances it moved: rent and payables from January, and the renamed account', () => {
    const balances = secondRun.find((r) => r.table.endsWith('.trial_balance_gold'));
    assert.deepEqual([balances?.upserted, balances?.deleted], [3 + 3 + 4, 0]);
  });

  it('income_statement_gold and balance_sheet_gold: net income by month and year, and assets = liabilities + equity + earnings', async () => {
    assert.deepEqual(
      await rows(
        dir,
        `SELECT CAST(period AS VARCHAR) AS period, CAST(revenue AS VARCHAR) AS revenue, CAST(expenses AS VARCHAR) AS expenses,
           CAST(net_income AS VARCHAR) AS net, CAST(ytd_net_income AS VARCHAR) AS ytd
         FROM income_statement_gold ORDER BY period`,
      ),
      [
        { period: '2024-12-01', revenue: '300.0000', expenses: '0.0000', net: '300.0000', ytd: '300.0000' },
        // A new year starts the year to date again.
        { period: '2025-01-01', revenue: '0.0000', expenses: '250.0000', net: '-250.0000', ytd: '-250.0000' },
        { period: '2025-02-01', revenue: '0.0000', expenses: '0.0000', net: '0.0000', ytd: '-250.0000' },
        { period: '2025-03-01', revenue: '50.5000', expenses: '0.0000', net: '50.5000', ytd: '-199.5000' },
      ],
    );
    assert.deepEqual(
      await rows(
        dir,
        `SELECT CAST(period AS VARCHAR) AS period, CAST(total_assets AS VARCHAR) AS assets,
           CAST(total_liabilities AS VARCHAR) AS liabilities, CAST(total_equity AS VARCHAR) AS equity,
           CAST(prior_years_earnings AS VARCHAR) AS prior, CAST(current_year_earnings AS VARCHAR) AS current,
           CAST(total_liabilities_and_equity AS VARCHAR) AS total, CAST(out_of_balance AS VARCHAR) AS out
         FROM balance_sheet_gold WHERE period >= DATE '2025-02-01' ORDER BY period`,
      ),
      [
        // 1300 = 250 + 1000 + 300 (December's sales) - 250 (this year's rent).
        {
          period: '2025-02-01',
          assets: '1300.0000',
          liabilities: '250.0000',
          equity: '1000.0000',
          prior: '300.0000',
          current: '-250.0000',
          total: '1300.0000',
          out: '0.0000',
        },
        // 1150.50 = 50 + 1000 + 300 - 199.50.
        {
          period: '2025-03-01',
          assets: '1150.5000',
          liabilities: '50.0000',
          equity: '1000.0000',
          prior: '300.0000',
          current: '-199.5000',
          total: '1150.5000',
          out: '0.0000',
        },
      ],
    );
  });

  it('--named trial-balance --period 2025-02: the debit and credit columns agree, and CSV writes the decimals exactly', async () => {
    const february = (await named(dir, 'trial-balance', '2025-02')) as Record<string, unknown>[];
    assert.deepEqual(
      february.map((r) => [r.account_id, r.debit_balance, r.credit_balance]),
      [
        ['1000', '1300.0000', null],
        ['2000', null, '250.0000'],
        ['3000', null, '1000.0000'],
        ['4000', null, '300.0000'],
        ['6000', '250.0000', null],
      ],
    );
    const csv = (await named(dir, 'trial-balance', '2025-02', 'csv')) as string;
    const [header, cash] = csv.split('\r\n');
    assert.equal(
      header,
      'period,account_id,account_name,account_type,opening_balance,period_debit,period_credit,closing_balance,debit_balance,credit_balance',
    );
    assert.equal(cash, '2025-02-01,1000,Cash,Asset,1300.0000,0.0000,0.0000,1300.0000,1300.0000,');
    // Without --period: the latest month.
    const latest = (await named(dir, 'trial-balance')) as Record<string, unknown>[];
    assert.deepEqual(new Set(latest.map((r) => r.period)), new Set(['2025-03-01']));
  });

  it('--named income-statement and balance-sheet: the statements an accountant reads', async () => {
    const statement = (await named(dir, 'income-statement', '2025-03')) as Record<string, unknown>[];
    assert.deepEqual(
      statement.map((r) => [r.line, r.account_name, r.month_amount, r.year_to_date]),
      [
        ['Revenue', 'Product sales', '50.5000', '50.5000'],
        ['Expense', 'Rent', '0.0000', '250.0000'],
        ['Net income', null, '50.5000', '-199.5000'],
      ],
    );
    const sheet = (await named(dir, 'balance-sheet')) as Record<string, unknown>[];
    assert.deepEqual(
      sheet.map((r) => [r.section, r.account_name, r.balance]),
      [
        ['Asset', 'Cash', '1150.5000'],
        ['Liability', 'Accounts Payable', '50.0000'],
        ['Equity', 'Capital', '1000.0000'],
        ['Equity', 'Prior years earnings', '300.0000'],
        ['Equity', 'Current year earnings', '-199.5000'],
        ['Total', 'Total assets', '1150.5000'],
        ['Total', 'Total liabilities and equity', '1150.5000'],
        ['Total', 'Out of balance', '0.0000'],
      ],
    );
  });

  it('--named books-as-closed, changes-after-close and posted-after-close: January as closed, what the rent correction moved, and the entry behind it', async () => {
    const asClosed = (await named(dir, 'books-as-closed')) as Record<string, unknown>[];
    assert.deepEqual(
      asClosed.map((r) => [r.period, r.account_id, r.closing_balance, r.close_number]),
      [
        ['2025-01-01', '1000', '1300.0000', 1],
        ['2025-01-01', '2000', '200.0000', 1],
        ['2025-01-01', '3000', '1000.0000', 1],
        ['2025-01-01', '4000', '300.0000', 1],
        ['2025-01-01', '6000', '200.0000', 1],
      ],
    );
    // The snapshot id of trial_balance_gold at the close (exact: ids of 16 digits and more are read as bigints).
    const snapshot = BigInt(asClosed[0]?.trial_balance_snapshot_id as number | bigint);
    const rentThen = await rows(
      dir,
      `SELECT CAST(closing_balance AS VARCHAR) AS c FROM trial_balance_gold FOR VERSION AS OF ${snapshot}
       WHERE account_id = '6000' AND period = DATE '2025-01-01'`,
    );
    assert.deepEqual(rentThen, [{ c: '200.0000' }]);
    const moved = (await named(dir, 'changes-after-close', '2025-01')) as Record<string, unknown>[];
    assert.deepEqual(
      moved.map((r) => [r.account_id, r.closed_balance, r.balance_now, r.difference]),
      [
        ['2000', '200.0000', '250.0000', '50.0000'],
        ['6000', '200.0000', '250.0000', '50.0000'],
      ],
    );
    const late = (await named(dir, 'posted-after-close')) as Record<string, unknown>[];
    assert.deepEqual(
      late.map((r) => [r.entry_id, r.detail]),
      [['E3', 'dated in closed month 2025-01: created, changed or deleted after the close']],
    );
  });

  it('every named query runs on the local warehouse (time travel to yesterday says the history starts later)', async () => {
    for (const query of accountantQueries(engine.model)) {
      if (query.id === 'trial-balance-yesterday')
        await assert.rejects(
          named(dir, query.id),
          /trial_balance_gold: the table has no snapshot as of .*history starts later/,
        );
      else await assert.doesNotReject(named(dir, query.id), `named query ${query.id}`);
    }
  });

  it('refuses an unknown named query, naming the ones there are, and a period that is not YYYY-MM', async () => {
    await assert.rejects(
      named(dir, 'p-and-l'),
      /no named query 'p-and-l'; the named queries are: trial-balance, /,
    );
    assert.throws(
      () => periodLiteral('2025-6'),
      /--period must be a month as YYYY-MM \(e\.g\. 2025-06\), got "2025-6"/,
    );
    await assert.rejects(
      named(dir, 'close-progress', '2025-06'),
      /the named query 'close-progress' takes no --period/,
    );
  });
});
