import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Db } from 'mongodb';
import {
  generateAccounts,
  generateCloseTasks,
  generateJournalEntries,
  SampleDataOptionError,
  type SampleDataOptions,
  seedDatabase,
} from '../../../../lib/local/sample-data/index.ts';

function messageFor(options: SampleDataOptions): string {
  try {
    generateJournalEntries(options);
  } catch (error) {
    assert.ok(error instanceof SampleDataOptionError, `expected SampleDataOptionError, got ${error}`);
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(options)}`);
}

describe('sample data options', () => {
  it('fails when journalEntries is -5, naming the option, the value and what is allowed', () => {
    assert.equal(messageFor({ journalEntries: -5 }), 'journalEntries must be a non-negative integer, got -5');
  });

  it('fails on fractional or non-numeric counts', () => {
    assert.equal(messageFor({ closeTasks: 1.5 }), 'closeTasks must be a non-negative integer, got 1.5');
    assert.equal(
      messageFor({ journalEntries: '10' as unknown as number }),
      'journalEntries must be a non-negative integer, got "10"',
    );
  });

  it('fails on a seed that is not an integer from 0 to 4294967295', () => {
    for (const seed of [1.5, -1, 2 ** 32, Number.NaN]) {
      assert.equal(messageFor({ seed }), `seed must be an integer from 0 to 4294967295, got ${seed}`);
    }
  });

  it('fails on an unbalancedRatio outside [0, 1]', () => {
    for (const ratio of [-0.01, 1.5, Number.NaN]) {
      assert.equal(
        messageFor({ unbalancedRatio: ratio }),
        `unbalancedRatio must be a number from 0 to 1, got ${ratio}`,
      );
    }
  });

  it('fails on dates that are not calendar dates, and on a period that ends before it starts', () => {
    for (const bad of ['2024-13-01', '2025-02-30', '2024-1-1', 'yesterday']) {
      assert.equal(
        messageFor({ startDate: bad }),
        `startDate must be a calendar date as YYYY-MM-DD, got ${JSON.stringify(bad)}`,
      );
    }
    assert.equal(
      messageFor({ startDate: '2025-01-02', endDate: '2025-01-01' }),
      'endDate must be on or after startDate, got "2025-01-01"',
    );
  });

  it('fails when the generator is created, before any document is drawn', () => {
    assert.throws(() => generateAccounts({ seed: -1 }), /seed must be/);
    assert.throws(() => generateCloseTasks({ closeTasks: -1 }), /closeTasks must be/);
  });

  it('accepts the boundaries: zero counts, ratios 0 and 1, the extreme seeds, a one-day period', () => {
    assert.deepEqual([...generateJournalEntries({ journalEntries: 0 })], []);
    assert.deepEqual([...generateCloseTasks({ closeTasks: 0 })], []);
    for (const options of [
      { unbalancedRatio: 0 },
      { unbalancedRatio: 1 },
      { seed: 0 },
      { seed: 4_294_967_295 },
      { startDate: '2024-02-29', endDate: '2024-02-29' },
    ]) {
      assert.equal([...generateJournalEntries({ ...options, journalEntries: 20 })].length, 20);
    }
  });

  it('seedDatabase rejects a bad batchSize or option before touching the database', async () => {
    const untouchable = new Proxy({} as Db, {
      get: () => assert.fail('the database was used'),
    });
    await assert.rejects(seedDatabase(untouchable, { batchSize: 0 }), {
      message: 'batchSize must be a positive integer, got 0',
    });
    await assert.rejects(seedDatabase(untouchable, { journalEntries: -5 }), {
      message: 'journalEntries must be a non-negative integer, got -5',
    });
  });
});
