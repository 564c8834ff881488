import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { LedgerlakeConfig } from '../config/index.ts';
import type { GlueDatabase } from '../constructs/glue-database.ts';
import { GlueJobs } from '../constructs/glue-jobs.ts';
import { IngestStateMachine } from '../constructs/ingest-state-machine.ts';
import { LAKE_FORMATION_PERMISSIONS, LakeFormationGrants } from '../constructs/lake-formation-grants.ts';
import { PipelineAlarms } from '../constructs/pipeline-alarms.ts';
import { PipelineFunctions } from '../constructs/pipeline-functions.ts';
import { PipelineSchedules } from '../constructs/pipeline-schedules.ts';
import { WAREHOUSE_PREFIXES } from '../contracts/index.ts';
import { buildTableModel } from '../model/index.ts';
import { removalPolicyOf } from './removal.ts';
import { alarmNamePrefix, resourcePrefix } from './resource-names.ts';

export interface PipelineStackProps extends StackProps {
  readonly config: LedgerlakeConfig;
  readonly key: kms.IKey;
  readonly bucket: s3.IBucket;
  readonly rawDatabase: GlueDatabase;
  readonly curatedDatabase: GlueDatabase;
  readonly atlasSecret: secretsmanager.ISecret;
  readonly runStateTable: dynamodb.ITable;
}

/**
 * The stateless pipeline: functions, Glue jobs, the ingest state machine,
 * schedules, alarms and dashboard. Holds no data, so it can be destroyed and
 * redeployed without touching the lakehouse.
 */
export class PipelineStack extends Stack {
  readonly functions: PipelineFunctions;
  readonly glueJobs: GlueJobs;
  readonly stateMachine: sfn.StateMachine;
  readonly alarms: PipelineAlarms;
  readonly schedules: PipelineSchedules;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    const aws = config.aws;
    const logRetention = aws.logRetentionDays as logs.RetentionDays;
    const logRemovalPolicy = removalPolicyOf(aws);
    const prefix = resourcePrefix(config);
    const functionTimeout = Duration.seconds(aws.functions.timeoutSeconds);
    const glueTimeout = Duration.minutes(aws.glue.timeoutMinutes);

    this.functions = new PipelineFunctions(this, 'Functions', {
      config,
      bucket: props.bucket,
      runStateTable: props.runStateTable,
      atlasSecret: props.atlasSecret,
      key: props.key,
      memoryMiB: aws.functions.memoryMiB,
      extractMemoryMiB: aws.functions.extractMemoryMiB,
      timeout: functionTimeout,
      logRetention,
      logRemovalPolicy,
      ...(aws.network === undefined ? {} : { vpcId: aws.network.vpcId, subnetIds: aws.network.subnetIds }),
    });
    this.glueJobs = new GlueJobs(this, 'GlueJobs', {
      app: config.app,
      model: buildTableModel(config),
      resourcePrefix: prefix,
      bucket: props.bucket,
      key: props.key,
      rawDatabase: props.rawDatabase,
      curatedDatabase: props.curatedDatabase,
      workerType: aws.glue.workerType,
      numberOfWorkers: aws.glue.numberOfWorkers,
      timeout: glueTimeout,
    });
    if (aws.lakeFormation.enabled) {
      const lakeFormation = new LakeFormationGrants(this, 'LakeFormation');
      for (const database of [props.rawDatabase, props.curatedDatabase]) {
        lakeFormation.grant(
          'GlueJobs',
          this.glueJobs.role.roleArn,
          database,
          LAKE_FORMATION_PERMISSIONS.pipeline,
        );
      }
    }
    this.stateMachine = new IngestStateMachine(this, 'Ingest', {
      validateFunction: this.functions.validate,
      planFunction: this.functions.plan,
      extractFunction: this.functions.extract,
      commitFunction: this.functions.commit,
      rawAppendJob: this.glueJobs.rawAppend,
      curateJob: this.glueJobs.curate,
      closePeriodJob: this.glueJobs.closePeriod,
      maintenanceJob: this.glueJobs.maintenance,
      bucket: props.bucket,
      runFilesPrefix: WAREHOUSE_PREFIXES.runs(config.app),
      key: props.key,
      mapMaxConcurrency: aws.mapMaxConcurrency,
      functionTimeout,
      glueTimeout,
      logRetention,
      logRemovalPolicy,
    }).stateMachine;
    this.schedules = new PipelineSchedules(this, 'Schedules', {
      stateMachine: this.stateMachine,
      ingestExpression: config.schedules.ingest,
      maintenanceExpression: config.schedules.maintenance,
      timeZone: config.schedules.timezone,
      key: props.key,
    });
    this.alarms = new PipelineAlarms(this, 'Alarms', {
      app: config.app,
      stateMachine: this.stateMachine,
      functions: this.functions.all,
      key: props.key,
      alarmNamePrefix: alarmNamePrefix(config),
      freshnessHours: aws.alarms.freshnessHours,
      dashboardName: `${prefix}-pipeline`,
      ...(aws.alarms.email === undefined ? {} : { email: aws.alarms.email }),
    });
  }
}
