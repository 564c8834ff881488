import { RUN_ID_SUMMARY_KEY } from '../../contracts/index.ts';
import type { Warehouse } from './warehouse.ts';

export interface TableListing {
  /** `<database>.<table>` */
  readonly table: string;
  readonly layer: string;
  readonly rows: bigint;
  /** Live data files. */
  readonly files: number;
  /** Live position delete files: merge-on-read corrections that compaction has not applied yet. */
  readonly deleteFiles: number;
  readonly snapshots: number;
  readonly currentSnapshotId: bigint | null;
}

export interface SnapshotListing {
  readonly snapshotId: bigint;
  /** ISO 8601, UTC. */
  readonly committedAt: string;
  readonly operation: string;
  /** The pipeline run that wrote it (`ledgerlake.run-id`), null for maintenance commits. */
  readonly runId: string | null;
  readonly addedRecords: bigint | null;
  /** Iceberg's `total-records`: rows in the data files, rows a position delete names included. */
  readonly totalRecords: bigint | null;
  readonly current: boolean;
}

/** Rows, live data and delete files, and snapshots of every table in the warehouse. */
export async function listTables(warehouse: Warehouse): Promise<TableListing[]> {
  const out: TableListing[] = [];
  for (const { iceberg, qualifiedName, table } of warehouse.tables) {
    const { rows, files, deleteFiles, snapshots, currentSnapshotId } = await iceberg.stats();
    out.push({
      table: qualifiedName,
      layer: table.layer,
      rows,
      files,
      deleteFiles,
      snapshots,
      currentSnapshotId,
    });
  }
  return out;
}

/** The snapshots a table keeps, oldest first: the ids and times that time travel can name. */
export async function listSnapshots(warehouse: Warehouse, name: string): Promise<SnapshotListing[]> {
  const { iceberg } = warehouse.find(name);
  return (await iceberg.history()).map((s) => ({
    snapshotId: s.snapshotId,
    committedAt: s.committedAt.toISOString(),
    operation: s.operation,
    runId: s.summary[RUN_ID_SUMMARY_KEY] ?? null,
    addedRecords: count(s.summary['added-records']),
    totalRecords: count(s.summary['total-records']),
    current: s.current,
  }));
}

function count(text: string | undefined): bigint | null {
  return text === undefined ? null : BigInt(text);
}
