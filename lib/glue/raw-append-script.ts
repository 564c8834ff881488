import { stagingLayout } from '../../lambdas/shared/staging-layout.ts';
import { deletedKeys, latestRawKeys, unreadSourceKeys } from '../curate/deletes.ts';
import { spark } from '../curate/dialect.ts';
import { DOC_EJSON_COLUMN, OP_COLUMN, RAW_OP, type TableModel } from '../model/index.ts';
import { DELETES_SUMMARY_KEY, type GlueJobArguments, JOB_ARGUMENT } from './job-arguments.ts';
import { header, py } from './python.ts';
import { HELPERS, IMPORTS } from './python-common.ts';
import { formatSafe } from './spark-ddl.ts';
import { tableSpec } from './table-specs.ts';

const A = JOB_ARGUMENT;

/** glue-scripts/raw_append.py: the run's staged Parquet appended to the raw tables, once per run id. */
export function rawAppendScript(model: TableModel, args: GlueJobArguments): string {
  const raw = model.tables.filter((t) => t.layer === 'raw' && t.sourceCollection !== undefined);
  const tables = Object.fromEntries(raw.map((t) => [t.sourceCollection as string, tableSpec(t)]));
  return `${header(
    'Glue 4.0 job: raw append.',
    `Appends the staged Parquet of one run (${stagingLayout.runDataPrefix(model.app, '<collection>', '<run_id>')})
to each raw Iceberg table, with the run id in the snapshot summary. When the
run listed a collection's keys, the same snapshot adds a tombstone (_op
'delete') for each document gone from the source. A table that already has a
snapshot tagged with the run id is skipped, so a rerun appends nothing twice;
a collection with nothing to append gets no snapshot.`,
  )}
${IMPORTS}
JOB = "raw_append"
ARGUMENTS = ${py(argumentsDict(args))}
STAGED_RUN = ${py(stagingLayout.runDataPrefix(model.app, '{collection}', '{run_id}'))}
KEYS_MANIFEST = ${py(stagingLayout.keysManifest(model.app, '{run_id}', '{collection}'))}
REPORT = ${py(stagingLayout.jobReport(model.app, '{run_id}', 'raw-append'))}
RAW_TABLES = ${py(tables)}
DELETES_SUMMARY_KEY = ${py(DELETES_SUMMARY_KEY)}
DOC_EJSON_COLUMN = ${py(DOC_EJSON_COLUMN)}
OP_COLUMN = ${py(OP_COLUMN)}
OP_DELETE = ${py(RAW_OP.delete)}
# Delete reconciliation (lib/curate/deletes.ts): per _id its latest version, this run's rows included;
# the _ids to tombstone; the listed _ids with no raw row at all.
LATEST_RAW_KEYS = ${py(latestRawKeys(spark, { raw: 'raw_versions', staged: 'staged_versions' }))}
DELETED_KEYS = ${py(formatSafe(deletedKeys(spark, 'latest_raw_keys', 'listed_keys', "TIMESTAMP '\u0000run_ingest_ts\u0001'")))}
UNREAD_SOURCE_KEYS = ${py(unreadSourceKeys(spark, 'latest_raw_keys', 'listed_keys'))}

${HELPERS}

def main():
    args = job_arguments()
    run_id = checked(args, ${py(A.runId)}, RUN_ID)
    namespace = checked(args, ${py(A.rawNamespace)}, NAMESPACE)
    location_root = checked(args, ${py(A.tableLocationRoot)}, LOCATION_ROOT)
    spark = SparkSession.builder.getOrCreate()
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    staging_root = args[${py(A.stagingRoot)}].rstrip("/")
    collections = {}
    for collection in requested_collections(args[${py(A.collections)}]):
        spec = RAW_TABLES[collection]
        table = f"{namespace}.{spec['name']}"
        ensure_table(spark, table, spec, location_root)
        staged = staging_root + "/" + STAGED_RUN.format(collection=collection, run_id=run_id)
        keys = key_listing(spark, staging_root, collection, run_id)
        collections[collection] = append_run(spark, table, staged, keys, run_id)
    write_json(spark, staging_root + "/" + REPORT.format(run_id=run_id), {"runId": run_id, "collections": collections})


def requested_collections(text):
    collections = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in collections if name not in RAW_TABLES]
    if unknown:
        raise ValueError(f"--${A.collections}: unknown {unknown}; configured: {sorted(RAW_TABLES)}")
    return collections


def append_run(spark, table, staged, keys, run_id):
    existing = run_snapshot(spark, table, run_id)
    if existing is not None:
        log("skipped: the run is already appended", table=table, run_id=run_id)
        deletes = int(existing.get(DELETES_SUMMARY_KEY, "0"))
        return report("already-appended", int(existing.get("added-records", "0")) - deletes, deletes, keys, 0)
    target = spark.table(table)
    files = staged_files(spark, staged)
    rows = None
    if files:
        rows = spark.read.parquet(*files).select([col(f.name).cast(f.dataType) for f in target.schema])
    deletes, unread = 0, 0
    if keys is not None:
        tombstones, unread = deleted_documents(spark, table, target, rows, keys, run_id)
        deletes = tombstones.count()
        if deletes > 0:
            rows = tombstones if rows is None else rows.unionByName(tombstones)
    if rows is None or (not files and deletes == 0):
        log("nothing staged: no snapshot", table=table, run_id=run_id, staged=staged)
        return report("nothing-staged", 0, 0, keys, unread)
    with_table_schema(spark, rows, target).writeTo(table).option(
        "snapshot-property." + RUN_ID_SUMMARY_KEY, run_id
    ).option("snapshot-property." + DELETES_SUMMARY_KEY, str(deletes)).append()
    appended = run_snapshot(spark, table, run_id) or {}
    log("appended", table=table, run_id=run_id, files=len(files), deletes=deletes)
    return report("appended", int(appended.get("added-records", "0")) - deletes, deletes, keys, unread)


def report(status, rows, deletes, keys, unread):
    return {
        "status": status,
        "rows": rows,
        "deletes": deletes,
        "keysListed": keys is not None,
        "sourceKeysNotInRaw": unread,
    }


def run_snapshot(spark, table, run_id):
    """The summary of the table's snapshot tagged with the run id, or None."""
    snapshots = spark.table(table + ".snapshots").where(col("summary")[RUN_ID_SUMMARY_KEY] == run_id)
    found = snapshots.select("summary").limit(1).collect()
    return dict(found[0]["summary"]) if found else None


def key_listing(spark, staging_root, collection, run_id):
    """The run's complete key listing of a collection (its manifest is written last), or None."""
    manifest = read_json(spark, staging_root + "/" + KEYS_MANIFEST.format(collection=collection, run_id=run_id))
    if manifest is None:
        return None
    return {"files": [staging_root + "/" + f["key"] for f in manifest["files"]], "ingest_ts": manifest["ingestTs"]}


def deleted_documents(spark, table, target, rows, keys, run_id):
    """Tombstone rows for the documents the listing no longer has, and how many listed keys were never read."""
    id_type = target.schema["_id"].dataType
    listed = spark.read.parquet(*keys["files"]) if keys["files"] else spark.createDataFrame([], "_id string")
    listed.select(col("_id").cast(id_type)).createOrReplaceTempView("listed_keys")
    spark.table(table).createOrReplaceTempView("raw_versions")
    staged = rows if rows is not None else spark.table(table).limit(0)
    staged.createOrReplaceTempView("staged_versions")
    spark.sql(LATEST_RAW_KEYS).localCheckpoint().createOrReplaceTempView("latest_raw_keys")
    unread = spark.sql(UNREAD_SOURCE_KEYS).first()["unread"]
    run_ingest_ts = instant(keys["ingest_ts"]).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    deleted = spark.sql(DELETED_KEYS.format(run_ingest_ts=run_ingest_ts))
    values = {
        "_id": col("_id"),
        "ingest_ts": lit(instant(keys["ingest_ts"])),
        "_run_id": lit(run_id),
        DOC_EJSON_COLUMN: lit("{}"),
        OP_COLUMN: lit(OP_DELETE),
    }
    tombstones = deleted.select(
        [(values[f.name] if f.name in values else lit(None)).cast(f.dataType).alias(f.name) for f in target.schema]
    )
    return tombstones.localCheckpoint(), unread


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
