import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a failed execution stopped: the top-level state it failed in, and that state's input. */
export interface ExecutionFailure {
  readonly state: string;
  readonly input: unknown;
  readonly error: string;
  readonly cause: string;
}

export interface ExecutionRecord {
  readonly name: string;
  readonly input: unknown;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly startedAt: string;
  readonly stoppedAt?: string;
  readonly failure?: ExecutionFailure;
  readonly redriveCount: number;
}

/** Step Functions keeps a closed execution's name for 90 days; locally, names are never reused. */
export class ExecutionAlreadyExists extends Error {
  constructor(name: string) {
    super(
      `Execution Already Exists: '${name}' (Step Functions never reuses an execution name; ` +
        `to run that run again start a new execution with {"resume": "<run id>"}: npm run local -- --resume <run id>)`,
    );
    this.name = 'ExecutionAlreadyExists';
  }
}

/** A redrive of an execution that did not fail, or of one that does not exist, as the service refuses it. */
export class ExecutionNotRedrivable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecutionNotRedrivable';
  }
}

/** Step Functions redrives an execution up to 14 days after it stopped. */
const REDRIVE_WINDOW_MS = 14 * 24 * 3_600_000;

/**
 * The local runner's execution history, one JSON file per execution name,
 * so the runner applies the service's rules: a name starts one execution
 * ever (ExecutionAlreadyExists), and only a failed execution can be
 * redriven, from the state it failed in.
 */
export class LocalExecutions {
  constructor(private readonly folder: string) {}

  async read(name: string): Promise<ExecutionRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.path(name), 'utf8')) as ExecutionRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Records a new execution; refuses a name used before. */
  async start(name: string, input: unknown, now: Date): Promise<void> {
    await mkdir(this.folder, { recursive: true });
    const record: ExecutionRecord = {
      name,
      input,
      status: 'RUNNING',
      startedAt: now.toISOString(),
      redriveCount: 0,
    };
    try {
      await writeFile(this.path(name), JSON.stringify(record, null, 2), { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ExecutionAlreadyExists(name);
      throw error;
    }
  }

  /** The failure a redrive of `name` restarts from; refuses what the service refuses. */
  async redrivable(name: string, now: Date): Promise<ExecutionRecord & { failure: ExecutionFailure }> {
    const record = await this.read(name);
    if (record === undefined) throw new ExecutionNotRedrivable(`Execution Does Not Exist: '${name}'`);
    if (record.status !== 'FAILED' || record.failure === undefined) {
      throw new ExecutionNotRedrivable(
        `Execution '${name}' is ${record.status}: only a failed, timed out or aborted execution can be redriven`,
      );
    }
    if (now.getTime() - Date.parse(record.stoppedAt ?? record.startedAt) > REDRIVE_WINDOW_MS) {
      throw new ExecutionNotRedrivable(
        `Execution '${name}' stopped more than 14 days ago and cannot be redriven`,
      );
    }
    return record as ExecutionRecord & { failure: ExecutionFailure };
  }

  async redriving(record: ExecutionRecord): Promise<void> {
    await this.write({ ...record, status: 'RUNNING', redriveCount: record.redriveCount + 1 });
  }

  async stop(name: string, now: Date, failure?: ExecutionFailure): Promise<void> {
    const record = await this.read(name);
    if (record === undefined) throw new Error(`execution ${name} was never started`);
    const { failure: _previous, ...rest } = record;
    await this.write({
      ...rest,
      status: failure === undefined ? 'SUCCEEDED' : 'FAILED',
      stoppedAt: now.toISOString(),
      ...(failure === undefined ? {} : { failure }),
    });
  }

  private async write(record: ExecutionRecord): Promise<void> {
    await writeFile(this.path(record.name), JSON.stringify(record, null, 2));
  }

  private path(name: string): string {
    return join(this.folder, `${name}.json`);
  }
}
