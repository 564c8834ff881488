#!/usr/bin/env bash
# Fetches the Iceberg Spark runtime that the Spark test harness
# (test/support/spark.ts) puts on PySpark's classpath. Glue 4.0 runs Spark 3.3
# with Iceberg 1.0.0, so the tests use the same pair; PySpark itself comes from
# python/requirements.txt (scripts/setup-python.sh).
#
# Re-running is cheap: nothing is downloaded when the jar is already there.
# Maven's own downloads are kept in .cache/m2 (ignored by git), not ~/.m2.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
artifact='org.apache.iceberg:iceberg-spark-runtime-3.3_2.12:1.0.0'
jar_dir="$root/.cache/jars"
jar="$jar_dir/iceberg-spark-runtime-3.3_2.12-1.0.0.jar"
# Without a POM, Maven would pick the super-POM's plugin version (2.8, from 2014).
plugin='org.apache.maven.plugins:maven-dependency-plugin:3.6.1'

# PySpark starts a JVM; a missing java only shows up later as "Java gateway process exited".
if [ -z "${JAVA_HOME:-}" ] && ! command -v java >/dev/null; then
  echo "setup-spark: 'java' not found and JAVA_HOME is not set; install a JDK (17 works with Spark 3.3)" >&2
  exit 1
fi
if [ -f "$jar" ]; then
  echo "setup-spark: $(basename "$jar") ready"
  exit 0
fi
if ! command -v mvn >/dev/null; then
  echo "setup-spark: 'mvn' not found; install Maven 3.x to download $artifact from Maven Central" >&2
  exit 1
fi

# Copy into a scratch directory first so an interrupted download never leaves a
# truncated jar where the check above would take it for a finished one.
mkdir -p "$jar_dir"
scratch="$(mktemp -d "$jar_dir/.download.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
mvn --batch-mode --quiet --strict-checksums -Dstyle.color=never \
  -Dmaven.repo.local="$root/.cache/m2" \
  "$plugin:copy" -Dartifact="$artifact" -DoutputDirectory="$scratch"
mv "$scratch/$(basename "$jar")" "$jar"
echo "setup-spark: downloaded $(basename "$jar")"
