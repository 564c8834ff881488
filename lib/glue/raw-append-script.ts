import { DELETES_SUMMARY_KEY, JOB_ARGUMENT, RUN_ID_SUMMARY_KEY, stagingLayout } from '../contracts/index.ts';
import { deletedKeys, latestRawKeys, liveRawKeys, unreadSourceKeys } from '../curate/deletes.ts';
import { spark } from '../curate/dialect.ts';
import { DOC_EJSON_COLUMN, OP_COLUMN, RAW_OP, type TableModel } from '../model/index.ts';
import { entryPointScript } from './entry-point.ts';
import type { GlueJobArguments } from './job-arguments.ts';
import { formatSafe } from './spark-ddl.ts';
import { tableSpec } from './table-specs.ts';

const A = JOB_ARGUMENT;

/** glue-scripts/raw_append.py: the run's staged Parquet appended to the raw tables, once per run id. */
export function rawAppendScript(model: TableModel, args: GlueJobArguments): string {
  const raw = model.tables.filter((t) => t.layer === 'raw' && t.sourceCollection !== undefined);
  return entryPointScript({
    job: 'raw_append',
    title: 'Glue 4.0 job: raw append.',
    description: `Appends the staged Parquet of one run (${stagingLayout.runDataPrefix(model.app, '<collection>', '<run_id>')})
to each raw Iceberg table, with the run id in the snapshot summary, and a
tombstone for each document the run's key listing no longer has. A rerun
appends nothing twice. Keeps each table's live document count for the next
plan (${stagingLayout.liveKeys(model.app, '<collection>')}).`,
    args,
    model: [
      {
        name: 'tables',
        value: Object.fromEntries(raw.map((t) => [t.sourceCollection as string, tableSpec(t)])),
      },
      {
        name: 'staging',
        comment: `str.format templates under --${A.stagingRoot} (lib/contracts/staging-layout.ts)`,
        value: {
          run_data: stagingLayout.runDataPrefix(model.app, '{collection}', '{run_id}'),
          keys_manifest: stagingLayout.keysManifest(model.app, '{run_id}', '{collection}'),
          live_keys: stagingLayout.liveKeys(model.app, '{collection}'),
          report: stagingLayout.jobReport(model.app, '{run_id}', 'raw-append'),
        },
      },
      { name: 'summary_keys', value: { run_id: RUN_ID_SUMMARY_KEY, deletes: DELETES_SUMMARY_KEY } },
      { name: 'tombstone', value: { [DOC_EJSON_COLUMN]: '{}', [OP_COLUMN]: RAW_OP.delete } },
      {
        name: 'sql',
        comment: 'lib/curate/deletes.ts, rendered for Spark',
        value: {
          latest_raw_keys: latestRawKeys(spark, { raw: 'raw_versions', staged: 'staged_versions' }),
          deleted_keys: formatSafe(
            deletedKeys(spark, 'latest_raw_keys', 'listed_keys', "TIMESTAMP '\u0000run_ingest_ts\u0001'"),
          ),
          unread_source_keys: unreadSourceKeys(spark, 'latest_raw_keys', 'listed_keys'),
          live_raw_keys: liveRawKeys(spark, 'latest_raw_keys'),
        },
      },
    ],
    parameters: {
      run_id: A.runId,
      staging_root: A.stagingRoot,
      collections: A.collections,
      raw_namespace: A.rawNamespace,
      table_location_root: A.tableLocationRoot,
    },
  });
}
