import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface GlueDatabaseProps {
  /** Database (Iceberg namespace) name, from the table model. */
  readonly databaseName: string;
  /** `s3://bucket/prefix/` under which the database's tables live. */
  readonly locationUri: string;
  readonly description: string;
  /** @default RemovalPolicy.RETAIN - the catalog entry outlives the stack */
  readonly removalPolicy?: RemovalPolicy;
}

const READ_ACTIONS = [
  'glue:GetDatabase',
  'glue:GetDatabases',
  'glue:GetTable',
  'glue:GetTables',
  'glue:GetTableVersion',
  'glue:GetTableVersions',
  'glue:GetPartition',
  'glue:GetPartitions',
  'glue:BatchGetPartition',
];
/** What an Iceberg GlueCatalog needs to create tables and commit new metadata. */
const WRITE_ACTIONS = ['glue:CreateTable', 'glue:UpdateTable'];

/** A Glue Data Catalog database with grant methods for the tables in it. */
export class GlueDatabase extends Construct {
  readonly databaseName: string;
  readonly databaseArn: string;
  readonly catalogArn: string;
  /** ARN pattern of every table in the database. */
  readonly tablesArn: string;

  constructor(scope: Construct, id: string, props: GlueDatabaseProps) {
    super(scope, id);
    if (!/^[a-z0-9_]{1,255}$/.test(props.databaseName)) {
      throw new Error(`databaseName must be 1-255 of a-z 0-9 _, got ${JSON.stringify(props.databaseName)}`);
    }
    const stack = Stack.of(this);
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: props.databaseName,
        description: props.description,
        locationUri: props.locationUri,
      },
    });
    database.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
    this.databaseName = props.databaseName;
    this.catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
    this.databaseArn = stack.formatArn({
      service: 'glue',
      resource: 'database',
      resourceName: props.databaseName,
    });
    this.tablesArn = stack.formatArn({
      service: 'glue',
      resource: 'table',
      resourceName: `${props.databaseName}/*`,
    });
  }

  /** Read the database and its tables' metadata. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: READ_ACTIONS,
      resourceArns: [this.catalogArn, this.databaseArn, this.tablesArn],
    });
  }

  /** Read, create and commit to tables of the database. */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...READ_ACTIONS, ...WRITE_ACTIONS],
      resourceArns: [this.catalogArn, this.databaseArn, this.tablesArn],
    });
  }
}
