import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BSON, Decimal128, Int32, ObjectId } from 'mongodb';
import {
  chartOfAccounts,
  generateJournalEntries,
  type JournalEntryDocument,
} from '../../../../lib/local/sample-data/index.ts';
import { assertGroupedTimes, assertStrictlyIncreasing, canonical, cents, take } from './sample-docs.ts';

const MS_PER_DAY = 86_400_000;
const BRIEF_ID = '68ca9aca193e5d257e046f22';

function entries(count: number, options: Parameters<typeof generateJournalEntries>[0] = {}) {
  return take(generateJournalEntries({ ...options, journalEntries: count }), count);
}

function totals(entry: JournalEntryDocument): { debit: bigint; credit: bigint } {
  let debit = 0n;
  let credit = 0n;
  for (const line of entry.lines) {
    debit += cents(line.debit);
    credit += cents(line.credit);
  }
  return { debit, credit };
}

function unbalancedShare(list: readonly JournalEntryDocument[]): number {
  return list.filter((entry) => totals(entry).debit !== totals(entry).credit).length / list.length;
}

const TEN_THOUSAND = entries(10_000);

describe('journal entries', () => {
  it("starts with the brief's JE1001 exactly", () => {
    const [first] = TEN_THOUSAND;
    assert.ok(first !== undefined);
    const { updatedAt, ...rest } = first;
    assert.ok(updatedAt instanceof Date);
    assert.equal(
      canonical(rest),
      canonical({
        _id: new ObjectId(BRIEF_ID),
        entry_id: 'JE1001',
        date: new Date('2025-05-31T00:00:00Z'),
        description: 'Vendor payment',
        lines: [
          {
            account_id: new Int32(1000),
            debit: Decimal128.fromString('500.00'),
            credit: Decimal128.fromString('0.00'),
          },
          {
            account_id: new Int32(2000),
            debit: Decimal128.fromString('0.00'),
            credit: Decimal128.fromString('500.00'),
          },
        ],
      }),
    );
    assert.equal(first._id.toHexString(), BRIEF_ID);
  });

  it('numbers entries JE1001, JE1002, … in generation order', () => {
    TEN_THOUSAND.forEach((entry, i) => {
      assert.equal(entry.entry_id, `JE${1001 + i}`);
    });
  });

  it('gives every entry 2 to 6 lines, each with exactly one non-zero side', () => {
    const lineCounts = new Set<number>();
    for (const entry of TEN_THOUSAND) {
      assert.ok(
        entry.lines.length >= 2 && entry.lines.length <= 6,
        `${entry.entry_id}: ${entry.lines.length} lines`,
      );
      lineCounts.add(entry.lines.length);
      for (const line of entry.lines) {
        const nonZero = [cents(line.debit), cents(line.credit)].filter((amount) => amount !== 0n);
        assert.equal(nonZero.length, 1, `${entry.entry_id}: ${canonical(line)}`);
      }
    }
    assert.deepEqual([...lineCounts].sort(), [2, 3, 4, 5, 6]);
  });

  it('writes money as Decimal128 with exactly two decimal places and account ids as Int32', () => {
    for (const entry of TEN_THOUSAND) {
      for (const line of entry.lines) {
        assert.ok(line.debit instanceof Decimal128 && line.credit instanceof Decimal128);
        assert.match(line.debit.toString(), /^\d+\.\d{2}$/);
        assert.match(line.credit.toString(), /^\d+\.\d{2}$/);
        // Byte-equal to the driver's own parse of the same text.
        assert.deepEqual(line.debit.bytes, Decimal128.fromString(line.debit.toString()).bytes);
        assert.ok(line.account_id instanceof Int32);
      }
    }
  });

  it('survives a BSON round trip unchanged, types included', () => {
    for (const entry of TEN_THOUSAND.slice(0, 500)) {
      const back = BSON.deserialize(BSON.serialize(entry), { promoteValues: false });
      assert.equal(canonical(back), canonical(entry));
    }
  });

  it('posts only to active accounts of the chart', () => {
    const active = new Set(
      chartOfAccounts()
        .filter((account) => account.active)
        .map((account) => account.accountId),
    );
    for (const entry of TEN_THOUSAND) {
      for (const line of entry.lines) {
        assert.ok(active.has(line.account_id.value), `${entry.entry_id} posts to ${line.account_id.value}`);
      }
    }
  });

  it('balances all but about the configured share of entries, to the cent', () => {
    const share = unbalancedShare(TEN_THOUSAND);
    assert.ok(share > 0.012 && share < 0.028, `unbalanced share ${share} with the default 0.02`);
    const tenPercent = unbalancedShare(entries(10_000, { unbalancedRatio: 0.1 }));
    assert.ok(tenPercent > 0.09 && tenPercent < 0.11, `unbalanced share ${tenPercent} with 0.1`);
  });

  it('balances every entry when unbalancedRatio is 0 and only the brief row and the opening balances when it is 1', () => {
    assert.equal(unbalancedShare(entries(2000, { unbalancedRatio: 0 })), 0);
    const allOff = entries(2000, { unbalancedRatio: 1 });
    assert.equal(unbalancedShare(allOff.slice(2)), 1);
    assert.equal(totals(allOff[0] as JournalEntryDocument).debit, 50_000n);
    assert.equal(unbalancedShare(allOff.slice(1, 2)), 0);
  });

  it('keeps the books of a small company: opening balances first, and at 1,000 and 10,000 entries cash, receivables, stock and owners’ equity stay positive and the company earns', () => {
    const first = entries(2)[1] as JournalEntryDocument;
    assert.equal(first.description, 'Opening balances');
    assert.equal(first.date.toISOString().slice(0, 10), '2024-01-01');
    for (const count of [1000, 10_000]) {
      // Debit-positive balance per account, in cents.
      const balances = new Map<number, bigint>();
      for (const entry of count === 10_000 ? TEN_THOUSAND : entries(count)) {
        for (const line of entry.lines) {
          const cents = (value: { toString(): string }) => BigInt(value.toString().replace('.', ''));
          const id = line.account_id.value;
          balances.set(id, (balances.get(id) ?? 0n) + cents(line.debit) - cents(line.credit));
        }
      }
      const of = (id: number) => balances.get(id) ?? 0n;
      const byType = (low: number, high: number) =>
        [...balances].filter(([id]) => id >= low && id < high).reduce((sum, [, b]) => sum + b, 0n);
      for (const [name, id] of [
        ['cash', 1000],
        ['receivables', 1100],
        ['inventory', 1200],
      ] as const)
        assert.ok(of(id) > 0n, `${name} ends at ${of(id)} cents after ${count} entries`);
      // Owners' equity: paid-in capital less dividends, plus earnings.
      assert.ok(-byType(3000, 8000) > 0n, `owners' equity ends at ${-byType(3000, 8000)} cents`);
      const earnings = -byType(4000, 8000);
      assert.ok(earnings > 0n, `earnings are ${earnings} cents after ${count} entries`);
    }
  });

  it('increases _id strictly, every generated id above the brief id', () => {
    const ids = TEN_THOUSAND.map((entry) => entry._id.toHexString());
    assertStrictlyIncreasing(ids);
    assert.equal(ids[0], BRIEF_ID);
  });

  it('never decreases updatedAt and shares it across runs of up to 10 consecutive entries', () => {
    assertGroupedTimes(TEN_THOUSAND.map((entry) => entry.updatedAt));
  });

  it('dates entries at UTC midnight across both default years and every month', () => {
    const start = Date.parse('2024-01-01T00:00:00Z');
    const end = Date.parse('2025-12-31T00:00:00Z');
    const months = new Set<string>();
    for (const entry of TEN_THOUSAND.slice(1)) {
      const ms = entry.date.getTime();
      assert.equal(ms % MS_PER_DAY, 0, `${entry.entry_id} is not at midnight`);
      assert.ok(ms >= start && ms <= end, `${entry.entry_id} dated ${entry.date.toISOString()}`);
      months.add(entry.date.toISOString().slice(0, 7));
    }
    assert.equal(months.size, 24);
  });

  it('keeps every generated date inside a custom period, month-end and month-start kinds included', () => {
    const list = entries(3000, { startDate: '2023-02-10', endDate: '2023-02-20' });
    const days = new Set<string>();
    for (const entry of list.slice(1)) {
      const day = entry.date.toISOString().slice(0, 10);
      assert.ok(day >= '2023-02-10' && day <= '2023-02-20', `${entry.entry_id} dated ${day}`);
      days.add(day);
    }
    assert.equal(days.size, 11);
  });

  it('uses realistic descriptions and amounts skewed toward small values', () => {
    const descriptions = new Set(TEN_THOUSAND.map((entry) => entry.description));
    for (const expected of ['Vendor payment', 'Customer invoice', 'Payroll', 'Rent', 'Depreciation']) {
      assert.ok(descriptions.has(expected), `no '${expected}' entry`);
    }
    assert.ok(descriptions.size >= 20, `${descriptions.size} descriptions`);
    const amounts = TEN_THOUSAND.map((entry) => Number(totals(entry).debit)).sort((a, b) => a - b);
    const median = amounts[amounts.length >> 1] ?? 0;
    const mean = amounts.reduce((sum, amount) => sum + amount, 0) / amounts.length;
    assert.ok(mean > 2 * median, `mean ${mean} is not well above median ${median}`);
    assert.ok(
      amounts.some((amount) => amount % 100 !== 0),
      'no amount has cents',
    );
  });
});
