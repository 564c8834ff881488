import { randomUUID } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FsCatalog, LoadedTable } from './catalog.ts';
import {
  type DataFile,
  EntryStatus,
  localPath,
  type ManifestContext,
  type ManifestEntry,
  type ManifestFile,
  readManifest,
  readManifestList,
  writeManifest,
  writeManifestList,
} from './manifests.ts';
import {
  currentSnapshot,
  newSnapshotId,
  nextMetadataLog,
  type Snapshot,
  type TableMetadata,
  withSnapshot,
} from './metadata.ts';
import {
  emptyRelation,
  type PartitionSpecJson,
  parquetSchemaArgument,
  partitionAvroType,
  type SchemaJson,
} from './schema-json.ts';

/** Files an overwrite meant to replace were removed by another commit first: its result is stale. */
export class StaleFilesError extends Error {
  constructor(location: string, missing: readonly string[]) {
    super(
      `commit to ${location} is stale: ${missing.length} file(s) it replaces were removed by another commit (first: ${missing[0]}); run the job again`,
    );
    this.name = 'StaleFilesError';
  }
}

/** Which snapshot to read: the current one unless a snapshot id or a point in time is given. */
export interface SnapshotSelector {
  readonly snapshotId?: bigint;
  /** Milliseconds since the epoch: the snapshot that was current then. */
  readonly asOfMs?: number;
}

export type WriteOperation = 'append' | 'overwrite' | 'replace';

export interface CommitRequest {
  readonly operation: WriteOperation;
  readonly added: readonly DataFile[];
  /** Paths of live data files the commit removes (copy-on-write overwrite, compaction). */
  readonly removed?: readonly string[];
  /** Extra snapshot summary properties, e.g. `ledgerlake.run-id`. */
  readonly properties?: Readonly<Record<string, string>>;
  /** Checked against the table each attempt, before anything is written: throw to abandon the commit. */
  readonly precondition?: (base: LoadedTable) => void;
}

export interface ExpireOptions {
  /** Snapshots older than this (ms since the epoch) may be expired... */
  readonly olderThanMs: number;
  /** ...but the newest `retainLast` snapshots of the current lineage are always kept. */
  readonly retainLast: number;
}

export interface TableStats {
  readonly rows: bigint;
  readonly files: number;
  readonly bytes: bigint;
  readonly snapshots: number;
  readonly currentSnapshotId: bigint | null;
}

export interface SnapshotInfo {
  readonly snapshotId: bigint;
  readonly parentId?: bigint;
  readonly committedAt: Date;
  readonly operation: string;
  readonly summary: Readonly<Record<string, string>>;
  readonly current: boolean;
}

export interface ExpireResult {
  readonly expiredSnapshots: number;
  readonly deletedFiles: number;
}

/**
 * One Iceberg table of the local catalog: commits (append, copy-on-write
 * overwrite, replace, manifest rewrite), reads of any snapshot, and
 * maintenance (snapshot expiry, orphan removal). Every commit goes through the
 * catalog's atomic swap and is recomputed on the newer metadata after a lost
 * race; files written by an abandoned attempt are orphans for removeOrphanFiles.
 */
export class IcebergTable {
  constructor(
    readonly catalog: FsCatalog,
    readonly location: string,
  ) {}

  async load(): Promise<LoadedTable> {
    const loaded = await this.catalog.load(this.location);
    if (loaded === undefined) throw new Error(`no Iceberg table at ${this.location}`);
    return loaded;
  }

  /** The snapshot a selector names; undefined for an empty table. */
  async snapshot(selector: SnapshotSelector = {}): Promise<Snapshot | undefined> {
    return selectSnapshot((await this.load()).metadata, selector);
  }

  /** What the table holds now: rows, live data files and their bytes, snapshots kept. */
  async stats(): Promise<TableStats> {
    const { metadata } = await this.load();
    const snapshot = currentSnapshot(metadata);
    const entries = snapshot === undefined ? [] : await liveEntriesOf(snapshot);
    return {
      rows: entries.reduce((sum, e) => sum + e.dataFile.recordCount, 0n),
      files: entries.length,
      bytes: entries.reduce((sum, e) => sum + e.dataFile.fileSizeInBytes, 0n),
      snapshots: metadata.snapshots.length,
      currentSnapshotId: snapshot?.['snapshot-id'] ?? null,
    };
  }

  /** Every snapshot the table keeps, oldest first, with its summary (what Spark shows as `<table>.snapshots`). */
  async history(): Promise<SnapshotInfo[]> {
    const { metadata } = await this.load();
    return [...metadata.snapshots]
      .sort((a, b) => a['timestamp-ms'] - b['timestamp-ms'])
      .map((s) => ({
        snapshotId: s['snapshot-id'],
        ...(s['parent-snapshot-id'] === undefined ? {} : { parentId: s['parent-snapshot-id'] }),
        committedAt: new Date(s['timestamp-ms']),
        operation: s.summary.operation,
        summary: s.summary,
        current: s['snapshot-id'] === metadata['current-snapshot-id'],
      }));
  }

  /** Live data files of a snapshot with their manifest entries. */
  async liveEntries(selector: SnapshotSelector = {}): Promise<ManifestEntry[]> {
    const snapshot = await this.snapshot(selector);
    return snapshot === undefined ? [] : liveEntriesOf(snapshot);
  }

  /**
   * A DuckDB relation over a snapshot's rows, columns resolved by field id and
   * named as the current schema says (columns added later read as NULL).
   */
  async scanSql(selector: SnapshotSelector = {}): Promise<string> {
    const loaded = await this.load();
    const schema = currentSchema(loaded.metadata);
    const snapshot = selectSnapshot(loaded.metadata, selector);
    const entries = snapshot === undefined ? [] : await liveEntriesOf(snapshot);
    return relationOver(
      entries.map((e) => e.dataFile.path),
      schema,
      entries.reduce((sum, e) => sum + e.dataFile.recordCount, 0n),
    );
  }

  /** Commits added and removed data files as one snapshot; returns the committed table. */
  async commit(request: CommitRequest): Promise<LoadedTable> {
    const committed = await this.catalog.update(this.location, async (base) => {
      request.precondition?.(base);
      return this.nextMetadata(base, request);
    });
    await this.deleteOldMetadata(committed);
    return committed;
  }

  /**
   * Points the tag `name` at `snapshotId` (creating it, or moving it when it
   * exists), as Iceberg's ManageSnapshots createTag/replaceTag do. Snapshot
   * expiry and orphan removal keep every snapshot a tag names.
   */
  async tag(name: string, snapshotId: bigint): Promise<LoadedTable> {
    if (name === 'main') throw new Error(`'main' is the table's branch, not a tag name`);
    const committed = await this.catalog.update(this.location, async (base) => {
      if (!base.metadata.snapshots.some((s) => s['snapshot-id'] === snapshotId))
        throw new Error(`cannot tag ${name}: snapshot ${snapshotId} is not in the table`);
      const existing = base.metadata.refs[name];
      if (existing !== undefined && existing.type !== 'tag')
        throw new Error(`cannot tag ${name}: a ${existing.type} has that name`);
      return {
        ...base.metadata,
        'last-updated-ms': Date.now(),
        refs: { ...base.metadata.refs, [name]: { 'snapshot-id': snapshotId, type: 'tag' } },
        'metadata-log': nextMetadataLog(base.metadata, base.metadataFile),
      };
    });
    await this.deleteOldMetadata(committed);
    return committed;
  }

  /** Rewrites all live entries of the current snapshot into one manifest (fewer files to open per scan). */
  async rewriteManifests(): Promise<LoadedTable | undefined> {
    const current = await this.snapshot();
    if (current === undefined) return undefined;
    const manifests = await readManifestList(current['manifest-list']);
    if (manifests.length <= 1) return undefined;
    const committed = await this.catalog.update(this.location, async (base) => {
      const parent = currentSnapshot(base.metadata) as Snapshot;
      const entries = await liveEntriesOf(parent);
      const snapshotId = newSnapshotId();
      const sequenceNumber = base.metadata['last-sequence-number'] + 1n;
      const manifest = await writeManifest(
        this.newManifestPath(),
        manifestContext(base.metadata),
        entries.map((e) => ({ ...e, status: EntryStatus.Existing })),
        snapshotId,
        sequenceNumber,
      );
      const oldManifests = await readManifestList(parent['manifest-list']);
      return this.withNewSnapshot(base, snapshotId, sequenceNumber, 'replace', [manifest], {
        ...carriedTotals(parent),
        'manifests-created': '1',
        'manifests-replaced': String(oldManifests.length),
        'entries-processed': String(entries.length),
      });
    });
    await this.deleteOldMetadata(committed);
    return committed;
  }

  /**
   * Removes snapshots older than `olderThanMs` except the newest `retainLast`
   * of the current lineage (and any a ref names), then deletes the manifest
   * lists, manifests and data files only they referenced.
   */
  async expireSnapshots(options: ExpireOptions): Promise<ExpireResult> {
    if (options.retainLast < 1) throw new Error(`retainLast must be at least 1, got ${options.retainLast}`);
    let expired: Snapshot[] = [];
    let retained: Snapshot[] = [];
    await this.catalog
      .update(this.location, async (base) => {
        const keep = retainedIds(base.metadata, options);
        expired = base.metadata.snapshots.filter((s) => !keep.has(s['snapshot-id']));
        retained = base.metadata.snapshots.filter((s) => keep.has(s['snapshot-id']));
        if (expired.length === 0) throw new NothingToCommit();
        return {
          ...base.metadata,
          'last-updated-ms': Date.now(),
          snapshots: retained,
          'snapshot-log': base.metadata['snapshot-log'].filter((e) => keep.has(e['snapshot-id'])),
          'metadata-log': nextMetadataLog(base.metadata, base.metadataFile),
        };
      })
      .catch((error: unknown) => {
        if (!(error instanceof NothingToCommit)) throw error;
      });
    if (expired.length === 0) return { expiredSnapshots: 0, deletedFiles: 0 };
    await this.deleteOldMetadata(await this.load());
    const live = await reachableFiles(retained);
    const candidates = await reachableFiles(expired);
    const doomed = [...candidates].filter((path) => !live.has(path));
    await Promise.all(doomed.map((path) => rm(path, { force: true })));
    return { expiredSnapshots: expired.length, deletedFiles: doomed.length };
  }

  /**
   * Deletes files under the table's location that no snapshot or metadata
   * file references (failed or abandoned writes), once older than `olderThanMs`
   * so files of a commit still in flight are left alone.
   */
  async removeOrphanFiles(olderThanMs: number): Promise<string[]> {
    const loaded = await this.load();
    const reachable = await reachableFiles(loaded.metadata.snapshots);
    reachable.add(loaded.metadataFile);
    for (const entry of loaded.metadata['metadata-log']) reachable.add(localPath(entry['metadata-file']));
    reachable.add(join(this.location, 'metadata', 'version-hint.text'));
    const orphans: string[] = [];
    for (const path of await listFiles(this.location)) {
      if (reachable.has(path) || reachable.has(crcTarget(path))) continue;
      // Newer metadata versions may be a commit landing right now.
      if ((await stat(path)).mtimeMs >= olderThanMs) continue;
      orphans.push(path);
    }
    await Promise.all(orphans.map((path) => rm(path, { force: true })));
    return orphans;
  }

  /** Where a new data file goes: `data/<partition path>/<uuid>.parquet`, as Iceberg lays it out. */
  dataFilePath(partitionPath: string): string {
    return join(this.location, 'data', partitionPath, `${randomUUID()}.parquet`);
  }

  private newManifestPath(): string {
    return join(this.location, 'metadata', `${randomUUID()}-m0.avro`);
  }

  private async nextMetadata(base: LoadedTable, request: CommitRequest): Promise<TableMetadata> {
    const parent = currentSnapshot(base.metadata);
    const snapshotId = newSnapshotId();
    const sequenceNumber = base.metadata['last-sequence-number'] + 1n;
    const context = manifestContext(base.metadata);
    const removed = new Set(request.removed ?? []);
    const kept: ManifestFile[] = [];
    const rewritten: ManifestFile[] = [];
    const found = new Set<string>();
    let removedRecords = 0n;
    let removedBytes = 0n;
    for (const manifest of parent === undefined ? [] : await readManifestList(parent['manifest-list'])) {
      if (removed.size === 0 || manifest.addedFilesCount + manifest.existingFilesCount === 0) {
        if (manifest.addedFilesCount + manifest.existingFilesCount > 0) kept.push(manifest);
        continue;
      }
      const live = (await readManifest(manifest)).filter((e) => e.status !== EntryStatus.Deleted);
      const hits = live.filter((e) => removed.has(e.dataFile.path));
      if (hits.length === 0) {
        kept.push(manifest);
        continue;
      }
      for (const hit of hits) {
        found.add(hit.dataFile.path);
        removedRecords += hit.dataFile.recordCount;
        removedBytes += hit.dataFile.fileSizeInBytes;
      }
      const entries = live.map((e) =>
        removed.has(e.dataFile.path)
          ? { ...e, status: EntryStatus.Deleted, snapshotId }
          : { ...e, status: EntryStatus.Existing },
      );
      rewritten.push(
        await writeManifest(this.newManifestPath(), context, entries, snapshotId, sequenceNumber),
      );
    }
    if (found.size !== removed.size) {
      throw new StaleFilesError(
        this.location,
        [...removed].filter((path) => !found.has(path)),
      );
    }
    const added =
      request.added.length === 0
        ? []
        : [
            await writeManifest(
              this.newManifestPath(),
              context,
              request.added.map((dataFile) => ({
                status: EntryStatus.Added,
                snapshotId,
                sequenceNumber,
                dataFile,
              })),
              snapshotId,
              sequenceNumber,
            ),
          ];
    const addedRecords = request.added.reduce((sum, f) => sum + f.recordCount, 0n);
    const addedBytes = request.added.reduce((sum, f) => sum + f.fileSizeInBytes, 0n);
    const previous: Record<string, string | undefined> = parent?.summary ?? {};
    const total = (key: string, delta: bigint) =>
      previous[key] === undefined && parent !== undefined
        ? undefined
        : String(BigInt(previous[key] ?? '0') + delta);
    const summary: Record<string, string | undefined> = {
      ...(request.properties ?? {}),
      'added-data-files': String(request.added.length),
      'added-records': String(addedRecords),
      'added-files-size': String(addedBytes),
      ...(removed.size === 0
        ? {}
        : {
            'deleted-data-files': String(removed.size),
            'deleted-records': String(removedRecords),
            'removed-files-size': String(removedBytes),
          }),
      'changed-partition-count': String(
        new Set([...request.added.map((f) => JSON.stringify(f.partition))]).size,
      ),
      'total-records': total('total-records', addedRecords - removedRecords),
      'total-files-size': total('total-files-size', addedBytes - removedBytes),
      'total-data-files': total('total-data-files', BigInt(request.added.length - removed.size)),
      'total-delete-files': '0',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
    };
    return this.withNewSnapshot(
      base,
      snapshotId,
      sequenceNumber,
      request.operation,
      [...added, ...rewritten, ...kept],
      summary,
    );
  }

  private async withNewSnapshot(
    base: LoadedTable,
    snapshotId: bigint,
    sequenceNumber: bigint,
    operation: WriteOperation,
    manifests: readonly ManifestFile[],
    summary: Record<string, string | undefined>,
  ): Promise<TableMetadata> {
    const parent = currentSnapshot(base.metadata);
    const manifestList = join(base.location, 'metadata', `snap-${snapshotId}-1-${randomUUID()}.avro`);
    await writeManifestList(manifestList, manifests, snapshotId, parent?.['snapshot-id'], sequenceNumber);
    const defined = Object.fromEntries(
      Object.entries(summary).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const snapshot: Snapshot = {
      'snapshot-id': snapshotId,
      ...(parent === undefined ? {} : { 'parent-snapshot-id': parent['snapshot-id'] }),
      'sequence-number': sequenceNumber,
      // Never before the parent, even if the clock stepped back: time travel by timestamp depends on the order.
      'timestamp-ms': Math.max(Date.now(), base.metadata['last-updated-ms']),
      'manifest-list': manifestList,
      summary: { operation, ...defined },
      'schema-id': base.metadata['current-schema-id'],
    };
    return withSnapshot(base.metadata, snapshot, base.metadataFile);
  }

  /** `write.metadata.delete-after-commit.enabled`: metadata files that fell out of the metadata log are deleted. */
  private async deleteOldMetadata(committed: LoadedTable): Promise<void> {
    if (committed.metadata.properties['write.metadata.delete-after-commit.enabled'] !== 'true') return;
    const keep = new Set([
      committed.metadataFile,
      ...committed.metadata['metadata-log'].map((e) => localPath(e['metadata-file'])),
    ]);
    const folder = join(this.location, 'metadata');
    for (const name of await readdir(folder)) {
      const version = /^v(\d+)\.metadata\.json$/.exec(name);
      if (version === null || Number(version[1]) >= committed.version) continue;
      if (!keep.has(join(folder, name))) await rm(join(folder, name), { force: true });
    }
  }
}

class NothingToCommit extends Error {}

export function currentSchema(metadata: TableMetadata): SchemaJson {
  const schemas = metadata.schemas as SchemaJson[];
  const schema = schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  if (schema === undefined) throw new Error(`table metadata has no schema ${metadata['current-schema-id']}`);
  return schema;
}

function defaultSpec(metadata: TableMetadata): PartitionSpecJson {
  const specs = metadata['partition-specs'] as PartitionSpecJson[];
  const spec = specs.find((s) => s['spec-id'] === metadata['default-spec-id']);
  if (spec === undefined)
    throw new Error(`table metadata has no partition spec ${metadata['default-spec-id']}`);
  return spec;
}

/** What a manifest header and entry schema need, from the table's own metadata. */
export function manifestContext(metadata: TableMetadata): ManifestContext {
  const schema = currentSchema(metadata);
  const spec = defaultSpec(metadata);
  return {
    schemaJson: schema,
    specId: spec['spec-id'],
    partitionSpecFieldsJson: spec.fields,
    partitionFields: spec.fields.map((p) => {
      const source = schema.fields.find((f) => f.id === p['source-id']);
      if (source === undefined) throw new Error(`partition field ${p.name} has no source column`);
      return { name: p.name, fieldId: p['field-id'], avroType: partitionAvroType(p.transform, source.type) };
    }),
  };
}

/**
 * A relation over data files (or no rows) with the schema's columns. `rows`,
 * the files' record count from the manifests, is what DuckDB's planner is
 * told the scan returns: with the schema given it opens no file before
 * running, so it would assume a thousand rows a file and build joins' hash
 * tables on a table of millions.
 */
export function relationOver(files: readonly string[], schema: SchemaJson, rows?: bigint): string {
  if (files.length === 0) return emptyRelation(schema);
  const list = files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ');
  const cardinality = rows === undefined ? '' : `, explicit_cardinality = ${rows}`;
  return `read_parquet([${list}], schema = ${parquetSchemaArgument(schema)}${cardinality})`;
}

export function selectSnapshot(metadata: TableMetadata, selector: SnapshotSelector): Snapshot | undefined {
  if (selector.snapshotId !== undefined) {
    const found = metadata.snapshots.find((s) => s['snapshot-id'] === selector.snapshotId);
    if (found === undefined) {
      throw new Error(
        `snapshot ${selector.snapshotId} is not in the table (expired or never existed); known: ${metadata.snapshots.map((s) => s['snapshot-id']).join(', ') || 'none'}`,
      );
    }
    return found;
  }
  if (selector.asOfMs !== undefined) {
    const asOf = selector.asOfMs;
    const entry = metadata['snapshot-log'].filter((e) => e['timestamp-ms'] <= asOf).at(-1);
    if (entry === undefined) {
      throw new Error(
        `the table has no snapshot as of ${new Date(asOf).toISOString()} (its history starts later)`,
      );
    }
    const snapshot = metadata.snapshots.find((s) => s['snapshot-id'] === entry['snapshot-id']);
    if (snapshot === undefined) {
      throw new Error(
        `snapshot ${entry['snapshot-id']}, current as of ${new Date(asOf).toISOString()}, has expired; the table keeps ${metadata.snapshots.map((s) => s['snapshot-id']).join(', ') || 'none'}`,
      );
    }
    return snapshot;
  }
  return currentSnapshot(metadata);
}

async function liveEntriesOf(snapshot: Snapshot): Promise<ManifestEntry[]> {
  const manifests = await readManifestList(snapshot['manifest-list']);
  const entries = await Promise.all(manifests.map(readManifest));
  return entries.flat().filter((e) => e.status !== EntryStatus.Deleted);
}

/** Summary totals of a snapshot that changed no rows (manifest rewrite). */
function carriedTotals(parent: Snapshot): Record<string, string> {
  const keys = ['total-records', 'total-files-size', 'total-data-files', 'total-delete-files'];
  return Object.fromEntries(
    keys.flatMap((k) => (parent.summary[k] === undefined ? [] : [[k, parent.summary[k]]])),
  );
}

function retainedIds(metadata: TableMetadata, options: ExpireOptions): Set<bigint> {
  const keep = new Set<bigint>();
  const byId = new Map(metadata.snapshots.map((s) => [s['snapshot-id'], s]));
  let cursor = currentSnapshot(metadata);
  while (cursor !== undefined && keep.size < options.retainLast) {
    keep.add(cursor['snapshot-id']);
    const parent = cursor['parent-snapshot-id'];
    cursor = parent === undefined ? undefined : byId.get(parent);
  }
  for (const ref of Object.values(metadata.refs)) keep.add(ref['snapshot-id']);
  for (const s of metadata.snapshots)
    if (s['timestamp-ms'] >= options.olderThanMs) keep.add(s['snapshot-id']);
  return keep;
}

/** Manifest lists, manifests and data files the snapshots reference. */
async function reachableFiles(snapshots: readonly Snapshot[]): Promise<Set<string>> {
  const files = new Set<string>();
  const seenManifests = new Set<string>();
  for (const snapshot of snapshots) {
    files.add(localPath(snapshot['manifest-list']));
    for (const manifest of await readManifestList(snapshot['manifest-list'])) {
      if (seenManifests.has(manifest.path)) continue;
      seenManifests.add(manifest.path);
      files.add(manifest.path);
      for (const entry of await readManifest(manifest)) files.add(entry.dataFile.path);
    }
  }
  return files;
}

async function listFiles(folder: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out;
}

/** Hadoop's checksum `.name.crc` belongs to `name`. */
function crcTarget(path: string): string {
  const name = basename(path);
  const match = /^\.(.+)\.crc$/.exec(name);
  return match === null ? path : join(dirname(path), match[1] as string);
}
