"""What the jobs share: their arguments, log lines, and the few catalog and
file calls SQL cannot express."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession
from pyspark.sql.utils import AnalysisException

# (argv, names) -> {name: value}: awsglue.utils.getResolvedOptions, which fails on a name not passed.
Resolver = Callable[[Sequence[str], Sequence[str]], Mapping[str, str]]


def job_arguments(
    spec: Mapping[str, Any], argv: Sequence[str], resolve: Resolver | None = None
) -> dict[str, str | None]:
    """The job's arguments by name, as the ARGUMENTS of a generated script
    declares them (lib/glue/job-arguments.ts): `required` ones must be passed,
    `defaults` ones may be, `optional` ones are None unless passed (an empty
    value counts as not passed), and each value must fully match its entry in
    `patterns`. argv is sys.argv; other arguments (Glue's own) are ignored.

    On Glue, getResolvedOptions reads the required arguments and those of the
    others that were passed: it fails on a name that was not. Without awsglue
    (plain PySpark) argv is read directly, with the same rules.
    """
    if resolve is None:
        resolve = glue_resolver()
    required, defaults = list(spec["required"]), dict(spec["defaults"])
    if resolve is None:
        values = {name: passed_value(argv, name) for name in [*required, *defaults]}
        missing = [name for name in required if values[name] is None]
        if missing:
            raise ValueError(f"missing job arguments: {', '.join('--' + name for name in missing)}")
    else:
        resolved = resolve(argv, [*required, *(name for name in defaults if is_passed(argv, name))])
        values = {name: resolved.get(name) for name in [*required, *defaults]}
    for name, default in defaults.items():
        if values[name] is None:
            values[name] = default
    for name in spec["optional"]:
        values[name] = passed_value(argv, name) or None
    for name, pattern in spec["patterns"].items():
        value = values.get(name)
        if value is not None and not re.fullmatch(pattern, value):
            raise ValueError(f"--{name} must match {pattern}, got {value!r}")
    return values


def glue_resolver() -> Resolver | None:
    """Glue's getResolvedOptions when the job runs on Glue, else None."""
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        return None
    return getResolvedOptions


def is_passed(argv: Sequence[str], name: str) -> bool:
    flag = "--" + name
    return any(arg == flag or arg.startswith(flag + "=") for arg in argv[1:])


def passed_value(argv: Sequence[str], name: str) -> str | None:
    """The value of --name in argv (`--name value` or `--name=value`; the last
    one wins), or None when it is not there."""
    flag = "--" + name
    value = None
    arguments = list(argv[1:])
    for index, arg in enumerate(arguments):
        if arg == flag:
            following = arguments[index + 1] if index + 1 < len(arguments) else None
            if following is None or following.startswith("--"):
                raise ValueError(f"{flag} needs a value")
            value = following
        elif arg.startswith(flag + "="):
            value = arg[len(flag) + 1 :]
    return value


def log(job: str, event: str, **fields: Any) -> None:
    """One JSON line in the job's driver log."""
    print(json.dumps({"job": job, "event": event, **fields}, default=str), flush=True)


def instant(text: str) -> datetime.datetime:
    """An ISO 8601 instant (the pipeline writes 2025-06-01T12:00:00.000Z) as an
    aware datetime; one without an offset is UTC. Python 3.10 (Glue 4.0)
    does not read the Z itself."""
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=datetime.timezone.utc)


def table_exists(spark: SparkSession, table: str) -> bool:
    namespace, name = table.rsplit(".", 1)
    try:
        tables = spark.sql(f"SHOW TABLES IN {namespace}")
    except AnalysisException:  # no such namespace, as Spark reports it
        return False
    except Py4JJavaError as error:  # ... and as Iceberg's Hadoop catalog does
        if error.java_exception.getClass().getSimpleName() == "NoSuchNamespaceException":
            return False
        raise
    # Collected, not counted: the command's rows are already on the driver, and a count would run Spark
    # jobs (two with adaptive execution) for every table of every job.
    return any(row["tableName"] == name for row in tables.collect())


def ensure_table(
    spark: SparkSession, job: str, table: str, spec: Mapping[str, Any], location_root: str
) -> None:
    """Creates a model table that does not exist yet, at its model location
    when a root is given. spec is a table of the generated script: `create`
    (DDL with {table} and {location} fields), `write_order` and `location`."""
    if table_exists(spark, table):
        return
    location = f"LOCATION '{location_root.rstrip('/')}/{spec['location']}'\n" if location_root else ""
    spark.sql(spec["create"].format(table=table, location=location))
    if spec["write_order"] is not None:
        spark.sql(f"ALTER TABLE {table} WRITE ORDERED BY {spec['write_order']}")
    log(job, "table created", table=table)


def hadoop_file(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """A Hadoop path and its file system (S3 on Glue, local files on plain PySpark)."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def read_json(spark: SparkSession, uri: str) -> Any:
    """A small JSON object the pipeline wrote (a plan, a key listing), or None when there is none."""
    path, filesystem = hadoop_file(spark, uri)
    if not filesystem.exists(path):
        return None
    stream = filesystem.open(path)
    try:
        data = spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
    finally:
        stream.close()
    return json.loads(bytes(data).decode("utf-8"))


def write_json(spark: SparkSession, uri: str, value: Any) -> None:
    """Writes a job report where the Commit step reads it, replacing any earlier one."""
    path, filesystem = hadoop_file(spark, uri)
    stream = filesystem.create(path, True)
    try:
        stream.write(bytearray((json.dumps(value, indent=2) + "\n").encode("utf-8")))
    finally:
        stream.close()


def delete_file(spark: SparkSession, uri: str) -> None:
    """Removes a file the pipeline wrote; none there is fine."""
    path, filesystem = hadoop_file(spark, uri)
    filesystem.delete(path, False)


def with_commit_properties(
    spark: SparkSession, properties: Mapping[str, str], action: Callable[[], Any]
) -> None:
    """Runs action() so that its Iceberg commits carry properties in their
    snapshot summary. Iceberg 1.0 offers this for SQL writes only to JVM
    callers (CommitMetadata, a thread-local); py4j calls the Python callable
    back on the calling JVM thread (PySpark's pinned-thread mode), where the
    SQL then runs."""
    from pyspark.java_gateway import ensure_callback_server_started

    context = spark.sparkContext
    ensure_callback_server_started(context._gateway)
    java_properties = context._jvm.java.util.HashMap()
    for key, value in properties.items():
        java_properties.put(key, value)
    context._jvm.org.apache.iceberg.spark.CommitMetadata.withCommitProperties(
        java_properties, _JavaCallable(action), context._jvm.java.lang.RuntimeException._java_lang_class
    )


class _JavaCallable:
    def __init__(self, action: Callable[[], Any]) -> None:
        self._action = action

    def call(self) -> None:
        self._action()

    class Java:
        implements: ClassVar[list[str]] = ["java.util.concurrent.Callable"]
