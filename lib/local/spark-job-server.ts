import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { venvPython } from './python.ts';
import {
  ERROR_TAIL_CHARS,
  requireSparkPrerequisites,
  type SparkOptions,
  sparkRunnerArguments,
} from './spark.ts';

/** Must match JOB_MARKER in python/spark_runner.py. */
const JOB_MARKER = '@@ledgerlake-job@@ ';

/** A job script (a generated Glue script) run as `python script argv...` would run it. */
export interface SparkJob {
  readonly script: string;
  readonly argv: readonly string[];
  /** Directory of the Hadoop catalog `local` the job sees. */
  readonly warehouse: string;
}

interface Running {
  readonly job: SparkJob;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * One Spark process (python/spark_runner.py --serve) that runs job scripts
 * one after another, each in a SparkSession of its own over the job's
 * warehouse. Starting Spark costs about 8 s here and a cold JVM runs a job
 * about twice as slowly as a warm one, so local runs and tests share one
 * process; a job's duration is then not a Glue job run's, which includes its
 * start-up (the benchmark starts a process per job). What a job could leave
 * for the next (SQL settings, temporary views, cached tables and data, the
 * Glue package's modules) is reset between jobs: see run_served_job in the
 * runner.
 *
 * The process starts at the first job and is restarted after it dies. It does
 * not keep this process alive while idle, and ends with it (its stdin closes).
 */
export class SparkJobServer {
  private child: ChildProcess | undefined;
  private running: Running | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private stderrTail = '';

  constructor(private readonly options: Omit<SparkOptions, 'warehouse' | 'args'> = {}) {}

  /** Runs the job after those already asked for; rejects with its traceback when it fails. */
  run(job: SparkJob): Promise<void> {
    const result = this.queue.then(() => this.send(job));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Ends the Spark process once the jobs asked for have run. */
  async close(): Promise<void> {
    await this.queue;
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    referenced(child, true);
    child.stdin?.end();
    await exited;
  }

  private send(job: SparkJob): Promise<void> {
    const child = this.child ?? this.start();
    return new Promise<void>((resolve, reject) => {
      this.running = { job, resolve, reject };
      referenced(child, true);
      child.stdin?.write(
        `${JSON.stringify({ job: job.script, argv: job.argv, warehouse: job.warehouse })}\n`,
      );
    });
  }

  private start(): ChildProcess {
    requireSparkPrerequisites();
    // Spark leaves spark-warehouse/ and derby.log in its working directory.
    const scratch = mkdtempSync(join(tmpdir(), 'ledgerlake-spark-server-'));
    const args = [...sparkRunnerArguments({ ...this.options, warehouse: scratch }), '--serve'];
    const child = spawn(venvPython(), args, {
      cwd: scratch,
      env: { ...process.env, ...this.options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
    process.once('exit', removeScratch);
    this.child = child;
    this.stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-ERROR_TAIL_CHARS);
    });
    if (child.stdout !== null) {
      // Lines other than the answers are the jobs' own logs.
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith(JOB_MARKER)) this.answered(JSON.parse(line.slice(JOB_MARKER.length)));
      });
    }
    const died = (reason: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      process.off('exit', removeScratch);
      removeScratch();
      const running = this.running;
      this.running = undefined;
      running?.reject(
        new Error(
          `the Spark process ${reason} while running ${basename(running.job.script)}:\n${this.stderrTail.trim()}`,
        ),
      );
    };
    child.once('error', (error) => died(`failed (${error.message})`));
    child.once('exit', (code, signal) => died(`exited (${signal ?? `code ${code}`})`));
    return child;
  }

  private answered(answer: { ok: boolean; error?: string }): void {
    const running = this.running;
    if (running === undefined) return;
    this.running = undefined;
    if (this.child !== undefined) referenced(this.child, false);
    if (answer.ok) running.resolve();
    else
      running.reject(new Error(`Spark job ${basename(running.job.script)} failed:\n${answer.error ?? ''}`));
  }
}

/** Whether the process and its pipes keep this process's event loop alive: only while a job runs. */
function referenced(child: ChildProcess, on: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as Array<{
    ref?(): void;
    unref?(): void;
  } | null>) {
    if (on) handle?.ref?.();
    else handle?.unref?.();
  }
}
