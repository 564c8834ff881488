import { RUN_ID_SUMMARY_KEY } from './job-arguments.ts';
import { py } from './python.ts';

/**
 * Python shared by the generated scripts: job arguments, checks and the few
 * catalog calls SQL cannot express. Each script embeds it, so a script is
 * one self-contained file as Glue expects.
 */

export const IMPORTS = `import argparse
import datetime
import json
import re
import sys

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.functions import col, lit
from pyspark.sql.utils import AnalysisException
`;

// Same rule as lambdas/shared/staging-layout.ts assertRunId: run ids become paths and commit tags.
const RUN_ID_PATTERN = '[A-Za-z0-9_.:-]{1,80}';
// One or more dot-separated identifiers: a Glue database, or a Hadoop catalog's nested namespace.
const NAMESPACE_PATTERN = '[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*';

export const HELPERS = `RUN_ID_SUMMARY_KEY = ${py(RUN_ID_SUMMARY_KEY)}
RUN_ID = re.compile(${py(RUN_ID_PATTERN)})
NAMESPACE = re.compile(${py(NAMESPACE_PATTERN)})
IDENTIFIER = re.compile("[A-Za-z_][A-Za-z0-9_]*")
LOCATION_ROOT = re.compile("[^'\\\\\\\\\\\\s]*")


def job_arguments():
    """Glue's getResolvedOptions when awsglue is there; argparse with the same names on plain PySpark."""
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        parser = argparse.ArgumentParser(allow_abbrev=False)
        for name, default in ARGUMENTS.items():
            parser.add_argument("--" + name, required=default is None, default=default)
        return vars(parser.parse_known_args()[0])
    # getResolvedOptions fails on a name that was not passed: ask for optional ones only when present.
    passed = [name for name, default in ARGUMENTS.items() if default is None or "--" + name in sys.argv]
    resolved = getResolvedOptions(sys.argv, passed)
    return {name: resolved.get(name, default) for name, default in ARGUMENTS.items()}


def checked(args, name, pattern):
    value = args[name]
    if not pattern.fullmatch(value):
        raise ValueError(f"--{name} must match {pattern.pattern}, got {value!r}")
    return value


def log(event, **fields):
    print(json.dumps({"job": JOB, "event": event, **fields}, default=str), flush=True)


def table_exists(spark, table):
    namespace, name = table.rsplit(".", 1)
    try:
        tables = spark.sql(f"SHOW TABLES IN {namespace}")
    except AnalysisException:  # no such namespace
        return False
    return tables.where(col("tableName") == name).count() > 0


def ensure_table(spark, table, spec, location_root):
    """Creates a model table that does not exist yet, at its model location when a root is given."""
    if table_exists(spark, table):
        return
    location = f"LOCATION '{location_root.rstrip('/')}/{spec['location']}'\\n" if location_root else ""
    spark.sql(spec["create"].format(table=table, location=location))
    if spec["write_order"] is not None:
        spark.sql(f"ALTER TABLE {table} WRITE ORDERED BY {spec['write_order']}")
    log("table created", table=table)


def hadoop_file(spark, uri):
    """A Hadoop path and its file system (S3 on Glue, local files on plain PySpark)."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def read_json(spark, uri):
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


def write_json(spark, uri, value):
    """Writes a job report where the Commit step reads it."""
    path, filesystem = hadoop_file(spark, uri)
    stream = filesystem.create(path, True)
    try:
        stream.write(bytearray((json.dumps(value, indent=2) + "\\n").encode("utf-8")))
    finally:
        stream.close()


def instant(text):
    """An ISO 8601 UTC instant from the pipeline (2025-06-01T12:00:00.000Z) as an aware datetime."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def committed_by_run(spark, table, run_id):
    """Whether a snapshot of the table carries the run id: the run's commit already happened."""
    snapshots = spark.table(table + ".snapshots")
    return snapshots.where(col("summary")[RUN_ID_SUMMARY_KEY] == run_id).limit(1).count() > 0
`;
