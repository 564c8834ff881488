import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Db } from 'mongodb';
import { logger } from '../../lambdas/shared/logger.ts';
import { INGEST_STATES } from '../../lib/contracts/index.ts';
import type { GlueEngine } from '../../lib/local/runner/run-pipeline.ts';
import { Prng } from '../../lib/local/sample-data/prng.ts';
import { type AppliedOperation, History, type MoneyKind, unsupportedOperations } from './histories.ts';
import { CURATED_TABLE_NAMES } from './oracle.ts';
import {
  assertNoProblems,
  CHUNK_DOCS,
  type Fault,
  faultName,
  Scenario,
  scenarioConfig,
  uniqueDatabase,
} from './scenario.ts';
import { diffTables } from './tables.ts';

// Failed runs are the point here; their warnings and errors are asserted, not printed.
logger.setLogLevel('CRITICAL');

/** A seeded source to run against: a database on some MongoDB-compatible server. */
export interface SourceServer {
  readonly uri: string;
  readonly db: Db;
  close(): Promise<void>;
}

export interface ScenarioSuiteOptions {
  readonly name: string;
  readonly engine: GlueEngine;
  readonly money: MoneyKind;
  readonly seed: number;
  /** Starts (or connects to) the server and seeds `database` with the sample collections. */
  open(database: string): Promise<SourceServer>;
  /** Rounds of random history, a run after each. */
  readonly rounds: number;
  readonly operationsPerRound: number;
  /** Operations of random history before each injected failure. @default half of operationsPerRound */
  readonly operationsBeforeFault?: number;
  readonly faults: readonly Fault[];
  /** Check that a run reading nothing new commits no snapshot. @default true */
  readonly noOpRun?: boolean;
  /** How many committed runs to replay (in random order) before the faults. @default - all of them */
  readonly earlyReplays?: number;
  /** Replay every run id, failed ones included, at the end. @default true */
  readonly finalReplays?: boolean;
}

/** Every state of the ingest run failing once, and every named fault point. */
export const FULL_FAULT_MATRIX: readonly Fault[] = [
  { kind: 'task', state: INGEST_STATES.plan, when: 'after' },
  { kind: 'task', state: INGEST_STATES.extractChunk, when: 'after', chunk: 'first' },
  { kind: 'task', state: INGEST_STATES.extractChunk, when: 'before', chunk: 'middle' },
  { kind: 'task', state: INGEST_STATES.rawAppend, when: 'after' },
  { kind: 'task', state: INGEST_STATES.listKeysChunk, when: 'after' },
  { kind: 'task', state: INGEST_STATES.reconcileDeletes, when: 'after' },
  { kind: 'task', state: INGEST_STATES.curate, when: 'after' },
  { kind: 'task', state: INGEST_STATES.commit, when: 'before' },
  { kind: 'task', state: INGEST_STATES.commit, when: 'after' },
  { kind: 'point', point: 'raw-append:before-commit:journal_entries' },
  ...CURATED_TABLE_NAMES.map((table): Fault => ({ kind: 'point', point: `curate:after-commit:${table}` })),
  { kind: 'point', point: 'commit:after-watermark:journal_entries' },
];

/**
 * States only a run that lists keys after its raw append enters: one that reads an update and new
 * entries while an entry is deleted (the source then counts fewer documents than raw holds live
 * after the append).
 */
function needsListingAfterAppend(fault: Fault): boolean {
  return (
    fault.kind === 'task' &&
    (fault.state === INGEST_STATES.listKeysChunk || fault.state === INGEST_STATES.reconcileDeletes)
  );
}

/** Failures after which the run's commit may have happened: a replay may then be a no-op instead of refused. */
function mayHaveCommitted(fault: Fault): boolean {
  return (
    (fault.kind === 'task' && fault.state === INGEST_STATES.commit && fault.when === 'after') ||
    (fault.kind === 'point' && fault.point.startsWith('commit:'))
  );
}

/**
 * The proof of issue 9 on one server and engine: after every step (a run,
 * a random history then a run, a replay, a failure then a normal run) silver,
 * gold and data_quality_issues equal what the oracle computes from the source.
 */
export function scenarioSuite(options: ScenarioSuiteOptions): void {
  describe(options.name, () => {
    const database = uniqueDatabase('books');
    const config = scenarioConfig(database);
    let server: SourceServer;
    let scenario: Scenario;
    let history: History;
    let healthy = true;
    const recent: AppliedOperation[] = [];
    /** Failed runs whose commit may have happened before the failure. */
    const mayBeNoOp = new Set<string>();

    before(async () => {
      server = await options.open(database);
      const skip = await unsupportedOperations(server.uri, database);
      history = new History(server.db, { seed: options.seed, money: options.money, skip });
      scenario = await Scenario.create(server.db, server.uri, config, options.engine);
    });
    after(async () => {
      await scenario?.dispose();
      await server?.close();
    });

    /** Runs a step; a failed one leaves the next starting from a clean run, so failures do not cascade. */
    const step = (title: string, body: (t: TestContext) => Promise<void>) =>
      it(title, async (t) => {
        if (!healthy) {
          await scenario.rebase();
          healthy = true;
        }
        const cpu = process.cpuUsage();
        const started = performance.now();
        try {
          await body(t);
        } catch (error) {
          healthy = false;
          throw error;
        } finally {
          if (scenario.lastChecked !== '') t.diagnostic(`last check: ${scenario.lastChecked}`);
          const used = process.cpuUsage(cpu);
          t.diagnostic(
            `${((performance.now() - started) / 1000).toFixed(1)} s wall, ${((used.user + used.system) / 1e6).toFixed(1)} s CPU`,
          );
        }
      });

    const operationsText = () =>
      `operations since the last good check:\n    ${recent.map((o) => `${o.operation} ${o.collection} ${o.id}`).join('\n    ')}`;

    const checkBooks = async (title: string) => {
      assertNoProblems(title, await scenario.problems(), operationsText());
      recent.length = 0;
    };
    // A delete, and reads that include an update: only the raw append learns that the source lost a
    // document. Two new entries, so the source does not count fewer documents than raw holds (Plan
    // would then list the keys beside the extraction).
    const applyListingAfterAppend = async () => {
      for (const operation of ['delete-entry', 'insert-entry', 'insert-entry', 'edit-amounts'] as const) {
        const applied = await history.apply(operation);
        assert.ok(applied !== undefined, `the history applied ${operation}`);
        recent.push(applied);
      }
    };

    /** Replays run ids in a seeded random order; each must leave tables and snapshots as they were. */
    const replay = async (
      runIds: readonly string[],
      expect: (runId: string) => 'committed' | 'superseded' | 'refused-or-no-op',
      limit = runIds.length,
    ) => {
      const order = shuffled(runIds, new Prng(options.seed, 11)).slice(0, limit);
      // What one replay must leave is what the previous one left: each state is read once.
      let tables = await scenario.tables();
      let snapshots = await scenario.snapshots();
      for (const runId of order) {
        const expected = expect(runId);
        const outcome = await scenario.run({ resume: runId }).then(
          () => undefined,
          (error: unknown) => error as Error,
        );
        const problems: string[] = [];
        if (expected === 'committed' && outcome !== undefined)
          problems.push(`replaying a committed run failed: ${outcome.message}`);
        if (expected === 'superseded' && outcome === undefined)
          problems.push('replaying a run superseded by a later run was not refused');
        if (
          outcome !== undefined &&
          outcome.name !== 'RunSuperseded' &&
          !/RunSuperseded/.test(outcome.message)
        )
          problems.push(`the replay failed without naming RunSuperseded: ${outcome.message}`);
        const tablesAfter = await scenario.tables();
        problems.push(
          ...diffTables(tables, tablesAfter, 'the tables after the replay').map((line) =>
            line.replace(/expected/g, 'before'),
          ),
        );
        const snapshotsAfter = await scenario.snapshots();
        if (JSON.stringify(snapshotsAfter) !== JSON.stringify(snapshots))
          problems.push(
            `snapshots before ${JSON.stringify(snapshots)}, after ${JSON.stringify(snapshotsAfter)}`,
          );
        assertNoProblems(`replaying ${expected} run ${runId}`, problems);
        tables = tablesAfter;
        snapshots = snapshotsAfter;
      }
      await checkBooks('after the replays');
    };

    step('a full run gives the books of the source', async () => {
      await scenario.run();
      await checkBooks('after the full run');
    });

    if (options.rounds > 0)
      step(
        `${options.rounds} round${options.rounds === 1 ? '' : 's'} of random history, each followed by a run, give the books of the source`,
        async (t) => {
          for (let round = 1; round <= options.rounds; round++) {
            recent.push(...(await history.round(options.operationsPerRound)));
            const summary = await scenario.run();
            t.diagnostic(`round ${round}: read ${JSON.stringify(summary.collections)}`);
            await checkBooks(`after history round ${round} and a run`);
          }
        },
      );

    if (options.noOpRun !== false) {
      step('a run that reads nothing new commits no snapshot on any curated table', async () => {
        const before = await scenario.snapshots();
        await scenario.run();
        assert.deepEqual(await scenario.snapshots(), before, 'snapshots of the curated tables');
        await checkBooks('after a run that read nothing new');
      });
    }

    if (options.earlyReplays !== 0) {
      step('replaying committed run ids, in random order, changes nothing', async () => {
        const committed = scenario.runs.filter((r) => r.outcome === 'committed').map((r) => r.runId);
        await replay(committed, () => 'committed', options.earlyReplays);
      });
    }

    for (const fault of options.faults) {
      const chunkFault = fault.kind === 'task' && fault.chunk !== undefined;
      step(
        `${faultName(fault)}: the next run gives the books of the source and the tables of a clean run`,
        async () => {
          // Enough changed entries for three chunks or more, so there is a middle one.
          if (chunkFault) await history.touchMany(2 * CHUNK_DOCS + CHUNK_DOCS / 2);
          // Before the round, so the deleted entry is one raw holds live.
          if (needsListingAfterAppend(fault)) await applyListingAfterAppend();
          recent.push(
            ...(await history.round(
              options.operationsBeforeFault ?? Math.ceil(options.operationsPerRound / 2),
            )),
          );
          const { error } = await scenario.failingRun(fault);
          const failedRun = scenario.runs[scenario.runs.length - 1];
          if (failedRun !== undefined && mayHaveCommitted(fault)) mayBeNoOp.add(failedRun.runId);
          assert.match(
            error.message,
            /injected fault at/,
            'the run failed for another reason than the fault',
          );
          assertNoProblems(`after the failed run (${faultName(fault)})`, await scenario.duplicates());
          await scenario.run();
          // Both comparisons before failing: which of them fails says much about the cause.
          const problems = await scenario.problems();
          const fromCleanRun = await scenario.differencesFromCleanRun();
          assertNoProblems(
            `after ${faultName(fault)} and a normal run`,
            [
              ...problems.map((p) => `against the oracle: ${p}`),
              ...fromCleanRun.map((p) => `against a clean run: ${p}`),
            ],
            operationsText(),
          );
          recent.length = 0;
        },
      );
    }

    step(
      'an update, new entries and a delete in one run: the keys are listed after the raw append, which runs again to tombstone the delete',
      async () => {
        await applyListingAfterAppend();
        const entered = new Set<string>();
        await scenario.run({
          wrapTask: (state, handler) => async (input) => {
            entered.add(state);
            return handler(input);
          },
        });
        assert.ok(entered.has(INGEST_STATES.reconcileDeletes), `states run: ${[...entered].join(', ')}`);
        await checkBooks('after a run that listed keys after its raw append');
      },
    );

    // Raw then holds a document the last committed run never saw: counting the source against what that
    // run left in raw would take the delete for no change at all, and skip the key listing.
    step(
      'a new entry that a failed run appended to raw, deleted before the next run, leaves the books',
      async () => {
        const inserted = await history.apply('insert-entry');
        assert.ok(inserted !== undefined, 'the history inserted an entry');
        recent.push(inserted);
        const { error } = await scenario.failingRun({
          kind: 'task',
          state: INGEST_STATES.rawAppend,
          when: 'after',
        });
        assert.match(error.message, /injected fault at/, 'the run failed for another reason than the fault');
        const removed = await history.deleteById(inserted);
        assert.equal(removed, 1, `the entry ${inserted.id} was deleted from the source`);
        await scenario.run();
        await checkBooks('after the failed run, the delete and a normal run');
      },
    );

    if (options.finalReplays === false) return;
    step(
      'replaying every earlier run id in random order changes nothing: committed ones are no-ops, failed ones superseded by a later run are refused (RunSuperseded)',
      async () => {
        const ids = scenario.runs.map((r) => r.runId);
        await replay(ids, (runId) => {
          const record = scenario.runs.find((r) => r.runId === runId);
          if (record?.outcome === 'committed') return 'committed';
          return mayBeNoOp.has(runId) ? 'refused-or-no-op' : 'superseded';
        });
      },
    );
  });
}

function shuffled<T>(items: readonly T[], rng: Prng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
