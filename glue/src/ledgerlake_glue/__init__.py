"""The hand-written side of ledgerlake's Glue 4.0 jobs (PySpark 3.3, Iceberg 1.0.0).

Each job is a module (raw_append, curate, maintenance) whose run() takes the
table model's decisions as a Model and the job's arguments as parameters.
The entry points in glue-scripts/ are generated from the TypeScript model
(`npm run gen`, lib/glue): they hold only that data and call run(). Glue gets
this package through --extra-py-files (lib/constructs/glue-jobs.ts).
"""
