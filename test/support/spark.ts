// The Spark harness lives with the local runner, which uses it for `--engine spark`.
export { runSpark, type SparkOptions } from '../../lib/local/spark.ts';
