import {
  GLUE_ICEBERG_CATALOG,
  type GlueJobName,
  JOB_ARGUMENT,
  type JobArgumentName,
} from '../contracts/index.ts';
import type { TableModel } from '../model/index.ts';

/**
 * Which arguments each Glue job takes and their defaults from the model (the
 * names and value patterns are lib/contracts/glue-job.ts), and the Spark
 * settings of the jobs on AWS: the CDK Glue jobs, the generated scripts and
 * the local runner read them from here.
 */
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
    close_period: {
      script: 'close_period.py',
      required: [JOB_ARGUMENT.runId, JOB_ARGUMENT.closePeriod],
      defaults: { [JOB_ARGUMENT.reopen]: 'false', ...raw, ...curated, ...location },
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
