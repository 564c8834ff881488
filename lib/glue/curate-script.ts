import { spark } from '../curate/dialect.ts';
import { type CurateRelations, curateStatements } from '../curate/statements.ts';
import type { TableModel } from '../model/index.ts';
import { type GlueJobArguments, JOB_ARGUMENT } from './job-arguments.ts';
import { header, py } from './python.ts';
import { HELPERS, IMPORTS } from './python-common.ts';
import { argumentsDict } from './raw-append-script.ts';
import { formatSafe } from './spark-ddl.ts';
import { tableSpec } from './table-specs.ts';

const A = JOB_ARGUMENT;
/** Markers that formatSafe turns into the namespace format fields of the SQL. */
const RAW = '\u0000raw_namespace\u0001';
const CURATED = '\u0000curated_namespace\u0001';

/** Temp views of the run's raw rows, by the raw collection they come from. */
const RUN_VIEWS = { journal_entries: 'run_journal_entries', close_tasks: 'run_close_tasks' } as const;

/** The relations the Spark rendering of the curate statements reads and writes, as the script names them. */
export function sparkCurateRelations(model: TableModel): CurateRelations {
  const curated = (name: string) => `${CURATED}.${model.table(name).name}`;
  return {
    runJournalEntries: RUN_VIEWS.journal_entries,
    runCloseTasks: RUN_VIEWS.close_tasks,
    rawAccounts: `${RAW}.${model.rawTableFor('accounts').name}`,
    journalEntriesSilver: curated('journal_entries_silver'),
    closeTasksSilver: curated('close_tasks_silver'),
    journalEntriesGold: curated('journal_entries_gold'),
  };
}

/** glue-scripts/curate.py: the run's raw rows merged into silver, then gold. */
export function curateScript(model: TableModel, args: GlueJobArguments): string {
  const rawTables = ['journal_entries', 'close_tasks', 'accounts'].map((c) => model.rawTableFor(c));
  const curatedTables = model.tables.filter((t) => t.layer !== 'raw');
  const statements = curateStatements(spark, sparkCurateRelations(model)).map((s) => ({
    table: model.table(s.table).name,
    sql: formatSafe(s.sql),
  }));
  const runViews = Object.fromEntries(
    Object.entries(RUN_VIEWS).map(([collection, view]) => [view, model.rawTableFor(collection).name]),
  );
  return `${header(
    'Glue 4.0 job: curate.',
    `Merges the raw rows one run appended into the silver tables, then the
gold tables from silver (MERGE INTO, the Spark rendering of
lib/curate/statements.ts). Each commit carries the run id in its snapshot
summary; a statement whose target already has such a snapshot is skipped,
so a rerun finishes what a failed run left.`,
  )}
${IMPORTS}
JOB = "curate"
ARGUMENTS = ${py(argumentsDict(args))}
RAW_TABLES = ${py(rawTables.map(tableSpec))}
CURATED_TABLES = ${py(curatedTables.map(tableSpec))}
# Temp view of the run's rows -> raw table it selects from.
RUN_VIEWS = ${py(runViews)}
# In the order they must run; {raw_namespace} and {curated_namespace} are filled from the arguments.
STATEMENTS = ${py(statements)}

${HELPERS}

def main():
    args = job_arguments()
    run_id = checked(args, ${py(A.runId)}, RUN_ID)
    namespaces = {
        "raw_namespace": checked(args, ${py(A.rawNamespace)}, NAMESPACE),
        "curated_namespace": checked(args, ${py(A.curatedNamespace)}, NAMESPACE),
    }
    location_root = checked(args, ${py(A.tableLocationRoot)}, LOCATION_ROOT)
    spark = SparkSession.builder.getOrCreate()
    for key, tables in (("raw_namespace", RAW_TABLES), ("curated_namespace", CURATED_TABLES)):
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespaces[key]}")
        for spec in tables:
            ensure_table(spark, f"{namespaces[key]}.{spec['name']}", spec, location_root)
    for view, raw_table in RUN_VIEWS.items():
        rows = spark.table(f"{namespaces['raw_namespace']}.{raw_table}").where(col("_run_id") == run_id)
        rows.createOrReplaceTempView(view)
    for statement in STATEMENTS:
        target = f"{namespaces['curated_namespace']}.{statement['table']}"
        if committed_by_run(spark, target, run_id):
            log("skipped: the run is already merged", table=target, run_id=run_id)
            continue
        sql = statement["sql"].format(**namespaces)
        with_commit_properties(spark, {RUN_ID_SUMMARY_KEY: run_id}, lambda: spark.sql(sql))
        log("merged", table=target, run_id=run_id, tagged=committed_by_run(spark, target, run_id))


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
