"""Raw append: the staged Parquet of one run appended to each raw Iceberg table.

The run id goes into the snapshot summary. When the run listed a
collection's keys, the same snapshot adds a tombstone (_op 'delete') for each
document gone from the source. A table that already has a snapshot tagged
with the run id gets none of the run's rows again, so a rerun appends
nothing twice; run again with a key listing (ReconcileDeletes, after
CheckDeletes asked for one), it reconciles that listing alone, which
tombstones nothing twice either. A collection with nothing to append gets no
snapshot. A job that changes a raw table, or lists its keys, also keeps the
count of its live documents for the next plan (LiveKeys in
lambdas/shared/pipeline-context.ts).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import col, lit

from ledgerlake_glue.common import delete_file, instant, log, read_json, write_json
from ledgerlake_glue.schema import prepare_tables

JOB = "raw_append"


@dataclass(frozen=True)
class Model:
    """What the table model decides for the raw append (glue-scripts/raw_append.py)."""

    # Source collection -> its raw table: name, location, write_order, create and fields (see
    # common.ensure_table, schema.prepare_tables).
    tables: Mapping[str, Mapping[str, Any]]
    # str.format templates under the staging root: run_data ({collection}, {run_id}), keys_manifest
    # ({collection}, {run_id}), live_keys ({collection}) and report ({run_id}).
    staging: Mapping[str, str]
    # Snapshot summary keys: run_id (the run that committed) and deletes (tombstones it added).
    summary_keys: Mapping[str, str]
    # Column -> value of a tombstone beyond _id, ingest_ts and _run_id (the op and the document).
    tombstone: Mapping[str, str]
    # Delete reconciliation (lib/curate/deletes.ts): latest_raw_keys, per _id its latest version, this
    # run's rows included; deleted_keys ({run_ingest_ts}), the _ids to tombstone; unread_source_keys,
    # how many listed _ids have no raw row at all; live_raw_keys, how many _ids are live (tombstones of
    # this run not subtracted).
    sql: Mapping[str, str]


def run(
    spark: SparkSession,
    model: Model,
    *,
    run_id: str,
    staging_root: str,
    collections: str,
    raw_namespace: str,
    table_location_root: str,
) -> dict[str, Any]:
    """Appends the run to each of the comma-separated collections' raw tables and writes the report."""
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {raw_namespace}")
    staging_root = staging_root.rstrip("/")
    requested = requested_collections(model, collections)
    tables = {f"{raw_namespace}.{model.tables[c]['name']}": model.tables[c] for c in requested}
    prepare_tables(spark, JOB, tables, table_location_root)
    appended = {}
    for collection in requested:
        table = f"{raw_namespace}.{model.tables[collection]['name']}"
        staged = staging_root + "/" + model.staging["run_data"].format(collection=collection, run_id=run_id)
        keys = key_listing(spark, model, staging_root, collection, run_id)
        live_keys_file = staging_root + "/" + model.staging["live_keys"].format(collection=collection)
        appended[collection] = append_run(spark, model, table, staged, keys, run_id, live_keys_file)
    report = {"runId": run_id, "collections": appended}
    write_json(spark, staging_root + "/" + model.staging["report"].format(run_id=run_id), report)
    return report


def requested_collections(model: Model, text: str) -> list[str]:
    collections = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in collections if name not in model.tables]
    if unknown:
        raise ValueError(f"unknown collections {unknown}; configured: {sorted(model.tables)}")
    return collections


def append_run(
    spark: SparkSession,
    model: Model,
    table: str,
    staged: str,
    keys: Mapping[str, Any] | None,
    run_id: str,
    live_keys_file: str,
) -> dict[str, Any]:
    """Appends the run's rows and tombstones to one raw table, keeping its LiveKeys file: removed
    before the table changes, written once it has (a failure in between leaves none, not a wrong
    count), left alone when the run neither staged nor listed anything for it."""
    deletes_key = model.summary_keys["deletes"]

    def write_live_keys(count: int) -> None:
        # With the snapshot it is of, read now: after this job's commit, if it made one.
        snapshot = current_snapshot_id(spark, table)
        write_json(spark, live_keys_file, {"runId": run_id, "liveKeys": count, "snapshotId": snapshot})

    earlier = run_totals(model, run_snapshots(spark, model, table, run_id))
    previous = read_json(spark, live_keys_file)
    if earlier is not None and keys is None:
        log(JOB, "skipped: the run is already appended", table=table, run_id=run_id)
        # The job that appended may have failed before writing the count; raw is still as it left it.
        # A count that exists is raw's as the last raw append left it: no need to scan raw again.
        if previous is None:
            write_live_keys(live_keys(spark, model, table, None))
        return report("already-appended", *earlier, keys, 0, None)
    # The last count, when it is of raw as it is now.
    current = current_snapshot_id(spark, table)
    counted = previous["liveKeys"] if previous and previous.get("snapshotId") == current else None
    target = spark.table(table)
    # An earlier job of this run appended its rows: this one only reconciles the key listing
    # (CheckDeletes asked for it after that job). Reconciling again tombstones nothing twice.
    files = staged_files(spark, staged) if earlier is None else []
    if not files and keys is None:
        log(JOB, "nothing staged: no snapshot", table=table, run_id=run_id, staged=staged)
        return report("nothing-staged", 0, 0, keys, 0, None)
    rows = None
    if files:
        rows = spark.read.parquet(*files).select([col(f.name).cast(f.dataType) for f in target.schema])
    deletes, unread = 0, 0
    if keys is not None:
        tombstones, unread, live_before = deleted_documents(spark, model, table, target, rows, keys, run_id)
        deletes = tombstones.count()
        live = live_before - deletes
        if deletes > 0:
            rows = tombstones if rows is None else rows.unionByName(tombstones)
    else:
        live = live_keys(spark, model, table, rows, counted)
    if rows is None or (not files and deletes == 0):
        log(JOB, "nothing to append: no snapshot", table=table, run_id=run_id, staged=staged)
        write_live_keys(live)
        if earlier is None:
            return report("nothing-staged", 0, 0, keys, unread, live)
        return report("already-appended", *earlier, keys, unread, live)
    delete_file(spark, live_keys_file)
    with_table_schema(spark, rows, target).writeTo(table).option(
        "snapshot-property." + model.summary_keys["run_id"], run_id
    ).option("snapshot-property." + deletes_key, str(deletes)).append()
    write_live_keys(live)
    totals = run_totals(model, run_snapshots(spark, model, table, run_id)) or (0, 0)
    log(JOB, "appended", table=table, run_id=run_id, files=len(files), deletes=deletes)
    return report("appended", *totals, keys, unread, live)


def report(
    status: str, rows: int, deletes: int, keys: Mapping[str, Any] | None, unread: int, live: int | None
) -> dict[str, Any]:
    """The collection's RawAppendCollectionReport (lambdas/shared/job-reports.ts)."""
    out = {
        "status": status,
        "rows": rows,
        "deletes": deletes,
        "keysListed": keys is not None,
        "sourceKeysNotInRaw": unread,
    }
    if live is not None:
        out["liveKeys"] = live
    return out


def run_snapshots(spark: SparkSession, model: Model, table: str, run_id: str) -> list[dict[str, str]]:
    """The summaries of the table's snapshots tagged with the run id, oldest first."""
    tagged = col("summary")[model.summary_keys["run_id"]] == run_id
    snapshots = spark.table(table + ".snapshots").where(tagged).orderBy("committed_at")
    return [dict(row["summary"]) for row in snapshots.select("summary").collect()]


def run_totals(model: Model, summaries: list[dict[str, str]]) -> tuple[int, int] | None:
    """The rows read and tombstones a run's raw commits added, or None when it has none."""
    if not summaries:
        return None
    deletes = sum(int(s.get(model.summary_keys["deletes"], "0")) for s in summaries)
    return sum(int(s.get("added-records", "0")) for s in summaries) - deletes, deletes


def key_listing(
    spark: SparkSession, model: Model, staging_root: str, collection: str, run_id: str
) -> dict[str, Any] | None:
    """The run's complete key listing of a collection (its manifest is written last), or None."""
    manifest_path = model.staging["keys_manifest"].format(collection=collection, run_id=run_id)
    manifest = read_json(spark, staging_root + "/" + manifest_path)
    if manifest is None:
        return None
    return {
        "files": [staging_root + "/" + f["key"] for f in manifest["files"]],
        "ingest_ts": manifest["ingestTs"],
    }


def deleted_documents(
    spark: SparkSession,
    model: Model,
    table: str,
    target: DataFrame,
    rows: DataFrame | None,
    keys: Mapping[str, Any],
    run_id: str,
) -> tuple[DataFrame, int, int]:
    """Tombstones for the documents the listing no longer has, how many listed keys were never read, and
    how many keys are live in raw with this run's rows (before its tombstones)."""
    id_type = target.schema["_id"].dataType
    listed = spark.read.parquet(*keys["files"]) if keys["files"] else spark.createDataFrame([], "_id string")
    listed.select(col("_id").cast(id_type)).createOrReplaceTempView("listed_keys")
    versions_views(spark, table, rows)
    spark.sql(model.sql["latest_raw_keys"]).localCheckpoint().createOrReplaceTempView("latest_raw_keys")
    unread = spark.sql(model.sql["unread_source_keys"]).first()["unread"]
    live = spark.sql(model.sql["live_raw_keys"]).first()["live"]
    ingest_ts = instant(keys["ingest_ts"])
    run_ingest_ts = ingest_ts.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    deleted = spark.sql(model.sql["deleted_keys"].format(run_ingest_ts=run_ingest_ts))
    values = {
        "_id": col("_id"),
        "ingest_ts": lit(ingest_ts),
        "_run_id": lit(run_id),
        **{column: lit(value) for column, value in model.tombstone.items()},
    }
    tombstones = deleted.select(
        [
            (values[f.name] if f.name in values else lit(None)).cast(f.dataType).alias(f.name)
            for f in target.schema
        ]
    )
    return tombstones.localCheckpoint(), unread, live


def live_keys(
    spark: SparkSession, model: Model, table: str, rows: DataFrame | None, counted: int | None = None
) -> int:
    """How many documents are live in raw with the run's rows: what the next plan's count check compares.
    Given `counted`, the live documents of raw as it is now, only the raw rows of the run's keys are
    read: the count moves by how many of those keys the run's rows make live, less how many were."""
    if counted is None:
        versions_views(spark, table, rows)
        return count_live(spark, model)
    if rows is None:
        return counted
    raw_of_run = spark.table(table).join(rows.select("_id").distinct(), "_id", "left_semi")
    raw_of_run.createOrReplaceTempView("raw_versions")
    raw_of_run.limit(0).createOrReplaceTempView("staged_versions")
    before = count_live(spark, model)
    rows.createOrReplaceTempView("staged_versions")
    return counted - before + count_live(spark, model)


def count_live(spark: SparkSession, model: Model) -> int:
    """live_raw_keys over latest_raw_keys of the raw_versions and staged_versions views."""
    spark.sql(model.sql["latest_raw_keys"]).createOrReplaceTempView("latest_raw_keys")
    return spark.sql(model.sql["live_raw_keys"]).first()["live"]


def current_snapshot_id(spark: SparkSession, table: str) -> str:
    """The table's current snapshot id as the LiveKeys file keeps it ('none' before its first commit)."""
    jvm = spark.sparkContext._jvm
    iceberg = jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark._jsparkSession, table)
    iceberg.refresh()
    snapshot = iceberg.currentSnapshot()
    return "none" if snapshot is None else str(snapshot.snapshotId())


def versions_views(spark: SparkSession, table: str, rows: DataFrame | None) -> None:
    """raw_versions (the table) and staged_versions (the run's rows, or none) for latest_raw_keys."""
    spark.table(table).createOrReplaceTempView("raw_versions")
    staged = rows if rows is not None else spark.table(table).limit(0)
    staged.createOrReplaceTempView("staged_versions")


def staged_files(spark: SparkSession, folder: str) -> list[str]:
    """The run's Parquet files; none when the folder does not exist (Spark's reader would fail)."""
    jvm = spark.sparkContext._jvm
    pattern = jvm.org.apache.hadoop.fs.Path(folder + "*.parquet")
    filesystem = pattern.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    statuses = filesystem.globStatus(pattern)
    return sorted(status.getPath().toString() for status in statuses or [])


def with_table_schema(spark: SparkSession, rows: DataFrame, target: DataFrame) -> DataFrame:
    """The rows typed with the table's schema, required flags included. Spark 3.3
    refuses to write a column it reads as nullable (every Parquet column) into a
    required one; extraction fills every required column, so the flags hold."""
    session = spark._jsparkSession
    return DataFrame(session.createDataFrame(rows._jdf.rdd(), target._jdf.schema()), spark)
