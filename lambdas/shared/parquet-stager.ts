import { randomUUID } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import type { Table } from '../../lib/model/index.ts';
import { parquetSchema } from '../../lib/model/index.ts';
import type { RawRow } from './row-mapper.ts';

export interface StagedFile {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface ParquetStagerProps {
  readonly table: Table;
  /** Local folder for the file being written (Lambda: /tmp). */
  readonly workDir: string;
  /** Object key of the n-th file (0-based); must be deterministic so a retry overwrites. */
  readonly keyFor: (sequence: number) => string;
  /** Uploads a finished local file under `key`. */
  readonly upload: (localPath: string, key: string) => Promise<void>;
  /** Rows per file; the next row starts a new file. */
  readonly fileRows: number;
  /**
   * Columns whose values are unique blobs (the whole document as JSON): written
   * plainly, without a dictionary attempt or min/max statistics no reader uses.
   * @default - none
   */
  readonly opaqueColumns?: readonly string[];
  /**
   * Rows buffered before a row group is encoded and flushed to disk. This is
   * what bounds memory, whatever the chunk size.
   * @default 10000
   */
  readonly rowGroupRows?: number;
}

/**
 * Streams rows into Parquet files of at most `fileRows` rows, one row group
 * at a time, and uploads each file when it is complete. Only one row group
 * of column values is ever held in memory.
 */
export class ParquetStager {
  private readonly props: ParquetStagerProps;
  private readonly rowGroupRows: number;
  private readonly schema;
  private readonly columnNames: readonly string[];
  private readonly opaque: ReadonlySet<string>;
  private columns: unknown[][] = [];
  private writer: ParquetWriter | undefined;
  private localPath = '';
  private fileRowCount = 0;
  private readonly files: StagedFile[] = [];
  private readonly id = randomUUID();

  constructor(props: ParquetStagerProps) {
    this.props = props;
    this.rowGroupRows = props.rowGroupRows ?? 10_000;
    this.schema = parquetSchema(props.table);
    this.columnNames = props.table.fields.map((f) => f.name);
    this.opaque = new Set(props.opaqueColumns ?? []);
    this.resetBuffers();
  }

  /**
   * Buffers a row. Returns a promise only when the row completes a row group
   * or a file; most rows need no await, which matters at a million rows.
   */
  add(row: RawRow): Promise<void> | undefined {
    if (this.writer === undefined) this.openFile();
    this.columnNames.forEach((name, i) => {
      (this.columns[i] as unknown[]).push(row[name] ?? null);
    });
    this.fileRowCount++;
    const groupFull = (this.columns[0] as unknown[]).length >= this.rowGroupRows;
    const fileFull = this.fileRowCount >= this.props.fileRows;
    return groupFull || fileFull ? this.flush(fileFull) : undefined;
  }

  private async flush(closeFile: boolean): Promise<void> {
    await this.flushRowGroup();
    if (closeFile) await this.closeFile();
  }

  /** Finishes the open file and returns every file written, in order. */
  async finish(): Promise<StagedFile[]> {
    if (this.writer !== undefined) await this.closeFile();
    return [...this.files];
  }

  private openFile(): void {
    // Unique per stager: several chunks may be staged at once in one process (the local runner's Map).
    this.localPath = join(this.props.workDir, `staging-${this.id}-${this.files.length}.parquet`);
    this.writer = new ParquetWriter({
      writer: fileWriter(this.localPath),
      schema: this.schema,
      createdBy: 'ledgerlake',
    });
    this.fileRowCount = 0;
  }

  private async flushRowGroup(): Promise<void> {
    const rows = (this.columns[0] as unknown[]).length;
    if (rows === 0 || this.writer === undefined) return;
    await this.writer.write({
      columnData: this.columnNames.map((name, i) => ({
        name,
        data: this.columns[i] as unknown[],
        ...(this.opaque.has(name) ? { encoding: 'PLAIN' as const, statistics: false } : {}),
      })),
      rowGroupSize: rows,
    });
    this.resetBuffers();
  }

  private async closeFile(): Promise<void> {
    await this.flushRowGroup();
    const writer = this.writer as ParquetWriter;
    await writer.finish();
    this.writer = undefined;
    const key = this.props.keyFor(this.files.length);
    const { size } = await stat(this.localPath);
    await this.props.upload(this.localPath, key);
    await rm(this.localPath, { force: true });
    this.files.push({ key, rows: this.fileRowCount, bytes: size });
  }

  private resetBuffers(): void {
    this.columns = this.columnNames.map(() => []);
  }
}
