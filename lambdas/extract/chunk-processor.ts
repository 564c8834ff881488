import { createHash, type Hash } from 'node:crypto';
import { BSON } from 'mongodb';
import { stagingLayout } from '../../lib/contracts/index.ts';
import { DOC_EJSON_COLUMN, type Table } from '../../lib/model/index.ts';
import { ParquetStager, type StagedFile } from '../shared/parquet-stager.ts';
import { RowMapper } from '../shared/row-mapper.ts';

/**
 * As the driver decodes a cursor's documents with `promoteValues: false`, which
 * keeps Int32/Long/Double/Decimal128 distinct, for exact money and faithful
 * Extended JSON (the driver's other defaults are deserialize's own).
 */
const DECODE = { promoteValues: false } as const;

/** Everything a chunk's processing needs; plain data, so it can be sent to a worker thread. */
export interface ChunkProcessorSetup {
  /** The raw table the rows are for. */
  readonly table: Table;
  /** The collection's watermark field, mapped leniently (RowMapperOptions). @default - none */
  readonly watermarkField?: string;
  readonly runId: string;
  readonly ingestTsMicros: bigint;
  /** Local folder for the Parquet file being written. */
  readonly workDir: string;
  /** Where the chunk's files go (stagingLayout.dataFile). */
  readonly app: string;
  readonly collection: string;
  readonly chunkIndex: number;
  readonly fileRows: number;
  /** Hash the documents read (full reloads): see extractChunk. */
  readonly hashContent: boolean;
}

/** What processing a chunk's documents produced. */
export interface ProcessedChunk {
  readonly documents: number;
  readonly quarantined: number;
  readonly quarantineReasons: Readonly<Record<string, number>>;
  readonly undeclaredFields: readonly string[];
  readonly files: readonly StagedFile[];
  readonly contentSha256?: string;
}

/** Uploads a finished local Parquet file under `key`. */
export type Upload = (localPath: string, key: string) => Promise<void>;

/**
 * The CPU-bound half of extracting a chunk: decodes each document's BSON
 * once, maps it to the raw row shape (RowMapper; `_doc_ejson` from the bytes)
 * and streams the rows into Parquet files (ParquetStager). The cursor half
 * only hands raw documents over, in key order, so this can run on the same
 * thread or on a worker thread (ExtractionThreads) with the same result.
 */
export class ChunkProcessor {
  private readonly mapper: RowMapper;
  private readonly stager: ParquetStager;
  private readonly stamp: { runId: string; ingestTsMicros: bigint };
  private readonly content: Hash | undefined;
  private documents = 0;
  private quarantined = 0;
  private readonly reasons = new Map<string, number>();

  constructor(setup: ChunkProcessorSetup, upload: Upload) {
    const { table } = setup;
    this.mapper = new RowMapper(
      table,
      setup.watermarkField === undefined ? {} : { watermarkField: setup.watermarkField },
    );
    this.stamp = { runId: setup.runId, ingestTsMicros: setup.ingestTsMicros };
    this.stager = new ParquetStager({
      table,
      workDir: setup.workDir,
      keyFor: (part) =>
        stagingLayout.dataFile(setup.app, setup.collection, setup.runId, setup.chunkIndex, part),
      upload,
      fileRows: setup.fileRows,
      opaqueColumns: [DOC_EJSON_COLUMN],
    });
    // The hash starts with the raw table's schema: a model change makes every reload differ.
    this.content = setup.hashContent
      ? createHash('sha256').update(JSON.stringify(table.fields)).update('\0')
      : undefined;
  }

  /** Takes one document; returns a promise only when a row group or a file is being written. */
  add(raw: Uint8Array): Promise<void> | undefined {
    this.content?.update(raw);
    const { row, errors } = this.mapper.map(BSON.deserialize(raw, DECODE), this.stamp, raw);
    this.documents++;
    if (errors.length > 0) {
      this.quarantined++;
      for (const error of errors) {
        const reason = reasonOf(error);
        this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
      }
    }
    return this.stager.add(row);
  }

  /** Nothing to undo: a file being written stays in the work folder, as any interrupted write. */
  abort(): void {}

  async finish(): Promise<ProcessedChunk> {
    const files = await this.stager.finish();
    const contentSha256 = this.content?.digest('hex');
    return {
      documents: this.documents,
      quarantined: this.quarantined,
      quarantineReasons: Object.fromEntries([...this.reasons].sort(([a], [b]) => a.localeCompare(b))),
      undeclaredFields: [...this.mapper.undeclaredFields].sort(),
      files,
      ...(contentSha256 === undefined ? {} : { contentSha256 }),
    };
  }
}

/** Groups messages by field and problem, without the offending value or list positions. */
export function reasonOf(error: string): string {
  return error.replace(/\[\d+\]/g, '[]').replace(/(, got .*| \(.*\))$/s, '');
}
