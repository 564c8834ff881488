import { CLOSE_PERIOD_PATTERN } from './period-close.ts';
import { RUN_ID_PATTERN } from './run-id.ts';

/**
 * The contract between the generated Glue scripts (glue-scripts/) and whoever
 * starts them: the CDK Glue job construct (default arguments), the state
 * machine (per-run arguments), the local runner and docker/spark/run-job.sh.
 * Names are Glue job argument names without the leading `--`. Which job
 * takes which (and the defaults) is lib/glue/job-arguments.ts.
 */
export const JOB_ARGUMENT = {
  /** Pipeline run id: selects staged files and raw rows, and tags every commit (RUN_ID_SUMMARY_KEY). */
  runId: 'run_id',
  /** Comma-separated collections to append (raw append only). */
  collections: 'collections',
  /** URI under which `staging/<app>/...` lies, e.g. `s3://bucket`: staged rows, key listings, plans, job reports. */
  stagingRoot: 'staging_root',
  /** Iceberg namespace (Glue database) of the raw tables. */
  rawNamespace: 'raw_namespace',
  /** Iceberg namespace (Glue database) of the silver and gold tables. */
  curatedNamespace: 'curated_namespace',
  /**
   * URI under which new tables are placed at their model location
   * (`<root>/raw/<app>/<table>`). Empty: the catalog chooses, as the Hadoop
   * catalog must (it refuses custom locations).
   */
  tableLocationRoot: 'table_location_root',
  /** Spark catalog name used in `CALL <catalog>.system.*` (maintenance only). */
  catalog: 'catalog',
  /**
   * The instant snapshot ages are measured from when expiring, ISO 8601;
   * optional, not passed (or empty) means now (maintenance only). Orphan
   * removal always uses the current time: Iceberg refuses a cutoff less than
   * 24 hours before it.
   */
  expireAsOf: 'expire_as_of',
  /** The month a close_period run closes, `YYYY-MM` (close_period only). */
  closePeriod: 'close_period',
  /** `true` to close a month that is closed already, `false` otherwise (close_period only). */
  reopen: 'reopen',
} as const;

export type JobArgumentName = (typeof JOB_ARGUMENT)[keyof typeof JOB_ARGUMENT];

// One or more dot-separated identifiers: a Glue database, or a Hadoop catalog's nested namespace.
const NAMESPACE_PATTERN = '[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*';
const IDENTIFIER_PATTERN = '[A-Za-z_][A-Za-z0-9_]*';
// Placed inside a quoted SQL string (LOCATION '...'): no quote, backslash or space.
const LOCATION_ROOT_PATTERN = "[^'\\\\\\s]*";

/**
 * What the jobs require of an argument's value before they touch anything:
 * a regular expression (Python `re` syntax) the whole value must match.
 * Values spliced into SQL text all have one. The run id's is the rule the
 * functions apply (run-id.ts).
 */
export const JOB_ARGUMENT_PATTERN: Readonly<Partial<Record<JobArgumentName, string>>> = {
  [JOB_ARGUMENT.runId]: RUN_ID_PATTERN,
  [JOB_ARGUMENT.rawNamespace]: NAMESPACE_PATTERN,
  [JOB_ARGUMENT.curatedNamespace]: NAMESPACE_PATTERN,
  [JOB_ARGUMENT.tableLocationRoot]: LOCATION_ROOT_PATTERN,
  [JOB_ARGUMENT.catalog]: IDENTIFIER_PATTERN,
  [JOB_ARGUMENT.closePeriod]: CLOSE_PERIOD_PATTERN,
  [JOB_ARGUMENT.reopen]: 'true|false',
};

/** The jobs: each is a script under GLUE_SCRIPTS_DIR, a module of the ledgerlake_glue package and a CDK Glue job. */
export type GlueJobName = 'raw_append' | 'curate' | 'close_period' | 'maintenance';

/**
 * Folder (from the repository root) of the generated Glue entry points:
 * `npm run gen` writes it, the CDK Glue jobs upload each script from it and
 * the local runner's Spark engine runs them there.
 */
export const GLUE_SCRIPTS_DIR = 'glue-scripts';

/** The Spark catalog the Glue jobs register Iceberg as; also Spark's default catalog. */
export const GLUE_ICEBERG_CATALOG = 'glue_catalog';

// Snapshot summary keys of the jobs' commits: the Glue jobs and the local engine write them and read
// them back so a rerun commits nothing twice; the local query tools show which run wrote a snapshot.

/** The run id of every commit the jobs make. */
export const RUN_ID_SUMMARY_KEY = 'ledgerlake.run-id';
/** The curated table a curate commit was for (with the run id, a commit's identity). */
export const CURATE_TABLE_SUMMARY_KEY = 'ledgerlake.curate-table';
/** The tombstones a raw append added. */
export const DELETES_SUMMARY_KEY = 'ledgerlake.deletes';
