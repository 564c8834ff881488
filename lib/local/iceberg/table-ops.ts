import { randomUUID } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { deserializeStringBound } from './bounds.ts';
import type { FsCatalog, LoadedTable } from './catalog.ts';
import {
  type DataFile,
  EntryStatus,
  FileContent,
  localPath,
  type ManifestContext,
  type ManifestEntry,
  type ManifestFile,
  POSITION_DELETE_FIELD_IDS,
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
import { quoteString } from './partition-sql.ts';
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
  /**
   * Position delete files (merge-on-read), each naming rows of one live data
   * file; removed with that file when a later commit removes it.
   */
  readonly addedDeletes?: readonly DataFile[];
  /** Paths of live data files the commit removes (copy-on-write overwrite, compaction). */
  readonly removed?: readonly string[];
  /**
   * Paths of live position delete files the commit removes besides those that
   * go with a removed data file: another writer's, which may name several
   * data files, once compaction has rewritten every one they may name.
   */
  readonly removedDeletes?: readonly string[];
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
  /** Rows a scan returns: the data files' rows less the positions their delete files name. */
  readonly rows: bigint;
  /** Live data files. */
  readonly files: number;
  /** Live position delete files (merge-on-read), until compaction applies them. */
  readonly deleteFiles: number;
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
 * overwrite, position deletes, replace, manifest rewrite), reads of any snapshot, and
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
    const { data, deletes } = snapshot === undefined ? NO_FILES : await liveFilesOf(snapshot);
    return {
      rows: recordsOf(data) - recordsOf(deletes),
      files: data.length,
      deleteFiles: deletes.length,
      bytes: data.reduce((sum, e) => sum + e.dataFile.fileSizeInBytes, 0n),
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

  /** Live data files and position delete files of a snapshot. */
  async liveFiles(selector: SnapshotSelector = {}): Promise<LiveFiles> {
    const snapshot = await this.snapshot(selector);
    return snapshot === undefined ? NO_FILES : liveFilesOf(snapshot);
  }

  /**
   * A DuckDB relation over a snapshot's rows, columns resolved by field id and
   * named as the current schema says (columns added later read as NULL), less
   * the rows its position delete files name.
   */
  async scanSql(selector: SnapshotSelector = {}): Promise<string> {
    const loaded = await this.load();
    const schema = currentSchema(loaded.metadata);
    const snapshot = selectSnapshot(loaded.metadata, selector);
    const files = snapshot === undefined ? NO_FILES : await liveFilesOf(snapshot);
    return scanOver(files, schema);
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
   * Sets the properties the table lacks or holds other values of (the
   * model's, on a table created before the model changed them), as Spark's
   * `ALTER TABLE ... SET TBLPROPERTIES` does; commits nothing when it has them all.
   */
  async setProperties(properties: Readonly<Record<string, string>>): Promise<LoadedTable> {
    const differ = (base: LoadedTable) =>
      Object.entries(properties).filter(([k, v]) => base.metadata.properties[k] !== v);
    const loaded = await this.load();
    if (differ(loaded).length === 0) return loaded;
    const committed = await this.catalog.update(this.location, async (base) => ({
      ...base.metadata,
      'last-updated-ms': Date.now(),
      properties: { ...base.metadata.properties, ...Object.fromEntries(differ(base)) },
      'metadata-log': nextMetadataLog(base.metadata, base.metadataFile),
    }));
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
    const dataManifests = manifests.filter((m) => m.content === 0).length;
    if (dataManifests <= 1 && manifests.length - dataManifests <= 1) return undefined;
    const committed = await this.catalog.update(this.location, async (base) => {
      const parent = currentSnapshot(base.metadata) as Snapshot;
      const { data, deletes } = await liveFilesOf(parent);
      const snapshotId = newSnapshotId();
      const sequenceNumber = base.metadata['last-sequence-number'] + 1n;
      // Data and delete files go to manifests of their own, as the spec requires.
      const rewritten = await Promise.all(
        [data, deletes]
          .filter((entries, i) => i === 0 || entries.length > 0)
          .map((entries) =>
            writeManifest(
              this.newManifestPath(),
              manifestContext(base.metadata),
              entries.map((e) => ({ ...e, status: EntryStatus.Existing })),
              snapshotId,
              sequenceNumber,
            ),
          ),
      );
      const oldManifests = await readManifestList(parent['manifest-list']);
      return this.withNewSnapshot(base, snapshotId, sequenceNumber, 'replace', rewritten, {
        ...carriedTotals(parent),
        'manifests-created': String(rewritten.length),
        'manifests-replaced': String(oldManifests.length),
        'entries-processed': String(data.length + deletes.length),
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
    const removedDeletes = new Set(request.removedDeletes ?? []);
    // A delete file naming one data file goes with it: its rows are gone from the table either way.
    const goesWith = (e: ManifestEntry) =>
      e.dataFile.content === FileContent.PositionDeletes
        ? removed.has(referencedDataFile(e.dataFile) ?? '') || removedDeletes.has(e.dataFile.path)
        : removed.has(e.dataFile.path);
    const kept: ManifestFile[] = [];
    const rewritten: ManifestFile[] = [];
    const found = new Set<string>();
    const gone: DataFile[] = [];
    for (const manifest of parent === undefined ? [] : await readManifestList(parent['manifest-list'])) {
      if (
        removed.size + removedDeletes.size === 0 ||
        manifest.addedFilesCount + manifest.existingFilesCount === 0
      ) {
        if (manifest.addedFilesCount + manifest.existingFilesCount > 0) kept.push(manifest);
        continue;
      }
      const live = (await readManifest(manifest)).filter((e) => e.status !== EntryStatus.Deleted);
      const hits = live.filter(goesWith);
      if (hits.length === 0) {
        kept.push(manifest);
        continue;
      }
      for (const hit of hits) {
        if (manifest.content === 0) found.add(hit.dataFile.path);
        gone.push(hit.dataFile);
      }
      const entries = live.map((e) =>
        goesWith(e)
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
    const addedDeletes = request.addedDeletes ?? [];
    const added = await Promise.all(
      [request.added, addedDeletes.map((f) => ({ ...f, content: FileContent.PositionDeletes }))]
        .filter((files) => files.length > 0)
        .map((files) =>
          writeManifest(
            this.newManifestPath(),
            context,
            files.map((dataFile) => ({ status: EntryStatus.Added, snapshotId, sequenceNumber, dataFile })),
            snapshotId,
            sequenceNumber,
          ),
        ),
    );
    const sum = (files: readonly DataFile[], of: (f: DataFile) => bigint) =>
      files.reduce((total, f) => total + of(f), 0n);
    const goneData = gone.filter((f) => f.content !== FileContent.PositionDeletes);
    const goneDeletes = gone.filter((f) => f.content === FileContent.PositionDeletes);
    const removedRecords = sum(goneData, (f) => f.recordCount);
    const removedBytes = sum(goneData, (f) => f.fileSizeInBytes);
    const addedRecords = sum(request.added, (f) => f.recordCount);
    const addedBytes = sum(request.added, (f) => f.fileSizeInBytes);
    const addedPositions = sum(addedDeletes, (f) => f.recordCount);
    const removedPositions = sum(goneDeletes, (f) => f.recordCount);
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
      ...(addedDeletes.length === 0
        ? {}
        : {
            'added-delete-files': String(addedDeletes.length),
            'added-position-delete-files': String(addedDeletes.length),
            'added-position-deletes': String(addedPositions),
          }),
      ...(goneDeletes.length === 0
        ? {}
        : {
            'removed-delete-files': String(goneDeletes.length),
            'removed-position-delete-files': String(goneDeletes.length),
            'removed-position-deletes': String(removedPositions),
          }),
      'changed-partition-count': String(
        new Set([...request.added, ...addedDeletes].map((f) => JSON.stringify(f.partition))).size,
      ),
      'total-records': total('total-records', addedRecords - removedRecords),
      'total-files-size': total('total-files-size', addedBytes - removedBytes),
      'total-data-files': total('total-data-files', BigInt(request.added.length - removed.size)),
      'total-delete-files': total('total-delete-files', BigInt(addedDeletes.length - goneDeletes.length)),
      'total-position-deletes': total('total-position-deletes', addedPositions - removedPositions),
      'total-equality-deletes': total('total-equality-deletes', 0n),
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
  const list = files.map(quoteString).join(', ');
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

/** A snapshot's live data files, and the position delete files that name rows of them. */
export interface LiveFiles {
  readonly data: readonly ManifestEntry[];
  readonly deletes: readonly ManifestEntry[];
}

const NO_FILES: LiveFiles = { data: [], deletes: [] };

async function liveEntriesOf(snapshot: Snapshot, content: 0 | 1 = 0): Promise<ManifestEntry[]> {
  const manifests = (await readManifestList(snapshot['manifest-list'])).filter((m) => m.content === content);
  const entries = await Promise.all(manifests.map(readManifest));
  return entries.flat().filter((e) => e.status !== EntryStatus.Deleted);
}

async function liveFilesOf(snapshot: Snapshot): Promise<LiveFiles> {
  const [data, deletes] = await Promise.all([liveEntriesOf(snapshot, 0), liveEntriesOf(snapshot, 1)]);
  return { data, deletes };
}

const recordsOf = (entries: readonly ManifestEntry[]) =>
  entries.reduce((sum, e) => sum + e.dataFile.recordCount, 0n);

/**
 * The one data file a position delete file names, when its `file_path`
 * bounds are equal (as the local engine writes them, one delete file per
 * data file); undefined when it may name several (other writers).
 */
export function referencedDataFile(file: DataFile): string | undefined {
  const lower = file.lowerBounds.get(POSITION_DELETE_FIELD_IDS.filePath);
  const upper = file.upperBounds.get(POSITION_DELETE_FIELD_IDS.filePath);
  if (lower === undefined || upper === undefined) return undefined;
  const path = deserializeStringBound(lower);
  return path === deserializeStringBound(upper) ? localPath(path) : undefined;
}

/**
 * A DuckDB relation over live files: the data files' rows less those their
 * position delete files name. Only data files a delete file may name are read
 * with their row positions and anti-joined with the deletes; the rest are read
 * as they are. With `positions`, every row also carries `__ll_file` (its data
 * file's local path) and `__ll_pos` (its position in that file), as a
 * merge-on-read write needs them.
 */
export function scanOver(files: LiveFiles, schema: SchemaJson, positions = false): string {
  if (files.data.length === 0) return positions ? emptyPositions(schema) : emptyRelation(schema);
  const named = new Set(files.deletes.map((d) => referencedDataFile(d.dataFile)));
  const anyFile = named.has(undefined);
  const withDeletes = files.data.filter((e) => positions || anyFile || named.has(e.dataFile.path));
  const plain = files.data.filter((e) => !withDeletes.includes(e));
  const parts: string[] = [];
  if (plain.length > 0) {
    parts.push(`SELECT * FROM ${relationOver(plain.map(pathOf), schema, recordsOf(plain))}`);
  }
  if (withDeletes.length > 0) {
    const read = `read_parquet([${withDeletes.map((e) => quoteString(e.dataFile.path)).join(', ')}], schema = ${parquetSchemaArgument(schema)}, filename = '__ll_file', file_row_number = true, explicit_cardinality = ${recordsOf(withDeletes)})`;
    const columns = positions
      ? 'd.* EXCLUDE (file_row_number), d.file_row_number AS __ll_pos'
      : 'd.* EXCLUDE (__ll_file, file_row_number)';
    parts.push(
      files.deletes.length === 0
        ? `SELECT ${columns} FROM ${read} d`
        : `SELECT ${columns} FROM ${read} d ANTI JOIN (${deletedPositions(files.deletes)}) x ON d.__ll_file = x.file_path AND d.file_row_number = x.pos`,
    );
  }
  return `(${parts.join('\nUNION ALL\n')})`;
}

/** The positions delete files name, with `file:` URIs (Spark's) as local paths. */
function deletedPositions(deletes: readonly ManifestEntry[]): string {
  const list = deletes.map((e) => quoteString(e.dataFile.path)).join(', ');
  return `SELECT regexp_replace(file_path, '^file:(//)?', '') AS file_path, pos FROM read_parquet([${list}])`;
}

function emptyPositions(schema: SchemaJson): string {
  return `(SELECT *, CAST(NULL AS VARCHAR) AS __ll_file, CAST(NULL AS BIGINT) AS __ll_pos FROM ${emptyRelation(schema)})`;
}

const pathOf = (e: ManifestEntry) => e.dataFile.path;

/** Summary totals of a snapshot that changed no rows (manifest rewrite). */
function carriedTotals(parent: Snapshot): Record<string, string> {
  const keys = [
    'total-records',
    'total-files-size',
    'total-data-files',
    'total-delete-files',
    'total-position-deletes',
    'total-equality-deletes',
  ];
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
