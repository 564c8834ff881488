import { stagingLayout } from '../../lambdas/shared/staging-layout.ts';
import type { TableModel } from '../model/index.ts';
import { type GlueJobArguments, JOB_ARGUMENT } from './job-arguments.ts';
import { header, py } from './python.ts';
import { HELPERS, IMPORTS } from './python-common.ts';
import { tableSpec } from './table-specs.ts';

const A = JOB_ARGUMENT;

/** glue-scripts/raw_append.py: the run's staged Parquet appended to the raw tables, once per run id. */
export function rawAppendScript(model: TableModel, args: GlueJobArguments): string {
  const raw = model.tables.filter((t) => t.layer === 'raw' && t.sourceCollection !== undefined);
  const tables = Object.fromEntries(raw.map((t) => [t.sourceCollection as string, tableSpec(t)]));
  return `${header(
    'Glue 4.0 job: raw append.',
    `Appends the staged Parquet of one run (${stagingLayout.runDataPrefix(model.app, '<collection>', '<run_id>')})
to each raw Iceberg table, with the run id in the snapshot summary. A table
that already has a snapshot tagged with the run id is skipped, so a rerun
appends nothing twice; a collection with no staged files gets no snapshot.`,
  )}
${IMPORTS}
JOB = "raw_append"
ARGUMENTS = ${py(argumentsDict(args))}
STAGED_RUN = ${py(stagingLayout.runDataPrefix(model.app, '{collection}', '{run_id}'))}
RAW_TABLES = ${py(tables)}

${HELPERS}

def main():
    args = job_arguments()
    run_id = checked(args, ${py(A.runId)}, RUN_ID)
    namespace = checked(args, ${py(A.rawNamespace)}, NAMESPACE)
    location_root = checked(args, ${py(A.tableLocationRoot)}, LOCATION_ROOT)
    spark = SparkSession.builder.getOrCreate()
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    for collection in requested_collections(args[${py(A.collections)}]):
        spec = RAW_TABLES[collection]
        table = f"{namespace}.{spec['name']}"
        ensure_table(spark, table, spec, location_root)
        staged = args[${py(A.stagingRoot)}].rstrip("/") + "/" + STAGED_RUN.format(collection=collection, run_id=run_id)
        append_run(spark, table, staged, run_id)


def requested_collections(text):
    collections = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in collections if name not in RAW_TABLES]
    if unknown:
        raise ValueError(f"--${A.collections}: unknown {unknown}; configured: {sorted(RAW_TABLES)}")
    return collections


def append_run(spark, table, staged, run_id):
    if committed_by_run(spark, table, run_id):
        log("skipped: the run is already appended", table=table, run_id=run_id)
        return
    files = staged_files(spark, staged)
    if not files:
        log("nothing staged: no snapshot", table=table, run_id=run_id, staged=staged)
        return
    target = spark.table(table)
    rows = spark.read.parquet(*files).select([col(f.name).cast(f.dataType) for f in target.schema])
    with_table_schema(spark, rows, target).writeTo(table).option(
        "snapshot-property." + RUN_ID_SUMMARY_KEY, run_id
    ).append()
    log("appended", table=table, run_id=run_id, files=len(files))


def staged_files(spark, folder):
    """The run's Parquet files; none when the folder does not exist (Spark's reader would fail)."""
    jvm = spark.sparkContext._jvm
    pattern = jvm.org.apache.hadoop.fs.Path(folder + "*.parquet")
    filesystem = pattern.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    statuses = filesystem.globStatus(pattern)
    return sorted(status.getPath().toString() for status in statuses or [])


def with_table_schema(spark, rows, target):
    """The rows typed with the table's schema, required flags included. Spark 3.3
    refuses to write a column it reads as nullable (every Parquet column) into a
    required one; extraction fills every required column, so the flags hold."""
    session = spark._jsparkSession
    return DataFrame(session.createDataFrame(rows._jdf.rdd(), target._jdf.schema()), spark)


if __name__ == "__main__":
    main()
`;
}

/** ARGUMENTS of a script: required names map to None, the others to their default. */
export function argumentsDict(args: GlueJobArguments): Record<string, string | null> {
  return {
    ...Object.fromEntries(args.required.map((name) => [name, null])),
    ...args.defaults,
  };
}
