import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { WAREHOUSE_ROOTS } from '../contracts/index.ts';

export interface WarehouseProps {
  readonly key: kms.IKey;
  /** Pipeline name: staged files live under `staging/<app>/`. */
  readonly app: string;
  /** @default RemovalPolicy.RETAIN - buckets and their data outlive the stack */
  readonly removalPolicy?: RemovalPolicy;
  /** Days after which staged Parquet and run bookkeeping are deleted. @default 14 */
  readonly stagingExpirationDays?: number;
  /** Days after which Athena query results are deleted. @default 30 */
  readonly queryResultsExpirationDays?: number;
}

/**
 * Where the lakehouse lives: the warehouse bucket (staging, raw, curated),
 * a bucket for Athena query results and a bucket for the access logs of both.
 * SSE-KMS with a bucket key, TLS only, no public access.
 */
export class Warehouse extends Construct {
  readonly bucket: s3.Bucket;
  readonly queryResultsBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: WarehouseProps) {
    super(scope, id);
    const stagingDays = props.stagingExpirationDays ?? 14;
    const resultsDays = props.queryResultsExpirationDays ?? 30;
    for (const [name, days] of [
      ['stagingExpirationDays', stagingDays],
      ['queryResultsExpirationDays', resultsDays],
    ] as const) {
      if (!Number.isInteger(days) || days < 1)
        throw new Error(`${name} must be a whole number of days >= 1, got ${days}`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // Access log delivery does not support SSE-KMS, so the log bucket uses SSE-S3.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives the server access logs of the warehouse and query-result buckets; logging it into itself would loop.',
    });
    const secured = {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      removalPolicy,
    };
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...secured,
      serverAccessLogsPrefix: 'warehouse/',
      lifecycleRules: [
        {
          id: 'expire-staging',
          prefix: WAREHOUSE_ROOTS.staging,
          expiration: Duration.days(stagingDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        { id: 'expire-glue-temp', prefix: WAREHOUSE_ROOTS.glueTemp, expiration: Duration.days(7) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(3) },
      ],
    });
    this.queryResultsBucket = new s3.Bucket(this, 'QueryResults', {
      ...secured,
      serverAccessLogsPrefix: 'query-results/',
      lifecycleRules: [{ id: 'expire-query-results', expiration: Duration.days(resultsDays) }],
    });
  }
}
