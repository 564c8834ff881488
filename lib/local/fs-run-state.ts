import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type LeaseResult,
  type RunStateStore,
  runStateErrors,
  type Watermark,
  type WatermarkMove,
} from '../../lambdas/shared/run-state.ts';

interface LeaseFile {
  readonly runId: string;
  readonly since: string;
  readonly expiresAt: number;
}

/**
 * Lease and watermarks as JSON files, for running without AWS. The lease is
 * taken with an exclusive create, so two local runs on one machine exclude
 * each other as they would through DynamoDB's conditional writes.
 */
export class FsRunStateStore implements RunStateStore {
  constructor(private readonly folder: string) {}

  async acquireLease(runId: string, now: Date, leaseMinutes: number): Promise<LeaseResult> {
    await mkdir(this.folder, { recursive: true });
    const lease: LeaseFile = {
      runId,
      since: now.toISOString(),
      expiresAt: now.getTime() + leaseMinutes * 60_000,
    };
    const current = await this.readJson<LeaseFile>('lease.json');
    if (current !== undefined && (current.runId === runId || current.expiresAt < now.getTime())) {
      await writeFile(this.path('lease.json'), JSON.stringify(lease));
      return { acquired: true };
    }
    try {
      await writeFile(this.path('lease.json'), JSON.stringify(lease), { flag: 'wx' });
      return { acquired: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await this.readJson<LeaseFile>('lease.json');
      return { acquired: false, heldBy: holder?.runId ?? 'unknown', since: holder?.since ?? 'unknown' };
    }
  }

  async releaseLease(runId: string): Promise<void> {
    const current = await this.readJson<LeaseFile>('lease.json');
    if (current === undefined) return;
    if (current.runId !== runId) throw new Error(runStateErrors.leaseHeldByOther(runId));
    await rm(this.path('lease.json'), { force: true });
  }

  async readWatermark(collection: string): Promise<Watermark> {
    const stored = await this.readJson<Watermark>(`watermark-${collection}.json`);
    return stored ?? { bound: null, runId: null };
  }

  async advanceWatermark(collection: string, move: WatermarkMove): Promise<void> {
    const current = await this.readWatermark(collection);
    const alreadyMoved = current.runId === move.runId && current.bound === move.to;
    if (!alreadyMoved && current.bound !== move.from) {
      throw new Error(runStateErrors.watermarkMoved(collection, move.runId));
    }
    await mkdir(this.folder, { recursive: true });
    const next: Watermark = { bound: move.to, runId: move.runId };
    await writeFile(this.path(`watermark-${collection}.json`), JSON.stringify(next));
  }

  private path(name: string): string {
    return join(this.folder, name);
  }

  private async readJson<T>(name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.path(name), 'utf8')) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
