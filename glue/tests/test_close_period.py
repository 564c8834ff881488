from __future__ import annotations

import datetime

import pytest

from ledgerlake_glue import close_period, maintenance
from ledgerlake_glue.schema import prepare_tables

UTC = datetime.timezone.utc


@pytest.fixture
def model(generated):
    return generated["close_period"]["MODEL"]


@pytest.fixture
def ledger(spark, generated, namespace):
    """trial_balance_gold and journal_entries_silver as the generated curate job creates them,
    with June's balances."""
    specs = {t["name"]: t for t in generated["curate"]["MODEL"].curated_tables}
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    names = ("trial_balance_gold", "journal_entries_silver")
    prepare_tables(spark, "test", {f"{namespace}.{n}": specs[n] for n in names}, "")
    balance(spark, namespace, "100")
    nulls = ", ".join(["NULL"] * (len(spark.table(f"{namespace}.journal_entries_silver").columns) - 1))
    spark.sql(f"INSERT INTO {namespace}.journal_entries_silver SELECT 'e1', {nulls}")
    return namespace


def balance(spark, namespace, amount):
    """Cash's June row of the trial balance, replaced by one closing at amount."""
    spark.sql(f"DELETE FROM {namespace}.trial_balance_gold WHERE account_id = '1000'")
    spark.sql(
        f"INSERT INTO {namespace}.trial_balance_gold VALUES "
        f"(DATE '2025-06-01', '1000', 'Cash', 'Asset', 'debit', 0, {amount}, 0, {amount})"
    )


def close(spark, model, namespace, run_id, period="2025-06", reopen="false"):
    return close_period.run(
        spark,
        model,
        run_id=run_id,
        close_period=period,
        reopen=reopen,
        raw_namespace="no_such_namespace",
        curated_namespace=namespace,
        table_location_root="",
    )


def cash_closing(spark, table, snapshot_id=None):
    travel = "" if snapshot_id is None else f" VERSION AS OF {snapshot_id}"
    rows = spark.sql(
        f"SELECT CAST(closing_balance AS STRING) AS c FROM {table}{travel} WHERE account_id = '1000'"
    )
    return [r["c"] for r in rows.collect()]


def test_records_the_month_and_tags_every_curated_table_that_exists(spark, model, ledger):
    result = close(spark, model, ledger, "run-1")
    assert (result["status"], result["closeNumber"], result["accounts"]) == ("closed", 1, 1)
    snapshots = {s["table"]: s["snapshotId"] for s in result["snapshots"]}
    assert sorted(snapshots) == ["journal_entries_silver", "trial_balance_gold"]
    for name, snapshot_id in snapshots.items():
        table = f"{ledger}.{name}"
        assert close_period.tags(spark, table) == {"close-2025-06": int(snapshot_id)}
        assert close_period.current_snapshot_id(spark, table) == int(snapshot_id)
    rows = spark.sql(
        f"SELECT close_number, reopened, run_id, CAST(closing_balance AS STRING) AS c, "
        f"transform(snapshots, s -> s.table_name) AS tables FROM {ledger}.trial_balance_closed_gold"
    ).collect()
    assert [(r["close_number"], r["reopened"], r["run_id"], r["c"]) for r in rows] == [
        (1, False, "run-1", "100.0000")
    ]
    assert sorted(rows[0]["tables"]) == ["journal_entries_silver", "trial_balance_gold"]
    # The same run again (a retry): nothing is recorded twice.
    assert close(spark, model, ledger, "run-1")["status"] == "already-closed"
    assert spark.table(f"{ledger}.trial_balance_closed_gold").count() == 1


def test_the_tag_keeps_the_month_as_closed_through_changes_and_expiry_and_reopen_moves_it(
    spark, model, ledger
):
    snapshots = close(spark, model, ledger, "run-1")["snapshots"]
    tagged = int(next(s["snapshotId"] for s in snapshots if s["table"] == "trial_balance_gold"))
    balance(spark, ledger, "120")
    table = f"{ledger}.trial_balance_gold"
    assert cash_closing(spark, table) == ["120.0000"]
    # The maintenance job with the least retention there is, two days on: every snapshot but the
    # current one is past its age; the tagged one stays, and so do its files (orphan removal ran too).
    least = [{"layer": "curated", "name": "trial_balance_gold", "retain_last": 1, "max_snapshot_age_days": 1}]
    maintenance.run(
        spark,
        maintenance.Model(tables=least, orphan_file_min_age_days=3),
        raw_namespace="no_such_namespace",
        curated_namespace=ledger,
        catalog="local",
        expire_as_of=(datetime.datetime.now(UTC) + datetime.timedelta(days=2)).isoformat(),
    )
    kept = {r["snapshot_id"] for r in spark.sql(f"SELECT snapshot_id FROM {table}.snapshots").collect()}
    assert tagged in kept and len(kept) == 2
    assert cash_closing(spark, table, tagged) == ["100.0000"]

    with pytest.raises(
        close_period.PeriodCloseRefused,
        match=r"2025-06 is closed \(close 1, by run run-1 at .*\); to close it again",
    ):
        close(spark, model, ledger, "run-2")
    with pytest.raises(
        close_period.PeriodCloseRefused, match="2025-05 has not been closed, so it cannot be reopened"
    ):
        close(spark, model, ledger, "run-2", period="2025-05", reopen="true")
    again = close(spark, model, ledger, "run-2", reopen="true")
    assert (again["status"], again["closeNumber"]) == ("closed", 2)
    assert close_period.tags(spark, table)["close-2025-06"] == close_period.current_snapshot_id(spark, table)
    closes = spark.sql(
        "SELECT close_number, reopened, CAST(closing_balance AS STRING) AS c "
        f"FROM {ledger}.trial_balance_closed_gold ORDER BY close_number"
    ).collect()
    assert [(r["close_number"], r["reopened"], r["c"]) for r in closes] == [
        (1, False, "100.0000"),
        (2, True, "120.0000"),
    ]


def test_refuses_a_month_without_a_trial_balance_and_a_malformed_month(spark, model, ledger):
    with pytest.raises(
        close_period.PeriodCloseRefused,
        match="2024-01 has no trial balance to close: trial_balance_gold holds 2025-06 to 2025-06",
    ):
        close(spark, model, ledger, "run-1", period="2024-01")
    with pytest.raises(ValueError, match="close_period must be a month as YYYY-MM"):
        close(spark, model, ledger, "run-1", period="2025-6")
