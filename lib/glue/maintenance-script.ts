import type { LedgerlakeConfig } from '../config/index.ts';
import { JOB_ARGUMENT } from '../contracts/index.ts';
import type { TableModel } from '../model/index.ts';
import { entryPointScript } from './entry-point.ts';
import type { GlueJobArguments } from './job-arguments.ts';
import { namespaceRole } from './table-specs.ts';

const A = JOB_ARGUMENT;

/** glue-scripts/maintenance.py: compaction, manifest rewrites, snapshot expiry and orphan removal per table. */
export function maintenanceScript(
  model: TableModel,
  config: LedgerlakeConfig,
  args: GlueJobArguments,
): string {
  return entryPointScript({
    job: 'maintenance',
    title: 'Glue 4.0 job: table maintenance.',
    description: `For every table of the model: compact small data files, rewrite manifests,
expire snapshots older than the table's retention while keeping its last
snapshots, then delete files no snapshot references that are older than
${config.retention.orphanFileMinAgeDays} days (younger ones may belong to a commit in progress).`,
    args,
    model: [
      {
        name: 'tables',
        value: model.tables.map((t) => ({
          layer: namespaceRole(t),
          name: t.name,
          retain_last: t.retention.keepLastSnapshots,
          max_snapshot_age_days: t.retention.maxSnapshotAgeDays,
        })),
      },
      { name: 'orphan_file_min_age_days', value: config.retention.orphanFileMinAgeDays },
    ],
    parameters: {
      raw_namespace: A.rawNamespace,
      curated_namespace: A.curatedNamespace,
      catalog: A.catalog,
      expire_as_of: A.expireAsOf,
    },
  });
}
