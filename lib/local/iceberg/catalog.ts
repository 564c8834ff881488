import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Table } from '../../model/index.ts';
import { parseJsonWithLongs, stringifyWithLongs } from './json-long.ts';
import { newTableMetadata, normaliseMetadata, type TableMetadata } from './metadata.ts';

/** Another writer committed first; reload and try again. */
export class CommitConflictError extends Error {
  constructor(location: string, version: number) {
    super(`commit to ${location} lost a race: version ${version} was written by another writer`);
    this.name = 'CommitConflictError';
  }
}

export interface LoadedTable {
  readonly location: string;
  readonly version: number;
  readonly metadataFile: string;
  readonly metadata: TableMetadata;
}

const DEFAULT_COMMIT_ATTEMPTS = 5;

/**
 * Iceberg tables in a local folder, laid out as Spark's Hadoop catalog
 * expects: `<warehouse>/<namespace path>/<table>/metadata/vN.metadata.json`
 * plus `version-hint.text`. A commit creates the next version file with a
 * hard link from a fully written temporary file, so it either appears whole
 * or fails because another writer took that version; readers never see a
 * partial file.
 */
export class FsCatalog {
  readonly warehouse: string;

  constructor(warehouse: string) {
    this.warehouse = resolve(warehouse);
  }

  /** Absolute location of a model table, e.g. `<warehouse>/raw/fq_app/journal_entries`. */
  locationOf(table: Table): string {
    return join(this.warehouse, table.location);
  }

  async load(location: string): Promise<LoadedTable | undefined> {
    const version = await this.currentVersion(location);
    if (version === 0) return undefined;
    const metadataFile = this.metadataFile(location, version);
    const metadata = normaliseMetadata(
      parseJsonWithLongs<TableMetadata>(await readFile(metadataFile, 'utf8')),
    );
    return { location, version, metadataFile, metadata };
  }

  /** Creates the table from the model unless it exists; returns the current state either way. */
  async createIfAbsent(table: Table): Promise<LoadedTable> {
    const location = this.locationOf(table);
    const existing = await this.load(location);
    if (existing !== undefined) return existing;
    const metadata = newTableMetadata(table, location);
    try {
      // Version 0 is "no table yet": committing version 1 creates it, and a racing creator loses cleanly.
      return await this.commit({ location, version: 0, metadataFile: '', metadata }, metadata);
    } catch (error) {
      if (error instanceof CommitConflictError) return (await this.load(location)) as LoadedTable;
      throw error;
    }
  }

  /** Writes `next` as the version after `base`; throws CommitConflictError if that version exists. */
  async commit(base: LoadedTable, next: TableMetadata): Promise<LoadedTable> {
    const version = base.version + 1;
    const folder = join(base.location, 'metadata');
    await mkdir(folder, { recursive: true });
    const target = this.metadataFile(base.location, version);
    const temporary = join(folder, `.${randomUUID()}.tmp`);
    await writeFile(temporary, stringifyWithLongs(next, 2));
    try {
      await link(temporary, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new CommitConflictError(base.location, version);
      throw error;
    } finally {
      await rm(temporary, { force: true });
    }
    await this.writeVersionHint(base.location, version);
    return { location: base.location, version, metadataFile: target, metadata: next };
  }

  /**
   * Applies `change` to the current metadata and commits, reloading and
   * re-applying after a lost race. `change` must be safe to run again on newer
   * metadata (it only computes; data files it wrote stay valid).
   */
  async update(
    location: string,
    change: (base: LoadedTable) => Promise<TableMetadata>,
    attempts = DEFAULT_COMMIT_ATTEMPTS,
  ): Promise<LoadedTable> {
    for (let attempt = 1; ; attempt++) {
      const base = await this.load(location);
      if (base === undefined) throw new Error(`no Iceberg table at ${location}`);
      try {
        return await this.commit(base, await change(base));
      } catch (error) {
        if (!(error instanceof CommitConflictError) || attempt >= attempts) throw error;
      }
    }
  }

  metadataFile(location: string, version: number): string {
    return join(location, 'metadata', `v${version}.metadata.json`);
  }

  /** The hint may lag a commit that crashed before updating it, so newer versions are probed, as Hadoop's catalog does. */
  private async currentVersion(location: string): Promise<number> {
    let version = 0;
    try {
      version =
        Number.parseInt(await readFile(join(location, 'metadata', 'version-hint.text'), 'utf8'), 10) || 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    while (await exists(this.metadataFile(location, version + 1))) version++;
    return version;
  }

  private async writeVersionHint(location: string, version: number): Promise<void> {
    const hint = join(location, 'metadata', 'version-hint.text');
    const temporary = `${hint}.${randomUUID()}.tmp`;
    await writeFile(temporary, String(version));
    await rename(temporary, hint);
    // Spark's Hadoop file system keeps a checksum beside the hint; a stale one makes it warn and fall back to listing.
    await rm(join(location, 'metadata', '.version-hint.text.crc'), { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
