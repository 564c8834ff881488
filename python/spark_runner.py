"""Runs one PySpark script against a local Iceberg catalog: the Spark side of the tests.

usage: spark_runner.py --warehouse DIR --jar ICEBERG_RUNTIME_JAR [--jar JAR]... [--conf KEY=VALUE]...
                       [--python-path DIR]... [--] SCRIPT [ARG...]
       spark_runner.py --serve --warehouse DIR --jar ... [--conf ...] [--python-path DIR]...

test/support/spark.ts starts this with the project virtualenv's Python. The
session matches Glue 4.0 (Spark 3.3, Iceberg 1.0.0) and has one Iceberg
catalog, `local`, of type hadoop over DIR, so a table `local.ns.t` lives in
DIR/ns/t; each --conf adds a session setting (e.g. spark.sql.defaultCatalog=local),
which may register further catalogs; each further --jar joins the classpath
(e.g. the AWS SDK jars Iceberg's GlueCatalog and S3FileIO need); each
--python-path DIR is importable by the script and by Spark's Python workers
(e.g. glue/src, the package the generated Glue scripts import, as Glue's
--extra-py-files makes it importable there).
SCRIPT runs with these globals:

  spark      the SparkSession
  args       the ARGs, as strings
  warehouse  DIR
  rows(x)    a DataFrame or SQL text, collected as JSON-ready dicts
  emit(x)    prints x as one marked line of JSON; the harness returns the last one
  run_job(path, argv)
             runs a job script (a generated Glue script) as its own __main__
             with sys.argv = [path, *argv], in this session

JSON-ready means: decimals as strings that keep their scale ("12.3400"),
timestamps as ISO 8601 in UTC, dates as ISO dates, binary as base64, NaN and
infinities as strings; integers beyond 2^53, which JavaScript would round
(snapshot ids), are refused: CAST them to STRING in SQL. The session and this
process run in UTC, so the naive datetimes PySpark returns for TIMESTAMP
columns are UTC wall-clock times.

On failure the traceback (Java stack traces shortened) goes to stderr after
FAILURE_MARKER, where the harness finds it among Spark's own log lines.

With --serve there is no SCRIPT: the process keeps its session and runs job
scripts one after another, as lib/local/spark-job-server.ts asks, until
stdin ends. Each request is one line of JSON on stdin,
{"job": PATH, "argv": [ARG...], "warehouse": DIR}; the job runs as run_job
would run it, in a new SparkSession of its own whose `local` catalog is over
DIR, and one line, JOB_MARKER followed by {"ok": true} or {"ok": false,
"error": TRACEBACK}, answers it on stdout. What a job could leave behind for
the next is reset (see run_served_job): only the JVM, warm, and the
SparkContext are shared, where Glue starts both for each job run.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import decimal
import json
import math
import os
import re
import sys
import time
import traceback
from typing import Any

FAILURE_MARKER = "--- spark_runner: script failed ---"
JAVA_FRAMES_KEPT = 3
MAX_SAFE_INTEGER = 2**53 - 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--jar", required=True, action="append")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--python-path", action="append", default=[], metavar="DIR")
    parser.add_argument("--serve", action="store_true", help="run job scripts sent on stdin (see above)")
    parser.add_argument("script", nargs="?")
    parser.add_argument("args", nargs="*")
    options = parser.parse_args()
    if (options.script is None) != options.serve:
        parser.error("give either SCRIPT or --serve")
    spark = None
    try:
        add_python_path(options.python_path)
        started = time.monotonic()
        spark = build_session(options.warehouse, options.jar, options.conf)
        print(f"spark_runner: session ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
        if options.serve:
            serve(spark, options.python_path)
        else:
            run_script(spark, options.script, options.args, options.warehouse)
        return 0
    except Exception as error:  # noqa: BLE001 - whatever failed, the harness needs the traceback
        print(FAILURE_MARKER, file=sys.stderr)
        print(shorten_java_frames(format_failure(error)), file=sys.stderr)
        return 1
    finally:
        if spark is not None:
            spark.stop()


def add_python_path(directories: list[str]) -> None:
    """Makes the directories importable here and, through PYTHONPATH, which
    Spark passes on, in the Python workers."""
    absolute = [os.path.abspath(directory) for directory in directories]
    sys.path[:0] = absolute
    inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
    os.environ["PYTHONPATH"] = os.pathsep.join([*absolute, *inherited])


def build_session(warehouse: str, jars: list[str], conf: list[str]) -> Any:
    # UTC everywhere: PySpark turns TIMESTAMP values into naive datetimes in the
    # Python process's zone, and Iceberg's day partitions are UTC days.
    os.environ["TZ"] = "UTC"
    time.tzset()
    # The workers must be this interpreter, so they import the same cloudpickle.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    use_python311_cloudpickle()

    from pyspark.sql import SparkSession

    # Spark 3.3's launcher already adds the --add-opens flags Java 17 needs. The parallel
    # collector: a curate job here is about 200 small Spark jobs on a 1 GiB heap, and on 2 cores
    # one A/B against G1, Java 17's default, gave 79-81 s against 82-90 s for the same Glue jobs
    # and 59-64 ms against 70-76 ms for a trivial job. Results do not depend on it.
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("ledgerlake-tests")
        .config("spark.jars", ",".join(jars))
        .config("spark.driver.memory", "1g")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC -XX:+UseParallelGC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config("spark.sql.catalog.local", "org.apache.iceberg.spark.SparkCatalog")
        .config("spark.sql.catalog.local.type", "hadoop")
        .config("spark.sql.catalog.local.warehouse", warehouse)
    )
    for setting in conf:
        key, separator, value = setting.partition("=")
        if not separator:
            raise ValueError(f"--conf must be KEY=VALUE, got {setting!r}")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def use_python311_cloudpickle() -> None:
    """PySpark 3.3 bundles cloudpickle 2.0.0, which fails on Python 3.11 code
    objects ("IndexError: tuple index out of range") whenever a lambda or UDF
    is shipped to the workers. cloudpickle 2.2.1 (python/requirements.txt)
    handles 3.11; PySpark pickles only through pyspark.serializers, and the
    workers unpickle with plain pickle, which imports what the stream names."""
    import cloudpickle
    import pyspark.serializers

    pyspark.serializers.cloudpickle = cloudpickle


def run_script(spark: Any, path: str, args: list[str], warehouse: str) -> None:
    with open(path, encoding="utf-8") as file:
        source = file.read()
    namespace = {
        "__name__": "__main__",
        "__file__": path,
        "spark": spark,
        "args": args,
        "warehouse": warehouse,
        "rows": lambda data: rows(spark, data),
        "emit": emit,
        "run_job": run_job,
    }
    exec(compile(source, path, "exec"), namespace)  # noqa: S102 - running the script is the point


# Marks the answer to a served job's request on stdout, among the job's own log lines.
JOB_MARKER = "@@ledgerlake-job@@ "


def serve(spark: Any, python_path: list[str]) -> None:
    """Runs the jobs requested on stdin, one at a time, until stdin ends."""
    for line in sys.stdin:
        if line.strip():
            print(JOB_MARKER + json.dumps(run_served_job(spark, json.loads(line), python_path)), flush=True)


def run_served_job(spark: Any, request: dict[str, Any], python_path: list[str]) -> dict[str, Any]:
    """Runs one job as a fresh Glue job run would see it: a new SparkSession
    (its own SQL settings, temporary views and catalogs, so no Iceberg table
    cached by an earlier job) whose `local` catalog is over the request's
    warehouse, and the modules under --python-path imported anew."""
    from pyspark.sql import SparkSession

    # The builder keeps the options it was given (build_session's, this process's warehouse among them,
    # and an earlier job's), and getOrCreate() in the job would apply them again to its session.
    SparkSession.builder._options.clear()
    session = spark.newSession()
    session.conf.set("spark.sql.catalog.local.warehouse", request["warehouse"])
    make_default_session(session)
    forget_modules_under(python_path)
    try:
        run_job(request["job"], list(request["argv"]))
        return {"ok": True}
    except Exception as error:  # noqa: BLE001 - the harness reports whatever failed
        return {"ok": False, "error": shorten_java_frames(format_failure(error))}
    finally:
        # Data a job cached (CACHE TABLE, DataFrame.cache) lives in state every session shares.
        session.catalog.clearCache()
        make_default_session(spark)


def make_default_session(session: Any) -> None:
    """What SparkSession.builder.getOrCreate() returns, in Python and in the JVM
    (PySpark 3.3, pinned in python/requirements.txt, keeps it in these class attributes)."""
    from pyspark.sql import SparkSession

    SparkSession._instantiatedSession = session
    SparkSession._activeSession = session
    session._jvm.SparkSession.setDefaultSession(session._jsparkSession)
    session._jvm.SparkSession.setActiveSession(session._jsparkSession)


def forget_modules_under(directories: list[str]) -> None:
    """Drops the modules imported from these directories, so the next import runs them anew."""
    roots = tuple(os.path.join(os.path.abspath(directory), "") for directory in directories)
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(roots):
            del sys.modules[name]


def run_job(path: str, argv: list[str]) -> None:
    """Runs a job script as `python path argv...` would, but in this session:
    its SparkSession.builder.getOrCreate() returns the session built here."""
    with open(path, encoding="utf-8") as file:
        source = file.read()
    saved = sys.argv
    sys.argv = [path, *argv]
    try:
        exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path})  # noqa: S102
    finally:
        sys.argv = saved


def rows(spark: Any, data: Any) -> list[Any]:
    frame = spark.sql(data) if isinstance(data, str) else data
    return [jsonable(row) for row in frame.collect()]


# Marks the result line: the JVM may print to stdout after it (stack traces at shutdown).
RESULT_MARKER = "@@ledgerlake-result@@ "


def emit(value: Any) -> None:
    print(RESULT_MARKER + json.dumps(jsonable(value), allow_nan=False), flush=True)


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            # JSON.parse would round it silently; snapshot ids are the usual case.
            raise TypeError(f"emit: {value} is beyond JavaScript's exact integers; CAST it to STRING")
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        # format "f" never switches to exponent notation and keeps the scale.
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)
        return aware.astimezone(datetime.timezone.utc).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "asDict"):  # pyspark Row; checked before tuple, which it is
        return {key: jsonable(item) for key, item in value.asDict().items()}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    raise TypeError(f"emit cannot turn {type(value).__name__} into JSON: {value!r}")


def format_failure(error: Exception) -> str:
    """The traceback from the first frame outside this file: the script's own
    line comes first, not main() and exec()."""
    frames = error.__traceback__
    while frames is not None and frames.tb_frame.f_code.co_filename == __file__:
        frames = frames.tb_next
    return "".join(traceback.format_exception(type(error), error, frames or error.__traceback__))


_JAVA_FRAME = re.compile(r"^\s+at \S+\(.*\)$")


def shorten_java_frames(text: str) -> str:
    """Keeps the first few frames of each Java stack trace, so the messages and
    their "Caused by:" lines fit in the harness's error."""
    kept: list[str] = []
    run = 0
    for line in text.splitlines():
        if _JAVA_FRAME.match(line):
            run += 1
            if run <= JAVA_FRAMES_KEPT:
                kept.append(line)
            elif run == JAVA_FRAMES_KEPT + 1:
                kept.append("\t...")
        else:
            run = 0
            kept.append(line)
    return "\n".join(kept)


if __name__ == "__main__":
    sys.exit(main())
