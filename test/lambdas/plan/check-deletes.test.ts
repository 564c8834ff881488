import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { extractTask } from '../../../lambdas/extract/handler.ts';
import { checkDeletes } from '../../../lambdas/plan/check-deletes.ts';
import { type PlanResult, planRun } from '../../../lambdas/plan/plan-run.ts';
import type { KeysManifest, RawAppendReport } from '../../../lambdas/shared/job-reports.ts';
import { logger } from '../../../lambdas/shared/logger.ts';
import type { CollectionPlan, LiveKeys } from '../../../lambdas/shared/pipeline-context.ts';
import { stagingLayout } from '../../../lib/contracts/index.ts';
import { startMongoServer } from '../../../lib/local/mongo-server/index.ts';
import { createFixture, type Fixture } from '../pipeline-fixture.ts';

logger.setLogLevel('WARN');

const JOURNAL_ONLY = {
  collections: [
    { name: 'journal_entries', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 100 },
  ],
};

// Plan's three answers to `deletes: 'every-run'` and CheckDeletes' after the raw append, on the
// embedded server and moto's S3. The raw append's outputs (its report and LiveKeys) are written
// here as the job writes them; the jobs themselves are tested in test/lib/local/engine and glue/tests.
describe('delete detection by count: Plan, then CheckDeletes after the raw append', () => {
  let server: { uri: string; close(): Promise<void> };
  let f: Fixture;
  const app = () => f.context.config.app;
  const setLiveKeys = async (liveKeys: number | undefined) => {
    const key = stagingLayout.liveKeys(app(), 'journal_entries');
    if (liveKeys === undefined) await f.context.store.deleteKeys([key]);
    else await f.context.store.putJson(key, { runId: 'earlier', liveKeys } satisfies LiveKeys);
  };
  const rawAppended = (runId: string, keysListed: boolean) =>
    f.context.store.putJson(stagingLayout.jobReport(app(), runId, 'raw-append'), {
      runId,
      collections: {
        journal_entries: { status: 'appended', rows: 5, deletes: 0, keysListed, sourceKeysNotInRaw: 0 },
      },
    } satisfies RawAppendReport);
  const plan = async (runId: string): Promise<{ result: PlanResult; journal: CollectionPlan }> => {
    const result = await planRun({ runId }, f.context);
    assert.equal(result.status, 'PLANNED');
    await f.context.runState.releaseLease(runId);
    const journal = (result as Extract<PlanResult, { status: 'PLANNED' }>).collections[0] as CollectionPlan;
    return { result, journal };
  };

  before(async () => {
    server = await startMongoServer();
    f = await createFixture(server.uri, JOURNAL_ONLY);
    const at = new Date('2025-06-01T00:00:00Z');
    await f.client
      .db(f.database)
      .collection('journal_entries')
      .insertMany(Array.from({ length: 5 }, (_, i) => ({ entry_id: `JE${i}`, updatedAt: at })));
  });
  after(async () => {
    await f.close();
    await server.close();
  });

  it('Plan: counted when the source holds live + read, a listing beside the extraction when it holds fewer than live or no count is kept, else the count after the raw append', async () => {
    const answers = [];
    // Every run reads the five documents (no watermark is committed here).
    for (const [runId, live] of [
      ['run-a', 0],
      ['run-b', undefined],
      ['run-c', 6],
      ['run-d', 5],
    ] as const) {
      await setLiveKeys(live);
      const { result, journal } = await plan(runId);
      const kinds = result.status === 'PLANNED' ? (result.chunks ?? []).map((c) => c.kind) : [];
      answers.push([
        runId,
        journal.detectDeletes,
        journal.documentsCountedLikeRaw,
        journal.countAfterAppend,
        kinds.join(','),
      ]);
    }
    assert.deepEqual(answers, [
      ['run-a', false, 5, undefined, 'range'],
      ['run-b', true, undefined, undefined, 'range,keys'],
      ['run-c', true, undefined, undefined, 'range,keys'],
      ['run-d', false, undefined, 5, 'range'],
    ]);
  });

  it('CheckDeletes lists the keys only when raw then holds another count than the source did at the plan, and not again once reconciled', async () => {
    await setLiveKeys(5);
    const { result, journal } = await plan('run-e');
    assert.equal(journal.countAfterAppend, 5);
    await assert.rejects(checkDeletes({ runId: 'run-e' }, f.context), /no raw append report.*RawAppend/);
    await rawAppended('run-e', false);

    // Five read, none new to raw: 5 live = 5 in the source.
    assert.deepEqual(await checkDeletes({ runId: 'run-e' }, f.context), {
      runId: 'run-e',
      listKeys: false,
      chunks: [],
    });
    // One of the five was new, and another document is gone: 6 live against 5.
    await setLiveKeys(6);
    const check = await checkDeletes({ runId: 'run-e' }, f.context);
    assert.equal(check.listKeys, true);
    assert.ok(result.status === 'PLANNED');
    assert.deepEqual(check.chunks, [
      {
        runId: 'run-e',
        collection: 'journal_entries',
        index: result.chunkCount,
        kind: 'keys',
        key: ['_id'],
        lower: null,
        upper: null,
        expectedDocuments: 5,
        ingestTs: (await f.context.store.getJson<{ plannedAt: string }>(stagingLayout.plan(app(), 'run-e')))
          ?.plannedAt,
      },
    ]);
    const listed = (await extractTask(
      check.chunks[0] as (typeof check.chunks)[0],
      f.context,
    )) as KeysManifest;
    assert.equal(listed.keys, 5);
    // A raw append that failed between removing the count and writing it leaves none: list.
    await setLiveKeys(undefined);
    assert.equal((await checkDeletes({ runId: 'run-e' }, f.context)).listKeys, true);
    // The raw append reconciled this run's listing (a resumed run): nothing to list again.
    await rawAppended('run-e', true);
    assert.equal((await checkDeletes({ runId: 'run-e' }, f.context)).listKeys, false);
  });
});
