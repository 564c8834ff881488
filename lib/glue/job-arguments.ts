import type { TableModel } from '../model/index.ts';

/**
 * The contract between the generated Glue scripts (glue-scripts/) and whoever
 * starts them: the CDK Glue job construct (default arguments), the state
 * machine (per-run arguments) and the local runner. Names are Glue job
 * argument names without the leading `--`.
 */
export const JOB_ARGUMENT = {
  /** Pipeline run id: selects staged files and raw rows, and tags every commit (`ledgerlake.run-id`). */
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
} as const;

export type JobArgumentName = (typeof JOB_ARGUMENT)[keyof typeof JOB_ARGUMENT];

// Same rule as lambdas/shared/staging-layout.ts assertRunId: run ids become paths and commit tags.
const RUN_ID_PATTERN = '[A-Za-z0-9_.:-]{1,80}';
// One or more dot-separated identifiers: a Glue database, or a Hadoop catalog's nested namespace.
const NAMESPACE_PATTERN = '[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*';
const IDENTIFIER_PATTERN = '[A-Za-z_][A-Za-z0-9_]*';
// Placed inside a quoted SQL string (LOCATION '...'): no quote, backslash or space.
const LOCATION_ROOT_PATTERN = "[^'\\\\\\s]*";

/**
 * What the jobs require of an argument's value before they touch anything:
 * a regular expression (Python `re` syntax) the whole value must match.
 * Values spliced into SQL text all have one.
 */
export const JOB_ARGUMENT_PATTERN: Readonly<Partial<Record<JobArgumentName, string>>> = {
  [JOB_ARGUMENT.runId]: RUN_ID_PATTERN,
  [JOB_ARGUMENT.rawNamespace]: NAMESPACE_PATTERN,
  [JOB_ARGUMENT.curatedNamespace]: NAMESPACE_PATTERN,
  [JOB_ARGUMENT.tableLocationRoot]: LOCATION_ROOT_PATTERN,
  [JOB_ARGUMENT.catalog]: IDENTIFIER_PATTERN,
};

/** The Spark catalog the Glue jobs register Iceberg as; also Spark's default catalog. */
export const GLUE_ICEBERG_CATALOG = 'glue_catalog';

/** The snapshot summary key that carries the run id of every commit the jobs make. */
export const RUN_ID_SUMMARY_KEY = 'ledgerlake.run-id';
/** The snapshot summary key naming the curated table a curate commit was for (with the run id, a commit's identity). */
export const CURATE_TABLE_SUMMARY_KEY = 'ledgerlake.curate-table';
/** The snapshot summary key counting the tombstones a raw append added. */
export const DELETES_SUMMARY_KEY = 'ledgerlake.deletes';

export type GlueJobName = 'raw_append' | 'curate' | 'maintenance';

export interface GlueJobArguments {
  /** Script file name under glue-scripts/. */
  readonly script: string;
  /** Arguments every start must pass (the state machine passes `run_id`). */
  readonly required: readonly JobArgumentName[];
  /** Arguments with a default; pass them to change it. An empty default means "not set". */
  readonly defaults: Readonly<Partial<Record<JobArgumentName, string>>>;
  /**
   * Arguments with no default that a start may pass. Glue's job definition
   * gets no default for them: Glue's getResolvedOptions cannot take a name
   * that was not passed, so the jobs read these from the command line.
   */
  readonly optional: readonly JobArgumentName[];
}

/** What each generated script accepts, with the defaults baked into it from the model. */
export function glueJobArguments(model: TableModel): Readonly<Record<GlueJobName, GlueJobArguments>> {
  const raw = { [JOB_ARGUMENT.rawNamespace]: model.databases.raw };
  const curated = { [JOB_ARGUMENT.curatedNamespace]: model.databases.curated };
  const location = { [JOB_ARGUMENT.tableLocationRoot]: '' };
  const collections = model.tables.flatMap((t) =>
    t.sourceCollection === undefined ? [] : [t.sourceCollection],
  );
  return {
    raw_append: {
      script: 'raw_append.py',
      required: [JOB_ARGUMENT.runId, JOB_ARGUMENT.stagingRoot],
      defaults: { [JOB_ARGUMENT.collections]: collections.join(','), ...raw, ...location },
      optional: [],
    },
    curate: {
      script: 'curate.py',
      required: [JOB_ARGUMENT.runId, JOB_ARGUMENT.stagingRoot],
      defaults: { ...raw, ...curated, ...location },
      optional: [],
    },
    maintenance: {
      script: 'maintenance.py',
      required: [],
      defaults: { ...raw, ...curated, [JOB_ARGUMENT.catalog]: GLUE_ICEBERG_CATALOG },
      optional: [JOB_ARGUMENT.expireAsOf],
    },
  };
}

/**
 * Spark settings that make Iceberg's Glue catalog (with S3FileIO) Spark's
 * default catalog, so the scripts' two-part names resolve in it.
 * `glue.skip-archive` keeps commits from piling up Glue table versions.
 */
export function glueIcebergSparkConf(warehouseUri: string): ReadonlyArray<readonly [string, string]> {
  const catalog = `spark.sql.catalog.${GLUE_ICEBERG_CATALOG}`;
  return [
    ['spark.sql.extensions', 'org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions'],
    [catalog, 'org.apache.iceberg.spark.SparkCatalog'],
    [`${catalog}.catalog-impl`, 'org.apache.iceberg.aws.glue.GlueCatalog'],
    [`${catalog}.io-impl`, 'org.apache.iceberg.aws.s3.S3FileIO'],
    [`${catalog}.warehouse`, warehouseUri],
    [`${catalog}.glue.skip-archive`, 'true'],
    ['spark.sql.defaultCatalog', GLUE_ICEBERG_CATALOG],
    ['spark.sql.session.timeZone', 'UTC'],
  ];
}

/**
 * Glue takes one `--conf` job argument; further settings ride in its value
 * as ` --conf k=v` (the documented way to pass several).
 */
export function glueConfArgument(conf: ReadonlyArray<readonly [string, string]>): string {
  return conf.map(([key, value]) => `${key}=${value}`).join(' --conf ');
}
