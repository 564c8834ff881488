/**
 * The contracts the deployed pipeline and the local runner share: the CDK
 * constructs, the Lambda functions, the Glue script generator and the local
 * runner import them from here so each is written once. Pure data and
 * checks only: it is bundled into the functions and read by the generator,
 * so it imports nothing from aws-cdk-lib, the AWS SDK or mongodb.
 */
export { ENV } from './environment.ts';
export {
  CURATE_TABLE_SUMMARY_KEY,
  DELETES_SUMMARY_KEY,
  GLUE_ICEBERG_CATALOG,
  GLUE_SCRIPTS_DIR,
  type GlueJobName,
  JOB_ARGUMENT,
  JOB_ARGUMENT_PATTERN,
  type JobArgumentName,
  RUN_ID_SUMMARY_KEY,
} from './glue-job.ts';
export {
  COMMIT_ACTION,
  type CommitAction,
  INGEST_PATHS,
  INGEST_STATES,
  PLAN_ACTION,
  PLAN_STATUS,
  type PlanAction,
  type PlanStatus,
} from './ingest-states.ts';
export {
  assertClosePeriod,
  CLOSE_PERIOD_PATTERN,
  CLOSE_TAG_PREFIX,
  closeTag,
  PeriodCloseRefused,
} from './period-close.ts';
export { assertRunId, RUN_ID_PATTERN, RUN_ID_RULE } from './run-id.ts';
export { stagingLayout } from './staging-layout.ts';
export { WAREHOUSE_PREFIXES, WAREHOUSE_ROOTS } from './warehouse-layout.ts';
