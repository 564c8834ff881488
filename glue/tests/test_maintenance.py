from __future__ import annotations

import datetime

import pytest

from ledgerlake_glue import maintenance

UTC = datetime.timezone.utc


@pytest.fixture
def model():
    tables = [{"layer": "raw", "name": "events", "retain_last": 1, "max_snapshot_age_days": 1}]
    return maintenance.Model(tables=tables, orphan_file_min_age_days=3)


def test_timestamp_is_a_spark_literal_in_utc():
    moment = datetime.datetime(2025, 6, 1, 14, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert maintenance.timestamp(moment) == "TIMESTAMP '2025-06-01 12:30:00.000000Z'"


def test_measures_snapshot_ages_from_now_unless_expire_as_of_is_given(spark, model, namespace, summaries):
    table = f"{namespace}.events"
    spark.sql(f"CREATE TABLE {table} (id string) USING iceberg")
    for value in ("a", "b", "c"):
        spark.sql(f"INSERT INTO {table} VALUES ('{value}')")

    def maintain(expire_as_of):
        maintenance.run(
            spark,
            model,
            raw_namespace=namespace,
            curated_namespace="no_such_namespace",
            catalog="local",
            expire_as_of=expire_as_of,
        )

    # Not passed: the snapshots are younger than the table's day of retention, so all stay.
    maintain(None)
    assert len(summaries(table)) >= 3
    # Two days on, only the last snapshot is kept.
    two_days_on = (datetime.datetime.now(UTC) + datetime.timedelta(days=2)).isoformat()
    maintain(two_days_on)
    assert len(summaries(table)) == 1
    assert sorted(r["id"] for r in spark.table(table).collect()) == ["a", "b", "c"]


def test_skips_a_table_that_does_not_exist(spark, model, capsys):
    maintenance.run(
        spark,
        model,
        raw_namespace="no_such_namespace",
        curated_namespace="x",
        catalog="local",
        expire_as_of=None,
    )
    assert '"event": "skipped: no such table"' in capsys.readouterr().out
