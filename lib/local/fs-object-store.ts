import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ObjectStore } from '../../lambdas/shared/object-store.ts';

/**
 * The warehouse as a local folder, for running without AWS. Keys are paths
 * under `root`; "if absent" writes use exclusive create, like S3's
 * If-None-Match.
 */
export class FsObjectStore implements ObjectStore {
  constructor(readonly root: string) {}

  async putJson(key: string, value: unknown): Promise<void> {
    const path = await this.pathFor(key);
    await writeFile(path, JSON.stringify(value));
  }

  async putJsonIfAbsent(key: string, value: unknown): Promise<boolean> {
    const path = await this.pathFor(key);
    try {
      await writeFile(path, JSON.stringify(value), { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(join(this.root, key), 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async uploadFile(localPath: string, key: string): Promise<void> {
    await copyFile(localPath, await this.pathFor(key));
  }

  async listKeys(prefix: string): Promise<string[]> {
    // List from the deepest folder the prefix names, then filter like S3 does.
    const folder = join(this.root, prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '');
    let entries: string[];
    try {
      entries = await readdir(folder, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      const key = relative(this.root, join(folder, entry)).split(sep).join('/');
      if (key.startsWith(prefix) && !(await isFolder(join(this.root, key)))) keys.push(key);
    }
    return keys.sort();
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(join(this.root, key), { force: true })));
  }

  private async pathFor(key: string): Promise<string> {
    const path = join(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    return path;
  }
}

async function isFolder(path: string): Promise<boolean> {
  try {
    await readdir(path);
    return true;
  } catch {
    return false;
  }
}
