#!/usr/bin/env bash
# Command of the spark service: resolves spark.jars.packages (the Iceberg
# runtime and hadoop-aws) into the Ivy cache volume, so the first job does not
# wait for the download, marks the container healthy, then idles until stopped.
# Jobs are started with `docker compose exec spark /opt/ledgerlake/spark/run-job.sh`.
set -euo pipefail
home="${LEDGERLAKE_HOME:-/opt/ledgerlake}"
ready=/tmp/ledgerlake-spark-ready
rm -f "$ready"
noop="$(mktemp --suffix=.py)"
echo 'print("ledgerlake: Spark packages resolved")' >"$noop"
"${SPARK_HOME:-/opt/spark}/bin/spark-submit" --properties-file "$home/spark/ledgerlake.conf" "$noop"
touch "$ready"
# As PID 1, bash ignores SIGTERM unless trapped; without this `docker compose stop` waits its 10 s.
trap 'exit 0' TERM INT
sleep infinity &
wait
