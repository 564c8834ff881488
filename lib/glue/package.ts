/**
 * Where the Glue jobs' hand-written Python lives: the package `ledgerlake_glue`
 * (one module per job, plus common) under glue/src/. The generated scripts in
 * glue-scripts/ import it; Glue gets the folder as a zip through
 * --extra-py-files (lib/constructs/glue-jobs.ts), local Spark as a Python path
 * (lib/local/spark.ts, docker/spark/run-job.sh).
 */
export const GLUE_PACKAGE = 'ledgerlake_glue';

/** The folder, relative to the repository root, that holds the package: what goes on the Python path. */
export const GLUE_PACKAGE_ROOT = 'glue/src';
