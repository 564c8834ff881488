import { randomUUID } from 'node:crypto';
import type { Table } from '../../model/index.ts';
import { icebergPartitionSpecJson, icebergSchemaJson } from '../../model/index.ts';

/** Table metadata, format version 2, as the Iceberg spec lays it out in `vN.metadata.json`. */
export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': bigint;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: unknown[];
  'default-spec-id': number;
  'partition-specs': unknown[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': unknown[];
  properties: Record<string, string>;
  'current-snapshot-id': bigint;
  refs: Record<string, { 'snapshot-id': bigint; type: 'branch' | 'tag' }>;
  snapshots: Snapshot[];
  'snapshot-log': { 'timestamp-ms': number; 'snapshot-id': bigint }[];
  'metadata-log': { 'timestamp-ms': number; 'metadata-file': string }[];
}

export interface Snapshot {
  'snapshot-id': bigint;
  'parent-snapshot-id'?: bigint;
  'sequence-number': bigint;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: { operation: 'append' | 'replace' | 'overwrite' | 'delete'; [key: string]: string };
  'schema-id': number;
}

/** "No current snapshot", as Iceberg 1.0 writes it. */
export const NO_SNAPSHOT = -1n;

/** Metadata of a new, empty table at `location`, from the table model. */
export function newTableMetadata(table: Table, location: string, now = Date.now()): TableMetadata {
  const spec = icebergPartitionSpecJson(table);
  const fieldIds = new Map(table.fields.map((f) => [f.name, f.id]));
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location,
    'last-sequence-number': 0n,
    'last-updated-ms': now,
    'last-column-id': table.lastColumnId,
    'current-schema-id': 0,
    schemas: [icebergSchemaJson(table)],
    'default-spec-id': spec['spec-id'],
    'partition-specs': [spec],
    'last-partition-id': Math.max(999, ...table.partitionFields.map((p) => p.fieldId)),
    'default-sort-order-id': table.sortBy.length === 0 ? 0 : 1,
    'sort-orders': [
      { 'order-id': 0, fields: [] },
      ...(table.sortBy.length === 0
        ? []
        : [
            {
              'order-id': 1,
              fields: table.sortBy.map((s) => ({
                transform: 'identity',
                'source-id': fieldIds.get(s.column),
                direction: s.direction,
                'null-order': s.direction === 'asc' ? 'nulls-first' : 'nulls-last',
              })),
            },
          ]),
    ],
    properties: { ...table.properties },
    'current-snapshot-id': NO_SNAPSHOT,
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  };
}

/** Normalises what another writer produced: long fields become bigint whatever their size in the JSON. */
export function normaliseMetadata(raw: TableMetadata): TableMetadata {
  const long = (v: unknown) => (v === undefined || v === null ? undefined : BigInt(v as number | bigint));
  return {
    ...raw,
    'last-sequence-number': long(raw['last-sequence-number']) ?? 0n,
    'current-snapshot-id': long(raw['current-snapshot-id']) ?? NO_SNAPSHOT,
    refs: Object.fromEntries(
      Object.entries(raw.refs ?? {}).map(([name, ref]) => [
        name,
        { ...ref, 'snapshot-id': long(ref['snapshot-id']) as bigint },
      ]),
    ),
    snapshots: (raw.snapshots ?? []).map((s) => ({
      ...s,
      'snapshot-id': long(s['snapshot-id']) as bigint,
      ...(s['parent-snapshot-id'] === undefined
        ? {}
        : { 'parent-snapshot-id': long(s['parent-snapshot-id']) as bigint }),
      'sequence-number': long(s['sequence-number']) ?? 0n,
    })),
    'snapshot-log': (raw['snapshot-log'] ?? []).map((e) => ({
      ...e,
      'snapshot-id': long(e['snapshot-id']) as bigint,
    })),
    'metadata-log': raw['metadata-log'] ?? [],
  };
}

export function currentSnapshot(metadata: TableMetadata): Snapshot | undefined {
  return metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
}

/** A new snapshot id: positive, random, and below 2^53 so every JSON reader keeps it exact. */
export function newSnapshotId(): bigint {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let id = 0n;
  for (const b of bytes) id = (id << 8n) | BigInt(b);
  return id & ((1n << 53n) - 1n) || 1n;
}

/**
 * The metadata after committing `snapshot` on main: the snapshot becomes
 * current, the sequence number advances and the logs record the change.
 * `previousFile` is the metadata file being replaced (for the metadata log).
 */
export function withSnapshot(
  base: TableMetadata,
  snapshot: Snapshot,
  previousFile: string | undefined,
): TableMetadata {
  return {
    ...base,
    'last-sequence-number': snapshot['sequence-number'],
    'last-updated-ms': snapshot['timestamp-ms'],
    'current-snapshot-id': snapshot['snapshot-id'],
    refs: { ...base.refs, main: { 'snapshot-id': snapshot['snapshot-id'], type: 'branch' } },
    snapshots: [...base.snapshots, snapshot],
    'snapshot-log': [
      ...base['snapshot-log'],
      { 'timestamp-ms': snapshot['timestamp-ms'], 'snapshot-id': snapshot['snapshot-id'] },
    ],
    'metadata-log': nextMetadataLog(base, previousFile),
  };
}

/**
 * The metadata log of the version that replaces `base` (stored in
 * `previousFile`): it gains that file and keeps the newest
 * `write.metadata.previous-versions-max` entries.
 */
export function nextMetadataLog(
  base: TableMetadata,
  previousFile: string | undefined,
): TableMetadata['metadata-log'] {
  const log =
    previousFile === undefined
      ? base['metadata-log']
      : [...base['metadata-log'], { 'timestamp-ms': base['last-updated-ms'], 'metadata-file': previousFile }];
  return log.slice(-Number(base.properties['write.metadata.previous-versions-max'] ?? '100'));
}
