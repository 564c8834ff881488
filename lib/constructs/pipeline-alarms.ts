import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RUN_METRICS } from '../../lambdas/commit/run-metrics.ts';
import { DATA_QUALITY_CODES } from '../curate/data-quality.ts';

export interface PipelineAlarmsProps {
  /** The pipeline's app name: the `app` dimension of the metrics Commit publishes. */
  readonly app: string;
  readonly stateMachine: sfn.IStateMachine;
  readonly functions: readonly lambda.IFunction[];
  /** Encrypts the alarm topic; its policy must let these alarms use it (DataKey `alarmNamePrefix`). */
  readonly key: kms.IKey;
  /** Every alarm's name starts with this (the key and topic policies name their sources by it). */
  readonly alarmNamePrefix: string;
  /** Data is stale when no run has committed for this many hours. */
  readonly freshnessHours: number;
  /** @default - no subscription; subscribe to the topic yourself */
  readonly email?: string;
  readonly dashboardName: string;
}

/**
 * Alarms to one SNS topic (KMS-encrypted, TLS only): failed or timed-out
 * executions, function errors, stale data and open unbalanced journal
 * entries; and a dashboard of the same signals. Only these alarms may publish
 * to the topic. Every Glue job (raw append, curate, maintenance) runs inside
 * the state machine, so a failed job run fails its execution and is reported
 * once, by the failed-executions alarm: there is no separate Glue alarm.
 */
export class PipelineAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    if (!Number.isInteger(props.freshnessHours) || props.freshnessHours < 1) {
      throw new Error(`freshnessHours must be a whole number of hours >= 1, got ${props.freshnessHours}`);
    }
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'ledgerlake alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    this.allowPublishing(
      'PipelineAlarmsPublish',
      'cloudwatch.amazonaws.com',
      Stack.of(this).formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: `${props.alarmNamePrefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    if (props.email !== undefined)
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    const hour = Duration.hours(1);
    const failed = props.stateMachine
      .metricFailed({ period: Duration.minutes(5), statistic: 'Sum' })
      .with({ label: 'failed executions' });
    const timedOut = props.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' });
    const aborted = props.stateMachine.metricAborted({ period: Duration.minutes(5), statistic: 'Sum' });
    const succeededHourly = props.stateMachine.metricSucceeded({ period: hour, statistic: 'Sum' });
    const functionErrors = new cloudwatch.MathExpression({
      expression: props.functions.map((_, i) => `e${i}`).join(' + '),
      usingMetrics: Object.fromEntries(
        props.functions.map((fn, i) => [
          `e${i}`,
          fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        ]),
      ),
      label: 'function errors',
      period: Duration.minutes(5),
    });

    // Published by Commit after every run (Embedded Metric Format), so Maximum over an hour is the latest count.
    const runMetric = (metricName: string, label: string, dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: RUN_METRICS.namespace,
        metricName,
        dimensionsMap: { [RUN_METRICS.appDimension]: props.app, ...dimensions },
        statistic: 'Maximum',
        period: hour,
        label,
      });
    // Commit publishes 1 per committed run: executions that end in AnotherRunHoldsTheLease or
    // RunAlreadyCommitted succeed without committing, so ExecutionsSucceeded would hide a stuck run.
    const runsCommitted = runMetric(RUN_METRICS.runsCommitted, 'committed runs').with({ statistic: 'Sum' });
    const unbalancedEntries = runMetric(RUN_METRICS.dataQualityIssues, 'open unbalanced entries', {
      [RUN_METRICS.codeDimension]: DATA_QUALITY_CODES.unbalancedEntry,
    });

    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric, overrides = {}) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${props.alarmNamePrefix}${alarmId}`,
        metric,
        alarmDescription: description,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...overrides,
      });
    this.alarms = [
      alarm(
        'ExecutionsFailed',
        'An ingest execution failed. After fixing the cause, wait for the next scheduled run or start a new execution: it reads everything the failed one would. Do not redrive (the execution would restart at its RunFailed state). Failed Glue job runs (raw append, curate, maintenance) are reported here only.',
        failed,
      ),
      alarm('ExecutionsTimedOut', 'An ingest execution timed out.', timedOut),
      alarm('ExecutionsAborted', 'An ingest execution was stopped.', aborted),
      alarm(
        'FunctionErrors',
        'A pipeline function returned an error (retries may have recovered it).',
        functionErrors,
      ),
      alarm(
        'DataStale',
        `No ingest run has committed for ${props.freshnessHours} hours: the lakehouse is stale (executions that found another run holding the lease do not count).`,
        runsCommitted,
        {
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: props.freshnessHours,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
      ),
      alarm(
        'UnbalancedEntries',
        'Journal entries whose debits and credits differ are open in data_quality_issues; see the Athena named query "Open data-quality issues".',
        unbalancedEntries,
        {
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          // Counts arrive once per run: between runs the last count stands.
          treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        },
      ),
    ];
    const notify = new actions.SnsAction(this.topic);
    for (const a of this.alarms) a.addAlarmAction(notify);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Ingest executions',
        left: [succeededHourly.with({ period: Duration.minutes(5), label: 'succeeded' }), failed, timedOut],
        right: [runsCommitted],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Execution time',
        left: [props.stateMachine.metricTime({ statistic: 'Maximum', period: hour })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: [functionErrors],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p95)',
        left: props.functions.map((fn) =>
          fn.metricDuration({ statistic: 'p95', period: Duration.minutes(5) }),
        ),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Documents read and deleted per run',
        left: [
          runMetric(RUN_METRICS.documentsRead, 'read').with({ statistic: 'Sum' }),
          runMetric(RUN_METRICS.documentsDeleted, 'deleted').with({ statistic: 'Sum' }),
        ],
        right: [
          runMetric(RUN_METRICS.runReconciled, 'reconciled (1) or not (0)').with({ statistic: 'Minimum' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Open data-quality issues',
        left: Object.values(DATA_QUALITY_CODES).map((code) =>
          runMetric(RUN_METRICS.dataQualityIssues, code, { [RUN_METRICS.codeDimension]: code }),
        ),
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24 }),
    );
  }

  /** Lets `service` publish to the topic on behalf of `sourceArn` (a pattern) in this account only. */
  private allowPublishing(sid: string, service: string, sourceArn: string): void {
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ServicePrincipal(service)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': sourceArn },
        },
      }),
    );
  }
}
