"""Close a month after a run has curated it: append its trial balance to
trial_balance_closed_gold (close number, time, run, and the snapshot of
every curated table), then tag each of those snapshots close-YYYY-MM (moving
the tag on a reopening). Snapshot expiry and orphan removal keep tagged
snapshots (Iceberg 1.0's RemoveSnapshots honours refs).

A month another run closed is refused unless reopen; reopen of a month never
closed is refused; running again for the same run only makes sure of the
tags. The local engine's twin is lib/local/engine/close-period.ts.

Iceberg 1.0.0 has no SQL for tags (ALTER TABLE ... CREATE TAG came in 1.2):
they are made through the Java API, ManageSnapshots.createTag/replaceTag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from ledgerlake_glue.common import log, table_exists, with_commit_properties
from ledgerlake_glue.schema import prepare_tables

JOB = "close_period"


@dataclass(frozen=True)
class Model:
    """What the table model decides for closing (glue-scripts/close_period.py)."""

    # The curated tables whose snapshots a close tags, by name.
    tagged_tables: Sequence[str]
    # The table of closes (name, location, create, fields: see schema.prepare_tables).
    closed_table: Mapping[str, Any]
    # The table whose month is recorded.
    trial_balance_table: str
    # The raw journal entries, whose latest ingest time at the close is recorded (books_as_of).
    raw_journal_table: str
    # The tag of a month: str.format template with {period}.
    tag: str
    # The month's pattern (lib/contracts/period-close.ts).
    period_pattern: str
    # Snapshot summary key of the run id.
    run_id_key: str


class PeriodCloseRefused(Exception):
    """The month is closed already (and reopen was not asked), or reopen names a month never closed."""


def run(
    spark: SparkSession,
    model: Model,
    *,
    run_id: str,
    close_period: str,
    reopen: str,
    raw_namespace: str,
    curated_namespace: str,
    table_location_root: str,
) -> dict[str, Any]:
    """Closes the month close_period ('YYYY-MM'); reopen is 'true' or 'false'."""
    if not re.fullmatch(model.period_pattern, close_period):
        raise ValueError(f"close_period must be a month as YYYY-MM (e.g. 2025-06), got {close_period!r}")
    reopening = reopen == "true"
    tag = model.tag.format(period=close_period)
    closed = f"{curated_namespace}.{model.closed_table['name']}"
    balances = f"{curated_namespace}.{model.trial_balance_table}"
    prepare_tables(spark, JOB, {closed: model.closed_table}, table_location_root)
    month = f"DATE '{close_period}-01'"

    prior = [
        row.asDict()
        for row in spark.sql(
            f"SELECT close_number, run_id, CAST(closed_at AS STRING) AS closed_at FROM {closed} "
            f"WHERE period = {month} GROUP BY close_number, run_id, closed_at ORDER BY close_number"
        ).collect()
    ]
    mine = next((p for p in prior if p["run_id"] == run_id), None)
    last = prior[-1] if prior else None
    if mine is None and last is not None and not reopening:
        raise PeriodCloseRefused(
            f"{close_period} is closed (close {last['close_number']}, by run {last['run_id']} at "
            f'{last["closed_at"]}); to close it again, start a run with {{"closePeriod": "{close_period}", '
            f'"reopen": true}}'
        )
    if mine is None and last is None and reopening:
        raise PeriodCloseRefused(
            f"{close_period} has not been closed, so it cannot be reopened: close it with "
            f'{{"closePeriod": "{close_period}"}}'
        )

    snapshots = [
        (name, snapshot_id)
        for name in model.tagged_tables
        if (snapshot_id := current_snapshot_id(spark, f"{curated_namespace}.{name}")) is not None
    ]
    span = spark.sql(
        f"SELECT count_if(period = {month}) AS accounts, CAST(min(period) AS STRING) AS first, "
        f"CAST(max(period) AS STRING) AS latest FROM {balances}"
    ).collect()[0]
    if span["accounts"] == 0:
        held = (
            "trial_balance_gold is empty"
            if span["first"] is None
            else f"trial_balance_gold holds {span['first'][:7]} to {span['latest'][:7]}"
        )
        raise PeriodCloseRefused(f"{close_period} has no trial balance to close: {held}")

    close_number = mine["close_number"] if mine else (last["close_number"] if last else 0) + 1
    if mine is None:
        raw = f"{raw_namespace}.{model.raw_journal_table}"
        books_as_of = (
            f"SELECT max(ingest_ts) FROM {raw}" if table_exists(spark, raw) else "CAST(NULL AS TIMESTAMP)"
        )
        tables = ", ".join(
            f"named_struct('table_name', '{name}', 'snapshot_id', CAST({snapshot_id} AS BIGINT))"
            for name, snapshot_id in snapshots
        )
        insert = (
            f"INSERT INTO {closed} SELECT b.*, {close_number}, {str(close_number > 1).lower()}, "
            f"current_timestamp(), ({books_as_of}), '{run_id}', array({tables}) "
            f"FROM {balances} b WHERE b.period = {month}"
        )
        with_commit_properties(spark, {model.run_id_key: run_id}, lambda: spark.sql(insert))
    for name, snapshot_id in snapshots:
        set_tag(spark, f"{curated_namespace}.{name}", tag, snapshot_id)
    result = {
        "period": close_period,
        "tag": tag,
        "closeNumber": close_number,
        "status": "already-closed" if mine else "closed",
        "snapshots": [{"table": name, "snapshotId": str(snapshot_id)} for name, snapshot_id in snapshots],
        "accounts": span["accounts"],
    }
    log(JOB, "closed", run_id=run_id, **result)
    return result


def iceberg_table(spark: SparkSession, table: str) -> Any:
    """The Java org.apache.iceberg.Table of a table Spark names (its default catalog when unqualified)."""
    jvm = spark.sparkContext._jvm
    return jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark._jsparkSession, table)


def current_snapshot_id(spark: SparkSession, table: str) -> int | None:
    """The table's current snapshot id; None when the table does not exist or has none."""
    if not table_exists(spark, table):
        return None
    snapshot = iceberg_table(spark, table).currentSnapshot()
    return None if snapshot is None else snapshot.snapshotId()


def tags(spark: SparkSession, table: str) -> dict[str, int]:
    """The table's tags: name -> snapshot id."""
    refs = iceberg_table(spark, table).operations().current().refs()
    return {name: refs.get(name).snapshotId() for name in refs.keySet() if refs.get(name).isTag()}


def set_tag(spark: SparkSession, table: str, tag: str, snapshot_id: int) -> None:
    """Points the tag at the snapshot: created, or moved when it exists."""
    existing = tags(spark, table)
    if existing.get(tag) == snapshot_id:
        return
    manage = iceberg_table(spark, table).manageSnapshots()
    (manage.replaceTag(tag, snapshot_id) if tag in existing else manage.createTag(tag, snapshot_id)).commit()
