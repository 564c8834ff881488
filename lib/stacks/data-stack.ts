import { Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { LedgerlakeConfig } from '../config/index.ts';
import { AtlasSecret } from '../constructs/atlas-secret.ts';
import { DataKey } from '../constructs/data-key.ts';
import { GlueDatabase } from '../constructs/glue-database.ts';
import { Warehouse } from '../constructs/warehouse.ts';
import { WAREHOUSE_PREFIXES } from '../contracts/index.ts';
import { buildTableModel } from '../model/index.ts';
import { removalPolicyOf } from './removal.ts';
import { alarmNamePrefix } from './resource-names.ts';

export interface DataStackProps extends StackProps {
  readonly config: LedgerlakeConfig;
}

/**
 * Everything that holds data or names it: key, warehouse and result buckets,
 * Glue databases, the Atlas secret and the run-state table. Retained on
 * deletion unless a dev configuration says otherwise, so the pipeline stack
 * can be destroyed and redeployed freely.
 */
export class DataStack extends Stack {
  readonly key: kms.IKey;
  readonly warehouse: Warehouse;
  /**
   * The warehouse and query-result buckets as the other stacks use them:
   * through exports with stable names, so the IAM policies that name object
   * prefixes read the same in every synthesis (and in cdk-nag findings).
   */
  readonly sharedBuckets: { readonly warehouse: s3.IBucket; readonly queryResults: s3.IBucket };
  readonly rawDatabase: GlueDatabase;
  readonly curatedDatabase: GlueDatabase;
  readonly atlasSecret: secretsmanager.ISecret;
  readonly runStateTable: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config.aws);
    const model = buildTableModel(config);

    this.key = new DataKey(this, 'DataKey', {
      aliasName: `alias/ledgerlake/${config.app}/${config.aws.stage}`,
      removalPolicy,
      // The pipeline stack's alarms publish to a topic encrypted with the key.
      alarmNamePrefix: alarmNamePrefix(config),
    }).key;
    this.warehouse = new Warehouse(this, 'Warehouse', { key: this.key, app: config.app, removalPolicy });
    this.sharedBuckets = {
      warehouse: this.share('WarehouseBucket', this.warehouse.bucket),
      queryResults: this.share('QueryResultsBucket', this.warehouse.queryResultsBucket),
    };
    const location = (prefix: string) => `s3://${this.warehouse.bucket.bucketName}/${prefix}`;
    this.rawDatabase = new GlueDatabase(this, 'RawDatabase', {
      databaseName: model.databases.raw,
      locationUri: location(WAREHOUSE_PREFIXES.raw(config.app)),
      description: `ledgerlake raw layer of ${config.app}: one append-only Iceberg table per collection`,
      removalPolicy,
    });
    this.curatedDatabase = new GlueDatabase(this, 'CuratedDatabase', {
      databaseName: model.databases.curated,
      locationUri: location(WAREHOUSE_PREFIXES.curated(config.app)),
      description: `ledgerlake silver and gold layers of ${config.app}`,
      removalPolicy,
    });
    const atlas = new AtlasSecret(this, 'AtlasSecret', {
      secretName: config.source.secretName,
      create: config.aws.atlasSecret === 'create',
      key: this.key,
      removalPolicy,
    });
    this.atlasSecret = atlas.secret;
    this.runStateTable = new dynamodb.Table(this, 'RunStateTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: config.aws.removalPolicy === 'retain',
      removalPolicy,
    });
  }

  private share(name: string, bucket: s3.Bucket): s3.IBucket {
    const exported = (attribute: string, value: string) =>
      this.exportValue(value, { name: `${this.stackName}-${name}${attribute}` });
    return s3.Bucket.fromBucketAttributes(this, `${name}Shared`, {
      bucketArn: exported('Arn', bucket.bucketArn),
      bucketName: exported('Name', bucket.bucketName),
      encryptionKey: this.key,
    });
  }
}
