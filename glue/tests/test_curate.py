from __future__ import annotations

import datetime
import json
import pathlib

import pytest
from pyspark.sql.functions import col, lit

from ledgerlake_glue import curate

REPO = pathlib.Path(__file__).resolve().parents[2]


def instant(text: str) -> datetime.datetime:
    """A fixture's UTC time as the session (in UTC) reads it."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)


@pytest.fixture
def model(generated):
    return generated["curate"]["MODEL"]


def test_raw_views_split_each_raw_table_at_the_last_committed_run(spark, model, namespace):
    for table in model.raw_collections.values():
        spark.sql(f"CREATE TABLE {namespace}.{table} (_id string, ingest_ts timestamp) USING iceberg")
    spark.sql(
        f"INSERT INTO {namespace}.accounts VALUES "
        "('old', TIMESTAMP '2025-06-01 00:00:00Z'), ('at', TIMESTAMP '2025-06-02 00:00:00Z'), "
        "('new', TIMESTAMP '2025-06-03 00:00:00Z')"
    )

    def ids(kind):
        view = model.relations[kind].format(c="accounts")
        return sorted(r["_id"] for r in spark.table(view).collect())

    curate.register_raw_views(spark, model, namespace, "2025-06-02T00:00:00.000Z")
    assert (ids("raw"), ids("changed"), ids("before")) == (["at", "new", "old"], ["new"], ["at", "old"])
    # The first run: everything is a change.
    curate.register_raw_views(spark, model, namespace, None)
    assert (ids("changed"), ids("before")) == (["at", "new", "old"], [])


def test_the_latest_version_of_each_touched_document_is_the_fixture_one(spark, model, namespace):
    """test/fixtures/latest-versions.json, which the DuckDB engine runs too (test/lib/curate/
    statements.test.ts): the newest version by ingest time, a tombstone first, then the watermark,
    then the document text."""
    fixture = json.loads((REPO / "test" / "fixtures" / "latest-versions.json").read_text())
    spec = next(t for t in model.raw_tables if t["name"] == "close_tasks")
    table = f"{namespace}.close_tasks"
    spark.sql(spec["create"].format(table=table, location=""))
    schema = spark.table(table).schema
    times = {"ingest_ts", "updated_at"}
    rows = [
        {
            field.name: (
                instant(row[field.name])
                if field.name in times and row.get(field.name)
                else row.get(field.name)
            )
            for field in schema.fields
        }
        for row in fixture["rows"]
    ]
    for row in rows:
        row["_run_id"] = "run-1"
    raw = spark.createDataFrame(rows, schema)
    raw.createOrReplaceTempView(model.relations["raw"].format(c="close_tasks"))
    touched = col("_id").isin(fixture["touched"])
    # Every version of a touched document is a change here, and `before` holds the rest of raw.
    raw.where(touched).createOrReplaceTempView(model.relations["changed"].format(c="close_tasks"))
    raw.where(~touched).createOrReplaceTempView(model.relations["before"].format(c="close_tasks"))
    step = next(s for s in model.steps if s["name"] == "latest_close_tasks")
    picked = spark.sql(step["sql"]).select("_id", "task_id").orderBy("_id").collect()
    expected = sorted((r["_id"], r["task_id"]) for r in fixture["rows"] if r.get("latest"))
    assert [(r["_id"], r["task_id"]) for r in picked] == expected
    # Split at a time instead, as the engines split raw at the last committed run: the documents
    # with rows since then are the touched ones (`untouched` too, `one` not), each ranked from
    # those rows alone; `newer` and `tie` have an older version before the split.
    since = lit(instant("2025-06-01 12:00:00"))
    raw.where(col("ingest_ts") > since).createOrReplaceTempView(
        model.relations["changed"].format(c="close_tasks")
    )
    raw.where(col("ingest_ts") <= since).createOrReplaceTempView(
        model.relations["before"].format(c="close_tasks")
    )
    picked = spark.sql(step["sql"]).select("_id", "task_id").orderBy("_id").collect()
    changed_ids = {r["_id"] for r in fixture["rows"] if r["ingest_ts"] > "2025-06-01 12:00:00"}
    split = sorted(
        (r["_id"], r["task_id"])
        for r in fixture["rows"]
        if r["_id"] in changed_ids and (r.get("latest") or r["_id"] == "untouched")
    )
    assert ("one", "only version") not in split and ("untouched", "not a change of the run") in split
    assert [(r["_id"], r["task_id"]) for r in picked] == split


def test_materialized_steps_join_one_computed_from_another_with_adaptive_execution_off(spark):
    """Spark 3.3 kept a checkpoint's column ids: joining a relation with an aggregate of one
    computed from it failed analysis when spark.sql.adaptive.enabled was false."""
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    try:
        # Each ends with a shuffle on _id, as the steps' joins and windows do.
        curate.materialize(
            spark, "SELECT id % 6 AS _id, max(id % 3) AS v FROM range(12) GROUP BY id % 6", "t_latest"
        )
        curate.materialize(
            spark,
            "SELECT e._id, e.v, e.v * 10 AS w FROM t_latest e "
            "JOIN (SELECT DISTINCT _id FROM t_latest) k ON k._id = e._id",
            "t_lines",
        )
        joined = spark.sql(
            "SELECT e._id, l.total FROM t_latest e "
            "JOIN (SELECT _id, sum(w) AS total FROM t_lines GROUP BY _id) l ON l._id = e._id ORDER BY e._id"
        ).collect()
        assert [(r["_id"], r["total"]) for r in joined] == [
            (0, 0),
            (1, 10),
            (2, 20),
            (3, 0),
            (4, 10),
            (5, 20),
        ]
    finally:
        spark.conf.unset("spark.sql.adaptive.enabled")
