#!/usr/bin/env bash
# Fetches what the Spark test harness (lib/local/spark.ts) puts on PySpark's
# classpath. Glue 4.0 runs Spark 3.3 with Iceberg 1.0.0, so the tests use the
# same pair; PySpark itself comes from python/requirements.txt
# (scripts/setup-python.sh).
#
#   .cache/jars/iceberg-spark-runtime-3.3_2.12-1.0.0.jar   the Iceberg runtime
#   .cache/jars/aws/   the AWS SDK modules Iceberg's GlueCatalog and S3FileIO
#                      call, S3A for s3:// paths (scripts/aws-sdk/pom.xml), and
#                      the endpoint-overriding client factory compiled from
#                      tools/aws-client-factory/ (tests against moto)
#
# Re-running is cheap: nothing is downloaded or compiled when the jars are
# there and their inputs have not changed. Maven's own downloads are kept in
# .cache/m2 (ignored by git), not ~/.m2.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
artifact='org.apache.iceberg:iceberg-spark-runtime-3.3_2.12:1.0.0'
jar_dir="$root/.cache/jars"
jar="$jar_dir/iceberg-spark-runtime-3.3_2.12-1.0.0.jar"
aws_pom="$root/scripts/aws-sdk/pom.xml"
aws_dir="$jar_dir/aws"
factory_src="$root/tools/aws-client-factory"
factory_jar_name='ledgerlake-aws-client-factory.jar'
# Without a POM, Maven would pick the super-POM's plugin version (2.8, from 2014).
plugin='org.apache.maven.plugins:maven-dependency-plugin:3.6.1'

# PySpark starts a JVM; a missing java only shows up later as "Java gateway process exited".
if [ -z "${JAVA_HOME:-}" ] && ! command -v java >/dev/null; then
  echo "setup-spark: 'java' not found and JAVA_HOME is not set; install a JDK (17 works with Spark 3.3)" >&2
  exit 1
fi

require_mvn() {
  if ! command -v mvn >/dev/null; then
    echo "setup-spark: 'mvn' not found; install Maven 3.x to download $1 from Maven Central" >&2
    exit 1
  fi
}

mvn_quiet() {
  mvn --batch-mode --quiet --strict-checksums -Dstyle.color=never -Dmaven.repo.local="$root/.cache/m2" "$@"
}

# Work happens in a scratch directory that replaces the target only when
# complete, so an interrupted run never leaves what the checks take for done.
scratch=''
trap '[ -z "$scratch" ] || rm -rf "$scratch"' EXIT
mkdir -p "$jar_dir"

if [ -f "$jar" ]; then
  echo "setup-spark: $(basename "$jar") ready"
else
  require_mvn "$artifact"
  scratch="$(mktemp -d "$jar_dir/.download.XXXXXX")"
  mvn_quiet "$plugin:copy" -Dartifact="$artifact" -DoutputDirectory="$scratch"
  mv "$scratch/$(basename "$jar")" "$jar"
  rm -rf "$scratch"
  echo "setup-spark: downloaded $(basename "$jar")"
fi

# The stamp names the inputs' content: editing the POM or the factory's source
# rebuilds the directory; anything else finds it ready.
mapfile -d '' sources < <(find "$factory_src" -name '*.java' -print0 | LC_ALL=C sort -z)
stamp="$(cat "$aws_pom" "${sources[@]}" | sha256sum | cut -c1-16)"
if [ "$(cat "$aws_dir/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "setup-spark: AWS jars ready"
  exit 0
fi
require_mvn 'the AWS SDK modules'
if ! command -v javac >/dev/null && [ ! -x "${JAVA_HOME:-}/bin/javac" ]; then
  echo "setup-spark: 'javac' not found; the moto tests need a JDK, not only a JRE" >&2
  exit 1
fi
javac="${JAVA_HOME:+$JAVA_HOME/bin/}javac"
jar_tool="${JAVA_HOME:+$JAVA_HOME/bin/}jar"
scratch="$(mktemp -d "$jar_dir/.download.XXXXXX")"
mvn_quiet -f "$aws_pom" "$plugin:copy-dependencies" -DoutputDirectory="$scratch/jars"
# Spark 3.3 runs on Java 8 to 17: compile for the oldest.
"$javac" --release 8 -nowarn -d "$scratch/classes" -cp "$jar:$scratch/jars/*" "${sources[@]}"
"$jar_tool" --create --file "$scratch/jars/$factory_jar_name" -C "$scratch/classes" .
echo "$stamp" >"$scratch/jars/.stamp"
rm -rf "$aws_dir"
mv "$scratch/jars" "$aws_dir"
echo "setup-spark: AWS jars in .cache/jars/aws ($(du -sh "$aws_dir" | cut -f1))"
