import type { Table } from '../../model/index.ts';
import { DEFAULT_MAX_ROWS_PER_FILE, writePartitionedFiles } from '../iceberg/data-files.ts';
import { currentSchema, type IcebergTable, relationOver } from '../iceberg/table-ops.ts';
import { type EngineContext, openTable } from './context.ts';

const DAY_MS = 86_400_000;

export interface MaintenanceOptions {
  /** The time maintenance runs at; retention ages count back from it. @default - now */
  readonly nowMs?: number;
  /**
   * Data files below this size (and below 75% of the row cap) are compacted with the others of their partition.
   * @default - 75% of the table's write.target-file-size-bytes, as Iceberg's rewrite_data_files
   */
  readonly smallFileBytes?: number;
  /** Compact a partition once it has at least this many small files. @default 2 */
  readonly minInputFiles?: number;
}

export interface TableMaintenance {
  readonly table: string;
  readonly expiredSnapshots: number;
  readonly deletedFiles: number;
  readonly orphanFilesRemoved: number;
  readonly filesCompacted: number;
  readonly filesAfterCompaction: number;
  readonly manifestsRewritten: boolean;
  /** The table after maintenance: live data files and their bytes, snapshots kept. */
  readonly dataFiles: number;
  readonly dataBytes: number;
  readonly snapshots: number;
}

/**
 * The maintenance job, per table of the model: compaction of small files,
 * manifest rewrite, then snapshot expiry under the table's layer retention
 * (keep the last N, expire older than D days) and orphan-file removal past
 * the configured age. Compaction runs first so the snapshots it supersedes
 * can expire in the same run once they are old enough.
 */
export async function maintain(
  context: EngineContext,
  options: MaintenanceOptions = {},
): Promise<TableMaintenance[]> {
  const now = options.nowMs ?? Date.now();
  const results: TableMaintenance[] = [];
  for (const table of context.model.tables) {
    const iceberg = await openTable(context, table);
    const compaction = await compact(context, iceberg, table, options);
    const manifests = await iceberg.rewriteManifests();
    const expiry = await iceberg.expireSnapshots({
      olderThanMs: now - table.retention.maxSnapshotAgeDays * DAY_MS,
      retainLast: table.retention.keepLastSnapshots,
    });
    const orphans = await iceberg.removeOrphanFiles(
      now - context.config.retention.orphanFileMinAgeDays * DAY_MS,
    );
    const stats = await iceberg.stats();
    results.push({
      table: `${table.database}.${table.name}`,
      expiredSnapshots: expiry.expiredSnapshots,
      deletedFiles: expiry.deletedFiles,
      orphanFilesRemoved: orphans.length,
      filesCompacted: compaction.before,
      filesAfterCompaction: compaction.after,
      manifestsRewritten: manifests !== undefined,
      dataFiles: stats.files,
      dataBytes: Number(stats.bytes),
      snapshots: stats.snapshots,
    });
  }
  return results;
}

/**
 * Rewrites each partition's small data files into as few files as the row cap
 * allows, in the table's sort order (Iceberg's bin-pack rewrite_data_files),
 * committed as a `replace` snapshot: the rows are the same, only the files change.
 */
export async function compact(
  context: EngineContext,
  iceberg: IcebergTable,
  table: Table,
  options: MaintenanceOptions = {},
): Promise<{ before: number; after: number }> {
  const loaded = await iceberg.load();
  const target = Number(loaded.metadata.properties['write.target-file-size-bytes'] ?? 536_870_912);
  const smallBytes = options.smallFileBytes ?? target * 0.75;
  const smallRows = DEFAULT_MAX_ROWS_PER_FILE * 0.75;
  const minInputFiles = options.minInputFiles ?? 2;
  const groups = new Map<string, string[]>();
  for (const entry of await iceberg.liveEntries()) {
    const file = entry.dataFile;
    if (Number(file.fileSizeInBytes) >= smallBytes || Number(file.recordCount) >= smallRows) continue;
    const key = JSON.stringify(file.partition);
    groups.set(key, [...(groups.get(key) ?? []), file.path]);
  }
  const removed = [...groups.values()].filter((paths) => paths.length >= minInputFiles).flat();
  if (removed.length === 0) return { before: 0, after: 0 };
  const added = await writePartitionedFiles(
    context.connection,
    table,
    `SELECT * FROM ${relationOver(removed, currentSchema(loaded.metadata))}`,
    (p) => iceberg.dataFilePath(p),
  );
  await iceberg.commit({ operation: 'replace', added, removed });
  return { before: removed.length, after: added.length };
}
