import { TimeZone } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface PipelineSchedulesProps {
  readonly stateMachine: sfn.IStateMachine;
  /** EventBridge Scheduler expression, e.g. `rate(1 hour)`. */
  readonly ingestExpression: string;
  readonly maintenanceExpression: string;
  /** IANA time zone of cron expressions. */
  readonly timeZone: string;
  /** Encrypts the schedules' target input. @default - an AWS owned key */
  readonly key?: kms.IKey;
}

/**
 * EventBridge Scheduler schedules, both starting the ingest state machine:
 * with `{}` (an incremental run of every collection) and with
 * `{"maintenance": true}` (the maintenance Glue job under the run lease, so
 * it never runs while an ingest run commits). Each has its own role.
 */
export class PipelineSchedules extends Construct {
  readonly ingest: scheduler.Schedule;
  readonly maintenance: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: PipelineSchedulesProps) {
    super(scope, id);
    for (const [name, expression] of [
      ['ingestExpression', props.ingestExpression],
      ['maintenanceExpression', props.maintenanceExpression],
    ] as const) {
      if (!/^(rate|cron)\(.+\)$/.test(expression)) {
        throw new Error(
          `${name} must be a rate(...) or cron(...) expression, got ${JSON.stringify(expression)}`,
        );
      }
    }
    const timeZone = TimeZone.of(props.timeZone);
    const key = props.key === undefined ? {} : { key: props.key };
    this.ingest = new scheduler.Schedule(this, 'Ingest', {
      description: 'Starts an incremental ledgerlake ingest run',
      schedule: scheduler.ScheduleExpression.expression(props.ingestExpression, timeZone),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({}),
        retryAttempts: 2,
      }),
      ...key,
    });
    this.maintenance = new scheduler.Schedule(this, 'Maintenance', {
      description:
        'Starts ledgerlake Iceberg maintenance (under the run lease) through the ingest state machine',
      schedule: scheduler.ScheduleExpression.expression(props.maintenanceExpression, timeZone),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ maintenance: true }),
        retryAttempts: 2,
      }),
      ...key,
    });
  }
}
