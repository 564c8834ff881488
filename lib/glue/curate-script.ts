import type { LedgerlakeConfig } from '../config/index.ts';
import {
  CURATE_TABLE_SUMMARY_KEY,
  JOB_ARGUMENT,
  RUN_ID_SUMMARY_KEY,
  stagingLayout,
} from '../contracts/index.ts';
import { spark } from '../curate/dialect.ts';
import {
  beforeRelation,
  CURATE_RAW_COLLECTIONS,
  type CurateRelations,
  changedRelation,
  curateRelations,
  curateSteps,
  DELETE_FLAG,
  RUN_CLOCK_RELATION,
  rawRelation,
  watermarkColumns,
} from '../curate/statements.ts';
import type { TableModel } from '../model/index.ts';
import { entryPointScript } from './entry-point.ts';
import type { GlueJobArguments } from './job-arguments.ts';
import { formatSafe } from './spark-ddl.ts';
import { tableSpec } from './table-specs.ts';

const A = JOB_ARGUMENT;
/** Markers that formatSafe turns into the namespace format fields of the SQL. */
const CURATED = '\u0000curated_namespace\u0001';

/** The relations the Spark rendering of the curate steps reads and writes, as the script names them. */
export function sparkCurateRelations(model: TableModel): CurateRelations {
  const curated = (name: string) => `${CURATED}.${model.table(name).name}`;
  return curateRelations(curated, curated);
}

/** glue-scripts/curate.py: the documents touched since the last committed run, recomputed into silver and gold. */
export function curateScript(model: TableModel, config: LedgerlakeConfig, args: GlueJobArguments): string {
  const steps = curateSteps(spark, sparkCurateRelations(model), watermarkColumns(config, model), model).map(
    (s): Record<string, string> =>
      s.kind === 'relation'
        ? { kind: s.kind, name: s.name, sql: formatSafe(s.sql) }
        : { kind: s.kind, name: s.name, table: s.table, sql: formatSafe(s.sql), merge: formatSafe(s.merge) },
  );
  return entryPointScript({
    job: 'curate',
    title: 'Glue 4.0 job: curate.',
    description: `Recomputes silver, gold and data_quality_issues for the documents with raw
rows since the last committed run, from the latest raw version of each (the
Spark rendering of lib/curate/statements.ts), by MERGE INTO; a table with no
changes gets no snapshot.`,
    args,
    model: [
      { name: 'raw_tables', value: CURATE_RAW_COLLECTIONS.map((c) => tableSpec(model.rawTableFor(c))) },
      { name: 'curated_tables', value: model.tables.filter((t) => t.layer !== 'raw').map(tableSpec) },
      {
        name: 'raw_collections',
        value: Object.fromEntries(CURATE_RAW_COLLECTIONS.map((c) => [c, model.rawTableFor(c).name])),
      },
      {
        name: 'relations',
        value: {
          raw: rawRelation('{c}'),
          changed: changedRelation('{c}'),
          before: beforeRelation('{c}'),
          clock: RUN_CLOCK_RELATION,
        },
      },
      {
        name: 'staging',
        comment: `str.format templates under --${A.stagingRoot} (lib/contracts/staging-layout.ts)`,
        value: {
          plan: stagingLayout.plan(model.app, '{run_id}'),
          report: stagingLayout.jobReport(model.app, '{run_id}', 'curate'),
        },
      },
      {
        name: 'summary_keys',
        value: { run_id: RUN_ID_SUMMARY_KEY, curate_table: CURATE_TABLE_SUMMARY_KEY },
      },
      { name: 'delete_flag', value: DELETE_FLAG },
      { name: 'issues_table', value: model.table('data_quality_issues').name },
      { name: 'steps', comment: 'lib/curate/statements.ts, rendered for Spark', value: steps },
    ],
    parameters: {
      run_id: A.runId,
      staging_root: A.stagingRoot,
      raw_namespace: A.rawNamespace,
      curated_namespace: A.curatedNamespace,
      table_location_root: A.tableLocationRoot,
    },
  });
}
