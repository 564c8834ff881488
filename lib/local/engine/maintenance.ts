import type { Table } from '../../model/index.ts';
import { DEFAULT_MAX_ROWS_PER_FILE, writePartitionedFiles } from '../iceberg/data-files.ts';
import type { ManifestEntry } from '../iceberg/manifests.ts';
import { currentSchema, type IcebergTable, referencedDataFile, scanOver } from '../iceberg/table-ops.ts';
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
  /** The table after maintenance: live data files and their bytes, position delete files left, snapshots kept. */
  readonly dataFiles: number;
  readonly deleteFiles: number;
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
      deleteFiles: stats.deleteFiles,
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
 * A data file with position deletes (merge-on-read) is rewritten whatever
 * its size, without the deleted rows, and its delete files go with it (as
 * rewrite_data_files with `delete-file-threshold` 1).
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
  const live = await iceberg.liveFiles();
  const named = new Set(live.deletes.map((e) => referencedDataFile(e.dataFile)));
  // Another writer's delete files may name any data file of their partition: they mark them all.
  const foreign = live.deletes.filter((e) => referencedDataFile(e.dataFile) === undefined);
  const partitionOf = (e: ManifestEntry) => JSON.stringify(e.dataFile.partition);
  const deletedIn = new Set(foreign.map(partitionOf));
  const hasDeletes = (path: string, partition: string) => named.has(path) || deletedIn.has(partition);
  const groups = new Map<string, { paths: string[]; deletes: boolean }>();
  for (const entry of live.data) {
    const file = entry.dataFile;
    const key = partitionOf(entry);
    const deletes = hasDeletes(file.path, key);
    if (!deletes && (Number(file.fileSizeInBytes) >= smallBytes || Number(file.recordCount) >= smallRows))
      continue;
    const group = groups.get(key) ?? { paths: [], deletes: false };
    groups.set(key, { paths: [...group.paths, file.path], deletes: group.deletes || deletes });
  }
  const removed = new Set(
    [...groups.values()].filter((g) => g.deletes || g.paths.length >= minInputFiles).flatMap((g) => g.paths),
  );
  if (removed.size === 0) return { before: 0, after: 0 };
  const rewritten = { data: live.data.filter((e) => removed.has(e.dataFile.path)), deletes: live.deletes };
  const added = await writePartitionedFiles(
    context.connection,
    table,
    `SELECT * FROM ${scanOver(rewritten, currentSchema(loaded.metadata))}`,
    (p) => iceberg.dataFilePath(p),
  );
  // Another writer's delete files are left naming none once every data file of their partition is
  // rewritten (the new files are newer than the deletes).
  const keptIn = new Set(live.data.filter((d) => !removed.has(d.dataFile.path)).map(partitionOf));
  const removedDeletes = foreign.filter((e) => !keptIn.has(partitionOf(e))).map((e) => e.dataFile.path);
  await iceberg.commit({ operation: 'replace', added, removed: [...removed], removedDeletes });
  return { before: removed.size, after: added.length };
}
