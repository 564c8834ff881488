import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from 'mongodb';
import { type LedgerlakeConfig, resolveConfig } from '../../lib/config/index.ts';
import { INGEST_STATES } from '../../lib/contracts/index.ts';
import {
  type GlueEngine,
  type LocalRunOptions,
  type LocalRunSummary,
  runLocalPipeline,
  type TaskHandler,
} from '../../lib/local/runner/run-pipeline.ts';
import { type CuratedTables, expectedTables, readSourceDocuments } from './oracle.ts';
import { curatedSnapshots, diffTables, duplicateKeys, readCuratedTables, rowCounts } from './tables.ts';

/** Chunks of 100 documents (the smallest allowed), so a few hundred changes make several chunks. */
export const CHUNK_DOCS = 100;

/** A valid MongoDB database name unique to this test run. */
export function uniqueDatabase(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export function scenarioConfig(database: string): LedgerlakeConfig {
  return resolveConfig({
    source: { database },
    collections: [
      { name: 'accounts', mode: 'full', watermarkField: 'updatedAt', chunkDocs: CHUNK_DOCS },
      { name: 'journal_entries', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: CHUNK_DOCS },
      { name: 'close_tasks', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: CHUNK_DOCS },
    ],
    aws: { mapMaxConcurrency: 2 },
  });
}

/** The error every injected failure throws: no Retry of the state machine matches it. */
export class InjectedFault extends Error {
  constructor(where: string) {
    super(`injected fault at ${where}`);
    this.name = 'InjectedFault';
  }
}

/** Where a failure is injected: a task (before or after its handler ran), or a named fault point. */
export type Fault =
  | {
      readonly kind: 'task';
      readonly state: string;
      readonly when: 'before' | 'after';
      /** ExtractChunk only: which journal_entries chunk fails. */
      readonly chunk?: 'first' | 'middle';
    }
  | { readonly kind: 'point'; readonly point: string };

export function faultName(fault: Fault): string {
  if (fault.kind === 'point') return `fault point ${fault.point}`;
  const chunk = fault.chunk === undefined ? '' : ` (${fault.chunk} journal_entries chunk)`;
  return `${fault.state}${chunk}, ${fault.when} its handler`;
}

export interface RunRecord {
  readonly runId: string;
  readonly outcome: 'committed' | 'failed';
}

/**
 * One pipeline state folder over one source, run step by step; after each
 * step `check` compares the curated tables with the oracle.
 */
export class Scenario {
  readonly runs: RunRecord[] = [];
  /** Plan time of the last run that did work: the oracle's "now" for future watermarks. */
  plannedAt = new Date();
  /** Rows per table and open issues per code of the last oracle check, to show what a step covered. */
  lastChecked = '';
  /** Temporary folders to remove at the end. */
  private readonly folders: string[] = [];
  private cleanRuns = 0;

  private constructor(
    readonly db: Db,
    readonly mongoUri: string,
    readonly config: LedgerlakeConfig,
    readonly engine: GlueEngine,
    public dir: string,
  ) {}

  static async create(
    db: Db,
    mongoUri: string,
    config: LedgerlakeConfig,
    engine: GlueEngine,
  ): Promise<Scenario> {
    const dir = await mkdtemp(join(tmpdir(), 'ledgerlake-scenario-'));
    const scenario = new Scenario(db, mongoUri, config, engine, dir);
    scenario.folders.push(dir);
    return scenario;
  }

  /**
   * A normal run, or with `resume` a new execution resuming that earlier run (a replay);
   * records a new run's outcome and plan time.
   */
  async run(extra: Partial<LocalRunOptions> & { readonly resume?: string } = {}): Promise<LocalRunSummary> {
    const { resume, ...options } = extra;
    const executionName = this.newRunId();
    const runId = resume ?? executionName;
    try {
      const summary = await runLocalPipeline({
        dir: this.dir,
        scale: 1,
        mongoUri: this.mongoUri,
        config: this.config,
        engine: this.engine,
        retryDelayMs: 0,
        ...options,
        executionName,
        ...(resume === undefined ? {} : { input: { resume } }),
      });
      // A replay of a committed run answers ALREADY_COMMITTED; a held lease is never expected here.
      const done =
        summary.status === 'SUCCEEDED' || (resume !== undefined && summary.status === 'ALREADY_COMMITTED');
      if (!done) throw new Error(`run ${runId} ended ${summary.status}`);
      if (resume === undefined) {
        this.runs.push({ runId, outcome: 'committed' });
        this.plannedAt = await this.planTime(runId, summary);
      }
      return summary;
    } catch (error) {
      if (resume === undefined) this.runs.push({ runId, outcome: 'failed' });
      throw error;
    }
  }

  /**
   * A run with a failure injected; resolves to what was seen (the run's error), or throws
   * when the run succeeded or the fault was never reached.
   */
  async failingRun(fault: Fault): Promise<{ error: Error; pointsSeen: readonly string[] }> {
    let fired = false;
    const pointsSeen: string[] = [];
    let journalChunks = 0;
    const options: { wrapTask?: LocalRunOptions['wrapTask']; faultPoint?: LocalRunOptions['faultPoint'] } =
      {};
    if (fault.kind === 'point') {
      options.faultPoint = (point: string) => {
        pointsSeen.push(point);
        if (!fired && point === fault.point) {
          fired = true;
          throw new InjectedFault(point);
        }
      };
    } else {
      const failsHere = (input: unknown): boolean => {
        if (fault.state !== INGEST_STATES.extractChunk && fault.state !== INGEST_STATES.extractListedChunk)
          return true;
        const chunk = input as { collection?: string; index?: number };
        if (chunk.collection !== 'journal_entries') return false;
        const wanted = fault.chunk === 'middle' ? Math.floor(journalChunks / 2) : 0;
        return chunk.index === wanted;
      };
      options.wrapTask = (state: string, handler: TaskHandler): TaskHandler => {
        // Plan's result says how many chunks each collection has: the middle chunk is known from it.
        const inner: TaskHandler =
          state === INGEST_STATES.plan
            ? async (input) => {
                const result = (await handler(input)) as {
                  collections?: { collection: string; chunks: number }[];
                };
                journalChunks =
                  result.collections?.find((c) => c.collection === 'journal_entries')?.chunks ?? 0;
                return result;
              }
            : handler;
        if (state !== fault.state) return inner;
        return async (input) => {
          if (fired || !failsHere(input)) return inner(input);
          if (fault.when === 'after') await inner(input);
          fired = true;
          throw new InjectedFault(faultName(fault));
        };
      };
    }
    let error: Error | undefined;
    try {
      await this.run(options);
    } catch (caught) {
      error = caught as Error;
    }
    if (!fired) {
      const detail =
        fault.kind === 'point'
          ? `fault points reached: ${pointsSeen.join(', ') || 'none (is LocalRunOptions.faultPoint passed to the jobs?)'}`
          : fault.chunk === 'middle'
            ? `the run had ${journalChunks} journal_entries chunks`
            : '';
      throw new Error(
        `${faultName(fault)} was never reached; ${detail}${error ? `; the run failed: ${error.message}` : ''}`,
      );
    }
    if (error === undefined) throw new Error(`the run succeeded although ${faultName(fault)} failed`);
    return { error, pointsSeen };
  }

  /** Problems of the curated tables against the oracle over the current source (empty when equal). */
  async problems(): Promise<string[]> {
    const source = await readSourceDocuments(this.db);
    const expected = expectedTables(source, this.plannedAt, this.config);
    this.lastChecked = booksSummary(expected);
    return diffTables(expected, await readCuratedTables(this.dir, this.config));
  }

  /** Keys that silver or gold hold twice (they never may, even after a failed run). */
  async duplicates(): Promise<string[]> {
    const tables = await readCuratedTables(this.dir, this.config);
    return (['journal_entries_silver', 'close_tasks_silver', 'journal_entries_gold'] as const).flatMap(
      (name) => duplicateKeys(name, tables[name]).map((key) => `${name}: ${key}`),
    );
  }

  /**
   * A clean run over the same source (a fresh folder, one run, the DuckDB engine unless given)
   * and what differs between its tables and this scenario's.
   */
  async differencesFromCleanRun(engine: GlueEngine = 'duckdb'): Promise<string[]> {
    const clean = await mkdtemp(join(tmpdir(), `ledgerlake-clean-${this.cleanRuns++}-`));
    this.folders.push(clean);
    await runLocalPipeline({
      dir: clean,
      scale: 1,
      mongoUri: this.mongoUri,
      config: this.config,
      engine,
      executionName: this.newRunId(),
    });
    return diffTables(
      await readCuratedTables(clean, this.config),
      await readCuratedTables(this.dir, this.config),
      'the recovered tables',
    ).map((line) => line.replace(/expected/g, 'clean run'));
  }

  /** Continues in a fresh folder holding one clean run: later steps do not inherit an earlier step's damage. */
  async rebase(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'ledgerlake-scenario-'));
    this.folders.push(this.dir);
    // The earlier run ids belong to the earlier folder: replaying one here would be a new run.
    this.runs.length = 0;
    await this.run();
  }

  async snapshots(): Promise<Awaited<ReturnType<typeof curatedSnapshots>>> {
    return curatedSnapshots(this.dir, this.config);
  }

  async tables(): Promise<Awaited<ReturnType<typeof readCuratedTables>>> {
    return readCuratedTables(this.dir, this.config);
  }

  async dispose(): Promise<void> {
    for (const folder of this.folders) await rm(folder, { recursive: true, force: true });
  }

  private newRunId(): string {
    return `scenario-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  }

  private async planTime(runId: string, summary: LocalRunSummary): Promise<Date> {
    if (summary.run?.plannedAt !== undefined) return new Date(summary.run.plannedAt);
    const planFile = join(
      this.dir,
      'warehouse',
      'staging',
      this.config.app,
      '_runs',
      `run=${runId}`,
      'plan.json',
    );
    const plan = JSON.parse(await readFile(planFile, 'utf8')) as { plannedAt: string };
    return new Date(plan.plannedAt);
  }
}

/** Throws one error listing every problem, headed by the step; nothing when there is none. */
export function assertNoProblems(step: string, problems: readonly string[], context = ''): void {
  if (problems.length === 0) return;
  throw new Error(`${step}:\n  ${problems.join('\n  ')}${context === '' ? '' : `\n${context}`}`);
}

/** `rows {...}; issues {...}` of a set of tables, for test diagnostics. */
export function booksSummary(tables: CuratedTables): string {
  const codes: Record<string, number> = {};
  for (const row of tables.data_quality_issues) codes[String(row.code)] = (codes[String(row.code)] ?? 0) + 1;
  return `rows ${JSON.stringify(rowCounts(tables))}; issues ${JSON.stringify(codes)}`;
}
