import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Document, MongoClient, ObjectId } from 'mongodb';
import { logger } from '../../../../lambdas/shared/logger.ts';
import { resolveConfig } from '../../../../lib/config/index.ts';
import { INGEST_STATES, stagingLayout } from '../../../../lib/contracts/index.ts';
import type { TableMaintenance } from '../../../../lib/local/engine/index.ts';
import { FsRunStateStore } from '../../../../lib/local/fs-run-state.ts';
import { startMongoServer } from '../../../../lib/local/mongo-server/index.ts';
import { ingestDefinitionFor, synthesisInputsHash } from '../../../../lib/local/runner/definition.ts';
import {
  LocalRunFailed,
  type LocalRunOptions,
  LocalRunRefused,
  type LocalRunSummary,
  type RunEvent,
  runLocalPipeline,
  type TaskHandler,
} from '../../../../lib/local/runner/run-pipeline.ts';
import { synthesizedIngestDefinition } from '../../../../lib/local/runner/synthesize.ts';
import { seedDatabase } from '../../../../lib/local/sample-data/index.ts';
import { MODEL_DEFINITION, type ModelDefinition } from '../../../../lib/model/definition.ts';
import { buildTableModel, column, SOURCE_FIELDS, t } from '../../../../lib/model/index.ts';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..', '..', '..', '..');

// The runs here trip warnings on purpose (a held lease); their outcome is asserted, not printed.
logger.setLogLevel('ERROR');

// Chunks of 100 documents and at most 2 extraction tasks at once, so the Map's concurrency shows.
const config = resolveConfig({
  collections: [
    { name: 'accounts', mode: 'full', watermarkField: 'updatedAt', chunkDocs: 100 },
    { name: 'journal_entries', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 100 },
    { name: 'close_tasks', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 100 },
  ],
  aws: { mapMaxConcurrency: 2 },
});

/** A handler that throws `name` for its first `times` calls, then behaves. */
function failing(name: string, times: number, handler: TaskHandler): TaskHandler {
  let calls = 0;
  return async (input) => {
    if (calls++ < times) {
      const error = new Error(`injected ${name}`);
      error.name = name;
      throw error;
    }
    return handler(input);
  };
}

describe('the synthesized state machine run locally: Map concurrency, Retry, Catch, input validation, lease', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-runner-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('runs chunks at most MaxConcurrency at a time and retries a transient Lambda error with backoff', async () => {
    let inFlight = 0;
    let peak = 0;
    const events: RunEvent[] = [];
    const summary = await runLocalPipeline({
      dir,
      scale: 500,
      config,
      retryDelayMs: 0,
      onEvent: (event) => events.push(event),
      wrapTask: (state, handler) => {
        if (state !== INGEST_STATES.extractChunk) return handler;
        const counted: TaskHandler = async (input) => {
          peak = Math.max(peak, ++inFlight);
          try {
            return await handler(input);
          } finally {
            inFlight--;
          }
        };
        return failing('Lambda.ServiceException', 1, counted);
      },
    });
    assert.equal(summary.status, 'SUCCEEDED');
    assert.equal(summary.collections.journal_entries?.read, 500);
    assert.equal(
      events.filter((e) => e.type === 'chunk-done').length,
      12,
      '1 accounts + 5 journal + 3 tasks chunks (a twelve-task close for each of 24 months), and a key listing per collection',
    );
    assert.equal(peak, 2);
    assert.deepEqual(
      events.filter((e) => e.type === 'state-retried').map((e) => (e as { state: string }).state),
      [INGEST_STATES.extractChunk],
    );
  });

  it('a failing Glue task is caught: the lease is released, the watermark stays; the name is spent, a redrive fails again at RunFailed, and a resume appends nothing twice', async () => {
    const state = new FsRunStateStore(join(dir, 'state'));
    const before = await state.readWatermark('journal_entries');
    const failed = await runLocalPipeline({
      dir,
      scale: 500,
      config,
      mutate: 20,
      wrapTask: (name, handler) =>
        name === INGEST_STATES.curate ? failing('GlueJobFailed', 99, handler) : handler,
    }).then(
      () => assert.fail('the run should have failed'),
      (error: unknown) => error,
    );
    assert.ok(failed instanceof LocalRunFailed);
    assert.match(failed.message, /failed: .*injected GlueJobFailed/s);
    assert.deepEqual(await state.readWatermark('journal_entries'), before, 'no commit, no watermark move');

    // As on Step Functions: an execution name starts one execution ever.
    await assert.rejects(runLocalPipeline({ dir, scale: 500, config, executionName: failed.runId }), {
      name: 'ExecutionAlreadyExists',
    });
    // A redrive restarts at the state that failed: the failure path's RunFailed, so it fails again.
    const entered: string[] = [];
    const redriven = await runLocalPipeline({
      dir,
      scale: 500,
      config,
      redrive: failed.runId,
      onEvent: (e) => {
        if (e.type === 'state-entered') entered.push(e.state);
      },
    }).then(
      () => assert.fail('a redrive of the failed run should fail again'),
      (error: unknown) => error as Error,
    );
    assert.deepEqual(entered, [INGEST_STATES.runFailed]);
    assert.match(redriven.message, /injected GlueJobFailed/);
    assert.deepEqual(await state.readWatermark('journal_entries'), before);
    await assert.rejects(runLocalPipeline({ dir, scale: 500, config, redrive: 'local-never-ran' }), {
      name: 'ExecutionNotRedrivable',
    });

    // The documented resume: a new execution whose input names the failed run.
    const rerun = await runLocalPipeline({ dir, scale: 500, config, input: { resume: failed.runId } });
    assert.equal(rerun.status, 'SUCCEEDED', 'the lease was released on the failure path');
    assert.equal(rerun.runId, failed.runId);
    assert.equal(
      rerun.collections.journal_entries?.read,
      22,
      'the same range: 20 corrected and 2 new entries',
    );
    assert.equal(
      rerun.tables['fq_app_raw.journal_entries']?.rows,
      522,
      'the raw append the failed run made is not repeated',
    );
  });

  it('refuses a bad input in the first state with the validator’s message, before taking the lease', async () => {
    await assert.rejects(
      runLocalPipeline({ dir, scale: 500, config, input: { mode: 'bogus' } }),
      /InvalidRunRequest.*input\.mode must be "full" or "incremental", got "bogus"/s,
    );
  });

  it('exits cleanly, doing nothing, while another run holds the lease', async () => {
    const state = new FsRunStateStore(join(dir, 'state'));
    assert.deepEqual(await state.acquireLease('someone-else', new Date(), 60), { acquired: true });
    try {
      const summary = await runLocalPipeline({ dir, scale: 500, config });
      assert.equal(summary.status, 'ALREADY_RUNNING');
      assert.deepEqual(summary.collections, {});
    } finally {
      await state.releaseLease('someone-else');
    }
  });

  it('with maintain, runs the maintenance job after the run: files compacted, rows unchanged', async () => {
    const summary = await runLocalPipeline({ dir, scale: 500, config, maintain: true });
    const report = summary.maintenance as TableMaintenance[];
    assert.equal(report.length, buildTableModel(config).tables.length);
    const raw = report.find((m) => m.table === 'fq_app_raw.journal_entries');
    assert.ok(
      (raw?.filesCompacted ?? 0) >= 2,
      'the day partition of raw journal entries had several small files',
    );
    assert.equal(summary.tables['fq_app_raw.journal_entries']?.files, raw?.dataFiles);
    assert.equal(summary.tables['fq_app_raw.journal_entries']?.rows, 522);
  });

  it('maintenance ({"maintenance": true}) waits for the run lease, holds it while the job runs, then gives it back', async () => {
    const state = new FsRunStateStore(join(dir, 'state'));
    assert.deepEqual(await state.acquireLease('ingest-in-flight', new Date(), 60), { acquired: true });
    const entered: string[] = [];
    let plans = 0;
    let heldDuringJob: unknown;
    const summary = await runLocalPipeline({
      dir,
      scale: 500,
      config,
      executionName: 'maintenance-1',
      input: { maintenance: true },
      waitSeconds: 0,
      onEvent: (e) => {
        if (e.type === 'state-entered') entered.push(e.state);
      },
      wrapTask: (name, handler) => {
        if (name === INGEST_STATES.plan) {
          return async (input) => {
            plans++;
            // The ingest run ends after maintenance asked twice: the lease is given back before the third
            // Plan reads it, in the task itself. (Events reach onEvent later than the machine runs, so a
            // release from there races the Plan that takes the lease.)
            if (plans === 3) await state.releaseLease('ingest-in-flight');
            if (plans > 3) throw new Error(`Plan ran ${plans} times: the released lease was not taken`);
            return handler(input);
          };
        }
        if (name === INGEST_STATES.maintain) {
          return async (input) => {
            heldDuringJob = await state.acquireLease('ingest-probe', new Date(), 60);
            return handler(input);
          };
        }
        return handler;
      },
    });
    assert.equal(summary.status, 'SUCCEEDED');
    assert.ok(Array.isArray(summary.maintenance), 'the maintenance job ran');
    assert.deepEqual(entered, [
      INGEST_STATES.validate,
      INGEST_STATES.plan,
      INGEST_STATES.alreadyRunning,
      INGEST_STATES.waitForLease,
      INGEST_STATES.plan,
      INGEST_STATES.alreadyRunning,
      INGEST_STATES.waitForLease,
      INGEST_STATES.plan,
      INGEST_STATES.alreadyRunning,
      INGEST_STATES.maintain,
      INGEST_STATES.releaseAfterMaintenance,
      INGEST_STATES.maintained,
    ]);
    assert.deepEqual(
      heldDuringJob,
      { acquired: false, heldBy: 'maintenance-1', since: (heldDuringJob as { since: string }).since },
      'an ingest run planned during maintenance finds the lease held (ALREADY_RUNNING)',
    );
    assert.deepEqual(await state.acquireLease('after-maintenance', new Date(), 60), { acquired: true });
    await state.releaseLease('after-maintenance');
  });

  it('passes the fault point to the functions and to the engine’s jobs', async () => {
    const points: string[] = [];
    const summary = await runLocalPipeline({
      dir,
      scale: 500,
      config,
      mutate: 5,
      faultPoint: (point) => {
        points.push(point);
      },
    });
    assert.equal(summary.status, 'SUCCEEDED');
    for (const expected of [
      'commit:after-watermark:journal_entries',
      'raw-append:before-commit:journal_entries',
    ]) {
      assert.ok(points.includes(expected), `${expected} not called (called: ${points.join(', ')})`);
    }
  });

  it('synthesizes the state machine once per process for a configuration, and keeps it on disk by a hash of its inputs', async () => {
    const notes: string[] = [];
    await runLocalPipeline({
      dir,
      scale: 500,
      config,
      onEvent: (event) => {
        if (event.type === 'note') notes.push(event.message);
      },
    });
    assert.ok(
      notes.some((note) => note.startsWith('state machine synthesized earlier in this process')),
      notes.join('\n'),
    );
    const first = await ingestDefinitionFor(config);
    const again = await ingestDefinitionFor(config);
    assert.equal(again.source, 'process');
    assert.deepEqual(again.definition, first.definition);
    assert.notEqual(again.definition, first.definition, 'each run gets its own copy');

    // Another process: a new config synthesizes and is written to the cache folder; the same config is read back.
    const cacheDir = join(dir, 'synth-cache');
    const other = resolveConfig({ aws: { mapMaxConcurrency: 3 } });
    const made = await ingestDefinitionFor(other, cacheDir);
    assert.equal(made.source, 'synthesized');
    const files = await readdir(cacheDir);
    assert.deepEqual(files, [`ingest-${await synthesisInputsHash(other)}.json`]);
    const onDisk = JSON.parse(await readFile(join(cacheDir, files[0] as string), 'utf8'));
    assert.deepEqual(onDisk, made.definition, 'the file holds the definition, timeouts included');
    const withTimeouts = JSON.stringify(onDisk);
    assert.match(withTimeouts, /"MaxConcurrency":3/, 'the config is in the definition');
    // A config that differs only in a value the definition holds gets its own hash.
    assert.notEqual(await synthesisInputsHash(other), await synthesisInputsHash(config));
    // Another process reads the file instead of synthesizing; a torn file is synthesized again, not trusted.
    const probe = join(dir, 'synth-probe.mts');
    await writeFile(
      probe,
      [
        `import { resolveConfig } from ${JSON.stringify(join(REPO, 'lib/config/index.ts'))};`,
        `import { ingestDefinitionFor } from ${JSON.stringify(join(REPO, 'lib/local/runner/definition.ts'))};`,
        `const { source } = await ingestDefinitionFor(resolveConfig({ aws: { mapMaxConcurrency: 3 } }), ${JSON.stringify(cacheDir)});`,
        'console.log(source);',
      ].join('\n'),
    );
    const sourceInNewProcess = async () =>
      (await run(process.execPath, ['--import', 'tsx', probe], { cwd: REPO })).stdout.trim();
    assert.equal(await sourceInNewProcess(), 'disk');
    await writeFile(join(cacheDir, files[0] as string), '{"StartAt": ');
    assert.equal(await sourceInNewProcess(), 'synthesized');
    assert.deepEqual(JSON.parse(await readFile(join(cacheDir, files[0] as string), 'utf8')), onDisk);
  });

  it('gives every Task the state timeout the service applies: a Glue job run its own Timeout, others the service default', async () => {
    const { definition } = await ingestDefinitionFor(config);
    const tasks: [string, Record<string, unknown>][] = [];
    const collect = (states: Record<string, Record<string, unknown>>) => {
      for (const [name, state] of Object.entries(states)) {
        if (state.Type === 'Task') tasks.push([name, state]);
        const processor = (state.ItemProcessor ?? state.Iterator) as
          | { States?: Record<string, Record<string, unknown>> }
          | undefined;
        if (processor?.States !== undefined) collect(processor.States);
      }
    };
    collect(definition.States as Record<string, Record<string, unknown>>);
    assert.ok(tasks.length >= 6, tasks.map(([n]) => n).join(', '));
    for (const [name, state] of tasks) {
      assert.equal(typeof state.TimeoutSeconds, 'number', `${name} has a state timeout`);
      const jobTimeout = (state.Parameters as { Timeout?: number } | undefined)?.Timeout;
      if (String(state.Resource).startsWith('arn:aws:states:::glue:startJobRun.sync')) {
        assert.equal(state.TimeoutSeconds, (jobTimeout as number) * 60, name);
      }
    }
    assert.equal(
      synthesizedIngestDefinition(config).States.RawAppend?.TimeoutSeconds,
      undefined,
      'the synthesized Glue task itself sets none (CDK renders its timeout as the job run Timeout)',
    );
  });

  it('replaying a committed run id does nothing; a run id superseded by a later run is refused without a rerun suggestion', async () => {
    const committed = await runLocalPipeline({ dir, scale: 500, config, mutate: 5 });
    const replay = await runLocalPipeline({ dir, scale: 500, config, input: { resume: committed.runId } });
    assert.equal(replay.status, 'ALREADY_COMMITTED');
    assert.deepEqual(replay.collections, {});
    assert.deepEqual(replay.tables, committed.tables, 'nothing written');
    await assert.rejects(runLocalPipeline({ dir, scale: 500, config, redrive: committed.runId }), {
      name: 'ExecutionNotRedrivable',
      message: new RegExp(`Execution '${committed.runId}' is SUCCEEDED`),
    });

    const failed = await runLocalPipeline({
      dir,
      scale: 500,
      config,
      mutate: 5,
      wrapTask: (name, handler) =>
        name === INGEST_STATES.curate ? failing('GlueJobFailed', 99, handler) : handler,
    }).then(
      () => assert.fail('the run should have failed'),
      (error: unknown) => error as LocalRunFailed,
    );
    const later = await runLocalPipeline({ dir, scale: 500, config });
    assert.equal(later.status, 'SUCCEEDED');
    const refused = await runLocalPipeline({ dir, scale: 500, config, input: { resume: failed.runId } }).then(
      () => assert.fail('a superseded run should be refused'),
      (error: unknown) => error as Error,
    );
    assert.ok(refused instanceof LocalRunRefused);
    assert.ok(!(refused instanceof LocalRunFailed), 'not a failure to rerun');
    assert.equal(refused.name, 'RunSuperseded');
    assert.match(refused.message, new RegExp(`run ${failed.runId} was superseded by run ${later.runId}`));
    assert.match(refused.message, /nothing to resume: start a new run, or wait for the next scheduled one/);
  });

  it('a reload of an unchanged full-mode collection stages nothing: a run that reads nothing new commits no snapshot', async () => {
    const own = await mkdtemp(join(tmpdir(), 'ledgerlake-reload-'));
    try {
      const snapshots = (summary: LocalRunSummary) =>
        Object.fromEntries(
          Object.entries(summary.tables).map(([table, counts]) => [table, counts.snapshots]),
        );
      const first = await runLocalPipeline({ dir: own, scale: 300, config });
      assert.equal(first.collections.accounts?.staged, 58);

      const again = await runLocalPipeline({ dir: own, scale: 300, config });
      assert.deepEqual(again.collections.accounts, {
        read: 58,
        staged: 0,
        unchanged: 58,
        quarantined: 0,
        deleted: 0,
      });
      assert.equal(again.run?.reconciled, true, 'read = staged + unchanged reconciles');
      assert.deepEqual(snapshots(again), snapshots(first), 'no table got a snapshot');

      // One account renamed: the whole collection is staged again, as a reload does.
      const renamed = await runLocalPipeline({ dir: own, scale: 300, config, mutate: 3 });
      assert.equal(renamed.mutations?.accountsRenamed, 1);
      assert.deepEqual(renamed.collections.accounts, {
        read: 58,
        staged: 58,
        unchanged: 0,
        quarantined: 0,
        deleted: 0,
      });
      assert.equal(renamed.tables['fq_app_raw.accounts']?.snapshots, 2);

      // A model that declares another account field changes the raw table: the same documents are staged again.
      const withRegion: ModelDefinition = {
        ...MODEL_DEFINITION,
        sourceFields: {
          ...SOURCE_FIELDS,
          accounts: [...(SOURCE_FIELDS.accounts ?? []), column('region', t.string(), 'Sales region')],
        },
      };
      const remodelled = await runLocalPipeline({ dir: own, scale: 300, config, definition: withRegion });
      assert.equal(remodelled.collections.accounts?.staged, 58);
      assert.equal(remodelled.tables['fq_app_raw.accounts']?.snapshots, 3);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('a run that reads nothing, or only new documents, lists no keys while the source counts what raw holds plus the reads; a delete or an unreadable insert brings the listing back', async () => {
    const server = await startMongoServer();
    const own = await mkdtemp(join(tmpdir(), 'ledgerlake-counted-'));
    const client = await new MongoClient(server.uri).connect();
    try {
      const db = client.db(config.source.database);
      await seedDatabase(db, { journalEntries: 150, closeTasks: 24 });
      let entered: string[] = [];
      const ingest = (extra: Partial<LocalRunOptions> = {}) => {
        entered = [];
        return runLocalPipeline({
          dir: own,
          scale: 1,
          config,
          mongoUri: server.uri,
          onEvent: (e) => {
            if (e.type === 'state-entered' && e.index === undefined) entered.push(e.state);
          },
          ...extra,
        });
      };
      const journal = (summary: LocalRunSummary) => {
        const c = summary.run?.collections.find((s) => s.collection === 'journal_entries');
        return [c?.keysListed, c?.documentsCountedLikeRaw, c?.deletes, c?.sourceKeysNotInRaw, c?.reconciled];
      };
      const plannedChunks = async (summary: LocalRunSummary) => {
        const chunks = join(own, 'warehouse', stagingLayout.chunkList(config.app, summary.runId));
        return JSON.parse(await readFile(chunks, 'utf8')) as { collection: string }[];
      };

      const first = await ingest();
      assert.deepEqual(journal(first), [true, false, 0, 0, true], 'the first run lists keys');

      const quiet = await ingest();
      assert.deepEqual(journal(quiet), [false, true, 0, 0, true], 'nothing read, 150 = 150: no listing');
      assert.deepEqual(
        (await plannedChunks(quiet)).filter((c) => c.collection === 'journal_entries'),
        [],
        'no chunk of journal_entries at all',
      );
      const stillQuiet = await ingest();
      assert.deepEqual(journal(stillQuiet), [false, true, 0, 0, true], 'the count carries from run to run');
      assert.deepEqual(
        stillQuiet.collections.accounts,
        { read: 58, staged: 0, unchanged: 58, quarantined: 0, deleted: 0 },
        'a full-mode collection reads every run',
      );

      // A delete and nothing else: 149 in the source against 150 live in raw.
      const gone = await db.collection('journal_entries').findOne({}, { sort: { _id: 1 } });
      await db.collection('journal_entries').deleteOne({ _id: gone?._id });
      const deleted = await ingest();
      assert.deepEqual(journal(deleted), [true, false, 1, 0, true]);
      assert.equal(deleted.tables['fq_app_curated.journal_entries_gold']?.rows, 149);
      assert.deepEqual(journal(await ingest()), [false, true, 0, 0, true], '149 = 149 again');

      // Only new documents read: 150 = 149 live + 1 read, still no listing; a new one and a delete: 150 ≠ 151.
      const entries = db.collection('journal_entries');
      const newEntry = () => ({ ...(gone as Document), _id: new ObjectId(), updatedAt: new Date() });
      await entries.insertOne(newEntry());
      const appended = await ingest();
      assert.deepEqual(journal(appended), [false, true, 0, 0, true]);
      assert.equal(appended.collections.journal_entries?.read, 1);
      assert.deepEqual(journal(await ingest()), [false, true, 0, 0, true], 'raw counted again: 150 = 150');
      const second = await entries.findOne({}, { sort: { _id: 1 } });
      await entries.deleteOne({ _id: second?._id });
      await entries.insertOne(newEntry());
      const both = await ingest();
      assert.deepEqual(journal(both), [true, false, 1, 0, true]);
      assert.equal(both.tables['fq_app_curated.journal_entries_gold']?.rows, 150);

      // Updates read: raw learns only in the raw append how many were new. 150 = 150 live after it: no
      // listing, and the execution never enters ListKeys.
      const touch = (filter: Document) =>
        entries.updateOne(filter, { $set: { description: 'corrected', updatedAt: new Date() } });
      await touch({ _id: (await entries.findOne({}, { sort: { _id: 1 } }))?._id });
      const updated = await ingest();
      assert.deepEqual(journal(updated), [false, true, 0, 0, true]);
      assert.equal(updated.collections.journal_entries?.read, 1);
      assert.ok(entered.includes(INGEST_STATES.checkDeletes), entered.join(' → '));
      assert.ok(!entered.includes(INGEST_STATES.listKeys), entered.join(' → '));
      // An update, a new entry and a delete: 150 against 151 live after the append, so CheckDeletes
      // lists the keys and the raw append runs again to reconcile them.
      const updatedFirst = await entries.findOne({}, { sort: { _id: 1 } });
      await touch({ _id: updatedFirst?._id });
      await entries.insertOne(newEntry());
      const third = await entries.findOne({}, { sort: { _id: -1 }, skip: 3 });
      await entries.deleteOne({ _id: third?._id });
      const mixed = await ingest();
      assert.deepEqual(journal(mixed), [true, false, 1, 0, true]);
      assert.equal(mixed.collections.journal_entries?.read, 2);
      assert.deepEqual(
        entered.filter((s) => s.startsWith('ListKeys') || s === 'RawAppend' || s === 'ReconcileDeletes'),
        [
          INGEST_STATES.rawAppend,
          INGEST_STATES.listKeysChoice,
          INGEST_STATES.listKeys,
          INGEST_STATES.reconcileDeletes,
        ],
      );
      assert.equal(mixed.tables['fq_app_curated.journal_entries_gold']?.rows, 150);
      assert.deepEqual(journal(await ingest()), [false, true, 0, 0, true], '150 = 150 again');

      // The same, failing in ReconcileDeletes, then resumed: the resumed run's raw append finds the
      // run's rows in raw and the listing made before the failure, and tombstones the delete itself.
      await touch({ _id: (await entries.findOne({}, { sort: { _id: 1 } }))?._id });
      await entries.insertOne(newEntry());
      const doomed = await entries.findOne({}, { sort: { _id: -1 }, skip: 5 });
      await entries.deleteOne({ _id: doomed?._id });
      const failed = await ingest({
        wrapTask: (name, handler) =>
          name === INGEST_STATES.reconcileDeletes ? failing('GlueJobFailed', 99, handler) : handler,
      }).then(
        () => assert.fail('the run should have failed'),
        (error: unknown) => error,
      );
      assert.ok(failed instanceof LocalRunFailed);
      assert.ok(entered.includes(INGEST_STATES.listKeys), entered.join(' → '));
      const resumed = await ingest({ input: { resume: failed.runId } });
      assert.deepEqual(journal(resumed), [true, false, 1, 0, true]);
      assert.ok(!entered.includes(INGEST_STATES.listKeys), `listed again: ${entered.join(' → ')}`);
      assert.equal(resumed.tables['fq_app_curated.journal_entries_gold']?.rows, 150);
      assert.deepEqual(journal(await ingest()), [false, true, 0, 0, true], '150 = 150 after the resume');

      // A document written with a watermark the pipeline has passed is never read by a range: the
      // counts differ (151 against 150), the listing finds it, and the run does not reconcile.
      const late = {
        ...(gone as Document),
        _id: new ObjectId(),
        updatedAt: new Date('2020-01-01T00:00:00Z'),
      };
      await db.collection('journal_entries').insertOne(late);
      assert.deepEqual(journal(await ingest()), [true, false, 0, 1, false]);
    } finally {
      await client.close();
      await server.close();
      await rm(own, { recursive: true, force: true });
    }
  });

  it('extracts from MONGO_URI when given (any MongoDB), and refuses --mutate there', async () => {
    const server = await startMongoServer();
    const external = await mkdtemp(join(tmpdir(), 'ledgerlake-external-'));
    try {
      const client = await new MongoClient(server.uri).connect();
      await seedDatabase(client.db(config.source.database), { journalEntries: 150, closeTasks: 24 });
      await client.close();
      const summary = await runLocalPipeline({ dir: external, scale: 1, config, mongoUri: server.uri });
      assert.deepEqual(summary.collections.journal_entries, {
        read: 150,
        staged: 150,
        unchanged: 0,
        quarantined: 0,
        deleted: 0,
      });
      assert.equal(summary.tables['fq_app_curated.journal_entries_gold']?.rows, 150);
      await assert.rejects(
        runLocalPipeline({ dir: external, scale: 1, config, mongoUri: server.uri, mutate: 5 }),
        /--mutate changes the embedded source only; unset MONGO_URI to use it/,
      );
    } finally {
      await server.close();
      await rm(external, { recursive: true, force: true });
    }
  });
});
