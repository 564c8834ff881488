import { join } from 'node:path';
import type { LedgerlakeConfig } from '../../config/index.ts';
import { GLUE_SCRIPTS_DIR, JOB_ARGUMENT } from '../../contracts/index.ts';
import { glueJobArguments } from '../../glue/job-arguments.ts';
import { buildTableModel, type Table } from '../../model/index.ts';
import { SparkJobServer } from '../spark-job-server.ts';
import type { GlueJobRunner } from './run-pipeline.ts';

const GLUE_SCRIPTS = join(import.meta.dirname, '..', '..', '..', GLUE_SCRIPTS_DIR);

/** One Spark process runs every job of every pipeline run in this process, each job in a session of its own. */
let server: SparkJobServer | undefined;
const SESSION = { conf: { 'spark.sql.defaultCatalog': 'local' } };

/**
 * The Glue tasks run by the generated Glue scripts themselves on local
 * PySpark (Spark 3.3 + Iceberg 1.0.0, Glue 4.0's versions), with Spark's
 * Hadoop catalog over the same warehouse folder as the default catalog. The
 * namespaces are the tables' folders (`raw.fq_app`), which gives the same
 * layout the local engine and Glue use. SparkJobServer keeps each job apart
 * from the one before, as Glue's job runs are.
 */
export function sparkJobRunner(
  warehouse: string,
  config: LedgerlakeConfig,
  options: {
    /** Where the scripts are. @default the checked-in glue-scripts/ */
    readonly scriptsDir?: string | undefined;
    /** A Spark process started for each job and ended after it. @default false - one for the process */
    readonly processPerJob?: boolean;
  } = {},
): GlueJobRunner {
  const scriptsDir = options.scriptsDir ?? GLUE_SCRIPTS;
  const model = buildTableModel(config);
  const scripts = glueJobArguments(model);
  const namespaceOf = (table: Table) => table.location.split('/').slice(0, -1).join('.');
  const raw = namespaceOf(model.rawTableFor(config.collections[0]?.name as string));
  const curated = namespaceOf(model.table('journal_entries_silver'));
  const run = async (script: string, argv: readonly string[]) => {
    const job = { script: join(scriptsDir, script), argv, warehouse };
    if (options.processPerJob !== true) {
      server ??= new SparkJobServer(SESSION);
      return server.run(job);
    }
    const own = new SparkJobServer(SESSION);
    try {
      return await own.run(job);
    } finally {
      await own.close();
    }
  };
  return {
    rawAppend: (runId) =>
      run(scripts.raw_append.script, [
        `--${JOB_ARGUMENT.runId}`,
        runId,
        `--${JOB_ARGUMENT.stagingRoot}`,
        warehouse,
        `--${JOB_ARGUMENT.rawNamespace}`,
        raw,
        `--${JOB_ARGUMENT.collections}`,
        config.collections.map((c) => c.name).join(','),
      ]),
    curate: (runId) =>
      run(scripts.curate.script, [
        `--${JOB_ARGUMENT.runId}`,
        runId,
        `--${JOB_ARGUMENT.stagingRoot}`,
        warehouse,
        `--${JOB_ARGUMENT.rawNamespace}`,
        raw,
        `--${JOB_ARGUMENT.curatedNamespace}`,
        curated,
      ]),
    closePeriod: (runId, period, reopen) =>
      run(scripts.close_period.script, [
        `--${JOB_ARGUMENT.runId}`,
        runId,
        `--${JOB_ARGUMENT.closePeriod}`,
        period,
        `--${JOB_ARGUMENT.reopen}`,
        String(reopen),
        `--${JOB_ARGUMENT.rawNamespace}`,
        raw,
        `--${JOB_ARGUMENT.curatedNamespace}`,
        curated,
      ]),
    maintain: () =>
      run(scripts.maintenance.script, [
        `--${JOB_ARGUMENT.rawNamespace}`,
        raw,
        `--${JOB_ARGUMENT.curatedNamespace}`,
        curated,
        `--${JOB_ARGUMENT.catalog}`,
        'local',
      ]),
  };
}
