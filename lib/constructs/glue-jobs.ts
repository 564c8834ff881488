import { join } from 'node:path';
import { ArnFormat, DefaultStackSynthesizer, type Duration, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { GLUE_SCRIPTS_DIR, type GlueJobName, JOB_ARGUMENT, WAREHOUSE_PREFIXES } from '../contracts/index.ts';
import { glueConfArgument, glueIcebergSparkConf, glueJobArguments } from '../glue/job-arguments.ts';
import { GLUE_PACKAGE_ROOT } from '../glue/package.ts';
import type { TableModel } from '../model/index.ts';
import type { GlueDatabase } from './glue-database.ts';
import { acknowledge, BUCKET_GRANT_ACTIONS, nagText } from './nag.ts';

const repoRoot = join(import.meta.dirname, '..', '..');

export interface GlueJobsProps {
  readonly app: string;
  /** The table model: namespaces and collections the scripts default to. */
  readonly model: TableModel;
  /** Unique per account and region; names the security configuration. */
  readonly resourcePrefix: string;
  readonly bucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly rawDatabase: GlueDatabase;
  readonly curatedDatabase: GlueDatabase;
  readonly workerType: string;
  readonly numberOfWorkers: number;
  readonly timeout: Duration;
}

/**
 * The four Glue 4.0 jobs (raw append, curate, close period, maintenance) with one role and
 * a security configuration that encrypts their S3 output, CloudWatch logs and
 * job bookmarks with the data key.
 */
export class GlueJobs extends Construct {
  readonly role: iam.IRole;
  readonly securityConfigurationName: string;
  readonly rawAppend: glue.CfnJob;
  readonly curate: glue.CfnJob;
  readonly closePeriod: glue.CfnJob;
  readonly maintenance: glue.CfnJob;

  constructor(scope: Construct, id: string, props: GlueJobsProps) {
    super(scope, id);
    const timeoutMinutes = props.timeout.toMinutes();
    if (!Number.isInteger(props.numberOfWorkers) || props.numberOfWorkers < 2) {
      throw new Error(`numberOfWorkers must be an integer >= 2 for Glue 4.0, got ${props.numberOfWorkers}`);
    }
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: `ledgerlake Glue jobs of ${props.app}`,
    });
    this.role = role;
    const prefixes = WAREHOUSE_PREFIXES;
    const staging = `${prefixes.staging(props.app)}*`;
    const writable = [prefixes.raw(props.app), prefixes.curated(props.app), prefixes.glueTemp(props.app)].map(
      (prefix) => `${prefix}*`,
    );
    props.bucket.grantRead(role, staging);
    // The raw append and curate jobs report what they did next to the run's plan, where Commit reads it.
    const jobReports = `${prefixes.runs(props.app)}*`;
    props.bucket.grantPut(role, jobReports);
    // The raw append keeps each raw table's live document count there, removing it before the table changes.
    const liveKeys = `${prefixes.liveKeys(props.app)}*`;
    props.bucket.grantPut(role, liveKeys);
    props.bucket.grantDelete(role, liveKeys);
    // Read-write includes delete: maintenance removes expired snapshots' files and orphans.
    for (const prefix of writable) props.bucket.grantReadWrite(role, prefix);
    props.rawDatabase.grantReadWrite(role);
    props.curatedDatabase.grantReadWrite(role);
    props.key.grantEncryptDecrypt(role);
    // Glue writes driver and executor logs to log groups it names itself under /aws-glue/.
    const glueLogs = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws-glue/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [glueLogs],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );

    this.securityConfigurationName = `${props.resourcePrefix}-glue`;
    const security = new glue.CfnSecurityConfiguration(this, 'SecurityConfiguration', {
      name: this.securityConfigurationName,
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: props.key.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: props.key.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: props.key.keyArn },
      },
    });

    const bucketUri = `s3://${props.bucket.bucketName}`;
    const scriptArguments = glueJobArguments(props.model);
    // The jobs' code, which the generated scripts import: a zip of glue/src (ledgerlake_glue/) on the Python path.
    const jobPackage = new assets.Asset(this, 'JobPackage', {
      path: join(repoRoot, GLUE_PACKAGE_ROOT),
      exclude: ['**/__pycache__', '**/*.pyc'],
    });
    jobPackage.grantRead(role);
    const glueArguments = {
      '--extra-py-files': jobPackage.s3ObjectUrl,
      '--datalake-formats': 'iceberg',
      '--conf': glueConfArgument(glueIcebergSparkConf(`${bucketUri}/`)),
      '--enable-metrics': 'true',
      '--enable-continuous-cloudwatch-log': 'true',
      // Reruns are made safe by run ids in snapshot summaries, not by Glue bookmarks.
      '--job-bookmark-option': 'job-bookmark-disable',
      '--TempDir': `${bucketUri}/${prefixes.glueTemp(props.app)}`,
    };
    // Deployment-wide values of the scripts' arguments; the state machine adds --run_id per run.
    const deployment: Partial<Record<string, string>> = {
      [JOB_ARGUMENT.stagingRoot]: bucketUri,
      [JOB_ARGUMENT.tableLocationRoot]: bucketUri,
    };
    const job = (name: GlueJobName, description: string) => {
      const spec = scriptArguments[name];
      const defaults: Record<string, string> = { ...glueArguments };
      for (const [arg, value] of Object.entries(spec.defaults))
        defaults[`--${arg}`] = deployment[arg] ?? value;
      for (const arg of spec.required) {
        const value = deployment[arg];
        if (value !== undefined) defaults[`--${arg}`] = value;
      }
      const script = new assets.Asset(this, `${name}Script`, {
        path: join(repoRoot, GLUE_SCRIPTS_DIR, spec.script),
      });
      script.grantRead(role);
      const cfn = new glue.CfnJob(this, `${name}Job`, {
        description,
        role: role.roleArn,
        glueVersion: '4.0',
        command: { name: 'glueetl', pythonVersion: '3', scriptLocation: script.s3ObjectUrl },
        workerType: props.workerType,
        numberOfWorkers: props.numberOfWorkers,
        timeout: timeoutMinutes,
        maxRetries: 0,
        // One run at a time: Iceberg commits would conflict, and the lease already serialises runs.
        executionProperty: { maxConcurrentRuns: 1 },
        securityConfiguration: security.ref,
        defaultArguments: defaults,
      });
      cfn.node.addDependency(role);
      return cfn;
    };
    const bucket = nagText(this, props.bucket.bucketArn);
    const qualifier =
      Stack.of(this).synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    acknowledge(role, {
      ...BUCKET_GRANT_ACTIONS,
      [`AwsSolutions-IAM5[Resource::${bucket}/${staging}]`]:
        'Staged Parquet of every run, read by the raw append.',
      [`AwsSolutions-IAM5[Resource::${bucket}/${jobReports}]`]:
        'Job reports (raw-append.json, curate.json) under each run folder, named by run id at run time.',
      [`AwsSolutions-IAM5[Resource::${bucket}/${liveKeys}]`]:
        "Each raw table's live document count (<collection>.json), one object per configured collection.",
      ...Object.fromEntries(
        writable.map((prefix) => [
          `AwsSolutions-IAM5[Resource::${bucket}/${prefix}]`,
          'Iceberg data and metadata files (or Glue temporary files) under one prefix; file names are made by Iceberg per commit.',
        ]),
      ),
      ...Object.fromEntries(
        [props.rawDatabase, props.curatedDatabase].map((db) => [
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/${db.databaseName}/*]`,
          `Tables of the ${db.databaseName} database: the jobs create and commit to the model's tables there.`,
        ]),
      ),
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/*]':
        'Glue names its log groups itself (/aws-glue/jobs/..., per security configuration and role); they cannot be created in advance.',
      'AwsSolutions-IAM5[Resource::*]':
        'cloudwatch:PutMetricData has no resource-level permissions; the statement is limited to the Glue namespace by condition.',
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*]`]:
        'CDK asset grant: the job scripts are objects with content-hashed names in the CDK bootstrap asset bucket.',
    });
    this.rawAppend = job('raw_append', 'ledgerlake: staged Parquet → Iceberg raw, tagged with the run id');
    this.curate = job('curate', 'ledgerlake: raw delta → silver (MERGE INTO) → gold');
    this.closePeriod = job(
      'close_period',
      'ledgerlake: record a month’s trial balance as closed and tag every curated table close-YYYY-MM',
    );
    this.maintenance = job(
      'maintenance',
      'ledgerlake: expire snapshots, remove orphans, compact, rewrite manifests',
    );
  }

  /** Name of a job (CloudFormation generates it). */
  jobName(job: glue.CfnJob): string {
    return job.ref;
  }

  /** ARN of a job, for IAM. */
  jobArn(job: glue.CfnJob): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'job', resourceName: job.ref });
  }
}
