import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunSummary } from '../../../lambdas/commit/commit-run.ts';
import { publishRunMetrics, RUN_METRICS } from '../../../lambdas/commit/run-metrics.ts';
import { DATA_QUALITY_CODES } from '../../../lib/curate/data-quality.ts';

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [field: string]: unknown;
}

/** What the function prints to standard output, where Lambda hands Embedded Metric Format to CloudWatch. */
function printed(act: () => void): Emf[] {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    act();
  } finally {
    process.stdout.write = original;
  }
  return lines
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Emf);
}

const summary = (overrides: Partial<RunSummary>): RunSummary => ({
  runId: 'run-1',
  app: 'fq_app',
  plannedAt: '2025-06-01T00:00:00.000Z',
  committedAt: '2025-06-01T00:01:00.000Z',
  collections: [],
  totals: { documentsRead: 120, rowsStaged: 120, quarantined: 1, deletes: 3, bytes: 1000 },
  reconciled: true,
  dataQuality: { unbalanced_entry: 2, duplicate_entry_id: 4 },
  ...overrides,
});

describe('run metrics in Embedded Metric Format', () => {
  it('publishes documents read and deleted and reconciliation by app, and open issues by app and code', () => {
    const emf = printed(() => publishRunMetrics(summary({})));
    const run = emf.find((e) => RUN_METRICS.documentsRead in e);
    assert.deepEqual(run?._aws.CloudWatchMetrics[0]?.Namespace, 'ledgerlake');
    assert.deepEqual(run?._aws.CloudWatchMetrics[0]?.Dimensions, [['app']]);
    assert.deepEqual(
      [run?.app, run?.DocumentsRead, run?.DocumentsDeleted, run?.RunReconciled],
      ['fq_app', 120, 3, 1],
    );
    const issues = emf.filter((e) => RUN_METRICS.dataQualityIssues in e);
    assert.deepEqual(
      Object.fromEntries(issues.map((e) => [e.code, e.DataQualityIssues])),
      Object.fromEntries(
        Object.values(DATA_QUALITY_CODES).map((code) => [
          code,
          { unbalanced_entry: 2, duplicate_entry_id: 4 }[code as string] ?? 0,
        ]),
      ),
      'every code, so an alarm sees a fixed issue go back to 0',
    );
    for (const e of issues) {
      assert.deepEqual(e._aws.CloudWatchMetrics[0]?.Dimensions, [['app', 'code']], 'no service dimension');
      assert.equal(e.app, 'fq_app');
    }
  });

  it('reports a run that did not reconcile as 0, and no issue counts without a curate report', () => {
    const emf = printed(() => publishRunMetrics(summary({ reconciled: false, dataQuality: {} })));
    assert.equal(emf.length, 1);
    assert.equal(emf[0]?.RunReconciled, 0);
  });

  it('counts every committed run once by app, reconciled or not: what the freshness alarm sums', () => {
    for (const reconciled of [true, false]) {
      const emf = printed(() => publishRunMetrics(summary({ reconciled })));
      const runs = emf.filter((e) => RUN_METRICS.runsCommitted in e);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]?.RunsCommitted, 1);
      assert.deepEqual(runs[0]?._aws.CloudWatchMetrics[0]?.Dimensions, [['app']]);
      assert.ok(
        runs[0]?._aws.CloudWatchMetrics[0]?.Metrics.some(
          (m) => m.Name === 'RunsCommitted' && m.Unit === 'Count',
        ),
      );
    }
  });
});
