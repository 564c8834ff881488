import './node22-polyfills.ts';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ExecutionError } from 'aws-local-stepfunctions';
import { MongoClient } from 'mongodb';
import type { RunSummary } from '../../../lambdas/commit/commit-run.ts';
import { type CommitEvent, commitTask } from '../../../lambdas/commit/handler.ts';
import { ExtractionThreads, threadsFor } from '../../../lambdas/extract/extraction-threads.ts';
import { extractTask } from '../../../lambdas/extract/handler.ts';
import { checkDeletes } from '../../../lambdas/plan/check-deletes.ts';
import { type PlanResult, planRun } from '../../../lambdas/plan/plan-run.ts';
import {
  type ChunkSpec,
  type PipelineContext,
  plannedDocuments,
} from '../../../lambdas/shared/pipeline-context.ts';
import { validateRun } from '../../../lambdas/validate/handler.ts';
import type { RunRequest } from '../../../lambdas/validate/run-request.ts';
import { type LedgerlakeConfig, resolveConfig } from '../../config/index.ts';
import { assertRunId, INGEST_STATES, JOB_ARGUMENT, PLAN_STATUS } from '../../contracts/index.ts';
import { writeGlueScripts } from '../../glue/generate.ts';
import type { ModelDefinition } from '../../model/definition.ts';
import { buildTableModel } from '../../model/index.ts';
import type { AslDefinition } from '../../stacks/ingest-definition.ts';
import { closePeriod, curate, type EngineContext, maintain, openTable, rawAppend } from '../engine/index.ts';
import { FsObjectStore } from '../fs-object-store.ts';
import { FsRunStateStore } from '../fs-run-state.ts';
import { FsCatalog } from '../iceberg/catalog.ts';
import { ingestDefinitionFor } from './definition.ts';
import { openEmbeddedSource } from './embedded-source.ts';
import { LocalExecutions } from './executions.ts';
import { LocalStateMachine } from './local-state-machine.ts';
import { type MutationCounts, mutateSource } from './mutate.ts';
import { sparkJobRunner } from './spark-jobs.ts';

export type GlueEngine = 'duckdb' | 'spark';

export interface LocalRunOptions {
  /** Folder holding all local state: source dump, warehouse (staging and tables), run state. */
  readonly dir: string;
  /** Journal entries of the embedded source, seeded on the first run. */
  readonly scale: number;
  /** A real MongoDB to extract from instead of the embedded source. @default - the embedded source */
  readonly mongoUri?: string;
  /** Source documents to change before this run (embedded source only). @default 0 */
  readonly mutate?: number;
  /** What runs the Glue tasks: the local engine (DuckDB) or the generated Glue scripts on PySpark. @default 'duckdb' */
  readonly engine?: GlueEngine;
  /**
   * With the spark engine, each Glue job in a Spark process started for it, as a
   * Glue job run starts its own: job durations then include the start-up, as the
   * benchmark's cost model needs. @default false - one Spark process for every job
   */
  readonly sparkProcessPerJob?: boolean;
  /** The state machine input. @default {} - incremental, every collection */
  readonly input?: unknown;
  /** Called for each event of the execution, e.g. to show progress. @default - none */
  readonly onEvent?: (event: RunEvent) => void;
  /** Retries wait this many milliseconds instead of the definition's backoff (tests). @default - the definition's */
  readonly retryDelayMs?: number;
  /** Wraps the local task handlers, e.g. to inject faults in tests. @default - none */
  readonly wrapTask?: (stateName: string, handler: TaskHandler) => TaskHandler;
  /**
   * The execution's name, which is the run id unless the input resumes an
   * earlier run (`{"resume": runId}`: same plan, staged files overwritten,
   * raw append skipped where done). As on Step Functions, a name starts one
   * execution ever: reusing one fails with ExecutionAlreadyExists.
   * @default - a new name from the clock
   */
  readonly executionName?: string;
  /**
   * Redrive this failed execution as Step Functions does: restart it at the
   * top-level state it failed in, with that state's input. The ingest state
   * machine's failures end in RunFailed, so a redrive fails again; resume the
   * run in a new execution instead. `input` and `mutate` do not apply.
   * @default - a new execution
   */
  readonly redrive?: string;
  /**
   * After a successful run, start a second execution with `{"maintenance": true}` (what the daily
   * schedule starts on AWS): the maintenance job runs under the run lease. @default false
   */
  readonly maintain?: boolean;
  /** Wait states wait this many seconds instead of the definition's (tests). @default - the definition's */
  readonly waitSeconds?: number;
  /** @default resolveConfig() */
  readonly config?: LedgerlakeConfig;
  /**
   * The table model's definition, for tests that change the model on an
   * existing warehouse; with the Spark engine its Glue scripts are generated
   * into `<dir>/state/glue-scripts/`. @default the checked-in model and scripts
   */
  readonly definition?: ModelDefinition;
  /**
   * Called at named points inside the functions and jobs (`commit:after-watermark:<collection>`,
   * `raw-append:before-commit:<collection>`, ...), so tests can fail or kill a run exactly there.
   * @default - none
   */
  readonly faultPoint?: (point: string) => void | Promise<void>;
  /**
   * DuckDB's memory limit for the local engine's jobs (its `memory_limit`,
   * e.g. '640MB'); joins and sorts beyond it spill to `<dir>/state/engine-spill`.
   * @default DEFAULT_ENGINE_MEMORY
   */
  readonly engineMemory?: string;
  /**
   * Worker threads for extraction (ExtractionThreads): they also bound how many
   * chunks extract at once; 0 extracts each chunk on the runner's own thread,
   * as a Lambda does. @default threadsFor(EXTRACTION_MEMORY_MIB): one per core
   */
  readonly extractionThreads?: number;
}

/**
 * A run that reads fewer documents extracts them on the runner's own thread, as a Lambda does:
 * starting a worker thread (loading its modules) costs about 0.3 s, more than the threads save on
 * a run this small. Measured at 1M: 10,000 documents in 0.88 s with threads, 0.57–0.61 s without;
 * threads extract 44,600 documents/s against 36,700 on one thread, so they pay off from about
 * 65,000 documents.
 */
export const SMALL_RUN_DOCUMENTS = 50_000;

/** What the local run's extraction may hold at once (worker threads, their batches and row groups). */
export const EXTRACTION_MEMORY_MIB = 512;

/**
 * The local engine's DuckDB memory: with the embedded source and the runner, a run at 1M entries
 * stays within 1.5 GiB. Measured at 1M: peak RSS 1,322–1,411 MiB at 640 MB against 1,417–1,563 MiB
 * at 768 MB, with the same Curate times (full load 6.4–6.7 s, 1% mix 4.6–4.8 s).
 */
export const DEFAULT_ENGINE_MEMORY = '640MB';

export type TaskHandler = (input: unknown) => Promise<unknown>;

/** What the runner reports while the execution runs. */
export type RunEvent =
  | { readonly type: 'note'; readonly message: string }
  | { readonly type: 'mutated'; readonly counts: MutationCounts }
  | { readonly type: 'state-entered' | 'state-exited'; readonly state: string; readonly index?: number }
  | { readonly type: 'state-retried'; readonly state: string; readonly attempt: number }
  | { readonly type: 'state-failed'; readonly state: string; readonly error: string; readonly cause: string }
  | {
      readonly type: 'chunk-done';
      readonly chunk: ChunkSpec;
      /** Documents read; for a key listing, keys listed. */
      readonly documents: number;
      readonly seconds: number;
    };

export interface TableCounts {
  readonly rows: number;
  readonly files: number;
  readonly snapshots: number;
}

export interface LocalRunSummary {
  readonly runId: string;
  /** `full` for the first run into an empty state folder, then `incremental`. */
  readonly mode: 'full' | 'incremental';
  /** `ALREADY_COMMITTED`: the run id (`--run-id`) committed before; nothing was done. */
  readonly status: 'SUCCEEDED' | typeof PLAN_STATUS.alreadyRunning | typeof PLAN_STATUS.alreadyCommitted;
  readonly engine: GlueEngine;
  readonly seconds: number;
  /**
   * `staged` counts every document read, quarantined ones included: raw keeps them; `unchanged`:
   * documents of a full reload that raw already holds as read (not staged again). `deleted`:
   * documents gone from the source, tombstoned in raw.
   */
  readonly collections: Readonly<
    Record<string, { read: number; staged: number; unchanged: number; quarantined: number; deleted: number }>
  >;
  /** Whether every collection reconciled (see the run summary); absent when nothing was committed. */
  readonly reconciled?: boolean;
  /** Open data-quality issues per code after the run; absent when nothing was committed. */
  readonly dataQuality?: Readonly<Record<string, number>>;
  readonly tables: Readonly<Record<string, TableCounts>>;
  readonly mutations?: MutationCounts;
  /** What maintenance did, when it ran (the local engine's per-table report; the Glue script's output on Spark). */
  readonly maintenance?: unknown;
  /** What the close did, when the input named a month to close (ClosePeriodResult on the local engine; the Glue script's output on Spark). */
  readonly close?: unknown;
  /** The commit's full run summary (watermarks, quarantine reasons, undeclared fields). */
  readonly run?: RunSummary;
}

/**
 * Runs the ingest state machine that CDK synthesizes, on this machine:
 * aws-local-stepfunctions interprets the definition (Choice, Map with its
 * MaxConcurrency, Retry, Catch as on AWS); the Lambda tasks call the same
 * functions the handlers call, with the object store, run-state table and
 * source behind local stand-ins; the Glue tasks run the local engine's jobs,
 * or the generated Glue scripts on PySpark.
 */
export async function runLocalPipeline(options: LocalRunOptions): Promise<LocalRunSummary> {
  const started = performance.now();
  const config = options.config ?? resolveConfig();
  const model = buildTableModel(config, options.definition);
  const warehouse = join(options.dir, 'warehouse');
  const runState = new FsRunStateStore(join(options.dir, 'state'));
  const mode = (await hasCommittedRun(config, runState)) ? 'incremental' : 'full';
  const engineName = options.engine ?? 'duckdb';

  const source =
    options.mongoUri === undefined
      ? await openEmbeddedSource(join(options.dir, 'source'), config.source.database, options.scale)
      : undefined;
  const uri = options.mongoUri ?? (source?.uri as string);
  options.onEvent?.({
    type: 'note',
    message:
      source === undefined
        ? 'source: MONGO_URI'
        : `source: the embedded server with ${(source.state.scale + source.state.insertedEntries).toLocaleString('en-US')} sample journal entries, ready in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  });
  const client = await new MongoClient(uri).connect();
  const connection = await (
    await DuckDBInstance.create(':memory:', {
      // What a Glue worker has is bounded too: beyond this, DuckDB spills joins and sorts to the state folder.
      memory_limit: options.engineMemory ?? DEFAULT_ENGINE_MEMORY,
      temp_directory: join(options.dir, 'state', 'engine-spill'),
    })
  ).connect();
  const threadCount = options.extractionThreads ?? threadsFor(EXTRACTION_MEMORY_MIB);
  const threads = threadCount === 0 ? undefined : new ExtractionThreads(threadCount);
  try {
    let mutations: MutationCounts | undefined;
    if ((options.mutate ?? 0) > 0) {
      if (source === undefined)
        throw new Error('--mutate changes the embedded source only; unset MONGO_URI to use it');
      const mutated = await mutateSource(
        client.db(config.source.database),
        source.state,
        options.mutate ?? 0,
        new Date(),
      );
      await source.save(mutated.state);
      mutations = mutated.counts;
      options.onEvent?.({ type: 'mutated', counts: mutated.counts });
    }
    const faultPoint = options.faultPoint === undefined ? {} : { faultPoint: options.faultPoint };
    const context: PipelineContext = {
      config,
      model,
      store: new FsObjectStore(warehouse),
      runState,
      mongo: async () => client,
      ...(threads === undefined ? {} : { extractionThreads: threads }),
      ...faultPoint,
    };
    const engine: EngineContext = {
      config,
      model,
      catalog: new FsCatalog(warehouse),
      connection,
      stagingRoot: warehouse,
      ...faultPoint,
    };
    const jobs =
      engineName === 'spark'
        ? sparkJobRunner(warehouse, config, {
            scriptsDir: await scriptsFor(options),
            processPerJob: options.sparkProcessPerJob === true,
          })
        : engineJobRunner(engine);
    let maintenance: unknown;
    let close: unknown;
    // The Maintain and ClosePeriod states discard the job's result, as on AWS; the runner keeps it for the summary.
    const glue: GlueJobRunner = {
      ...jobs,
      maintain: async () => (maintenance = await jobs.maintain()),
      closePeriod: async (...args) => (close = await jobs.closePeriod(...args)),
    };
    const executions = new LocalExecutions(join(options.dir, 'state', 'executions'));
    const start = await startExecution(executions, options);
    const runId = runIdFor(start.name, start.input);
    const handlers = taskHandlers(config, context, glue, options);
    const synthStarted = performance.now();
    const { definition, source: synthesis } = await ingestDefinitionFor(config);
    const synthSeconds = ((performance.now() - synthStarted) / 1000).toFixed(1);
    options.onEvent?.({
      type: 'note',
      message: `${DEFINITION_NOTE[synthesis]} in ${synthSeconds} s; run ${runId}`,
    });
    const local: LocalExecution = { definition, store: context.store, handlers, executions, options };
    const output = (await execute(local, start, runId)) as {
      plan?: Pick<PlanResult, 'status'>;
      summary?: RunSummary;
    };
    const run = output.summary;
    const status =
      output.plan?.status === PLAN_STATUS.alreadyRunning ||
      output.plan?.status === PLAN_STATUS.alreadyCommitted
        ? output.plan.status
        : 'SUCCEEDED';
    if (options.maintain === true && status === 'SUCCEEDED') {
      // What the maintenance schedule starts: the same state machine, under the run lease.
      const name = `${start.name}-maintenance`;
      const input = { maintenance: true };
      await executions.start(name, input, new Date());
      await execute(local, { name, input }, name);
    }
    return {
      runId,
      mode,
      status,
      engine: engineName,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      collections: Object.fromEntries(
        (run?.collections ?? []).map((c) => [
          c.collection,
          {
            read: c.documentsRead,
            staged: c.rowsStaged,
            unchanged: c.unchangedDocuments,
            quarantined: c.quarantined,
            deleted: c.deletes,
          },
        ]),
      ),
      ...(run === undefined ? {} : { reconciled: run.reconciled, dataQuality: run.dataQuality }),
      tables: await tableCounts(engine),
      ...(mutations === undefined ? {} : { mutations }),
      ...(maintenance === undefined ? {} : { maintenance }),
      ...(close === undefined ? {} : { close }),
      ...(run === undefined ? {} : { run }),
    };
  } finally {
    await threads?.close();
    connection.closeSync();
    await client.close();
    await source?.close();
  }
}

const DEFINITION_NOTE = {
  process: 'state machine synthesized earlier in this process',
  disk: 'state machine read from the synthesis cache (.cache/synth: same config, model and constructs)',
  synthesized: 'state machine synthesized from the CDK app',
} as const;

/** What every local execution of the synthesized definition shares. */
interface LocalExecution {
  readonly definition: AslDefinition;
  readonly store: PipelineContext['store'];
  readonly handlers: Record<string, TaskHandler>;
  readonly executions: LocalExecutions;
  readonly options: LocalRunOptions;
}

/**
 * Runs one execution (from `start.at` for a redrive) and records how it
 * ended: a failure keeps the top-level state it stopped in and that state's
 * input, where a redrive restarts.
 */
async function execute(
  local: LocalExecution,
  start: { readonly name: string; readonly input: unknown; readonly at?: string },
  runId: string,
): Promise<unknown> {
  const { options, handlers } = local;
  // The service's payload quota and its Map states (ItemReader, ResultWriter) on top of the interpreter.
  const machine = new LocalStateMachine(
    local.definition,
    { store: local.store },
    start.at === undefined ? {} : { startAt: start.at },
  );
  const execution = machine.run(start.input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      ...(options.retryDelayMs === undefined
        ? {}
        : {
            retryIntervalOverrides: Object.fromEntries(
              Object.keys(handlers).map((s) => [s, options.retryDelayMs as number]),
            ),
          }),
      ...(options.waitSeconds === undefined
        ? {}
        : { waitTimeOverrides: { [INGEST_STATES.waitForLease]: options.waitSeconds * 1000 } }),
    },
    context: { Execution: { Name: start.name } },
  });
  const events = forwardEvents(execution.eventLogs, options.onEvent);
  try {
    const output = await execution.result;
    await events;
    await local.executions.stop(start.name, new Date());
    return output;
  } catch (error) {
    const failed = failure(error, runId);
    const { state, input } = await events;
    await local.executions.stop(start.name, new Date(), {
      state: state ?? start.at ?? local.definition.StartAt,
      input: state === undefined ? start.input : input,
      error: error instanceof ExecutionError ? error.message : String(error),
      cause: failed.message,
    });
    throw failed;
  }
}

/** Rows, live data files and snapshots of every table of the model that exists. */
export async function tableCounts(engine: EngineContext): Promise<Record<string, TableCounts>> {
  const out: Record<string, TableCounts> = {};
  for (const table of engine.model.tables) {
    if ((await engine.catalog.load(engine.catalog.locationOf(table))) === undefined) continue;
    const stats = await (await openTable(engine, table)).stats();
    out[`${table.database}.${table.name}`] = {
      rows: Number(stats.rows),
      files: stats.files,
      snapshots: stats.snapshots,
    };
  }
  return out;
}

/** Runs one Glue job's local equivalent for a run id. */
export interface GlueJobRunner {
  rawAppend(runId: string): Promise<unknown>;
  curate(runId: string): Promise<unknown>;
  closePeriod(runId: string, period: string, reopen: boolean): Promise<unknown>;
  maintain(): Promise<unknown>;
}

function engineJobRunner(engine: EngineContext): GlueJobRunner {
  return {
    rawAppend: (runId) => rawAppend({ runId }, engine),
    curate: (runId) => curate({ runId }, engine),
    closePeriod: (runId, period, reopen) => closePeriod({ runId, period, reopen }, engine),
    maintain: () => maintain(engine),
  };
}

function taskHandlers(
  config: LedgerlakeConfig,
  context: PipelineContext,
  glue: GlueJobRunner,
  options: LocalRunOptions,
): Record<string, TaskHandler> {
  const S = INGEST_STATES;
  const argument = (input: unknown, name: string) =>
    String((input as { Arguments?: Record<string, unknown> }).Arguments?.[`--${name}`]);
  const runIdOf = (input: unknown) => argument(input, JOB_ARGUMENT.runId);
  // A small run extracts on this thread (see SMALL_RUN_DOCUMENTS); unknown (a redrive past Plan): threads.
  let extractContext = context;
  const plan: TaskHandler = async (input) => {
    const result = await planRun(input as { runId: unknown; request?: RunRequest }, context);
    if (result.status === PLAN_STATUS.planned) {
      const reads = result.collections.reduce((sum, c) => sum + plannedDocuments(c), 0);
      const { extractionThreads: _, ...withoutThreads } = context;
      extractContext = reads < SMALL_RUN_DOCUMENTS ? withoutThreads : context;
    }
    return result;
  };
  const extract: TaskHandler = async (input) => {
    const chunk = input as ChunkSpec;
    const startedAt = performance.now();
    const result = await extractTask(chunk, extractContext);
    options.onEvent?.({
      type: 'chunk-done',
      chunk,
      documents: 'documents' in result ? result.documents : result.keys,
      seconds: (performance.now() - startedAt) / 1000,
    });
    return result;
  };
  const handlers: Record<string, TaskHandler> = {
    [S.validate]: async (input) => validateRun(input as { input: unknown; runId: unknown }, config),
    [S.plan]: plan,
    [S.extractChunk]: extract,
    [S.extractListedChunk]: extract,
    [S.checkDeletes]: async (input) => checkDeletes(input as { runId: unknown }, context),
    [S.listKeysChunk]: extract,
    // Glue .sync tasks: the state passes { JobName, Arguments }; the result is discarded, as on AWS.
    [S.rawAppend]: async (input) => glue.rawAppend(runIdOf(input)),
    [S.reconcileDeletes]: async (input) => glue.rawAppend(runIdOf(input)),
    [S.curate]: async (input) => glue.curate(runIdOf(input)),
    [S.closePeriod]: async (input) =>
      glue.closePeriod(
        runIdOf(input),
        argument(input, JOB_ARGUMENT.closePeriod),
        argument(input, JOB_ARGUMENT.reopen) === 'true',
      ),
    [S.commit]: async (input) => commitTask(input as CommitEvent, context),
    [S.releaseLease]: async (input) => commitTask(input as CommitEvent, context),
    [S.maintain]: async () => glue.maintain(),
    [S.releaseAfterMaintenance]: async (input) => commitTask(input as CommitEvent, context),
  };
  return Object.fromEntries(
    Object.entries(handlers).map(([state, handler]) => [
      state,
      jsonSafe(options.wrapTask === undefined ? handler : options.wrapTask(state, handler)),
    ]),
  );
}

/** Task results travel as JSON between states, as on AWS: no bigints, dates or class instances. */
function jsonSafe(handler: TaskHandler): TaskHandler {
  return async (input) => JSON.parse(JSON.stringify((await handler(input)) ?? null));
}

/**
 * Passes the execution's events on; returns the last top-level state
 * entered and its input, which is where a failed execution stopped.
 */
async function forwardEvents(
  logs: AsyncGenerator<{
    type: string;
    state?: { name: string; input?: unknown };
    index?: number;
    retry?: { attempt: number };
    Error?: string;
    Cause?: unknown;
  }>,
  onEvent: LocalRunOptions['onEvent'],
): Promise<{ state?: string; input?: unknown }> {
  let last: { state?: string; input?: unknown } = {};
  for await (const event of logs) {
    if (event.state === undefined) continue;
    if (event.type === 'StateEntered' && event.index === undefined) {
      last = { state: event.state.name, input: event.state.input };
    }
    if (onEvent === undefined) continue;
    const state = event.state.name;
    const index = event.index === undefined ? {} : { index: event.index };
    if (event.type === 'StateEntered') onEvent({ type: 'state-entered', state, ...index });
    else if (event.type === 'StateExited') onEvent({ type: 'state-exited', state, ...index });
    else if (event.type === 'StateRetried')
      onEvent({ type: 'state-retried', state, attempt: event.retry?.attempt ?? 0 });
    else if (event.type === 'StateFailed')
      onEvent({ type: 'state-failed', state, error: String(event.Error), cause: String(event.Cause) });
  }
  return last;
}

/** Whether any collection has a committed watermark in this state folder. */
async function hasCommittedRun(config: LedgerlakeConfig, runState: FsRunStateStore): Promise<boolean> {
  for (const collection of config.collections) {
    if ((await runState.readWatermark(collection.name)).bound !== null) return true;
  }
  return false;
}

/** The new execution to start, or the failed one to redrive: its name, input and first state. */
async function startExecution(
  executions: LocalExecutions,
  options: LocalRunOptions,
): Promise<{ name: string; input: unknown; at?: string }> {
  const now = new Date();
  if (options.redrive !== undefined) {
    const record = await executions.redrivable(options.redrive, now);
    await executions.redriving(record);
    return { name: record.name, input: record.failure.input, at: record.failure.state };
  }
  // Milliseconds included: two runs in the same second must not share a name.
  const name = assertRunId(options.executionName ?? `local-${now.toISOString().replace(/[-:.]/g, '')}`);
  const input = options.input ?? {};
  await executions.start(name, input, now);
  return { name, input };
}

/** The run an execution works on: the one its input resumes, else its own name (as ValidateInput decides). */
function runIdFor(name: string, input: unknown): string {
  const resume = (input as { resume?: unknown; runId?: unknown } | null)?.resume;
  if (typeof resume === 'string') return resume;
  // A redriven state's input carries the validated run id.
  const validated = (input as { runId?: unknown } | null)?.runId;
  return typeof validated === 'string' ? validated : name;
}

/** A failed execution, with its run id for a resume (`--resume`). */
export class LocalRunFailed extends Error {
  constructor(
    readonly runId: string,
    message: string,
  ) {
    super(message);
    this.name = 'LocalRunFailed';
  }
}

/**
 * A run id that a later run has superseded: refused, not failed. Nothing is
 * left to redo under this id (the runs after it read everything it would),
 * so unlike LocalRunFailed it suggests no rerun.
 */
export class LocalRunRefused extends Error {
  constructor(
    readonly runId: string,
    message: string,
  ) {
    super(message);
    this.name = 'RunSuperseded';
  }
}

/** The execution's error and cause, as the Step Functions console would show them. */
function failure(error: unknown, runId: string): Error {
  if (!(error instanceof ExecutionError)) return error as Error;
  const cause = (error as ExecutionError & { getCause?: () => unknown }).cause ?? error.message;
  if (cause instanceof Error && cause.name === 'RunSuperseded') {
    return new LocalRunRefused(runId, `local run ${runId} refused: ${cause.message}`);
  }
  return new LocalRunFailed(
    runId,
    `local run ${runId} failed: ${error.message}${cause === error.message ? '' : `\n${String(cause)}`}`,
  );
}

/** Where the Spark engine finds the Glue scripts: the checked-in ones, or the definition's, generated. */
async function scriptsFor(options: LocalRunOptions): Promise<string | undefined> {
  if (options.definition === undefined) return undefined;
  const folder = join(options.dir, 'state', 'glue-scripts');
  await writeGlueScripts(options.config ?? resolveConfig(), folder, options.definition);
  return folder;
}
