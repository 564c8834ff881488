from __future__ import annotations

import datetime
import json

import pytest

from ledgerlake_glue import raw_append
from ledgerlake_glue.common import write_json

STAGED = (
    "_id string, account_id string, account_name string, account_type string, is_active boolean, "
    "updated_at timestamp, ingest_ts timestamp, _run_id string, _doc_ejson string, "
    "_mapping_errors string, _op string"
)
RUN_1_AT = datetime.datetime(2025, 6, 1, 12)


def stage_accounts(spark, model, root, run_id, ids, at=RUN_1_AT):
    """Staged Parquet of the run, read at `at`, shaped as extraction writes it (every column nullable)."""
    rows = [(i, "A" + i, "Account " + i, "Asset", True, at, at, run_id, "{}", None, "upsert") for i in ids]
    folder = root / model.staging["run_data"].format(collection="accounts", run_id=run_id)
    spark.createDataFrame(rows, STAGED).coalesce(1).write.parquet(str(folder))


def list_keys(spark, model, root, run_id, ids, ingest_ts):
    """The run's complete key listing of accounts: Parquet of _ids, then the manifest naming it."""
    keys = f"staging/keys/{run_id}"
    spark.createDataFrame([(i,) for i in ids], "_id string").coalesce(1).write.parquet(str(root / keys))
    files = [{"key": f"{keys}/{p.name}"} for p in (root / keys).glob("*.parquet")]
    manifest = root / model.staging["keys_manifest"].format(collection="accounts", run_id=run_id)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"files": files, "ingestTs": ingest_ts}))


@pytest.fixture
def model(generated):
    return generated["raw_append"]["MODEL"]


def test_requested_collections_trims_and_refuses_unknown_ones(model):
    assert raw_append.requested_collections(model, " accounts, ,close_tasks ") == ["accounts", "close_tasks"]
    with pytest.raises(ValueError, match=r"unknown collections \['ledger'\]"):
        raw_append.requested_collections(model, "accounts,ledger")


def test_staged_files_are_none_for_a_folder_that_does_not_exist(spark, tmp_path):
    assert raw_append.staged_files(spark, str(tmp_path / "nothing") + "/") == []


def append_accounts(spark, model, namespace, tmp_path, run_id):
    """The raw append of run_id for the accounts collection; its report of the collection."""
    return raw_append.run(
        spark,
        model,
        run_id=run_id,
        staging_root=str(tmp_path) + "/",
        collections="accounts",
        raw_namespace=namespace,
        table_location_root="",
    )["collections"]["accounts"]


def test_appends_once_per_run_and_tombstones_what_the_listing_lacks(
    spark, model, namespace, tmp_path, summaries
):
    def run(run_id):
        return append_accounts(spark, model, namespace, tmp_path, run_id)

    def live_keys():
        """The LiveKeys file without its snapshot id, which must be the table's current one."""
        path = tmp_path / model.staging["live_keys"].format(collection="accounts")
        if not path.exists():
            return None
        written = json.loads(path.read_text())
        if "snapshotId" in written:
            assert written.pop("snapshotId") == current_snapshot(f"{namespace}.accounts")
        return written

    def current_snapshot(table):
        latest = spark.sql(f"SELECT snapshot_id FROM {table}.snapshots ORDER BY committed_at DESC LIMIT 1")
        return str(latest.first()["snapshot_id"])

    def counted_over_raw(table):
        """Live documents counted over the whole table, as the job does with no count to start from."""
        newest = spark.sql(f"SELECT max_by(_op, ingest_ts) AS op FROM {table} GROUP BY _id")
        return newest.where("op = 'upsert'").count()

    stage_accounts(spark, model, tmp_path, "run-1", ["a1", "a2"])
    assert run("run-1") == {
        "status": "appended",
        "rows": 2,
        "deletes": 0,
        "keysListed": False,
        "sourceKeysNotInRaw": 0,
        "liveKeys": 2,
    }
    assert live_keys() == {"runId": "run-1", "liveKeys": 2}
    assert run("run-1")["status"] == "already-appended"
    assert live_keys() == {"runId": "run-1", "liveKeys": 2}
    # A rerun recounts raw only when the count is missing (a job failed before writing it).
    live_keys_path = tmp_path / model.staging["live_keys"].format(collection="accounts")
    write_json(spark, str(live_keys_path), {"runId": "kept", "liveKeys": 7})
    assert run("run-1")["status"] == "already-appended"
    assert live_keys() == {"runId": "kept", "liveKeys": 7}
    live_keys_path.unlink()
    assert run("run-1")["status"] == "already-appended"
    assert live_keys() == {"runId": "run-1", "liveKeys": 2}
    # Nothing staged, nothing listed: raw and its count stay as they are.
    assert run("run-0") == {
        "status": "nothing-staged",
        "rows": 0,
        "deletes": 0,
        "keysListed": False,
        "sourceKeysNotInRaw": 0,
    }
    assert live_keys() == {"runId": "run-1", "liveKeys": 2}

    list_keys(spark, model, tmp_path, "run-2", ["a1", "a3"], "2025-06-02T00:00:00.000Z")
    # a1 stays live, a2 gets its tombstone, a3 was never read: one live key.
    assert run("run-2") == {
        "status": "appended",
        "rows": 0,
        "deletes": 1,
        "keysListed": True,
        "sourceKeysNotInRaw": 1,
        "liveKeys": 1,
    }
    assert live_keys() == {"runId": "run-2", "liveKeys": 1}
    # Run again, the listing is reconciled again and tombstones nothing twice.
    assert run("run-2") == {
        "status": "already-appended",
        "rows": 0,
        "deletes": 1,
        "keysListed": True,
        "sourceKeysNotInRaw": 1,
        "liveKeys": 1,
    }
    table = f"{namespace}.accounts"
    tombstone = spark.sql(f"SELECT * FROM {table} WHERE _op = 'delete'").collect()
    assert [(r["_id"], r["_run_id"], r["_doc_ejson"], r["ingest_ts"]) for r in tombstone] == [
        ("a2", "run-2", "{}", datetime.datetime(2025, 6, 2))
    ]
    assert [(s["ledgerlake.run-id"], s["ledgerlake.deletes"]) for s in summaries(table)] == [
        ("run-1", "0"),
        ("run-2", "1"),
    ]
    report = json.loads((tmp_path / model.staging["report"].format(run_id="run-2")).read_text())
    assert report["collections"]["accounts"]["status"] == "already-appended"

    # ReconcileDeletes: run-3's rows are in raw when CheckDeletes asks for its listing, which lacks a1.
    stage_accounts(spark, model, tmp_path, "run-3", ["a4"])
    assert run("run-3")["liveKeys"] == 2
    list_keys(spark, model, tmp_path, "run-3", ["a4"], "2025-06-03T00:00:00.000Z")
    reconciled = {
        "status": "appended",
        "rows": 1,
        "deletes": 1,
        "keysListed": True,
        "sourceKeysNotInRaw": 0,
        "liveKeys": 1,
    }
    assert run("run-3") == reconciled
    assert live_keys() == {"runId": "run-3", "liveKeys": 1}
    assert run("run-3") == {**reconciled, "status": "already-appended"}
    assert [(s["ledgerlake.run-id"], s["ledgerlake.deletes"]) for s in summaries(table)][2:] == [
        ("run-3", "0"),
        ("run-3", "1"),
    ]
    live = spark.sql(
        f"SELECT _id, max_by(_op, ingest_ts) AS op FROM {table} GROUP BY _id ORDER BY _id"
    ).collect()
    assert [(r["_id"], r["op"]) for r in live] == [("a1", "delete"), ("a2", "delete"), ("a4", "upsert")]

    # Counted from run 3's count (of the current snapshot) and the raw rows of the staged keys:
    # a2 back after its tombstone, a4 read again, a5 new.
    stage_accounts(spark, model, tmp_path, "run-4", ["a2", "a4", "a5"], datetime.datetime(2025, 6, 4))
    assert run("run-4")["liveKeys"] == 3 == counted_over_raw(table)
    assert live_keys() == {"runId": "run-4", "liveKeys": 3}


def test_a_job_failing_as_it_appends_leaves_no_live_key_count(spark, model, namespace, tmp_path, monkeypatch):
    def run(run_id):
        return append_accounts(spark, model, namespace, tmp_path, run_id)

    live_keys = tmp_path / model.staging["live_keys"].format(collection="accounts")
    stage_accounts(spark, model, tmp_path, "run-1", ["a1"])
    assert run("run-1")["liveKeys"] == 1
    assert live_keys.exists()

    def failing(*args):
        raise RuntimeError("the append failed")

    stage_accounts(spark, model, tmp_path, "run-2", ["a2"])
    monkeypatch.setattr(raw_append, "with_table_schema", failing)
    with pytest.raises(RuntimeError, match="the append failed"):
        run("run-2")
    # The count said 1; whether or not the append got in, the next plan must not trust it.
    assert not live_keys.exists()
    monkeypatch.undo()
    assert run("run-2")["liveKeys"] == 2
    written = json.loads(live_keys.read_text())
    assert {k: written[k] for k in ("runId", "liveKeys")} == {"runId": "run-2", "liveKeys": 2}


def test_with_table_schema_keeps_the_tables_required_columns(spark, namespace):
    spark.sql(f"CREATE TABLE {namespace}.strict (id string NOT NULL, note string) USING iceberg")
    target = spark.table(f"{namespace}.strict")
    rows = spark.createDataFrame([("a", None)], "id string, note string")
    typed = raw_append.with_table_schema(spark, rows, target)
    assert [(f.name, f.nullable) for f in typed.schema] == [("id", False), ("note", True)]
    typed.writeTo(f"{namespace}.strict").append()
    assert spark.table(f"{namespace}.strict").count() == 1
