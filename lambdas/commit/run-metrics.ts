import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DATA_QUALITY_CODES } from '../../lib/curate/data-quality.ts';
import type { RunSummary } from './commit-run.ts';

/** CloudWatch namespace, metric and dimension names of a committed run (alarms refer to them). */
export const RUN_METRICS = {
  namespace: 'ledgerlake',
  appDimension: 'app',
  codeDimension: 'code',
  dataQualityIssues: 'DataQualityIssues',
  documentsRead: 'DocumentsRead',
  documentsDeleted: 'DocumentsDeleted',
  runReconciled: 'RunReconciled',
  /** 1 per committed run: the freshness alarm's signal (an execution can succeed without committing). */
  runsCommitted: 'RunsCommitted',
} as const;

/**
 * Publishes a committed run's counts in CloudWatch Embedded Metric Format (one
 * log line per dimension set, turned into metrics by CloudWatch Logs):
 * the run itself (1), documents read and deleted and whether the run
 * reconciled (1 or 0) by app,
 * and open data-quality issues by app and code, every code included so an
 * alarm sees a fixed issue go back to 0. Data-quality counts come from the
 * curate job's report: without one, none are published.
 */
export function publishRunMetrics(summary: RunSummary): void {
  const M = RUN_METRICS;
  const emit = (dimensions: Record<string, string>, add: (metrics: Metrics) => void) => {
    const metrics = new Metrics({ namespace: M.namespace });
    // Only our dimensions: the default `service` one would change the metric alarms look for.
    metrics.clearDefaultDimensions();
    metrics.addDimensions({ [M.appDimension]: summary.app, ...dimensions });
    add(metrics);
    metrics.publishStoredMetrics();
  };
  emit({}, (metrics) => {
    metrics.addMetric(M.runsCommitted, MetricUnit.Count, 1);
    metrics.addMetric(M.documentsRead, MetricUnit.Count, summary.totals.documentsRead);
    metrics.addMetric(M.documentsDeleted, MetricUnit.Count, summary.totals.deletes);
    metrics.addMetric(M.runReconciled, MetricUnit.Count, summary.reconciled ? 1 : 0);
  });
  if (Object.keys(summary.dataQuality).length === 0) return;
  const codes = new Set<string>([...Object.values(DATA_QUALITY_CODES), ...Object.keys(summary.dataQuality)]);
  for (const code of codes) {
    emit({ [M.codeDimension]: code }, (metrics) => {
      metrics.addMetric(M.dataQualityIssues, MetricUnit.Count, summary.dataQuality[code] ?? 0);
    });
  }
}
