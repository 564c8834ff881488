import { type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  COMMIT_ACTION,
  INGEST_PATHS,
  INGEST_STATES,
  JOB_ARGUMENT,
  PLAN_ACTION,
  PLAN_STATUS,
} from '../contracts/index.ts';
import { acknowledge, nagRef, nagText } from './nag.ts';

export interface IngestStateMachineProps {
  readonly validateFunction: lambda.IFunction;
  readonly planFunction: lambda.IFunction;
  readonly extractFunction: lambda.IFunction;
  /** Commits a run; also called with `action: 'release'` on the failure path. */
  readonly commitFunction: lambda.IFunction;
  readonly rawAppendJob: glue.CfnJob;
  readonly curateJob: glue.CfnJob;
  /** Runs after Curate when the input names a month to close (`{"closePeriod": "YYYY-MM"}`). */
  readonly closePeriodJob: glue.CfnJob;
  /** Runs with input `{"maintenance": true}`, under the run lease. */
  readonly maintenanceJob: glue.CfnJob;
  /** Bucket holding chunk lists too large to pass between states (`chunksKey`). */
  readonly bucket: s3.IBucket;
  /** Key prefix of the run files (`staging/<app>/_runs/`): the only objects the distributed Map may read. */
  readonly runFilesPrefix: string;
  /** Decrypts chunk lists read by the distributed Map. */
  readonly key: kms.IKey;
  readonly mapMaxConcurrency: number;
  /** Upper bound of one function invocation (the function's own timeout). */
  readonly functionTimeout: Duration;
  /** Upper bound of one Glue job run. */
  readonly glueTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /** @default RemovalPolicy.RETAIN - execution logs are kept for audit */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** Errors of the Lambda service itself (not of the function's code), worth retrying with backoff. */
export const TRANSIENT_LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];
const TRANSIENT_GLUE_ERRORS = ['Glue.ConcurrentRunsExceededException', 'Glue.ThrottlingException'];

/** How long maintenance waits before asking for the lease again while an ingest run holds it. */
export const MAINTENANCE_LEASE_WAIT = Duration.minutes(5);

/**
 * The ingest run: validate input → plan (lease, chunks) → extract chunks in
 * parallel → raw append (Glue) → check deletes (and, when the source's count
 * differs from raw's, list keys → raw append again to reconcile them) →
 * curate (Glue) → commit. Every step after
 * validation catches into a path that releases the lease and fails the
 * execution with the original error, so the next run starts at once. A run
 * id that committed before ends in RunAlreadyCommitted without doing
 * anything; one superseded by a later run fails in Plan with RunSuperseded.
 *
 * With input `{"maintenance": true}` (the maintenance schedule) Plan only
 * takes the lease, waiting while an ingest run holds it, then the
 * maintenance Glue job runs and the lease is given back: maintenance's
 * rewrites never race an ingest run's commits.
 */
export class IngestStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: IngestStateMachineProps) {
    super(scope, id);
    if (!Number.isInteger(props.mapMaxConcurrency) || props.mapMaxConcurrency < 1) {
      throw new Error(`mapMaxConcurrency must be a positive integer, got ${props.mapMaxConcurrency}`);
    }
    const S = INGEST_STATES;
    const P = INGEST_PATHS;
    // A little above the function's own timeout, so the function reports first.
    const lambdaTimeout = sfn.Timeout.duration(props.functionTimeout.plus(Duration.seconds(30)));
    /**
     * `payload` undefined passes the state's input as the event; `resultPath`
     * undefined makes the result the state's output (the ASL default, written
     * by omission: aws-local-stepfunctions 3.0 mishandles an explicit "$").
     * `discardOutput` makes the state's output `{}` (OutputPath null): a Map
     * child that returns nothing keeps the Map's gathered result small.
     */
    const invoke = (
      stateName: string,
      fn: lambda.IFunction,
      payload: Record<string, unknown> | undefined,
      resultPath: string | undefined,
      discardOutput = false,
    ) => {
      const task = new tasks.LambdaInvoke(this, stateName, {
        stateName,
        lambdaFunction: fn,
        // The function ARN as Resource and the payload as the event: what a local runner overrides.
        payloadResponseOnly: true,
        ...(payload === undefined ? {} : { payload: sfn.TaskInput.fromObject(payload) }),
        ...(resultPath === undefined ? {} : { resultPath }),
        ...(discardOutput ? { outputPath: sfn.JsonPath.DISCARD } : {}),
        retryOnServiceExceptions: false,
        taskTimeout: lambdaTimeout,
      });
      task.addRetry({
        errors: TRANSIENT_LAMBDA_ERRORS,
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 6,
        maxDelay: Duration.seconds(60),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };
    const glueRun = (
      stateName: string,
      job: glue.CfnJob,
      withRunId = true,
      extraArguments: Record<string, string> = {},
    ) => {
      const task = new tasks.GlueStartJobRun(this, stateName, {
        stateName,
        glueJobName: job.ref,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        ...(withRunId
          ? {
              arguments: sfn.TaskInput.fromObject({
                [`--${JOB_ARGUMENT.runId}`]: sfn.JsonPath.stringAt(P.runId),
                ...extraArguments,
              }),
            }
          : {}),
        resultPath: sfn.JsonPath.DISCARD,
        taskTimeout: sfn.Timeout.duration(props.glueTimeout.plus(Duration.minutes(5))),
      });
      task.addRetry({
        errors: TRANSIENT_GLUE_ERRORS,
        interval: Duration.seconds(30),
        backoffRate: 2,
        maxAttempts: 4,
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };

    const runFailed = new sfn.Fail(this, S.runFailed, {
      stateName: S.runFailed,
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    const releaseLease = invoke(
      S.releaseLease,
      props.commitFunction,
      { runId: sfn.JsonPath.stringAt(P.runId), action: COMMIT_ACTION.release },
      '$.release',
    );
    // Failing to release must not hide the run's own error: the lease then simply expires.
    releaseLease.addCatch(runFailed, { resultPath: '$.releaseError' });
    releaseLease.next(runFailed);
    const onError = { errors: ['States.ALL'], resultPath: '$.error' };

    const validate = invoke(
      S.validate,
      props.validateFunction,
      { input: sfn.JsonPath.entirePayload, runId: sfn.JsonPath.executionName },
      undefined,
    );
    // No lease is held yet: a refused input fails at once, with the validator's message as the cause.
    validate.addCatch(
      new sfn.Fail(this, S.inputRejected, {
        stateName: S.inputRejected,
        errorPath: '$.error.Error',
        causePath: '$.error.Cause',
      }),
      onError,
    );

    const plan = invoke(
      S.plan,
      props.planFunction,
      { runId: sfn.JsonPath.stringAt(P.runId), request: sfn.JsonPath.objectAt(P.request) },
      P.plan,
    );
    plan.addCatch(releaseLease, onError);

    /** A Map over chunks passed between states, each extracted (or listed) by the extract function. */
    const extractMap = (stateName: string, itemsPath: string, childName: string) => {
      const map = new sfn.Map(this, stateName, {
        stateName,
        itemsPath,
        maxConcurrency: props.mapMaxConcurrency,
        resultPath: sfn.JsonPath.DISCARD,
      }).itemProcessor(invoke(childName, props.extractFunction, undefined, sfn.JsonPath.DISCARD, true));
      map.addCatch(releaseLease, onError);
      return map;
    };
    const extractInline = extractMap(S.extractInline, P.planChunks, S.extractChunk);

    // Chunk lists over Step Functions' payload limit are read from S3 by a distributed Map.
    const extractFromList = new sfn.DistributedMap(this, S.extractFromList, {
      stateName: S.extractFromList,
      itemReader: new RunFileJsonItemReader({
        bucket: props.bucket,
        key: sfn.JsonPath.stringAt(P.planChunksKey),
        runFilesPrefix: props.runFilesPrefix,
      }),
      maxConcurrency: props.mapMaxConcurrency,
      resultPath: sfn.JsonPath.DISCARD,
    }).itemProcessor(
      // Each child returns {}: Step Functions gathers every child's output even when the Map discards the
      // result, and children echoing their chunk items would exceed the 256 KiB limit (States.DataLimitExceeded).
      invoke(S.extractListedChunk, props.extractFunction, undefined, sfn.JsonPath.DISCARD, true),
    );
    extractFromList.addCatch(releaseLease, onError);

    const rawAppend = glueRun(S.rawAppend, props.rawAppendJob);
    rawAppend.addCatch(releaseLease, onError);
    const curate = glueRun(S.curate, props.curateJob);
    curate.addCatch(releaseLease, onError);
    // A run that read updates learns only from the raw append whether the source lost documents.
    const checkDeletes = invoke(
      S.checkDeletes,
      props.planFunction,
      { runId: sfn.JsonPath.stringAt(P.runId), action: PLAN_ACTION.checkDeletes },
      P.deleteCheck,
    );
    checkDeletes.addCatch(releaseLease, onError);
    const listKeys = extractMap(S.listKeys, P.deleteCheckChunks, S.listKeysChunk);
    // The same job again: the run's rows are in raw, so it only reconciles the listings.
    const reconcileDeletes = glueRun(S.reconcileDeletes, props.rawAppendJob);
    reconcileDeletes.addCatch(releaseLease, onError);
    const commit = invoke(
      S.commit,
      props.commitFunction,
      { runId: sfn.JsonPath.stringAt(P.runId) },
      P.summary,
    );
    commit.addCatch(releaseLease, onError);
    // Under the run lease, at the snapshots the run's curate just committed; a refused close fails the run.
    const closePeriod = glueRun(S.closePeriod, props.closePeriodJob, true, {
      [`--${JOB_ARGUMENT.closePeriod}`]: sfn.JsonPath.stringAt(P.requestClosePeriod),
      // Glue arguments are strings: the boolean as 'true' or 'false'.
      [`--${JOB_ARGUMENT.reopen}`]: sfn.JsonPath.format('{}', sfn.JsonPath.stringAt(P.requestReopen)),
    });
    closePeriod.addCatch(releaseLease, onError);
    curate.next(
      new sfn.Choice(this, S.closePeriodChoice, { stateName: S.closePeriodChoice })
        .when(sfn.Condition.isString(P.requestClosePeriod), closePeriod.next(commit))
        .otherwise(commit),
    );
    const afterExtract = rawAppend
      .next(checkDeletes)
      .next(
        new sfn.Choice(this, S.listKeysChoice, { stateName: S.listKeysChoice })
          .when(
            sfn.Condition.booleanEquals(P.deleteCheckListKeys, true),
            listKeys.next(reconcileDeletes).next(curate),
          )
          .otherwise(curate),
      );

    const maintain = glueRun(S.maintain, props.maintenanceJob, false);
    maintain.addCatch(releaseLease, onError);
    const releaseAfterMaintenance = invoke(
      S.releaseAfterMaintenance,
      props.commitFunction,
      { runId: sfn.JsonPath.stringAt(P.runId), action: COMMIT_ACTION.release },
      '$.release',
    );
    const maintained = new sfn.Succeed(this, S.maintained, { stateName: S.maintained });
    // The job has finished: a failed release only leaves the lease to expire.
    releaseAfterMaintenance.addCatch(maintained, { resultPath: '$.releaseError' });
    maintain.next(releaseAfterMaintenance).next(maintained);

    const definition = validate.next(plan).next(
      new sfn.Choice(this, S.alreadyRunning, { stateName: S.alreadyRunning })
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEquals(P.planStatus, PLAN_STATUS.alreadyRunning),
            sfn.Condition.booleanEquals(P.requestMaintenance, true),
          ),
          // Bounded: an ingest run gives the lease back when it ends, or its lease expires.
          new sfn.Wait(this, S.waitForLease, {
            stateName: S.waitForLease,
            time: sfn.WaitTime.duration(MAINTENANCE_LEASE_WAIT),
          }).next(plan),
        )
        .when(sfn.Condition.stringEquals(P.planStatus, PLAN_STATUS.maintenance), maintain)
        .when(
          sfn.Condition.stringEquals(P.planStatus, PLAN_STATUS.alreadyRunning),
          new sfn.Succeed(this, S.anotherRunActive, {
            stateName: S.anotherRunActive,
            comment: 'Another execution holds the run lease; this one exits without doing anything.',
          }),
        )
        .when(
          sfn.Condition.stringEquals(P.planStatus, PLAN_STATUS.alreadyCommitted),
          new sfn.Succeed(this, S.alreadyCommitted, {
            stateName: S.alreadyCommitted,
            comment: 'This run id committed before (a replay or a redrive of a finished run): nothing to do.',
          }),
        )
        .otherwise(
          new sfn.Choice(this, S.chunksInline, { stateName: S.chunksInline })
            .when(sfn.Condition.isPresent(P.planChunks), extractInline)
            .otherwise(extractFromList)
            .afterwards()
            .next(afterExtract),
        ),
    );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment: 'ledgerlake ingest run: plan → extract → raw append → curate → commit',
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    // The distributed Map reads the chunk list, which SSE-KMS encrypts.
    props.key.grantDecrypt(this.stateMachine);
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${Stack.of(this).getLogicalId(this.stateMachine.node.defaultChild as CfnElement)}"}]}]}`;
    acknowledge(this.stateMachine, {
      'AwsSolutions-IAM5[Resource::*]':
        'CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray tracing do not support resource-level permissions.',
      ...Object.fromEntries(
        [props.validateFunction, props.planFunction, props.extractFunction, props.commitFunction].map(
          (fn) => [
            `AwsSolutions-IAM5[Resource::${nagRef(fn)}:*]`,
            'CDK Lambda task grant: the function and its versions/aliases (ARN:*), nothing else.',
          ],
        ),
      ),
      [`AwsSolutions-IAM5[Resource::${nagText(this, props.bucket.bucketArn)}/${props.runFilesPrefix}*]`]:
        'The distributed Map reads the chunk list at the key Plan returns (staging/<app>/_runs/run=<id>/chunks.json), made per run; s3:GetObject under the run files prefix only.',
      [`AwsSolutions-IAM5[Resource::${executions}:*]`]:
        'CDK distributed Map grant: its child executions are named by Step Functions at run time.',
      [`AwsSolutions-IAM5[Resource::${executions}/*:*]`]:
        'CDK distributed Map grant: its child executions are named by Step Functions at run time.',
    });
  }
}

interface RunFileJsonItemReaderProps extends sfn.S3FileItemReaderProps {
  readonly bucket: s3.IBucket;
  readonly runFilesPrefix: string;
}

/**
 * CDK's S3JsonItemReader, with the state machine's read access narrowed from
 * the whole bucket (CDK grants `bucket/*`) to the run files prefix.
 */
class RunFileJsonItemReader extends sfn.S3JsonItemReader {
  private readonly objects: string;

  constructor(props: RunFileJsonItemReaderProps) {
    super(props);
    this.objects = props.bucket.arnForObjects(`${props.runFilesPrefix}*`);
  }

  override providePolicyStatements(): iam.PolicyStatement[] {
    return [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.objects] })];
  }
}
