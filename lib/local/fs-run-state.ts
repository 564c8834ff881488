import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  type CommittedRun,
  type LeaseResult,
  type PlannedRun,
  type RunStateStore,
  runStateErrors,
  type Watermark,
  type WatermarkMove,
} from '../../lambdas/shared/run-state.ts';

interface LeaseFile {
  readonly runId: string;
  readonly since: string;
  readonly expiresAt: number;
  /** The process holding the lease, so a lease of a process that died is taken over at once. */
  readonly pid: number;
  readonly hostname: string;
}

/**
 * Lease, watermarks and the last planned and committed runs as JSON files,
 * for running without AWS. The lease is taken with an exclusive create, so
 * two local runs on one machine exclude each other as they would through
 * DynamoDB's conditional writes. It records its holder's process: a lease
 * whose process on this host no longer exists (killed, crashed) is taken
 * over at once rather than after it expires.
 */
export class FsRunStateStore implements RunStateStore {
  constructor(private readonly folder: string) {}

  async acquireLease(runId: string, now: Date, leaseMinutes: number): Promise<LeaseResult> {
    await mkdir(this.folder, { recursive: true });
    const lease: LeaseFile = {
      runId,
      since: now.toISOString(),
      expiresAt: now.getTime() + leaseMinutes * 60_000,
      pid: process.pid,
      hostname: hostname(),
    };
    const current = await this.readJson<LeaseFile>('lease.json');
    if (
      current !== undefined &&
      (current.runId === runId || current.expiresAt < now.getTime() || holderIsGone(current))
    ) {
      await this.writeJson('lease.json', lease);
      // Two processes may both have found the holder gone: the last write wins, and only it goes on.
      const taken = await this.readJson<LeaseFile>('lease.json');
      if (taken?.runId === runId && taken.pid === lease.pid && taken.hostname === lease.hostname) {
        return { acquired: true };
      }
      return { acquired: false, heldBy: taken?.runId ?? 'unknown', since: taken?.since ?? 'unknown' };
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
    const next: Watermark = { bound: move.to, runId: move.runId };
    await this.writeJson(`watermark-${collection}.json`, next);
  }

  async recordPlannedRun(run: PlannedRun): Promise<void> {
    await this.writeJson('last-planned-run.json', { runId: run.runId, plannedAt: run.plannedAt });
  }

  async readLastPlannedRun(): Promise<PlannedRun | null> {
    return (await this.readJson<PlannedRun>('last-planned-run.json')) ?? null;
  }

  async recordCommittedRun(run: CommittedRun): Promise<void> {
    await this.writeJson('last-committed-run.json', { runId: run.runId, ingestTs: run.ingestTs });
  }

  async readLastCommittedRun(): Promise<CommittedRun | null> {
    return (await this.readJson<CommittedRun>('last-committed-run.json')) ?? null;
  }

  private path(name: string): string {
    return join(this.folder, name);
  }

  /** Written whole or not at all (a killed run must not leave half a file that breaks the next). */
  private async writeJson(name: string, value: unknown): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    const temporary = this.path(`.${name}.${randomUUID()}`);
    await writeFile(temporary, JSON.stringify(value));
    await rename(temporary, this.path(name));
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

/** Whether the lease's process is known to be gone: on this host, and no process has its id. */
function holderIsGone(lease: LeaseFile): boolean {
  if (lease.hostname !== hostname() || !Number.isInteger(lease.pid)) return false;
  if (lease.pid === process.pid) return false;
  try {
    process.kill(lease.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
