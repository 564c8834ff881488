from __future__ import annotations

import datetime
import json
import pathlib

import pytest
from pyspark.sql.functions import col

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
    raw.where(col("_id").isin(fixture["touched"])).createOrReplaceTempView(
        model.relations["changed"].format(c="close_tasks")
    )
    step = next(s for s in model.steps if s["name"] == "latest_close_tasks")
    picked = spark.sql(step["sql"]).select("_id", "task_id").orderBy("_id").collect()
    expected = sorted((r["_id"], r["task_id"]) for r in fixture["rows"] if r.get("latest"))
    assert [(r["_id"], r["task_id"]) for r in picked] == expected
