import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { WAREHOUSE_PREFIXES } from '../contracts/index.ts';
import type { GlueDatabase } from './glue-database.ts';
import { acknowledge, nagText } from './nag.ts';

export interface AnalystPolicyProps {
  readonly app: string;
  readonly bucket: s3.IBucket;
  readonly resultsBucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly curatedDatabase: GlueDatabase;
  readonly rawDatabase: GlueDatabase;
  readonly workGroupName: string;
}

/**
 * A managed policy for people who query the lakehouse: Athena in the
 * analysts' workgroup over the curated (silver and gold) tables. Raw and
 * staging stay out of reach, by omission and by explicit deny, so another
 * policy's broad allow cannot open them.
 */
export class AnalystPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: AnalystPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const workGroupArn = stack.formatArn({
      service: 'athena',
      resource: 'workgroup',
      resourceName: props.workGroupName,
    });
    const curated = WAREHOUSE_PREFIXES.curated(props.app);
    const notCurated = [WAREHOUSE_PREFIXES.raw(props.app), WAREHOUSE_PREFIXES.staging(props.app)];
    // A managed policy is not a grantee, so the statements are written here rather than by grant methods.
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Query the curated ${props.app} tables with Athena (workgroup ${props.workGroupName}); no access to raw or staging`,
      statements: [
        new iam.PolicyStatement({
          sid: 'AthenaInTheAnalystWorkgroup',
          actions: [
            'athena:StartQueryExecution',
            'athena:StopQueryExecution',
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:GetQueryResultsStream',
            'athena:GetQueryRuntimeStatistics',
            'athena:BatchGetQueryExecution',
            'athena:ListQueryExecutions',
            'athena:GetWorkGroup',
            'athena:GetNamedQuery',
            'athena:BatchGetNamedQuery',
            'athena:ListNamedQueries',
          ],
          resources: [workGroupArn],
        }),
        new iam.PolicyStatement({
          sid: 'CuratedCatalog',
          actions: [
            'glue:GetDatabase',
            'glue:GetDatabases',
            'glue:GetTable',
            'glue:GetTables',
            'glue:GetPartition',
            'glue:GetPartitions',
            'glue:BatchGetPartition',
          ],
          resources: [
            props.curatedDatabase.catalogArn,
            props.curatedDatabase.databaseArn,
            props.curatedDatabase.tablesArn,
          ],
        }),
        new iam.PolicyStatement({
          sid: 'CuratedData',
          actions: ['s3:GetObject'],
          resources: [props.bucket.arnForObjects(`${curated}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'ListCuratedPrefixOnly',
          actions: ['s3:ListBucket'],
          resources: [props.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [curated, `${curated}*`] } },
        }),
        new iam.PolicyStatement({
          sid: 'QueryResults',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [props.resultsBucket.arnForObjects('*')],
        }),
        new iam.PolicyStatement({
          sid: 'QueryResultsBucket',
          actions: ['s3:GetBucketLocation', 's3:ListBucket'],
          resources: [props.resultsBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptCuratedEncryptResults',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.key.keyArn],
        }),
        new iam.PolicyStatement({
          sid: 'NeverRawOrStaging',
          effect: iam.Effect.DENY,
          actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject'],
          resources: notCurated.map((prefix) => props.bucket.arnForObjects(`${prefix}*`)),
        }),
        new iam.PolicyStatement({
          sid: 'NeverRawCatalog',
          effect: iam.Effect.DENY,
          actions: [
            'glue:GetTable',
            'glue:GetTables',
            'glue:GetPartition',
            'glue:GetPartitions',
            'glue:BatchGetPartition',
          ],
          resources: [props.rawDatabase.databaseArn, props.rawDatabase.tablesArn],
        }),
      ],
    });
    acknowledge(this.policy, {
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/${props.curatedDatabase.databaseName}/*]`]:
        'Every table of the curated database (silver and gold) is meant for analysts; tables are added as the model grows.',
      [`AwsSolutions-IAM5[Resource::${nagText(this, props.bucket.bucketArn)}/${curated}*]`]:
        'Iceberg data and metadata files of the curated tables; Iceberg names files per commit.',
      [`AwsSolutions-IAM5[Resource::${nagText(this, props.resultsBucket.bucketArn)}/*]`]:
        'Athena writes each query result under a name it makes (the query id) in the results bucket, which holds nothing else.',
    });
  }
}
