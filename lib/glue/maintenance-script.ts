import type { LedgerlakeConfig } from '../config/index.ts';
import type { TableModel } from '../model/index.ts';
import { type GlueJobArguments, JOB_ARGUMENT } from './job-arguments.ts';
import { header, py } from './python.ts';
import { HELPERS, IMPORTS } from './python-common.ts';
import { argumentsDict } from './raw-append-script.ts';
import { namespaceRole } from './table-specs.ts';

const A = JOB_ARGUMENT;

/**
 * glue-scripts/maintenance.py: Iceberg 1.0.0's Spark procedures, with only the
 * arguments that release has (checked against its ExpireSnapshotsProcedure,
 * RemoveOrphanFilesProcedure, RewriteDataFilesProcedure and
 * RewriteManifestsProcedure parameter lists).
 */
export function maintenanceScript(
  model: TableModel,
  config: LedgerlakeConfig,
  args: GlueJobArguments,
): string {
  const tables = model.tables.map((t) => ({
    namespace: `${namespaceRole(t)}_namespace`,
    name: t.name,
    retain_last: t.retention.keepLastSnapshots,
    max_snapshot_age_days: t.retention.maxSnapshotAgeDays,
  }));
  return `${header(
    'Glue 4.0 job: table maintenance.',
    `For every table of the model: compact small data files, rewrite manifests,
expire snapshots older than the table's retention while keeping its last
snapshots, then delete files no snapshot references that are older than
${config.retention.orphanFileMinAgeDays} days (younger ones may belong to a commit in progress).`,
  )}
${IMPORTS}
JOB = "maintenance"
ARGUMENTS = ${py(argumentsDict(args))}
ORPHAN_FILE_MIN_AGE_DAYS = ${py(config.retention.orphanFileMinAgeDays)}
TABLES = ${py(tables)}

${HELPERS}

def main():
    args = job_arguments()
    catalog = checked(args, ${py(A.catalog)}, IDENTIFIER)
    expire_as_of = as_of(args[${py(A.expireAsOf)}])
    spark = SparkSession.builder.getOrCreate()
    for spec in TABLES:
        namespace = checked(args, spec["namespace"], NAMESPACE)
        table = f"{namespace}.{spec['name']}"
        if not table_exists(spark, table):
            log("skipped: no such table", table=table)
            continue
        call(spark, catalog, "rewrite_data_files", table)
        call(spark, catalog, "rewrite_manifests", table)
        expire_before = expire_as_of - datetime.timedelta(days=spec["max_snapshot_age_days"])
        call(
            spark,
            catalog,
            "expire_snapshots",
            table,
            f"older_than => {timestamp(expire_before)}",
            f"retain_last => {spec['retain_last']}",
        )
        # Always from the current time: Iceberg refuses a cutoff less than 24 hours before it.
        orphans_before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=ORPHAN_FILE_MIN_AGE_DAYS)
        call(spark, catalog, "remove_orphan_files", table, f"older_than => {timestamp(orphans_before)}")


def as_of(text):
    """The instant snapshot ages are measured from: --${A.expireAsOf} (ISO 8601, UTC when no offset) or now."""
    if not text:
        return datetime.datetime.now(datetime.timezone.utc)
    instant = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return instant if instant.tzinfo else instant.replace(tzinfo=datetime.timezone.utc)


def timestamp(instant):
    utc = instant.astimezone(datetime.timezone.utc)
    return f"TIMESTAMP '{utc.strftime('%Y-%m-%d %H:%M:%S.%f')}Z'"


def call(spark, catalog, procedure, table, *arguments):
    sql = ", ".join([f"table => '{table}'", *arguments])
    result = spark.sql(f"CALL {catalog}.system.{procedure}({sql})").collect()
    log(procedure, table=table, result=[row.asDict() for row in result])


if __name__ == "__main__":
    main()
`;
}
