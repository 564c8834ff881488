from __future__ import annotations

import pytest

from ledgerlake_glue import curate


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
