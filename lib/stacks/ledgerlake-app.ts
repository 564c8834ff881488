import { Annotations, App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { LedgerlakeConfig } from '../config/index.ts';
import { REPO_ROOT, staleGeneratedFilesWarning } from '../generate.ts';
import { AnalyticsStack } from './analytics-stack.ts';
import { DataStack } from './data-stack.ts';
import { PipelineStack } from './pipeline-stack.ts';

export interface LedgerlakeStacks {
  readonly data: DataStack;
  readonly pipeline: PipelineStack;
  readonly analytics: AnalyticsStack;
}

/** Feature flags the stacks rely on (set on the App, so tests and `cdk synth` agree). */
export const CDK_FEATURE_FLAGS = {
  // Access logs delivered under a bucket policy, so every bucket can enforce bucket-owner object ownership.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
} as const;

/** A CDK App with ledgerlake's feature flags; `props.context` (e.g. from tests) is added to them. */
export function createLedgerlakeApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...CDK_FEATURE_FLAGS, ...props.context } });
}

/** Stack names of one stage, e.g. `ledgerlake-dev-data`. */
export function stackNames(config: LedgerlakeConfig) {
  const base = `ledgerlake-${config.app.replaceAll('_', '-')}-${config.aws.stage}`;
  return { data: `${base}-data`, pipeline: `${base}-pipeline`, analytics: `${base}-analytics` };
}

/**
 * Adds the three stacks of one stage to `app` and the cdk-nag AwsSolutions
 * checks, so `cdk synth` fails on any unacknowledged finding. The stacks are
 * environment-agnostic: synthesis needs no AWS account or credentials, and
 * `cdk deploy` targets the account and region of the caller's credentials.
 */
export function addLedgerlakeStacks(
  app: App,
  config: LedgerlakeConfig,
  options: {
    /** Where the checked-in generated files (Glue scripts, schema history) are checked for staleness. @default the repository */
    readonly generatedRoot?: string;
  } = {},
): LedgerlakeStacks {
  const names = stackNames(config);
  const data = new DataStack(app, names.data, {
    config,
    description: `ledgerlake ${config.app} (${config.aws.stage}): key, buckets, catalog, secret, run state`,
  });
  const pipeline = new PipelineStack(app, names.pipeline, {
    config,
    description: `ledgerlake ${config.app} (${config.aws.stage}): functions, Glue jobs, state machine, schedules, alarms`,
    key: data.key,
    bucket: data.sharedBuckets.warehouse,
    rawDatabase: data.rawDatabase,
    curatedDatabase: data.curatedDatabase,
    atlasSecret: data.atlasSecret,
    runStateTable: data.runStateTable,
  });
  const analytics = new AnalyticsStack(app, names.analytics, {
    config,
    description: `ledgerlake ${config.app} (${config.aws.stage}): Athena workgroup, named queries, analyst policy`,
    key: data.key,
    bucket: data.sharedBuckets.warehouse,
    resultsBucket: data.sharedBuckets.queryResults,
    rawDatabase: data.rawDatabase,
    curatedDatabase: data.curatedDatabase,
  });
  // Shared buckets travel by named exports, which CDK does not count as dependencies.
  pipeline.addStackDependency(data);
  analytics.addStackDependency(data);
  for (const stack of [data, pipeline, analytics]) {
    Tags.of(stack).add('project', 'ledgerlake');
    Tags.of(stack).add('app', config.app);
    Tags.of(stack).add('stage', config.aws.stage);
  }
  // The Glue jobs deploy the checked-in scripts: say so when the model has moved on without them.
  const stale = staleGeneratedFilesWarning(options.generatedRoot ?? REPO_ROOT);
  if (stale !== undefined) Annotations.of(pipeline).addWarningV2('ledgerlake:generated-files-stale', stale);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { data, pipeline, analytics };
}
