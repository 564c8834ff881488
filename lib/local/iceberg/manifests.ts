import { readFile, writeFile } from 'node:fs/promises';
import { type AvroSchema, decodeAvroFile, encodeAvroFile } from './avro.ts';
import { int32 } from './bounds.ts';

/**
 * Manifests and manifest lists of Iceberg format v2: Avro files with the
 * spec's field ids. Written for the local engine's commits and read back from
 * any writer (Spark's included), resolving fields by id, not by name.
 */

/** What a file a manifest lists holds: rows, or the positions of deleted rows (merge-on-read). */
export const FileContent = { Data: 0, PositionDeletes: 1, EqualityDeletes: 2 } as const;
export type FileContent = (typeof FileContent)[keyof typeof FileContent];

/** Field ids of a position delete file's columns, as the Iceberg spec reserves them. */
export const POSITION_DELETE_FIELD_IDS = { filePath: 2147483546, pos: 2147483545 } as const;

/**
 * A data file (or position delete file) as a manifest describes it; counts and
 * bounds are keyed by field id.
 */
export interface DataFile {
  /** Where to read the file: a local path. */
  readonly path: string;
  /** The location as the manifest records it, when not `path` (Spark writes `file:` URIs). */
  readonly location?: string;
  /** @default FileContent.Data */
  readonly content?: FileContent;
  readonly recordCount: bigint;
  readonly fileSizeInBytes: bigint;
  /** Partition values by partition field name (day/month/year transforms: ints). */
  readonly partition: Readonly<Record<string, unknown>>;
  readonly valueCounts: ReadonlyMap<number, bigint>;
  readonly nullValueCounts: ReadonlyMap<number, bigint>;
  /** Serialized bounds (Iceberg single-value serialization). */
  readonly lowerBounds: ReadonlyMap<number, Uint8Array>;
  readonly upperBounds: ReadonlyMap<number, Uint8Array>;
  /** Carried over from other writers so their metrics survive a rewrite. */
  readonly columnSizes?: ReadonlyMap<number, bigint>;
  readonly nanValueCounts?: ReadonlyMap<number, bigint>;
  readonly splitOffsets?: readonly bigint[];
  readonly sortOrderId?: number;
}

export const EntryStatus = { Existing: 0, Added: 1, Deleted: 2 } as const;
export type EntryStatus = (typeof EntryStatus)[keyof typeof EntryStatus];

export interface ManifestEntry {
  readonly status: EntryStatus;
  readonly snapshotId: bigint;
  /** Data sequence number of the file. */
  readonly sequenceNumber: bigint;
  readonly dataFile: DataFile;
}

export interface PartitionFieldSummary {
  readonly containsNull: boolean;
  readonly lowerBound?: Uint8Array;
  readonly upperBound?: Uint8Array;
}

/** An entry of a manifest list. */
export interface ManifestFile {
  readonly path: string;
  /** What the manifest lists: data files (0) or delete files (1). */
  readonly content: 0 | 1;
  readonly length: bigint;
  readonly specId: number;
  readonly sequenceNumber: bigint;
  readonly minSequenceNumber: bigint;
  readonly addedSnapshotId: bigint;
  readonly addedFilesCount: number;
  readonly existingFilesCount: number;
  readonly deletedFilesCount: number;
  readonly addedRowsCount: bigint;
  readonly existingRowsCount: bigint;
  readonly deletedRowsCount: bigint;
  readonly partitions: readonly PartitionFieldSummary[];
}

/** A partition field with the type of its values. */
export interface ManifestPartitionField {
  readonly name: string;
  readonly fieldId: number;
  /** Avro type of the partition value: `int` for day/month/year, the source's for identity. */
  readonly avroType: string | AvroSchema;
}

/** What a manifest's header says about the table, as Iceberg writes it. */
export interface ManifestContext {
  readonly schemaJson: unknown;
  readonly specId: number;
  readonly partitionSpecFieldsJson: unknown;
  readonly partitionFields: readonly ManifestPartitionField[];
}

const optional = (type: unknown) => ['null', type];

function intMap(fieldId: number, keyId: number, valueId: number, valueType: string) {
  return {
    name: '',
    type: optional({
      type: 'array',
      logicalType: 'map',
      items: {
        type: 'record',
        name: `k${keyId}_v${valueId}`,
        fields: [
          { name: 'key', type: 'int', 'field-id': keyId },
          { name: 'value', type: valueType, 'field-id': valueId },
        ],
      },
    }),
    default: null,
    'field-id': fieldId,
  };
}

function named<T extends { name: string }>(name: string, field: T): T {
  return { ...field, name };
}

/** The manifest entry schema of the spec (v2) for one partition type. */
export function manifestEntrySchema(partitionFields: readonly ManifestPartitionField[]): AvroSchema {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: optional('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: optional('long'), default: null, 'field-id': 3 },
      // Newer than Iceberg 1.0 (which ignores it by id); readers such as icebird require it on existing entries.
      { name: 'file_sequence_number', type: optional('long'), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            {
              name: 'partition',
              'field-id': 102,
              type: {
                type: 'record',
                name: 'r102',
                fields: partitionFields.map((p) => ({
                  name: p.name,
                  type: optional(p.avroType),
                  default: null,
                  'field-id': p.fieldId,
                })),
              },
            },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
            named('column_sizes', intMap(108, 117, 118, 'long')),
            named('value_counts', intMap(109, 119, 120, 'long')),
            named('null_value_counts', intMap(110, 121, 122, 'long')),
            named('nan_value_counts', intMap(137, 138, 139, 'long')),
            named('lower_bounds', intMap(125, 126, 127, 'bytes')),
            named('upper_bounds', intMap(128, 129, 130, 'bytes')),
            { name: 'key_metadata', type: optional('bytes'), default: null, 'field-id': 131 },
            {
              name: 'split_offsets',
              type: optional({ type: 'array', items: 'long', 'element-id': 133 }),
              default: null,
              'field-id': 132,
            },
            {
              name: 'equality_ids',
              type: optional({ type: 'array', items: 'int', 'element-id': 136 }),
              default: null,
              'field-id': 135,
            },
            { name: 'sort_order_id', type: optional('int'), default: null, 'field-id': 140 },
          ],
        },
      },
    ],
  };
}

export const MANIFEST_LIST_SCHEMA: AvroSchema = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      type: optional({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: optional('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: optional('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: optional('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: optional('bytes'), default: null, 'field-id': 519 },
  ],
};

const mapOut = (map: ReadonlyMap<number, unknown> | undefined) =>
  map === undefined ? null : [...map].map(([key, value]) => ({ key, value }));

/**
 * Writes a manifest of `entries` and returns its manifest-list entry.
 * `snapshotId` and `sequenceNumber` are those of the committing snapshot.
 */
export async function writeManifest(
  path: string,
  context: ManifestContext,
  entries: readonly ManifestEntry[],
  snapshotId: bigint,
  sequenceNumber: bigint,
): Promise<ManifestFile> {
  const content = manifestContent(entries, path);
  const records = entries.map((entry) => ({
    status: entry.status,
    snapshot_id: entry.snapshotId,
    sequence_number: entry.sequenceNumber,
    file_sequence_number: entry.sequenceNumber,
    data_file: {
      content: entry.dataFile.content ?? FileContent.Data,
      file_path: entry.dataFile.location ?? entry.dataFile.path,
      file_format: 'PARQUET',
      partition: Object.fromEntries(
        context.partitionFields.map((p) => [p.name, entry.dataFile.partition[p.name] ?? null]),
      ),
      record_count: entry.dataFile.recordCount,
      file_size_in_bytes: entry.dataFile.fileSizeInBytes,
      column_sizes: mapOut(entry.dataFile.columnSizes),
      value_counts: mapOut(entry.dataFile.valueCounts),
      null_value_counts: mapOut(entry.dataFile.nullValueCounts),
      nan_value_counts: mapOut(entry.dataFile.nanValueCounts),
      lower_bounds: mapOut(bufferMap(entry.dataFile.lowerBounds)),
      upper_bounds: mapOut(bufferMap(entry.dataFile.upperBounds)),
      key_metadata: null,
      split_offsets: entry.dataFile.splitOffsets ?? null,
      equality_ids: null,
      sort_order_id: entry.dataFile.sortOrderId ?? null,
    },
  }));
  const bytes = encodeAvroFile(manifestEntrySchema(context.partitionFields), records, {
    schema: JSON.stringify(context.schemaJson),
    'schema-id': String((context.schemaJson as { 'schema-id'?: number })['schema-id'] ?? 0),
    'partition-spec': JSON.stringify(context.partitionSpecFieldsJson),
    'partition-spec-id': String(context.specId),
    'format-version': '2',
    content: content === 0 ? 'data' : 'deletes',
  });
  await writeFile(path, bytes);
  const count = (status: EntryStatus) => entries.filter((e) => e.status === status);
  const rows = (list: readonly ManifestEntry[]) => list.reduce((sum, e) => sum + e.dataFile.recordCount, 0n);
  const live = entries.filter((e) => e.status !== EntryStatus.Deleted);
  return {
    path,
    content,
    length: BigInt(bytes.length),
    specId: context.specId,
    sequenceNumber,
    minSequenceNumber: minBigint(
      live.map((e) => e.sequenceNumber),
      sequenceNumber,
    ),
    addedSnapshotId: snapshotId,
    addedFilesCount: count(EntryStatus.Added).length,
    existingFilesCount: count(EntryStatus.Existing).length,
    deletedFilesCount: count(EntryStatus.Deleted).length,
    addedRowsCount: rows(count(EntryStatus.Added)),
    existingRowsCount: rows(count(EntryStatus.Existing)),
    deletedRowsCount: rows(count(EntryStatus.Deleted)),
    partitions: context.partitionFields.map((p) => summarise(live.map((e) => e.dataFile.partition[p.name]))),
  };
}

/** A manifest lists data files or delete files, never both. */
function manifestContent(entries: readonly ManifestEntry[], path: string): 0 | 1 {
  const deletes = entries.filter((e) => (e.dataFile.content ?? FileContent.Data) !== FileContent.Data);
  if (deletes.length === 0) return 0;
  if (
    deletes.length !== entries.length ||
    deletes.some((e) => e.dataFile.content !== FileContent.PositionDeletes)
  )
    throw new Error(`manifest ${path} would mix data and delete files: write one manifest for each`);
  return 1;
}

/** Math.min takes numbers only; sequence numbers are bigints. */
function minBigint(values: readonly bigint[], start: bigint): bigint {
  let min = start;
  for (const value of values) if (value < min) min = value;
  return min;
}

/** Partition summary of int-valued partition fields (the model's transforms); others keep only the null flag. */
function summarise(values: readonly unknown[]): PartitionFieldSummary {
  const ints = values.filter((v): v is number => typeof v === 'number');
  const containsNull = values.some((v) => v === null || v === undefined);
  if (ints.length === 0 || ints.length + (containsNull ? 1 : 0) < values.length) return { containsNull };
  return {
    containsNull,
    lowerBound: int32(Math.min(...ints)),
    upperBound: int32(Math.max(...ints)),
  };
}

function bufferMap(map: ReadonlyMap<number, Uint8Array>): Map<number, Buffer> {
  return new Map([...map].map(([k, v]) => [k, Buffer.from(v)]));
}

export async function writeManifestList(
  path: string,
  manifests: readonly ManifestFile[],
  snapshotId: bigint,
  parentSnapshotId: bigint | undefined,
  sequenceNumber: bigint,
): Promise<void> {
  const records = manifests.map((m) => ({
    manifest_path: m.path,
    manifest_length: m.length,
    partition_spec_id: m.specId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFilesCount,
    existing_files_count: m.existingFilesCount,
    deleted_files_count: m.deletedFilesCount,
    added_rows_count: m.addedRowsCount,
    existing_rows_count: m.existingRowsCount,
    deleted_rows_count: m.deletedRowsCount,
    partitions: m.partitions.map((p) => ({
      contains_null: p.containsNull,
      contains_nan: false,
      lower_bound: p.lowerBound === undefined ? null : Buffer.from(p.lowerBound),
      upper_bound: p.upperBound === undefined ? null : Buffer.from(p.upperBound),
    })),
    key_metadata: null,
  }));
  await writeFile(
    path,
    encodeAvroFile(MANIFEST_LIST_SCHEMA, records, {
      'snapshot-id': String(snapshotId),
      'parent-snapshot-id': parentSnapshotId === undefined ? 'null' : String(parentSnapshotId),
      'sequence-number': String(sequenceNumber),
      'format-version': '2',
    }),
  );
}

// Reading: fields are resolved by field id, so files written by Iceberg Java
// (whose manifest-list names differ, e.g. added_data_files_count) read the same.

type AvroField = { name: string; type: unknown; 'field-id'?: number };

/** The record's values keyed by field id. */
function byId(schema: unknown, record: unknown): Map<number, unknown> {
  const fields = (schema as { fields: AvroField[] }).fields;
  const values = record as Record<string, unknown>;
  return new Map(fields.map((f) => [f['field-id'] ?? -1, values[f.name] ?? null]));
}

/** The record schema of a field, unwrapping `['null', record]`. */
function recordSchemaOf(field: AvroField | undefined): unknown {
  const type = field?.type;
  return Array.isArray(type) ? type.find((t) => t !== 'null') : type;
}

function fieldById(schema: unknown, id: number): AvroField | undefined {
  return (schema as { fields: AvroField[] }).fields.find((f) => f['field-id'] === id);
}

const mapIn = <V>(value: unknown): Map<number, V> | undefined =>
  value === null || value === undefined
    ? undefined
    : new Map((value as { key: number; value: V }[]).map((kv) => [kv.key, kv.value]));

/** A local path for a location as writers record it: Spark's Hadoop file system writes `file:/...` URIs. */
export function localPath(location: string): string {
  if (location.startsWith('file://')) return location.slice('file://'.length);
  if (location.startsWith('file:')) return location.slice('file:'.length);
  return location;
}

/**
 * Decoded manifest lists and manifests by path. Both are immutable files with
 * unique (UUID) names, whoever wrote them, so a path always reads the same: a
 * job reads the same few many times (every scan, commit and stats of a table
 * reads its snapshot's), and decoding Avro in JavaScript costs milliseconds
 * each. Bounded: the least recently used go first.
 */
class ImmutableFileCache<T> {
  private readonly entries = new Map<string, Promise<T>>();
  constructor(private readonly capacity: number) {}

  get(path: string, read: () => Promise<T>): Promise<T> {
    const cached = this.entries.get(path);
    if (cached !== undefined) {
      this.entries.delete(path);
      this.entries.set(path, cached);
      return cached;
    }
    const reading = read();
    this.entries.set(path, reading);
    // A failed read is not kept: the next one tries the file again.
    reading.catch(() => this.entries.delete(path));
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
    }
    return reading;
  }
}

const MANIFEST_LISTS = new ImmutableFileCache<readonly ManifestFile[]>(256);
const MANIFESTS = new ImmutableFileCache<readonly ManifestEntry[]>(1024);

/** The manifest list at `path` (read once, then from the cache: the result is shared, never change it). */
export function readManifestList(path: string): Promise<readonly ManifestFile[]> {
  return MANIFEST_LISTS.get(localPath(path), () => decodeManifestList(path));
}

async function decodeManifestList(path: string): Promise<ManifestFile[]> {
  const file = decodeAvroFile(await readFile(localPath(path)), path);
  const partitionsField = fieldById(file.schema, 507);
  const summarySchema = (recordSchemaOf(partitionsField) as { items?: unknown } | undefined)?.items;
  return file.records.map((record) => {
    const v = byId(file.schema, record);
    const sequenceNumber = (v.get(515) as bigint | null) ?? 0n;
    return {
      path: localPath(v.get(500) as string),
      content: ((v.get(517) as number | null) ?? 0) === 0 ? 0 : 1,
      length: v.get(501) as bigint,
      specId: v.get(502) as number,
      sequenceNumber,
      minSequenceNumber: (v.get(516) as bigint | null) ?? sequenceNumber,
      addedSnapshotId: v.get(503) as bigint,
      addedFilesCount: (v.get(504) as number | null) ?? 0,
      existingFilesCount: (v.get(505) as number | null) ?? 0,
      deletedFilesCount: (v.get(506) as number | null) ?? 0,
      addedRowsCount: (v.get(512) as bigint | null) ?? 0n,
      existingRowsCount: (v.get(513) as bigint | null) ?? 0n,
      deletedRowsCount: (v.get(514) as bigint | null) ?? 0n,
      partitions: ((v.get(507) as unknown[] | null) ?? []).map((summary) => {
        const s = byId(summarySchema, summary);
        const lower = s.get(510) as Buffer | null;
        const upper = s.get(511) as Buffer | null;
        return {
          containsNull: s.get(509) as boolean,
          ...(lower === null ? {} : { lowerBound: lower }),
          ...(upper === null ? {} : { upperBound: upper }),
        };
      }),
    };
  });
}

/**
 * The entries of a manifest, with the snapshot id and sequence numbers that
 * added entries inherit from their manifest-list entry filled in (read once,
 * then from the cache: the result is shared, never change it).
 */
export function readManifest(manifest: ManifestFile): Promise<readonly ManifestEntry[]> {
  return MANIFESTS.get(manifest.path, () => decodeManifest(manifest));
}

async function decodeManifest(manifest: ManifestFile): Promise<ManifestEntry[]> {
  const file = decodeAvroFile(await readFile(localPath(manifest.path)), manifest.path);
  const dataFileSchema = recordSchemaOf(fieldById(file.schema, 2));
  const partitionSchema = recordSchemaOf(fieldById(dataFileSchema, 102)) as { fields: AvroField[] };
  return file.records.map((record) => {
    const entry = byId(file.schema, record);
    const d = byId(dataFileSchema, entry.get(2));
    const content = ((d.get(134) as number | null) ?? FileContent.Data) as FileContent;
    if (content === FileContent.EqualityDeletes) {
      throw new Error(
        `${manifest.path} lists equality delete files; the local engine reads data files and position deletes only`,
      );
    }
    const partition = d.get(102) as Record<string, unknown>;
    const location = d.get(100) as string;
    return {
      status: entry.get(0) as EntryStatus,
      snapshotId: (entry.get(1) as bigint | null) ?? manifest.addedSnapshotId,
      sequenceNumber: (entry.get(3) as bigint | null) ?? manifest.sequenceNumber,
      dataFile: {
        path: localPath(location),
        ...(localPath(location) === location ? {} : { location }),
        ...(content === FileContent.Data ? {} : { content }),
        recordCount: d.get(103) as bigint,
        fileSizeInBytes: d.get(104) as bigint,
        partition: Object.fromEntries(partitionSchema.fields.map((f) => [f.name, partition[f.name] ?? null])),
        valueCounts: mapIn<bigint>(d.get(109)) ?? new Map(),
        nullValueCounts: mapIn<bigint>(d.get(110)) ?? new Map(),
        lowerBounds: mapIn<Uint8Array>(d.get(125)) ?? new Map(),
        upperBounds: mapIn<Uint8Array>(d.get(128)) ?? new Map(),
        ...optionalField('columnSizes', mapIn<bigint>(d.get(108))),
        ...optionalField('nanValueCounts', mapIn<bigint>(d.get(137))),
        ...optionalField('splitOffsets', (d.get(132) as bigint[] | null) ?? undefined),
        ...optionalField('sortOrderId', (d.get(140) as number | null) ?? undefined),
      },
    };
  });
}

function optionalField<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
