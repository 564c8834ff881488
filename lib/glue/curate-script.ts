import { stagingLayout } from '../../lambdas/shared/staging-layout.ts';
import type { LedgerlakeConfig } from '../config/index.ts';
import { spark } from '../curate/dialect.ts';
import {
  beforeRelation,
  CURATE_RAW_COLLECTIONS,
  type CurateRelations,
  changedRelation,
  curateRelations,
  curateSteps,
  DELETE_FLAG,
  rawRelation,
  watermarkColumns,
} from '../curate/statements.ts';
import type { TableModel } from '../model/index.ts';
import { CURATE_TABLE_SUMMARY_KEY, type GlueJobArguments, JOB_ARGUMENT } from './job-arguments.ts';
import { header, py } from './python.ts';
import { HELPERS, IMPORTS } from './python-common.ts';
import { argumentsDict } from './raw-append-script.ts';
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
  const rawTables = CURATE_RAW_COLLECTIONS.map((c) => model.rawTableFor(c));
  const curatedTables = model.tables.filter((t) => t.layer !== 'raw');
  const steps = curateSteps(spark, sparkCurateRelations(model), watermarkColumns(config, model)).map(
    (s): Record<string, string> =>
      s.kind === 'relation'
        ? { kind: s.kind, name: s.name, sql: formatSafe(s.sql) }
        : { kind: s.kind, name: s.name, table: s.table, sql: formatSafe(s.sql), merge: formatSafe(s.merge) },
  );
  return `${header(
    'Glue 4.0 job: curate.',
    `Recomputes silver, gold and data_quality_issues for the documents with raw
rows since the last committed run (the run's plan names it), from the latest
raw version of each (the Spark rendering of lib/curate/statements.ts). Each
table gets only the rows that differ, by MERGE INTO; a table with no changes
gets no snapshot, so a rerun or a replay of any run changes nothing. Commits
carry the run id and the table in their snapshot summary.`,
  )}
${IMPORTS}
JOB = "curate"
ARGUMENTS = ${py(argumentsDict(args))}
RAW_TABLES = ${py(rawTables.map(tableSpec))}
CURATED_TABLES = ${py(curatedTables.map(tableSpec))}
# Raw collection -> raw table name.
RAW_COLLECTIONS = ${py(Object.fromEntries(CURATE_RAW_COLLECTIONS.map((c) => [c, model.rawTableFor(c).name])))}
PLAN = ${py(stagingLayout.plan(model.app, '{run_id}'))}
REPORT = ${py(stagingLayout.jobReport(model.app, '{run_id}', 'curate'))}
DELETE_FLAG = ${py(DELETE_FLAG)}
CURATE_TABLE_SUMMARY_KEY = ${py(CURATE_TABLE_SUMMARY_KEY)}
# In the order they must run; {raw_namespace} and {curated_namespace} are filled from the arguments.
STEPS = ${py(steps)}

${HELPERS}

def main():
    args = job_arguments()
    run_id = checked(args, ${py(A.runId)}, RUN_ID)
    namespaces = {
        "raw_namespace": checked(args, ${py(A.rawNamespace)}, NAMESPACE),
        "curated_namespace": checked(args, ${py(A.curatedNamespace)}, NAMESPACE),
    }
    location_root = checked(args, ${py(A.tableLocationRoot)}, LOCATION_ROOT)
    staging_root = args[${py(A.stagingRoot)}].rstrip("/")
    spark = SparkSession.builder.getOrCreate()
    for key, tables in (("raw_namespace", RAW_TABLES), ("curated_namespace", CURATED_TABLES)):
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespaces[key]}")
        for spec in tables:
            ensure_table(spark, f"{namespaces[key]}.{spec['name']}", spec, location_root)
    plan = read_json(spark, staging_root + "/" + PLAN.format(run_id=run_id)) or {}
    since = plan.get("curateSince")
    for collection, table in RAW_COLLECTIONS.items():
        raw = spark.table(f"{namespaces['raw_namespace']}.{table}")
        raw.createOrReplaceTempView(${py(rawRelation('{c}'))}.format(c=collection))
        changed = raw if since is None else raw.where(col("ingest_ts") > lit(instant(since)))
        changed.createOrReplaceTempView(${py(changedRelation('{c}'))}.format(c=collection))
        before = raw.limit(0) if since is None else raw.where(col("ingest_ts") <= lit(instant(since)))
        before.createOrReplaceTempView(${py(beforeRelation('{c}'))}.format(c=collection))
    tables = {}
    for step in STEPS:
        # Materialized: later steps read what this one saw, not tables a MERGE has changed since.
        relation = spark.sql(step["sql"].format(**namespaces)).localCheckpoint()
        relation.createOrReplaceTempView(step["name"])
        if step["kind"] == "merge":
            tables[step["table"]] = merge_changes(spark, step, relation, namespaces, run_id)
    open_issues = spark.table(f"{namespaces['curated_namespace']}.data_quality_issues").groupBy("code").count()
    report = {
        "runId": run_id,
        "tables": tables,
        "dataQuality": {row["code"]: row["count"] for row in open_issues.orderBy("code").collect()},
    }
    write_json(spark, staging_root + "/" + REPORT.format(run_id=run_id), report)


def merge_changes(spark, step, changes, namespaces, run_id):
    """MERGEs a table's changes; no changes, no commit."""
    counts = {row[DELETE_FLAG]: row["count"] for row in changes.groupBy(DELETE_FLAG).count().collect()}
    upserted, deleted = counts.get(False, 0), counts.get(True, 0)
    table = f"{namespaces['curated_namespace']}.{step['table']}"
    if upserted + deleted == 0:
        log("unchanged: no snapshot", table=table, run_id=run_id)
        return {"status": "unchanged", "upserted": 0, "deleted": 0}
    sql = step["merge"].format(**namespaces)
    properties = {RUN_ID_SUMMARY_KEY: run_id, CURATE_TABLE_SUMMARY_KEY: step["table"]}
    with_commit_properties(spark, properties, lambda: spark.sql(sql))
    log("merged", table=table, run_id=run_id, upserted=upserted, deleted=deleted)
    return {"status": "merged", "upserted": upserted, "deleted": deleted}


def with_commit_properties(spark, properties, action):
    """Runs action() so that its Iceberg commits carry properties in their snapshot
    summary. Iceberg 1.0 offers this for SQL writes only to JVM callers
    (CommitMetadata, a thread-local); py4j calls the Python callable back on the
    calling JVM thread (PySpark's pinned-thread mode), where the SQL then runs."""
    from pyspark.java_gateway import ensure_callback_server_started

    context = spark.sparkContext
    ensure_callback_server_started(context._gateway)
    java_properties = context._jvm.java.util.HashMap()
    for key, value in properties.items():
        java_properties.put(key, value)
    context._jvm.org.apache.iceberg.spark.CommitMetadata.withCommitProperties(
        java_properties, _JavaCallable(action), context._jvm.java.lang.RuntimeException._java_lang_class
    )


class _JavaCallable:
    def __init__(self, action):
        self._action = action

    def call(self):
        self._action()
        return None

    class Java:
        implements = ["java.util.concurrent.Callable"]


if __name__ == "__main__":
    main()
`;
}
