"""One local Spark session for the whole run (Spark 3.3 with Iceberg 1.0.0, as
on Glue 4.0), built by python/spark_runner.py as for the Node tests' Spark
harness: a Hadoop catalog `local` over a scratch warehouse, the default catalog."""

from __future__ import annotations

import os
import pathlib
import runpy
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
ICEBERG_JAR = REPO / ".cache" / "jars" / "iceberg-spark-runtime-3.3_2.12-1.0.0.jar"
GLUE_SCRIPTS = REPO / "glue-scripts"


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not ICEBERG_JAR.exists():
        pytest.fail(f"{ICEBERG_JAR.name} is missing (.cache/jars): run `bash scripts/setup-spark.sh`")
    if "JAVA_HOME" not in os.environ and shutil.which("java") is None:
        pytest.fail("Spark needs Java: neither JAVA_HOME nor java on PATH is set")
    from spark_runner import build_session

    warehouse = tmp_path_factory.mktemp("warehouse")
    session = build_session(str(warehouse), [str(ICEBERG_JAR)], ["spark.sql.defaultCatalog=local"])
    yield session
    session.stop()


@pytest.fixture(scope="session")
def generated() -> dict[str, dict[str, Any]]:
    """The checked-in generated scripts' globals (ARGUMENTS, MODEL), loaded without running a job."""
    return {
        job: runpy.run_path(str(GLUE_SCRIPTS / f"{job}.py"), run_name="generated")
        for job in ("raw_append", "curate", "close_period", "maintenance")
    }


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> str:
    """A namespace of the test's own, so tests sharing the session do not meet."""
    return "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)


@pytest.fixture
def summaries(spark: Any) -> Callable[[str], list[dict[str, str]]]:
    """The snapshot summaries of a table, oldest first."""

    def read(table: str) -> list[dict[str, str]]:
        rows = spark.sql(f"SELECT summary FROM {table}.snapshots ORDER BY committed_at").collect()
        return [dict(row["summary"]) for row in rows]

    return read
