import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { RUN_METRICS } from '../../../lambdas/commit/run-metrics.ts';
import { TRANSIENT_LAMBDA_ERRORS } from '../../../lib/constructs/ingest-state-machine.ts';
import { ENV, INGEST_STATES } from '../../../lib/contracts/index.ts';
import { type AslState, ingestDefinition } from '../../../lib/stacks/ingest-definition.ts';
import { resourceCounts, synthesize } from './stacks-fixture.ts';

describe('pipeline stack', () => {
  const { pipeline, config } = synthesize();
  const definition = ingestDefinition(pipeline.toJSON() as never);
  const state = (name: string): AslState => {
    const found = definition.States[name];
    assert.ok(found, `no state ${name}`);
    return found;
  };

  it('creates four functions, four Glue jobs, the state machine, two schedules and six alarms', () => {
    const counts = resourceCounts(pipeline);
    assert.equal(counts['AWS::Lambda::Function'], 4);
    assert.equal(counts['AWS::Glue::Job'], 4);
    assert.equal(counts['AWS::Glue::SecurityConfiguration'], 1);
    assert.equal(counts['AWS::StepFunctions::StateMachine'], 1);
    assert.equal(counts['AWS::Scheduler::Schedule'], 2);
    assert.equal(counts['AWS::CloudWatch::Alarm'], 6);
    assert.equal(counts['AWS::CloudWatch::Dashboard'], 1);
    assert.equal(counts['AWS::SNS::Topic'], 1);
  });

  it('runs the functions on arm64 Node 22 with tracing, explicit log groups and names-only environments', () => {
    const functions = Object.values(pipeline.findResources('AWS::Lambda::Function'));
    for (const fn of functions) {
      const p = fn.Properties;
      assert.equal(p.Runtime, 'nodejs22.x');
      assert.deepEqual(p.Architectures, ['arm64']);
      assert.deepEqual(p.TracingConfig, { Mode: 'Active' });
      assert.ok(p.LoggingConfig?.LogGroup, 'explicit log group');
      const names = Object.keys(p.Environment.Variables).filter((k) => k !== 'NODE_OPTIONS');
      for (const name of names)
        assert.ok(Object.values<string>(ENV).includes(name), `unexpected variable ${name}`);
      // The configuration is there; a connection string never is.
      assert.doesNotMatch(JSON.stringify(p.Environment), /mongodb(\+srv)?:\/\//);
    }
    const pipelineFunctions = functions.filter((f) => f.Properties.Environment.Variables[ENV.mongoSecretId]);
    assert.equal(pipelineFunctions.length, 3, 'plan, extract and commit get the secret id (not its value)');
    pipeline.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: config.aws.logRetentionDays });
  });

  it('runs Glue 4.0 jobs with Iceberg on the Glue catalog, encrypted by the security configuration', () => {
    pipeline.hasResourceProperties('AWS::Glue::SecurityConfiguration', {
      EncryptionConfiguration: {
        S3Encryptions: [{ S3EncryptionMode: 'SSE-KMS', KmsKeyArn: Match.anyValue() }],
        CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS', KmsKeyArn: Match.anyValue() },
        JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS', KmsKeyArn: Match.anyValue() },
      },
    });
    const jobs = Object.values(pipeline.findResources('AWS::Glue::Job')).map((j) => j.Properties);
    const scripts = jobs.map((j) => JSON.stringify(j.Command.ScriptLocation));
    assert.equal(scripts.length, 4);
    for (const job of jobs) {
      assert.equal(job.GlueVersion, '4.0');
      assert.equal(job.WorkerType, 'G.1X');
      assert.equal(job.NumberOfWorkers, 2);
      assert.ok(job.SecurityConfiguration.Ref, 'job uses the security configuration');
      const args = job.DefaultArguments;
      assert.equal(args['--datalake-formats'], 'iceberg');
      const conf = JSON.stringify(args['--conf']);
      for (const expected of [
        'spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog',
        'catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog',
        'io-impl=org.apache.iceberg.aws.s3.S3FileIO',
        'glue.skip-archive=true',
        'spark.sql.defaultCatalog=glue_catalog',
        'spark.sql.catalog.glue_catalog.warehouse=s3://',
      ]) {
        assert.ok(conf.includes(expected), `--conf lacks ${expected}`);
      }
      assert.equal(args['--raw_namespace'], 'fq_app_raw');
    }
    const rawAppend = jobs.find((j) => j.DefaultArguments['--staging_root'] !== undefined);
    assert.ok(rawAppend, 'the raw append job knows where staging is');
  });

  it('lets the Glue jobs write their reports into the run folders and the live key counts, and nowhere else in staging', () => {
    const policies = Object.values(pipeline.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('GlueJobsRole'))
      .flatMap(
        (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
    const stagingResources = (action: string) =>
      policies
        .filter((s) => [s.Action].flat().includes(action))
        .filter((s) => JSON.stringify(s.Resource).includes('/staging/'))
        .map((s) => JSON.stringify(s.Resource).match(/staging\/[^"]*/)?.[0])
        .sort();
    assert.deepEqual(stagingResources('s3:PutObject'), [
      'staging/fq_app/_live-keys/*',
      'staging/fq_app/_runs/*',
    ]);
    assert.deepEqual(stagingResources('s3:DeleteObject*'), ['staging/fq_app/_live-keys/*']);
  });

  it('logs every event of the state machine and traces it', () => {
    pipeline.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('validates input first and fails there without touching the lease', () => {
    assert.equal(definition.StartAt, INGEST_STATES.validate);
    const validate = state(INGEST_STATES.validate);
    assert.deepEqual(validate.Parameters, { 'input.$': '$', 'runId.$': '$$.Execution.Name' });
    assert.deepEqual(validate.Catch, [
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'InputRejected' },
    ]);
    assert.deepEqual(state(INGEST_STATES.inputRejected), {
      Type: 'Fail',
      ErrorPath: '$.error.Error',
      CausePath: '$.error.Cause',
    });
  });

  it('Map children return nothing, so the gathered result of a thousand chunks stays far below 256 KiB', () => {
    for (const [map, child] of [
      [INGEST_STATES.extractInline, INGEST_STATES.extractChunk],
      [INGEST_STATES.extractFromList, INGEST_STATES.extractListedChunk],
    ] as const) {
      const processor = state(map).ItemProcessor as { States: Record<string, Record<string, unknown>> };
      const task = processor.States[child];
      assert.ok(task !== undefined && 'OutputPath' in task, `${child} sets OutputPath`);
      assert.equal(task.OutputPath, null, `${child} outputs {}`);
      assert.equal(state(map).ResultPath, null, `${map} discards the gathered result`);
    }
  });

  it('plans, exits cleanly when another run holds the lease or the run committed before, then extracts, appends, curates and commits', () => {
    assert.equal(state(INGEST_STATES.validate).Next, INGEST_STATES.plan);
    assert.equal(state(INGEST_STATES.plan).Next, INGEST_STATES.alreadyRunning);
    const already = state(INGEST_STATES.alreadyRunning) as unknown as { Choices: unknown[]; Default: string };
    assert.deepEqual(already.Choices, [
      {
        And: [
          { Variable: '$.plan.status', StringEquals: 'ALREADY_RUNNING' },
          { Variable: '$.request.maintenance', BooleanEquals: true },
        ],
        Next: INGEST_STATES.waitForLease,
      },
      { Variable: '$.plan.status', StringEquals: 'MAINTENANCE', Next: INGEST_STATES.maintain },
      { Variable: '$.plan.status', StringEquals: 'ALREADY_RUNNING', Next: INGEST_STATES.anotherRunActive },
      { Variable: '$.plan.status', StringEquals: 'ALREADY_COMMITTED', Next: 'RunAlreadyCommitted' },
    ]);
    assert.equal(state(INGEST_STATES.anotherRunActive).Type, 'Succeed');
    assert.equal(state('RunAlreadyCommitted').Type, 'Succeed');
    const inline = state(INGEST_STATES.chunksInline) as unknown as { Choices: unknown[]; Default: string };
    assert.deepEqual(inline.Choices, [
      { Variable: '$.plan.chunks', IsPresent: true, Next: INGEST_STATES.extractInline },
    ]);
    assert.equal(inline.Default, INGEST_STATES.extractFromList);
    for (const map of [INGEST_STATES.extractInline, INGEST_STATES.extractFromList]) {
      assert.equal(state(map).MaxConcurrency, config.aws.mapMaxConcurrency);
      assert.equal(state(map).Next, INGEST_STATES.rawAppend);
    }
    assert.equal(state(INGEST_STATES.extractInline).ItemsPath, '$.plan.chunks');
    const reader = state(INGEST_STATES.extractFromList).ItemReader as {
      Resource: string;
      Parameters: unknown;
    };
    assert.equal(reader.Resource, 'arn:aws:states:::s3:getObject');
    assert.deepEqual(reader.Parameters, {
      Bucket: 'ledgerlake-fq-app-dev-data-WarehouseBucketName',
      'Key.$': '$.plan.chunksKey',
    });
    for (const glue of [INGEST_STATES.rawAppend, INGEST_STATES.reconcileDeletes, INGEST_STATES.curate]) {
      const task = state(glue);
      assert.equal(task.Resource, 'arn:aws:states:::glue:startJobRun.sync');
      assert.deepEqual((task.Parameters as { Arguments: unknown }).Arguments, { '--run_id.$': '$.runId' });
    }
    // After the raw append, the plan function decides whether the run lists keys; then the same job reconciles them.
    assert.equal(state(INGEST_STATES.rawAppend).Next, INGEST_STATES.checkDeletes);
    const check = state(INGEST_STATES.checkDeletes);
    assert.equal(check.Resource, state(INGEST_STATES.plan).Resource, 'the plan function checks');
    assert.deepEqual(check.Parameters, { 'runId.$': '$.runId', action: 'check-deletes' });
    assert.equal(check.ResultPath, '$.deleteCheck');
    assert.equal(check.Next, INGEST_STATES.listKeysChoice);
    assert.deepEqual(state(INGEST_STATES.listKeysChoice).Choices, [
      { Variable: '$.deleteCheck.listKeys', BooleanEquals: true, Next: INGEST_STATES.listKeys },
    ]);
    assert.equal(state(INGEST_STATES.listKeysChoice).Default, INGEST_STATES.curate);
    const listKeys = state(INGEST_STATES.listKeys);
    assert.equal(listKeys.ItemsPath, '$.deleteCheck.chunks');
    assert.equal(listKeys.MaxConcurrency, config.aws.mapMaxConcurrency);
    const child = (map: string, name: string) =>
      (state(map).ItemProcessor as { States: Record<string, AslState> }).States[name];
    assert.equal(
      child(INGEST_STATES.listKeys, INGEST_STATES.listKeysChunk)?.Resource,
      child(INGEST_STATES.extractInline, INGEST_STATES.extractChunk)?.Resource,
      'the extract function lists the keys',
    );
    assert.equal(listKeys.Next, INGEST_STATES.reconcileDeletes);
    const rawAppendJob = (state(INGEST_STATES.rawAppend).Parameters as { JobName: unknown }).JobName;
    assert.deepEqual(
      (state(INGEST_STATES.reconcileDeletes).Parameters as { JobName: unknown }).JobName,
      rawAppendJob,
    );
    assert.equal(state(INGEST_STATES.reconcileDeletes).Next, INGEST_STATES.curate);
    assert.equal(state(INGEST_STATES.curate).Next, INGEST_STATES.closePeriodChoice);
    // A month to close: the close job runs between Curate and Commit, under the run lease.
    assert.deepEqual(state(INGEST_STATES.closePeriodChoice).Choices, [
      { Variable: '$.request.closePeriod', IsString: true, Next: INGEST_STATES.closePeriod },
    ]);
    assert.equal(state(INGEST_STATES.closePeriodChoice).Default, INGEST_STATES.commit);
    const close = state(INGEST_STATES.closePeriod);
    assert.equal(close.Resource, 'arn:aws:states:::glue:startJobRun.sync');
    assert.deepEqual((close.Parameters as { Arguments: unknown }).Arguments, {
      '--run_id.$': '$.runId',
      '--close_period.$': '$.request.closePeriod',
      '--reopen.$': "States.Format('{}', $.request.reopen)",
    });
    assert.equal(close.Next, INGEST_STATES.commit);
    assert.equal(state(INGEST_STATES.commit).End, true);
  });

  it('retries transient Lambda errors with backoff in every function task, including inside the Maps', () => {
    const tasks: AslState[] = [];
    const collect = (states: Readonly<Record<string, AslState>>) => {
      for (const s of Object.values(states)) {
        if (s.Type === 'Task' && typeof s.Resource === 'string' && s.Resource.includes(':function:'))
          tasks.push(s);
        const processor = s.ItemProcessor as { States: Record<string, AslState> } | undefined;
        if (processor) collect(processor.States);
      }
    };
    collect(definition.States);
    assert.equal(
      tasks.length,
      9,
      'validate, plan, two extracts, check deletes, list keys, commit, release, release after maintenance',
    );
    for (const task of tasks) {
      const retry = (task.Retry as Array<Record<string, unknown>>)[0];
      assert.deepEqual(retry?.ErrorEquals, TRANSIENT_LAMBDA_ERRORS);
      assert.equal(retry?.BackoffRate, 2);
      assert.ok(
        typeof task.TimeoutSeconds === 'number',
        'every task has a timeout (local runners default to 60 s)',
      );
    }
  });

  it('routes every failure after validation to the lease release, then fails with the original error', () => {
    for (const name of [
      INGEST_STATES.plan,
      INGEST_STATES.extractInline,
      INGEST_STATES.extractFromList,
      INGEST_STATES.rawAppend,
      INGEST_STATES.checkDeletes,
      INGEST_STATES.listKeys,
      INGEST_STATES.reconcileDeletes,
      INGEST_STATES.curate,
      INGEST_STATES.commit,
    ]) {
      assert.deepEqual(state(name).Catch, [
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: INGEST_STATES.releaseLease },
      ]);
    }
    const release = state(INGEST_STATES.releaseLease);
    assert.deepEqual(release.Parameters, { 'runId.$': '$.runId', action: 'release' });
    assert.equal(release.Next, INGEST_STATES.runFailed);
    assert.deepEqual(release.Catch, [
      { ErrorEquals: ['States.ALL'], ResultPath: '$.releaseError', Next: INGEST_STATES.runFailed },
    ]);
    assert.deepEqual(state(INGEST_STATES.runFailed), {
      Type: 'Fail',
      ErrorPath: '$.error.Error',
      CausePath: '$.error.Cause',
    });
  });

  it('schedules ingestion with {} and maintenance with {"maintenance": true}, both through the state machine, with a role that may only start it', () => {
    const schedules = Object.values(pipeline.findResources('AWS::Scheduler::Schedule')).map(
      (s) => s.Properties,
    );
    const ingest = schedules.find((s) => s.ScheduleExpression === 'rate(1 hour)');
    const maintenance = schedules.find((s) => s.ScheduleExpression === 'cron(0 3 * * ? *)');
    assert.equal(ingest?.Target.Input, '{}');
    assert.equal(ingest?.ScheduleExpressionTimezone, 'UTC');
    assert.equal(maintenance?.Target.Input, '{"maintenance":true}');
    for (const schedule of [ingest, maintenance]) {
      assert.ok(JSON.stringify(schedule?.Target.Arn).includes('IngestStateMachine'));
    }
    assert.deepEqual(ingest?.Target.RoleArn, maintenance?.Target.RoleArn, 'one role per target');
    assert.ok(ingest && maintenance);
    const roleId = (ingest.Target.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = Object.values(pipeline.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    assert.deepEqual(
      statements.map((s) => s.Action),
      ['states:StartExecution', 'kms:Decrypt'],
      'start the state machine; decrypt the schedules, which the data key encrypts',
    );
    assert.ok(JSON.stringify(statements[0].Resource).includes('IngestStateMachine'));
    assert.ok(JSON.stringify(statements[1].Resource).includes('DataKey'));
    assert.doesNotMatch(
      JSON.stringify(schedules),
      /glue:startJobRun/i,
      'no schedule starts a Glue job outside the lease',
    );
  });

  it('maintenance takes the lease through Plan, waits while a run holds it, and gives it back', () => {
    const choice = state(INGEST_STATES.alreadyRunning) as unknown as { Choices: { Next: string }[] };
    assert.equal(choice.Choices[0]?.Next, INGEST_STATES.waitForLease);
    assert.deepEqual(state(INGEST_STATES.waitForLease), {
      Type: 'Wait',
      Seconds: 300,
      Next: INGEST_STATES.plan,
    });
    assert.equal(choice.Choices[1]?.Next, INGEST_STATES.maintain);
    const maintain = state(INGEST_STATES.maintain);
    assert.equal(maintain.Resource, 'arn:aws:states:::glue:startJobRun.sync');
    assert.equal(maintain.Next, INGEST_STATES.releaseAfterMaintenance);
    assert.equal((maintain.Catch as { Next: string }[])[0]?.Next, INGEST_STATES.releaseLease);
    assert.equal(state(INGEST_STATES.releaseAfterMaintenance).Next, INGEST_STATES.maintained);
  });

  it('alarms on failures, function errors and stale data to an encrypted TLS-only topic', () => {
    pipeline.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    pipeline.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const alarms = Object.values(pipeline.findResources('AWS::CloudWatch::Alarm')).map((a) =>
      JSON.stringify(a),
    );
    for (const metric of ['"ExecutionsFailed"', '"ExecutionsTimedOut"', '"Errors"', '"RunsCommitted"']) {
      const alarm = alarms.find((a) => a.includes(metric));
      assert.ok(alarm, `no alarm on ${metric}`);
      assert.ok(
        alarm.includes('"AlarmActions":[{"Ref":"AlarmsTopic'),
        `alarm on ${metric} does not notify the topic`,
      );
    }
    pipeline.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('calls the lakehouse stale when no run has committed, whatever executions succeeded without committing', () => {
    const alarms = Object.values(pipeline.findResources('AWS::CloudWatch::Alarm'));
    assert.ok(
      !alarms.some((a) => JSON.stringify(a).includes('"ExecutionsSucceeded"')),
      'an execution that found the lease taken (AnotherRunHoldsTheLease) succeeds without committing',
    );
    const stale = alarms.find((a) => JSON.stringify(a).includes('"RunsCommitted"'));
    assert.ok(stale, 'no alarm on RunsCommitted');
    const stat = stale.Properties.Metrics[0].MetricStat;
    assert.deepEqual(
      {
        namespace: stat.Metric.Namespace,
        dimensions: stat.Metric.Dimensions,
        stat: stat.Stat,
        period: stat.Period,
        threshold: stale.Properties.Threshold,
        comparison: stale.Properties.ComparisonOperator,
        periods: stale.Properties.EvaluationPeriods,
        missing: stale.Properties.TreatMissingData,
      },
      {
        namespace: RUN_METRICS.namespace,
        dimensions: [{ Name: RUN_METRICS.appDimension, Value: 'fq_app' }],
        stat: 'Sum',
        period: 3600,
        threshold: 1,
        comparison: 'LessThanThreshold',
        periods: config.aws.alarms.freshnessHours,
        missing: 'breaching',
      },
    );
  });

  it('notifies once per failed Glue job run: the execution fails and only the failed-executions alarm reports it', () => {
    const jobs = Object.keys(pipeline.findResources('AWS::Glue::Job'));
    assert.equal(jobs.length, 4);
    for (const job of jobs) {
      const tasks = Object.values(definition.States).filter(
        (s) => s.Type === 'Task' && (s.Parameters as { JobName?: unknown } | undefined)?.JobName === job,
      );
      // The raw append job also reconciles the key listings CheckDeletes asks for.
      assert.ok(tasks.length >= 1, `${job} is run by the state machine`);
      for (const task of tasks) {
        assert.equal(
          task.Resource,
          'arn:aws:states:::glue:startJobRun.sync',
          'the task fails with the job run',
        );
        // Caught into the lease release, which ends in RunFailed: an ExecutionsFailed data point.
        assert.deepEqual(task.Catch, [
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: INGEST_STATES.releaseLease },
        ]);
      }
    }
    assert.equal(
      Object.values(definition.States).filter(
        (s) => s.Type === 'Task' && s.Resource?.toString().includes('glue'),
      ).length,
      5,
      'raw append, reconcile deletes, curate, close period, maintain',
    );
    const alarms = pipeline.findResources('AWS::CloudWatch::Alarm');
    const failedAlarm = Object.values(alarms).find((a) => JSON.stringify(a).includes('"ExecutionsFailed"'));
    assert.match(JSON.stringify(failedAlarm?.Properties.AlarmActions), /"Ref":"AlarmsTopic/);
    // No second path for the same failure: no Glue state-change rule, no alarm on one.
    const glueRules = Object.values(pipeline.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify(r.Properties.EventPattern ?? {}).includes('aws.glue'),
    );
    assert.deepEqual(glueRules, []);
    assert.doesNotMatch(JSON.stringify(alarms), /TriggeredRules|AWS\/Glue|glue\.driver/);
  });

  it('alarms when the last run reports open unbalanced entries, on the metric Commit publishes', () => {
    const alarm = Object.values(pipeline.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      JSON.stringify(a).includes('"MetricName":"DataQualityIssues"'),
    );
    assert.ok(alarm, 'no alarm on DataQualityIssues');
    const stat = alarm.Properties.Metrics[0].MetricStat;
    assert.deepEqual(
      {
        namespace: stat.Metric.Namespace,
        dimensions: stat.Metric.Dimensions,
        stat: stat.Stat,
        threshold: alarm.Properties.Threshold,
        comparison: alarm.Properties.ComparisonOperator,
        missing: alarm.Properties.TreatMissingData,
      },
      {
        namespace: 'ledgerlake',
        dimensions: [
          { Name: 'app', Value: 'fq_app' },
          { Name: 'code', Value: 'unbalanced_entry' },
        ],
        stat: 'Maximum',
        threshold: 0,
        comparison: 'GreaterThanThreshold',
        missing: 'ignore',
      },
    );
    assert.match(JSON.stringify(alarm.Properties.AlarmActions), /"Ref":"AlarmsTopic/, 'on the same topic');
  });

  it('subscribes the alarm email and places functions in the VPC when configured', () => {
    const { pipeline: custom } = synthesize({
      aws: {
        alarms: { email: 'ops@example.com', freshnessHours: 2 },
        network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] },
        glue: { workerType: 'G.2X', numberOfWorkers: 5, timeoutMinutes: 30 },
      },
    });
    custom.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    custom.allResourcesProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: ['subnet-0123456789abcdef0'], SecurityGroupIds: Match.anyValue() },
    });
    custom.allResourcesProperties('AWS::Glue::Job', { WorkerType: 'G.2X', NumberOfWorkers: 5, Timeout: 30 });
  });

  it('gives the extract function a whole vCPU (1,769 MiB by default), the others their configured memory', () => {
    const memory = (stack: typeof pipeline) =>
      Object.entries(stack.findResources('AWS::Lambda::Function'))
        .map(
          ([id, f]) =>
            `${/Functions(Validate|Plan|Extract|Commit)/.exec(id)?.[1]}=${f.Properties.MemorySize}`,
        )
        .sort();
    assert.deepEqual(memory(pipeline), ['Commit=1024', 'Extract=1769', 'Plan=1024', 'Validate=256']);
    const { pipeline: custom } = synthesize({
      aws: { functions: { memoryMiB: 512, extractMemoryMiB: 3538, timeoutSeconds: 600 } },
    });
    assert.deepEqual(memory(custom), ['Commit=512', 'Extract=3538', 'Plan=512', 'Validate=256']);
  });

  it('runs every function with source maps enabled, since the bundles ship them', () => {
    pipeline.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
    });
  });

  it('lets every function role create the ENIs of its VPC placement (CreateFunction fails without)', () => {
    const { pipeline: custom } = synthesize({
      aws: { network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] } },
    });
    const resources = custom.toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }
    >;
    const eniActions = [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DeleteNetworkInterface',
    ];
    const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    assert.ok(functions.length >= 4);
    for (const fn of functions) {
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      // Either the AWS managed policy on the role, or an inline policy with the ENI actions that the
      // function waits for: CreateFunction checks the permissions when it is called.
      const managed = JSON.stringify(resources[roleId]?.Properties.ManagedPolicyArns ?? []);
      const inline = Object.entries(resources).filter(
        ([id, r]) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties.Roles).includes(roleId) &&
          fn.DependsOn?.includes(id),
      );
      const inlineActions = inline.flatMap(([, r]) =>
        (r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap(
          (st) => [st.Action].flat(),
        ),
      );
      assert.ok(
        (/service-role\/AWSLambdaVPCAccessExecutionRole/.test(managed) && fn.DependsOn?.includes(roleId)) ||
          eniActions.every((action) => inlineActions.includes(action)),
        `${roleId} cannot create the function's ENIs`,
      );
    }
    const { pipeline: plain } = synthesize({});
    for (const [id, resource] of Object.entries(
      plain.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    )) {
      if (resource.Type === 'AWS::IAM::Role') {
        assert.doesNotMatch(
          JSON.stringify(resource.Properties.ManagedPolicyArns ?? []),
          /AWSLambdaVPCAccessExecutionRole/,
          id,
        );
      }
    }
  });
});
