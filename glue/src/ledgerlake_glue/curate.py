"""Curate: silver, gold and data_quality_issues recomputed for the documents
with raw rows since the last committed run (the run's plan names it), from
the latest raw version of each.

The statements are the Spark rendering of lib/curate/statements.ts. Each
table gets only the rows that differ, by MERGE INTO; a table with no changes
gets no snapshot, so a rerun or a replay of any run changes nothing. Commits
carry the run id and the table in their snapshot summary.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import col, lit

from ledgerlake_glue.common import instant, log, read_json, with_commit_properties, write_json
from ledgerlake_glue.schema import prepare_tables

JOB = "curate"


@dataclass(frozen=True)
class Model:
    """What the table model decides for curation (glue-scripts/curate.py)."""

    # The raw and the curated tables: name, location, write_order, create and fields (see
    # common.ensure_table, schema.prepare_tables).
    raw_tables: Sequence[Mapping[str, Any]]
    curated_tables: Sequence[Mapping[str, Any]]
    # Raw collection -> raw table name.
    raw_collections: Mapping[str, str]
    # Temporary view names per collection ({c}): raw (all rows), changed (since the last committed run)
    # and before (up to it); and clock, one row whose planned_at is when the run was planned.
    relations: Mapping[str, str]
    # str.format templates ({run_id}) under the staging root: plan and report.
    staging: Mapping[str, str]
    # Snapshot summary keys: run_id and curate_table (the statement's target, part of a commit's identity).
    summary_keys: Mapping[str, str]
    # The column of a merge step's rows that marks a row to delete.
    delete_flag: str
    # The curated table whose open issues the report counts by code.
    issues_table: str
    # In the order they must run: {kind: relation|merge, name, sql} and, for merges, table and merge;
    # {raw_namespace} and {curated_namespace} in the SQL are filled from the arguments.
    steps: Sequence[Mapping[str, str]]


def run(
    spark: SparkSession,
    model: Model,
    *,
    run_id: str,
    staging_root: str,
    raw_namespace: str,
    curated_namespace: str,
    table_location_root: str,
) -> dict[str, Any]:
    """Curates the run's changes into every curated table and writes the report."""
    namespaces = {"raw_namespace": raw_namespace, "curated_namespace": curated_namespace}
    staging_root = staging_root.rstrip("/")
    for namespace in (raw_namespace, curated_namespace):
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    prepare_tables(
        spark,
        JOB,
        {
            f"{namespace}.{spec['name']}": spec
            for namespace, specs in (
                (raw_namespace, model.raw_tables),
                (curated_namespace, model.curated_tables),
            )
            for spec in specs
        },
        table_location_root,
    )
    plan = read_json(spark, staging_root + "/" + model.staging["plan"].format(run_id=run_id)) or {}
    register_raw_views(spark, model, raw_namespace, plan.get("curateSince"))
    register_clock(spark, model, plan.get("plannedAt"))
    tables = {}
    for step in model.steps:
        relation = materialize(spark, step["sql"].format(**namespaces), step["name"])
        if step["kind"] == "merge":
            tables[step["table"]] = merge_changes(spark, model, step, relation, namespaces, run_id)
    open_issues = spark.table(f"{curated_namespace}.{model.issues_table}").groupBy("code").count()
    report = {
        "runId": run_id,
        "tables": tables,
        "dataQuality": {row["code"]: row["count"] for row in open_issues.orderBy("code").collect()},
    }
    write_json(spark, staging_root + "/" + model.staging["report"].format(run_id=run_id), report)
    return report


def materialize(spark: SparkSession, sql: str, name: str) -> DataFrame:
    """The rows of `sql`, computed now and kept as the temporary view `name`: later steps
    read what this one saw, not tables a MERGE has changed since.

    A checkpoint keeps its query's column ids, so a relation computed from another shares
    them; a step joining the two (journal_entry_facts: latest versions with an aggregate
    of their lines) then fails analysis on Spark 3.3 unless adaptive query execution is on
    ("Column 'l._id' does not exist"). Columns renamed to themselves get ids of their own,
    so the job does not depend on spark.sql.adaptive.enabled, which a job parameter may set.
    """
    checkpoint = spark.sql(sql).localCheckpoint()
    relation = checkpoint.select([col(column).alias(column) for column in checkpoint.columns])
    relation.createOrReplaceTempView(name)
    return relation


def register_raw_views(spark: SparkSession, model: Model, raw_namespace: str, since: str | None) -> None:
    """Each raw table as the statements read it: all of it, its rows after `since`
    (all when None: the first run) and its rows up to `since`."""
    for collection, table in model.raw_collections.items():
        raw = spark.table(f"{raw_namespace}.{table}")
        raw.createOrReplaceTempView(model.relations["raw"].format(c=collection))
        changed = raw if since is None else raw.where(col("ingest_ts") > lit(instant(since)))
        changed.createOrReplaceTempView(model.relations["changed"].format(c=collection))
        before = raw.limit(0) if since is None else raw.where(col("ingest_ts") <= lit(instant(since)))
        before.createOrReplaceTempView(model.relations["before"].format(c=collection))


def register_clock(spark: SparkSession, model: Model, planned_at: str | None) -> None:
    """The run's planned time as a one-row view (now when there is no plan: the job run on its own)."""
    moment = instant(planned_at) if planned_at else datetime.datetime.now(datetime.timezone.utc)
    spark.range(1).select(lit(moment).alias("planned_at")).createOrReplaceTempView(model.relations["clock"])


def merge_changes(
    spark: SparkSession,
    model: Model,
    step: Mapping[str, str],
    changes: DataFrame,
    namespaces: Mapping[str, str],
    run_id: str,
) -> dict[str, Any]:
    """MERGEs a table's changes; no changes, no commit."""
    counts = {
        row[model.delete_flag]: row["count"] for row in changes.groupBy(model.delete_flag).count().collect()
    }
    upserted, deleted = counts.get(False, 0), counts.get(True, 0)
    table = f"{namespaces['curated_namespace']}.{step['table']}"
    if upserted + deleted == 0:
        log(JOB, "unchanged: no snapshot", table=table, run_id=run_id)
        return {"status": "unchanged", "upserted": 0, "deleted": 0}
    sql = step["merge"].format(**namespaces)
    properties = {model.summary_keys["run_id"]: run_id, model.summary_keys["curate_table"]: step["table"]}
    with_commit_properties(spark, properties, lambda: spark.sql(sql))
    log(JOB, "merged", table=table, run_id=run_id, upserted=upserted, deleted=deleted)
    return {"status": "merged", "upserted": upserted, "deleted": deleted}
