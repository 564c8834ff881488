import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { commitRun } from '../../lambdas/commit/commit-run.ts';
import { releaseRun } from '../../lambdas/commit/release-run.ts';
import { extractTask } from '../../lambdas/extract/handler.ts';
import { type PlanResult, planRun } from '../../lambdas/plan/plan-run.ts';
import type { CurateReport, RawAppendReport } from '../../lambdas/shared/job-reports.ts';
import { logger } from '../../lambdas/shared/logger.ts';
import type { RunPlan } from '../../lambdas/shared/pipeline-context.ts';
import type { RunRequest } from '../../lambdas/validate/run-request.ts';
import { stagingLayout } from '../../lib/contracts/index.ts';
import { type RunningMongoServer, startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { createFixture, type Fixture } from './pipeline-fixture.ts';

// Runs that do not reconcile warn on purpose; their outcome is asserted, not printed.
logger.setLogLevel('ERROR');

const JOURNAL_ONLY = {
  collections: [
    { name: 'journal_entries', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 100 },
  ],
};
const BASE_MS = Date.parse('2025-06-01T00:00:00Z');
/** The request ValidateInput makes of `{"resume": runId}`. */
const resume = (runId: string): RunRequest => ({
  collections: [],
  mode: 'configured',
  backfill: null,
  closePeriod: null,
  reopen: false,
  resume: runId,
  maintenance: false,
});

function planned(result: PlanResult): Extract<PlanResult, { status: 'PLANNED' }> {
  assert.equal(result.status, 'PLANNED', `expected a plan, got ${JSON.stringify(result)}`);
  return result as Extract<PlanResult, { status: 'PLANNED' }>;
}

async function planAndExtract(f: Fixture, runId: string) {
  const plan = planned(await planRun({ runId }, f.context));
  for (const chunk of plan.chunks ?? []) await extractTask(chunk, f.context);
  return plan;
}

/** Holds when `error` is the refusal of a superseded run, and it suggests nothing that cannot help. */
function superseded(runId: string, by: string) {
  return (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'RunSuperseded');
    assert.match(error.message, new RegExp(`run ${runId} was superseded by run ${by}`));
    assert.match(error.message, /read again by the runs after it, so there is nothing to resume/);
    assert.match(error.message, /start a new run, or wait for the next scheduled one/);
    assert.doesNotMatch(error.message, /rerun|run it again|--run-id/i);
    return true;
  };
}

describe('replays and resumes: Plan and Commit against moto and the embedded server', () => {
  let server: RunningMongoServer;
  const fixtures: Fixture[] = [];
  const fixture = async () => {
    const created = await createFixture(server.uri, JOURNAL_ONLY);
    fixtures.push(created);
    const journal = created.client.db(created.database).collection('journal_entries');
    await journal.insertMany(
      Array.from({ length: 30 }, (_, i) => ({ entry_id: `JE${i}`, updatedAt: new Date(BASE_MS + i * 1000) })),
    );
    return { f: created, journal };
  };

  before(async () => {
    server = await startMongoServer();
  });
  after(async () => {
    await Promise.all(fixtures.map((f) => f.close()));
    await server.close();
  });

  it('a committed run id is ALREADY_COMMITTED, without taking the lease', async () => {
    const { f } = await fixture();
    await planAndExtract(f, 'run-1');
    await commitRun({ runId: 'run-1' }, f.context);
    assert.deepEqual(await f.context.runState.acquireLease('run-2', new Date(), 60), { acquired: true });
    assert.deepEqual(await planRun({ runId: 'run-1' }, f.context), {
      status: 'ALREADY_COMMITTED',
      runId: 'run-1',
    });
    await assert.rejects(
      f.context.runState.releaseLease('run-1'),
      /run run-1 cannot release the lease: another run holds it/,
      'run-2 still holds the lease',
    );
  });

  it('a run planned before but superseded by a later plan is refused, in Plan and in Commit', async () => {
    const { f, journal } = await fixture();
    await planAndExtract(f, 'run-1');
    await releaseRun({ runId: 'run-1' }, f.context); // run-1 failed after extraction
    await journal.insertOne({ entry_id: 'JE-new', updatedAt: new Date(BASE_MS + 60_000) });
    const second = await planAndExtract(f, 'run-2');
    await releaseRun({ runId: 'run-2' }, f.context); // run-2 failed too: it is still the latest plan
    await assert.rejects(planRun({ runId: 'run-1' }, f.context), superseded('run-1', 'run-2'));
    await assert.rejects(commitRun({ runId: 'run-1' }, f.context), superseded('run-1', 'run-2'));
    assert.deepEqual(await f.context.runState.readWatermark('journal_entries'), { bound: null, runId: null });

    const resumed = planned(await planRun({ runId: 'run-2', request: resume('run-2') }, f.context));
    assert.equal(resumed.resumed, true, 'the latest planned run is resumed with its own plan');
    assert.deepEqual(resumed.chunks, second.chunks);
    const summary = await commitRun({ runId: 'run-2' }, f.context);
    assert.equal(summary.collections[0]?.documentsRead, 31, 'run-2 read everything run-1 would have');
  });

  it('resuming a run that was never planned fails with RunNotFound, without taking the lease', async () => {
    const { f } = await fixture();
    await assert.rejects(
      planRun({ runId: 'run-9', request: resume('run-9') }, f.context),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(error.name, 'RunNotFound');
        assert.match(error.message, /run run-9 was never planned here, so there is nothing to resume/);
        return true;
      },
    );
    assert.deepEqual(await f.context.runState.acquireLease('run-10', new Date(), 60), { acquired: true });
  });

  it('Plan writes curateSince: the ingest time of the last committed run, absent before the first', async () => {
    const { f } = await fixture();
    const app = f.context.config.app;
    const first = await planAndExtract(f, 'run-1');
    const firstPlan = await f.context.store.getJson<RunPlan>(stagingLayout.plan(app, 'run-1'));
    assert.equal(firstPlan?.curateSince, undefined);
    await commitRun({ runId: 'run-1' }, f.context);
    assert.equal(first.status, 'PLANNED');
    await planAndExtract(f, 'run-2');
    const secondPlan = await f.context.store.getJson<RunPlan>(stagingLayout.plan(app, 'run-2'));
    assert.equal(secondPlan?.curateSince, firstPlan?.plannedAt);
    assert.deepEqual(await f.context.runState.readLastCommittedRun(), {
      runId: 'run-1',
      ingestTs: firstPlan?.plannedAt,
    });
    assert.deepEqual(await f.context.runState.readLastPlannedRun(), {
      runId: 'run-2',
      plannedAt: secondPlan?.plannedAt,
    });
  });

  it('Commit reads the job reports into the summary: deletes, keys not in raw, data-quality issues', async () => {
    const { f } = await fixture();
    const app = f.context.config.app;
    await planAndExtract(f, 'run-1');
    const rawAppend: RawAppendReport = {
      runId: 'run-1',
      collections: {
        journal_entries: {
          status: 'appended',
          rows: 30,
          deletes: 2,
          keysListed: true,
          sourceKeysNotInRaw: 0,
        },
      },
    };
    const curate: CurateReport = {
      runId: 'run-1',
      tables: {},
      dataQuality: { unbalanced_entry: 3, unknown_account: 0 },
    };
    await f.context.store.putJson(stagingLayout.jobReport(app, 'run-1', 'raw-append'), rawAppend);
    await f.context.store.putJson(stagingLayout.jobReport(app, 'run-1', 'curate'), curate);
    const summary = await commitRun({ runId: 'run-1' }, f.context);
    const c = summary.collections[0];
    assert.deepEqual([c?.deletes, c?.keysListed, c?.sourceKeysNotInRaw, c?.reconciled], [2, true, 0, true]);
    assert.equal(summary.totals.deletes, 2);
    assert.deepEqual(summary.dataQuality, { unbalanced_entry: 3, unknown_account: 0 });
    assert.equal(summary.reconciled, true);
  });

  it('is not reconciled when a listed source key has no raw row, or a document planned was not read', async () => {
    const { f, journal } = await fixture();
    const app = f.context.config.app;
    await planAndExtract(f, 'run-1');
    await f.context.store.putJson(stagingLayout.jobReport(app, 'run-1', 'raw-append'), {
      runId: 'run-1',
      collections: {
        journal_entries: {
          status: 'appended',
          rows: 30,
          deletes: 0,
          keysListed: true,
          sourceKeysNotInRaw: 1,
        },
      },
    } satisfies RawAppendReport);
    const keysMissing = await commitRun({ runId: 'run-1' }, f.context);
    assert.equal(keysMissing.collections[0]?.reconciled, false);
    assert.equal(keysMissing.reconciled, false);

    // A document deleted between planning and extraction: read one fewer than the plan counted.
    await journal.insertOne({ entry_id: 'JE-late', updatedAt: new Date(BASE_MS + 3_600_000) });
    const plan = planned(await planRun({ runId: 'run-2' }, f.context));
    assert.equal(plan.collections[0]?.documents, 1);
    await journal.deleteOne({ entry_id: 'JE-late' });
    for (const chunk of plan.chunks ?? []) await extractTask(chunk, f.context);
    const summary = await commitRun({ runId: 'run-2' }, f.context);
    assert.deepEqual(
      [summary.collections[0]?.expectedDocuments, summary.collections[0]?.documentsRead],
      [1, 0],
    );
    assert.equal(summary.collections[0]?.reconciled, false);
  });

  it('calls the fault point after each watermark move, and records the committed run after the watermarks, before giving back the lease', async () => {
    const { f } = await fixture();
    await planAndExtract(f, 'run-1');
    const points: string[] = [];
    const failing = {
      ...f.context,
      faultPoint: (point: string) => {
        points.push(point);
        throw new Error(`injected at ${point}`);
      },
    };
    await assert.rejects(
      commitRun({ runId: 'run-1' }, failing),
      /injected at commit:after-watermark:journal_entries/,
    );
    assert.deepEqual(points, ['commit:after-watermark:journal_entries']);
    assert.equal(
      (await f.context.runState.readWatermark('journal_entries')).runId,
      'run-1',
      'the watermark moved',
    );
    assert.equal(await f.context.runState.readLastCommittedRun(), null, 'not recorded as committed yet');
    assert.deepEqual(
      await f.context.runState.acquireLease('someone-else', new Date(), 60),
      { acquired: false, heldBy: 'run-1', since: (await leaseSince(f)) as string },
      'the lease is still held',
    );
    const summary = await commitRun({ runId: 'run-1' }, f.context);
    assert.equal(summary.collections[0]?.watermark.advanced, true);
    assert.equal((await f.context.runState.readLastCommittedRun())?.runId, 'run-1');
    assert.deepEqual(await f.context.runState.acquireLease('someone-else', new Date(), 60), {
      acquired: true,
    });
    assert.deepEqual(
      await commitRun({ runId: 'run-1' }, f.context),
      summary,
      'a committed run commits to the same summary',
    );
  });
});

async function leaseSince(f: Fixture): Promise<string | undefined> {
  const probe = await f.context.runState.acquireLease('probe', new Date(), 60);
  return probe.acquired ? undefined : probe.since;
}
