import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { LedgerlakeConfig } from '../config/index.ts';
import { ENV, WAREHOUSE_PREFIXES } from '../contracts/index.ts';
import {
  ESM_REQUIRE_BANNER,
  LAMBDA_EXTERNAL_MODULES,
  LAMBDA_NODE_TARGET,
  type LambdaName,
  lambdaEntry,
} from '../lambda-bundles.ts';
import { acknowledge, BUCKET_GRANT_ACTIONS, NAG_REASONS, nagText } from './nag.ts';

export interface PipelineFunctionsProps {
  /** The validated configuration; the functions receive it as JSON in LEDGERLAKE_CONFIG. */
  readonly config: LedgerlakeConfig;
  readonly bucket: s3.IBucket;
  readonly runStateTable: dynamodb.ITable;
  readonly atlasSecret: secretsmanager.ISecret;
  /** The data key: encrypts the warehouse, the run-state table and a created Atlas secret. */
  readonly key: kms.IKey;
  readonly memoryMiB: number;
  /** The extract function's memory (CPU comes with it). */
  readonly extractMemoryMiB: number;
  readonly timeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /** @default - not in a VPC (Atlas must then allow Lambda's public egress) */
  readonly vpcId?: string;
  /** Private subnets with a NAT gateway. Required with `vpcId`. @default - none */
  readonly subnetIds?: readonly string[];
  /** @default RemovalPolicy.RETAIN - log groups are kept for audit */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The pipeline's Lambda functions, bundled with the same esbuild settings as
 * lib/lambda-bundles.ts (ESM, Node 22, AWS SDK left to the runtime), on arm64,
 * each with its own role and log group. Environment variables carry names
 * only; the MongoDB URI is read from Secrets Manager at run time.
 */
export class PipelineFunctions extends Construct {
  /** Validates the state machine input (first state). */
  readonly validate: lambda.IFunction;
  readonly plan: lambda.IFunction;
  readonly extract: lambda.IFunction;
  /** Commits a run; with `action: 'release'` gives the lease back after a failure. */
  readonly commit: lambda.IFunction;
  readonly all: readonly lambda.IFunction[];

  constructor(scope: Construct, id: string, props: PipelineFunctionsProps) {
    super(scope, id);
    if ((props.vpcId === undefined) !== (props.subnetIds === undefined || props.subnetIds.length === 0)) {
      throw new Error(
        `vpcId and subnetIds go together, got vpcId ${JSON.stringify(props.vpcId)} and subnetIds ${JSON.stringify(props.subnetIds)}`,
      );
    }
    const network = this.network(props);
    const staging = `${WAREHOUSE_PREFIXES.staging(props.config.app)}*`;
    const make = (name: LambdaName, description: string, environment: Record<string, string>) =>
      this.makeFunction(name, description, environment, props, network);

    const configJson = JSON.stringify(props.config);
    this.validate = make('validate', 'Validates the ingest state machine input', {
      [ENV.config]: configJson,
    });
    const pipelineEnv = {
      [ENV.config]: configJson,
      [ENV.bucket]: props.bucket.bucketName,
      [ENV.runStateTable]: props.runStateTable.tableName,
      [ENV.mongoSecretId]: props.atlasSecret.secretArn,
    };
    this.plan = make(
      'plan',
      'Takes the run lease and splits each collection into chunks; after the raw append, asks for key listings where counts differ',
      pipelineEnv,
    );
    this.extract = make(
      'extract',
      'Extracts one chunk from MongoDB into typed Parquet in staging',
      pipelineEnv,
    );
    this.commit = make(
      'commit',
      'Advances watermarks, releases the lease, writes the run summary',
      pipelineEnv,
    );
    this.all = [this.validate, this.plan, this.extract, this.commit];

    // Plan and extract read MongoDB; all three keep their run files under staging/<app>/
    // (read-write includes delete: a retried chunk removes parts of a larger earlier attempt).
    for (const fn of [this.plan, this.extract]) {
      props.atlasSecret.grantRead(fn);
      props.key.grantDecrypt(fn);
    }
    for (const fn of [this.plan, this.extract, this.commit]) {
      props.bucket.grantReadWrite(fn, staging);
      props.runStateTable.grantReadWriteData(fn);
      acknowledge(fn.role as iam.IRole, {
        ...BUCKET_GRANT_ACTIONS,
        [`AwsSolutions-IAM5[Resource::${nagText(this, props.bucket.bucketArn)}/${staging}]`]:
          'Run files under staging/<app>/: keys are made per run, collection and chunk.',
      });
    }
  }

  private network(props: PipelineFunctionsProps) {
    if (props.vpcId === undefined || props.subnetIds === undefined) return undefined;
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.vpcId,
      availabilityZones: Stack.of(this).availabilityZones.slice(0, props.subnetIds.length),
    });
    const subnets = props.subnetIds.map((subnetId) => ec2.Subnet.fromSubnetId(this, subnetId, subnetId));
    // Outbound only: MongoDB Atlas, and AWS APIs through the NAT gateway or VPC endpoints.
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'ledgerlake functions: outbound to MongoDB Atlas and AWS APIs only',
      allowAllOutbound: true,
    });
    return { vpc, subnets, securityGroup };
  }

  private makeFunction(
    name: LambdaName,
    description: string,
    environment: Record<string, string>,
    props: PipelineFunctionsProps,
    network: ReturnType<PipelineFunctions['network']>,
  ): lambda.IFunction {
    const id = `${name[0]?.toUpperCase()}${name.slice(1)}`;
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: write access to this log group only.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `ledgerlake ${name} function`,
    });
    logGroup.grantWrite(role);
    if (network !== undefined) {
      // CDK adds the VPC policy only to roles it creates; without it CreateFunction fails (no ENI permissions).
      role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
    }
    const fn = new nodejs.NodejsFunction(this, id, {
      entry: lambdaEntry(name),
      handler: 'handler',
      description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: name === 'validate' ? 256 : name === 'extract' ? props.extractMemoryMiB : props.memoryMiB,
      timeout: name === 'validate' ? Duration.seconds(30) : props.timeout,
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      // The bundles ship source maps: with this flag stack traces name the TypeScript lines.
      environment: { ...environment, NODE_OPTIONS: '--enable-source-maps' },
      ...(network === undefined
        ? {}
        : {
            vpc: network.vpc,
            vpcSubnets: { subnets: network.subnets },
            securityGroups: [network.securityGroup],
          }),
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: LAMBDA_NODE_TARGET,
        minify: true,
        sourceMap: true,
        externalModules: LAMBDA_EXTERNAL_MODULES,
        banner: ESM_REQUIRE_BANNER,
        logLevel: nodejs.LogLevel.ERROR,
      },
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The bundles target Node.js 22 (lib/lambda-bundles.ts LAMBDA_NODE_TARGET), the newest runtime the build and the test suite support; moving to 24 is a deliberate upgrade.',
    });
    acknowledge(role, { 'AwsSolutions-IAM5[Resource::*]': NAG_REASONS.xray });
    if (network !== undefined) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'VPC placement: Lambda creates the function ENIs with this role, and the ENI actions (ec2:CreateNetworkInterface and friends) cannot be scoped to resources.',
      });
    }
    return fn;
  }
}
