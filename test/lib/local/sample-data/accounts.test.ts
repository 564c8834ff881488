import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Int32 } from 'mongodb';
import { chartOfAccounts, generateAccounts } from '../../../../lib/local/sample-data/index.ts';
import { assertGroupedTimes, assertStrictlyIncreasing } from './sample-docs.ts';

const TYPE_RANGES = {
  Asset: [1000, 1999],
  Liability: [2000, 2999],
  Equity: [3000, 3999],
  Revenue: [4000, 4999],
  Expense: [5000, 8999],
} as const;

describe('chart of accounts', () => {
  it('numbers 40 to 60 unique accounts inside their type ranges, ascending', () => {
    const chart = chartOfAccounts();
    assert.ok(chart.length >= 40 && chart.length <= 60, `${chart.length} accounts`);
    const ids = chart.map((account) => account.accountId);
    assert.deepEqual(
      ids,
      [...new Set(ids)].sort((a, b) => a - b),
    );
    for (const account of chart) {
      const [low, high] = TYPE_RANGES[account.type];
      assert.ok(
        account.accountId >= low && account.accountId <= high,
        `${account.accountId} ${account.type}`,
      );
    }
    assert.deepEqual(new Set(chart.map((account) => account.type)), new Set(Object.keys(TYPE_RANGES)));
  });

  it("holds the brief's accounts and the usual ones by number", () => {
    const byId = new Map(chartOfAccounts().map((account) => [account.accountId, account]));
    const expected = [
      [1000, 'Cash', 'Asset'],
      [1100, 'Accounts Receivable', 'Asset'],
      [1200, 'Inventory', 'Asset'],
      [1500, 'Equipment', 'Asset'],
      [2000, 'Accounts Payable', 'Liability'],
      [2100, 'Accrued Liabilities', 'Liability'],
      [3000, 'Common Stock', 'Equity'],
      [3100, 'Retained Earnings', 'Equity'],
      [4000, 'Sales Revenue', 'Revenue'],
      [5000, 'Cost of Goods Sold', 'Expense'],
      [6000, 'Salaries Expense', 'Expense'],
      [6100, 'Rent Expense', 'Expense'],
    ] as const;
    for (const [id, name, type] of expected) {
      assert.deepEqual(byId.get(id), { accountId: id, name, type, active: true });
    }
  });

  it('writes one document per account with the contract field types', () => {
    const chart = chartOfAccounts();
    const documents = [...generateAccounts({ seed: 5 })];
    assert.equal(documents.length, chart.length);
    documents.forEach((document, i) => {
      const account = chart[i];
      assert.ok(account !== undefined);
      assert.deepEqual(Object.keys(document), [
        '_id',
        'account_id',
        'account_name',
        'account_type',
        'is_active',
        'updatedAt',
      ]);
      assert.ok(document.account_id instanceof Int32);
      assert.equal(document.account_id.value, account.accountId);
      assert.equal(document.account_name, account.name);
      assert.equal(document.account_type, account.type);
      assert.equal(document.is_active, account.active);
    });
    assertStrictlyIncreasing(documents.map((document) => document._id.toHexString()));
    assertGroupedTimes(
      documents.map((document) => document.updatedAt),
      10,
    );
    assert.ok(
      documents.some((document) => !document.is_active),
      'no inactive account',
    );
  });
});
