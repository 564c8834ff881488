from __future__ import annotations

import argparse
import datetime
from collections.abc import Sequence

import pytest

from ledgerlake_glue.common import (
    ensure_table,
    instant,
    job_arguments,
    read_json,
    table_exists,
    with_commit_properties,
    write_json,
)

SPEC = {
    "required": ["run_id", "staging_root"],
    "defaults": {"raw_namespace": "fq_app_raw", "table_location_root": ""},
    "optional": ["expire_as_of"],
    "patterns": {"run_id": "[A-Za-z0-9_.:-]{1,80}", "raw_namespace": "[A-Za-z_][A-Za-z0-9_]*"},
}
# What Glue puts in sys.argv besides the job's own arguments.
GLUE_OWN = [
    "--JOB_ID",
    "j_1",
    "--JOB_RUN_ID",
    "jr_1",
    "--enable-metrics",
    "true",
    "--job-bookmark-option",
    "x",
]
UTC = datetime.timezone.utc


def glue_get_resolved_options(argv: Sequence[str], names: Sequence[str]) -> dict[str, str]:
    """What awsglue.utils.getResolvedOptions does: every name asked for is required."""
    parser = argparse.ArgumentParser()
    for name in names:
        parser.add_argument("--" + name, required=True)
    return vars(parser.parse_known_args(list(argv[1:]))[0])


@pytest.mark.parametrize("resolve", [None, glue_get_resolved_options], ids=["pyspark", "glue"])
class TestJobArguments:
    def test_gives_required_arguments_and_defaults(self, resolve):
        argv = ["job.py", *GLUE_OWN, "--run_id", "run-1", "--staging_root", "s3://bucket"]
        assert job_arguments(SPEC, argv, resolve) == {
            "run_id": "run-1",
            "staging_root": "s3://bucket",
            "raw_namespace": "fq_app_raw",
            "table_location_root": "",
            "expire_as_of": None,
        }

    def test_passed_arguments_override_defaults(self, resolve):
        argv = [
            "job.py",
            "--run_id",
            "r",
            "--staging_root",
            "/s",
            "--raw_namespace",
            "other",
            "--expire_as_of",
            "x",
        ]
        args = job_arguments(SPEC, argv, resolve)
        assert (args["raw_namespace"], args["expire_as_of"]) == ("other", "x")

    def test_reads_the_equals_form(self, resolve):
        argv = ["job.py", "--run_id=r", "--staging_root=/s", "--expire_as_of=2030-01-01T00:00:00Z"]
        args = job_arguments(SPEC, argv, resolve)
        assert (args["run_id"], args["expire_as_of"]) == ("r", "2030-01-01T00:00:00Z")

    def test_an_empty_optional_argument_is_not_set(self, resolve):
        argv = ["job.py", "--run_id", "r", "--staging_root", "/s", "--expire_as_of", ""]
        assert job_arguments(SPEC, argv, resolve)["expire_as_of"] is None

    def test_fails_when_a_value_breaks_its_pattern(self, resolve):
        argv = ["job.py", "--run_id", "run/../1", "--staging_root", "/s"]
        with pytest.raises(ValueError, match=r"--run_id must match .*, got 'run/\.\./1'"):
            job_arguments(SPEC, argv, resolve)

    def test_fails_when_an_optional_argument_has_no_value(self, resolve):
        argv = ["job.py", "--expire_as_of", "--run_id", "r", "--staging_root", "/s"]
        with pytest.raises((ValueError, SystemExit)):
            job_arguments(SPEC, argv, resolve)


def test_fails_naming_a_missing_required_argument():
    with pytest.raises(ValueError, match="missing job arguments: --staging_root"):
        job_arguments(SPEC, ["job.py", "--run_id", "r"], None)


def test_on_glue_asks_only_for_required_and_passed_arguments():
    asked = []

    def resolve(argv, names):
        asked.append(list(names))
        return glue_get_resolved_options(argv, names)

    job_arguments(SPEC, ["job.py", "--run_id", "r", "--staging_root", "/s", "--raw_namespace", "n"], resolve)
    assert asked == [["run_id", "staging_root", "raw_namespace"]]


def test_the_generated_maintenance_job_runs_without_expire_as_of(generated):
    arguments = generated["maintenance"]["ARGUMENTS"]
    # The Glue job definition passes every default (lib/constructs/glue-jobs.ts), and no --expire_as_of.
    argv = ["maintenance.py", *GLUE_OWN]
    for name, value in arguments["defaults"].items():
        argv += ["--" + name, value]
    for resolve in (None, glue_get_resolved_options):
        assert job_arguments(arguments, argv, resolve)["expire_as_of"] is None
        passed = job_arguments(arguments, [*argv, "--expire_as_of", "2030-01-01T00:00:00Z"], resolve)
        assert passed["expire_as_of"] == "2030-01-01T00:00:00Z"


def test_instant_reads_the_pipelines_instants_as_utc():
    assert instant("2025-06-01T12:00:00.000Z") == datetime.datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert instant("2025-06-01T14:00:00+02:00") == datetime.datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert instant("2025-06-01T12:00:00").tzinfo == UTC


def test_read_json_gives_none_for_a_missing_file_and_what_write_json_wrote(spark, tmp_path):
    uri = str(tmp_path / "_runs" / "run-1" / "report.json")
    assert read_json(spark, uri) is None
    write_json(spark, uri, {"runId": "run-1", "rows": 2})
    write_json(spark, uri, {"runId": "run-1", "rows": 3})
    assert read_json(spark, uri) == {"runId": "run-1", "rows": 3}
    assert (tmp_path / "_runs" / "run-1" / "report.json").read_text().endswith("}\n")


def test_ensure_table_creates_a_table_once_at_its_model_location(spark, namespace, tmp_path):
    spec = {
        "name": "things",
        "location": "raw/app/things",
        "write_order": "`id` ASC",
        "create": "CREATE TABLE IF NOT EXISTS {table} (`id` string) USING iceberg\n{location}",
    }
    table = f"{namespace}.things"
    assert not table_exists(spark, table)
    spark.sql(f"CREATE NAMESPACE {namespace}")
    assert not table_exists(spark, table)
    ensure_table(spark, "test", table, spec, "")
    assert table_exists(spark, table)
    spark.sql(f"INSERT INTO {table} VALUES ('a')")
    ensure_table(spark, "test", table, spec, "")
    assert spark.table(table).count() == 1
    assert spark.sql(f"SHOW TBLPROPERTIES {table} ('sort-order')").first()["value"] == "id ASC NULLS FIRST"

    # The Hadoop catalog refuses a location, so a root is checked on the SQL alone.
    statements = []

    class Recorder:
        def sql(self, text):
            statements.append(text)
            return spark.sql("SELECT 'other' AS tableName")

    ensure_table(Recorder(), "test", table, spec, "s3://bucket/")
    assert statements[1].endswith("\nLOCATION 's3://bucket/raw/app/things'\n")


def test_with_commit_properties_tags_the_sql_commits_of_the_action_only(spark, namespace, summaries):
    table = f"{namespace}.tagged"
    spark.sql(f"CREATE TABLE {table} (id string) USING iceberg")
    with_commit_properties(
        spark, {"ledgerlake.run-id": "run-1"}, lambda: spark.sql(f"INSERT INTO {table} VALUES ('a')")
    )
    spark.sql(f"INSERT INTO {table} VALUES ('b')")
    assert [s.get("ledgerlake.run-id") for s in summaries(table)] == ["run-1", None]
