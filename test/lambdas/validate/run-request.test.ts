import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateRun } from '../../../lambdas/validate/handler.ts';
import { InvalidRunRequest, parseRunRequest } from '../../../lambdas/validate/run-request.ts';
import { resolveConfig } from '../../../lib/config/index.ts';

const config = resolveConfig();
const ALL = ['accounts', 'journal_entries', 'close_tasks'];

function refusal(input: unknown): string {
  try {
    parseRunRequest(input, config);
  } catch (error) {
    assert.ok(error instanceof InvalidRunRequest, `expected InvalidRunRequest, got ${error}`);
    assert.equal(error.name, 'InvalidRunRequest', 'Step Functions sees this as the error name');
    return error.message;
  }
  assert.fail(`input ${JSON.stringify(input)} was accepted`);
}

describe('state machine input', () => {
  it('{} runs every collection incrementally', () => {
    assert.deepEqual(parseRunRequest({}, config), {
      collections: ALL,
      mode: 'configured',
      backfill: null,
      resume: null,
      maintenance: false,
      closePeriod: null,
      reopen: false,
    });
  });

  it('a collection list runs those collections, in configured order', () => {
    assert.deepEqual(parseRunRequest({ collections: ['close_tasks', 'accounts'] }, config).collections, [
      'accounts',
      'close_tasks',
    ]);
  });

  it('mode full reloads, alone or with collections', () => {
    assert.equal(parseRunRequest({ mode: 'full' }, config).mode, 'full');
    assert.deepEqual(parseRunRequest({ mode: 'full', collections: ['journal_entries'] }, config), {
      collections: ['journal_entries'],
      mode: 'full',
      backfill: null,
      resume: null,
      maintenance: false,
      closePeriod: null,
      reopen: false,
    });
  });

  it('a backfill range is normalised to UTC instants', () => {
    assert.deepEqual(
      parseRunRequest({ backfill: { from: '2024-01-01', to: '2024-02-01T00:00:00+01:00' } }, config).backfill,
      {
        from: '2024-01-01T00:00:00.000Z',
        to: '2024-01-31T23:00:00.000Z',
      },
    );
  });

  it('resume names an earlier run and stands alone', () => {
    assert.deepEqual(parseRunRequest({ resume: 'ingest-2024-06-01T0200' }, config), {
      collections: [],
      mode: 'configured',
      backfill: null,
      resume: 'ingest-2024-06-01T0200',
      maintenance: false,
      closePeriod: null,
      reopen: false,
    });
    assert.equal(
      refusal({ resume: 'run 1' }),
      'input.resume must be the run id of an earlier run (1-80 characters of A-Z a-z 0-9 _ . : -, starting with a letter or digit), got "run 1"',
    );
    assert.equal(
      refusal({ resume: 'r1', mode: 'full' }),
      "input.resume cannot be combined with 'mode': the resumed run's own plan decides what it reads",
    );
  });

  it('maintenance stands alone and must be true', () => {
    assert.equal(parseRunRequest({ maintenance: true }, config).maintenance, true);
    assert.equal(refusal({ maintenance: 'yes' }), 'input.maintenance must be true when given, got "yes"');
    assert.equal(
      refusal({ maintenance: true, collections: ['accounts'] }),
      "input.maintenance cannot be combined with 'collections': it reads no source",
    );
  });

  it('closePeriod closes a month after the run, reopen closes a closed one again; both are checked', () => {
    const closing = parseRunRequest({ closePeriod: '2025-06' }, config);
    assert.deepEqual([closing.closePeriod, closing.reopen, closing.collections], ['2025-06', false, ALL]);
    const reopening = parseRunRequest({ closePeriod: '2025-06', reopen: true, mode: 'full' }, config);
    assert.deepEqual([reopening.closePeriod, reopening.reopen, reopening.mode], ['2025-06', true, 'full']);
    assert.equal(
      refusal({ closePeriod: '2025-13' }),
      'input.closePeriod must be a month as YYYY-MM (e.g. "2025-06"), got "2025-13"',
    );
    assert.equal(
      refusal({ closePeriod: 202506 }),
      'input.closePeriod must be a month as YYYY-MM (e.g. "2025-06"), got 202506',
    );
    assert.equal(
      refusal({ closePeriod: '2025-06', reopen: 'yes' }),
      'input.reopen must be true or false, got "yes"',
    );
    assert.equal(
      refusal({ reopen: true }),
      'input.reopen goes with input.closePeriod: name the month to close again, e.g. {"closePeriod": "2025-06", "reopen": true}',
    );
    assert.equal(
      refusal({ maintenance: true, closePeriod: '2025-06' }),
      "input.maintenance cannot be combined with 'closePeriod': it reads no source",
    );
  });

  it('the run id is the execution name, or the run a resume names', () => {
    assert.equal(validateRun({ input: {}, runId: 'exec-2' }, config).runId, 'exec-2');
    assert.equal(validateRun({ input: { resume: 'exec-1' }, runId: 'exec-2' }, config).runId, 'exec-1');
  });

  it('refuses with a message naming the field, the value and what is allowed', () => {
    assert.equal(refusal([]), 'input must be a JSON object such as {} or {"mode": "full"}, got []');
    assert.equal(
      refusal({ Comment: 'Insert your JSON here' }),
      "input has unknown field 'Comment' (allowed: collections, mode, backfill, resume, maintenance, closePeriod, reopen)",
    );
    assert.equal(
      refusal({ collections: ['ledger'] }),
      'input.collections[0] must be one of accounts, journal_entries, close_tasks, got "ledger"',
    );
    assert.equal(
      refusal({ collections: [] }),
      'input.collections must be a non-empty list of configured collections (accounts, journal_entries, close_tasks), got []',
    );
    assert.equal(
      refusal({ collections: ['accounts', 'accounts'] }),
      "input.collections lists 'accounts' twice",
    );
    assert.equal(refusal({ mode: 'delta' }), 'input.mode must be "full" or "incremental", got "delta"');
    assert.equal(
      refusal({ backfill: { from: 'yesterday', to: '2024-01-01' } }),
      'input.backfill.from must be an ISO 8601 date or timestamp such as "2024-01-31" or "2024-01-31T00:00:00Z", got "yesterday"',
    );
    assert.equal(
      refusal({ backfill: { from: '2024-02-01', to: '2024-01-01' } }),
      'input.backfill.from must be before input.backfill.to, got from "2024-02-01" and to "2024-01-01"',
    );
    assert.equal(
      refusal({ backfill: { from: '2024-01-01', to: '2024-02-01' }, mode: 'full' }),
      'input.backfill cannot be combined with mode "full": a full reload already reads every document',
    );
  });

  it('refuses a backfill of a collection ordered by _id', () => {
    const byId = resolveConfig({
      collections: [{ name: 'journal_entries', mode: 'incremental', watermarkField: '_id', chunkDocs: 1000 }],
    });
    assert.throws(
      () => parseRunRequest({ backfill: { from: '2024-01-01', to: '2024-02-01' } }, byId),
      /input\.backfill needs a timestamp watermarkField, but journal_entries is ordered by _id/,
    );
  });
});
