"""Table maintenance with Iceberg 1.0.0's Spark procedures.

For every table of the model: compact small data files and apply position
deletes (the data files they name are rewritten), rewrite manifests,
expire snapshots older than the table's retention while keeping its last
snapshots, then delete files no snapshot references that are older than the
orphan age (younger ones may belong to a commit in progress). Only the
arguments Iceberg 1.0.0 has are used (checked against its
ExpireSnapshotsProcedure, RemoveOrphanFilesProcedure,
RewriteDataFilesProcedure and RewriteManifestsProcedure parameter lists).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from ledgerlake_glue.common import instant, log, table_exists

JOB = "maintenance"


@dataclass(frozen=True)
class Model:
    """What the table model decides for maintenance (glue-scripts/maintenance.py)."""

    # Every table: layer (raw or curated: which namespace), name, retain_last, max_snapshot_age_days.
    tables: Sequence[Mapping[str, Any]]
    orphan_file_min_age_days: int


def run(
    spark: SparkSession,
    model: Model,
    *,
    raw_namespace: str,
    curated_namespace: str,
    catalog: str,
    expire_as_of: str | None,
    now: datetime.datetime | None = None,
) -> None:
    """Maintains every table that exists. Snapshot ages are measured from
    expire_as_of (ISO 8601, UTC when it has no offset), or from now when None;
    orphan ages always from now, as Iceberg refuses a cutoff less than 24
    hours before the current time."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    ages_from = now if expire_as_of is None else instant(expire_as_of)
    namespaces = {"raw": raw_namespace, "curated": curated_namespace}
    for spec in model.tables:
        table = f"{namespaces[spec['layer']]}.{spec['name']}"
        if not table_exists(spark, table):
            log(JOB, "skipped: no such table", table=table)
            continue
        # Any data file with a position delete (curated tables are merge-on-read) is rewritten
        # without its deleted rows, whatever its size.
        call(spark, catalog, "rewrite_data_files", table, "options => map('delete-file-threshold', '1')")
        call(spark, catalog, "rewrite_manifests", table)
        expire_before = ages_from - datetime.timedelta(days=spec["max_snapshot_age_days"])
        call(
            spark,
            catalog,
            "expire_snapshots",
            table,
            f"older_than => {timestamp(expire_before)}",
            f"retain_last => {spec['retain_last']}",
        )
        orphans_before = now - datetime.timedelta(days=model.orphan_file_min_age_days)
        call(spark, catalog, "remove_orphan_files", table, f"older_than => {timestamp(orphans_before)}")


def timestamp(moment: datetime.datetime) -> str:
    """A Spark SQL TIMESTAMP literal of an aware datetime, in UTC."""
    utc = moment.astimezone(datetime.timezone.utc)
    return f"TIMESTAMP '{utc.strftime('%Y-%m-%d %H:%M:%S.%f')}Z'"


def call(
    spark: SparkSession, catalog: str, procedure: str, table: str, *arguments: str
) -> list[dict[str, Any]]:
    sql = ", ".join([f"table => '{table}'", *arguments])
    result = [row.asDict() for row in spark.sql(f"CALL {catalog}.system.{procedure}({sql})").collect()]
    log(JOB, procedure, table=table, result=result)
    return result
