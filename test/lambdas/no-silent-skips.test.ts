import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Document, Double, Int32, Long, MaxKey, ObjectId, Timestamp, UUID } from 'mongodb';
import { commitRun } from '../../lambdas/commit/commit-run.ts';
import { extractTask } from '../../lambdas/extract/handler.ts';
import { type PlanResult, planRun } from '../../lambdas/plan/plan-run.ts';
import type { KeysManifest } from '../../lambdas/shared/job-reports.ts';
import { logger } from '../../lambdas/shared/logger.ts';
import { decodeBound, encodeBound } from '../../lambdas/shared/range-key.ts';
import { idText } from '../../lambdas/shared/row-mapper.ts';
import { stagingLayout } from '../../lib/contracts/index.ts';
import { startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { ferretdbUri } from '../support/services.ts';
import { createFixture, type Fixture } from './pipeline-fixture.ts';

// The functions' progress logs would bury the test output; what matters is asserted.
logger.setLogLevel('WARN');

const T = new Date('2025-06-01T00:00:00Z');
const seconds = (n: number) => new Date(T.getTime() + n * 1000);

function planned(result: PlanResult): Extract<PlanResult, { status: 'PLANNED' }> {
  assert.equal(result.status, 'PLANNED', `expected a plan, got ${JSON.stringify(result)}`);
  return result as Extract<PlanResult, { status: 'PLANNED' }>;
}

async function runOnce(f: Fixture, runId: string) {
  const plan = planned(await planRun({ runId }, f.context));
  for (const chunk of plan.chunks ?? []) await extractTask(chunk, f.context);
  const summary = await commitRun({ runId }, f.context);
  const rows = await f.readRows(stagingLayout.runDataPrefix(f.context.config.app, 'journal_entries', runId));
  return { plan, summary, rows, ids: rows.map((r) => r._id as string).sort() };
}

const JOURNAL_ONLY = {
  collections: [
    { name: 'journal_entries', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 100 },
  ],
};

/** `_id`s of five types (numbers of two), in an order that is not their BSON order. */
function mixedIds(count: number): unknown[] {
  return Array.from({ length: count }, (_, i) => {
    switch (i % 5) {
      case 0:
        return new ObjectId(i.toString(16).padStart(24, '0'));
      case 1:
        return `entry-${String(i).padStart(4, '0')}`;
      case 2:
        return new Int32(i);
      case 3:
        return Long.fromString(String(2 ** 40 + i));
      default:
        return new UUID(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    }
  });
}

const servers: {
  name: string;
  maxKey: boolean;
  start(): Promise<{ uri: string; close(): Promise<void> }>;
}[] = [
  {
    name: 'FerretDB',
    // FerretDB 1.x cannot store MinKey or MaxKey.
    maxKey: false,
    start: async () => ({ uri: await ferretdbUri(), close: async () => {} }),
  },
  { name: 'the embedded wire-protocol server', maxKey: true, start: () => startMongoServer() },
];

for (const server of servers) {
  describe(`no document silently skipped, against ${server.name}`, () => {
    let mongo: { uri: string; close(): Promise<void> };
    const fixtures: Fixture[] = [];
    const fixture = async (overrides: Record<string, unknown> = JOURNAL_ONLY) => {
      const created = await createFixture(mongo.uri, overrides);
      fixtures.push(created);
      return created;
    };
    const journal = (f: Fixture) => f.client.db(f.database).collection('journal_entries');

    before(async () => {
      mongo = await server.start();
    });
    after(async () => {
      await Promise.all(fixtures.map((f) => f.close()));
      await mongo.close();
    });

    it('reads every _id type tied on the watermark, across chunk edges and at the run’s upper bound', async () => {
      const f = await fixture();
      const ids = mixedIds(260);
      await journal(f).insertMany(
        ids.map((_id, i) => ({ _id, entry_id: `JE${i}`, updatedAt: T }) as Document),
      );
      const first = await runOnce(f, 'run-1');
      assert.deepEqual(
        first.plan.chunks?.filter((c) => c.kind === 'range').map((c) => c.expectedDocuments),
        [100, 100, 60],
        'chunk edges fall inside the tie, between _id types',
      );
      assert.deepEqual(first.ids, ids.map(idText).sort(), 'every document read exactly once');
      assert.equal(first.summary.collections[0]?.reconciled, true);
      const [highAt, highId] = decodeBound(first.plan.collections[0]?.high as string);
      assert.equal((highAt as Date).getTime(), T.getTime());
      assert.ok(highId instanceof ObjectId, 'the upper bound is the largest _id in BSON order: an ObjectId');

      // Ties on the committed bound with _id types after ObjectId's, and a later string _id.
      const later = [
        { _id: true, entry_id: 'JE-bool', updatedAt: T },
        { _id: new Date('2020-01-01T00:00:00Z'), entry_id: 'JE-date', updatedAt: T },
        { _id: 'entry-late', entry_id: 'JE-late', updatedAt: seconds(1) },
      ];
      await journal(f).insertMany(later as Document[]);
      const second = await runOnce(f, 'run-2');
      assert.deepEqual(second.ids, later.map((d) => idText(d._id)).sort());
      assert.equal(second.summary.collections[0]?.reconciled, true);
    });

    it('reads documents whose watermark is missing, not a Date or in the future on every run, counted by reason, without moving the watermark there', async () => {
      const f = await fixture();
      const regular = Array.from({ length: 150 }, (_, i) => ({
        _id: new ObjectId((1000 + i).toString(16).padStart(24, '0')),
        entry_id: `JE${i}`,
        updatedAt: seconds(Math.floor(i / 7)),
      }));
      const id = (n: number) => new ObjectId(n.toString(16).padStart(24, '0'));
      const missing = Array.from({ length: 110 }, (_, i) => ({
        _id: id(5000 + i),
        entry_id: `JE-missing-${i}`,
      }));
      const wrongType: Document[] = [
        { _id: id(6000), entry_id: 'JE-string', updatedAt: '2025-06-01T00:00:00Z' },
        { _id: id(6001), entry_id: 'JE-double', updatedAt: new Double(1.7e12) },
        { _id: id(6002), entry_id: 'JE-timestamp', updatedAt: new Timestamp({ t: 4_000_000_000, i: 1 }) },
        { _id: id(6003), entry_id: 'JE-array', updatedAt: [seconds(1), new Date('2099-01-01T00:00:00Z')] },
        ...(server.maxKey ? [{ _id: id(6004), entry_id: 'JE-maxkey', updatedAt: new MaxKey() }] : []),
      ];
      const future = [{ _id: id(7000), entry_id: 'JE-2099', updatedAt: new Date('2099-01-01T00:00:00Z') }];
      const nulls = [{ _id: id(7001), entry_id: 'JE-null', updatedAt: null }];
      await journal(f).insertMany([...regular, ...missing, ...wrongType, ...future, ...nulls] as Document[]);
      const irregularIds = [...missing, ...wrongType, ...future, ...nulls].map((d) => idText(d._id)).sort();

      const first = await runOnce(f, 'run-1');
      const plan = first.plan.collections[0];
      assert.deepEqual(
        {
          documents: plan?.documents,
          missingWatermarkField: plan?.missingWatermarkField,
          watermarkFieldType: plan?.watermarkFieldType,
          futureWatermark: plan?.futureWatermark,
        },
        {
          documents: 150,
          missingWatermarkField: 111,
          watermarkFieldType: wrongType.length,
          futureWatermark: 1,
        },
      );
      const irregularChunks = first.plan.chunks?.filter((c) => c.kind === 'irregular') ?? [];
      assert.deepEqual(
        irregularChunks.map((c) => [c.key, c.expectedDocuments]),
        [
          [['_id'], 100],
          [['_id'], 13 + wrongType.length - 1],
        ],
        'irregular documents are chunked by _id, chunkDocs at a time',
      );
      const [highAt] = decodeBound(plan?.high as string);
      assert.equal(
        (highAt as Date).getTime(),
        seconds(21).getTime(),
        'the watermark stays at the regular documents',
      );
      assert.deepEqual(first.ids, [...regular.map((d) => idText(d._id)), ...irregularIds].sort());
      const c = first.summary.collections[0];
      assert.deepEqual(
        [c?.documentsRead, c?.expectedDocuments, c?.quarantined, c?.reconciled],
        [150 + irregularIds.length, 150 + irregularIds.length, 0, true],
        'an irregular watermark is read and counted, not quarantined',
      );
      assert.deepEqual(
        [c?.missingWatermarkField, c?.watermarkFieldType, c?.futureWatermark],
        [111, wrongType.length, 1],
      );
      const staged = new Map(first.rows.map((r) => [r.entry_id, r]));
      assert.equal(staged.get('JE-timestamp')?.updated_at, null);
      assert.equal(staged.get('JE-timestamp')?._mapping_errors, null);
      assert.ok(staged.get('JE-2099')?.updated_at !== null, 'a future Date is still a Date');

      // A normal edit after the poisoned documents is picked up by the next run.
      await journal(f).updateOne(
        { entry_id: 'JE7' },
        { $set: { description: 'corrected', updatedAt: new Date(Date.now() - 60_000) } },
      );
      const second = await runOnce(f, 'run-2');
      assert.deepEqual(second.ids, [idText(regular[7]?._id), ...irregularIds].sort());
      assert.equal(second.rows.find((r) => r.entry_id === 'JE7')?.description, 'corrected');
      assert.equal(second.summary.collections[0]?.reconciled, true);
      const third = await runOnce(f, 'run-3');
      assert.deepEqual(third.ids, irregularIds, 'irregular documents are read on every run until fixed');
    });

    it('recovers from a watermark poisoned before runs ended at the plan time: reads from the start and moves it back', async () => {
      const f = await fixture();
      await journal(f).insertMany(
        Array.from({ length: 30 }, (_, i) => ({ entry_id: `JE${i}`, updatedAt: seconds(i) })),
      );
      const poisoned = encodeBound([new Date('2099-01-01T00:00:00Z'), new ObjectId()]);
      await f.context.runState.advanceWatermark('journal_entries', {
        from: null,
        to: poisoned,
        runId: 'old',
      });
      const { plan, summary } = await runOnce(f, 'run-1');
      assert.equal(summary.collections[0]?.documentsRead, 30);
      const watermark = await f.context.runState.readWatermark('journal_entries');
      assert.equal(watermark.bound, plan.collections[0]?.high);
      assert.equal((decodeBound(watermark.bound as string)[0] as Date).getTime(), seconds(29).getTime());
    });

    it('lists every _id for delete detection: Parquet parts of the raw text form, the manifest written last', async () => {
      const f = await fixture();
      const ids = mixedIds(120);
      await journal(f).insertMany(
        ids.map((_id, i) => ({ _id, entry_id: `JE${i}`, updatedAt: T }) as Document),
      );
      const plan = planned(await planRun({ runId: 'run-k' }, f.context));
      assert.equal(plan.collections[0]?.detectDeletes, true);
      const listing = plan.chunks?.filter((c) => c.kind === 'keys') ?? [];
      assert.equal(listing.length, 1);
      const app = f.context.config.app;
      const manifestKey = stagingLayout.keysManifest(app, 'run-k', 'journal_entries');
      // A manifest of an earlier attempt must not survive an attempt that stops before its end.
      await f.context.store.putJson(manifestKey, { stale: true });
      const failing = {
        ...f.context,
        mongo: async () => {
          throw new Error('source unreachable');
        },
      };
      await assert.rejects(extractTask(listing[0] as (typeof listing)[0], failing), /source unreachable/);
      assert.equal(await f.context.store.getJson(manifestKey), undefined);

      const manifest = (await extractTask(listing[0] as (typeof listing)[0], f.context)) as KeysManifest;
      assert.equal(manifest.keys, 120);
      assert.deepEqual(await f.context.store.getJson(manifestKey), manifest);
      const keys = await f.readRows(stagingLayout.keysPrefix(app, 'journal_entries', 'run-k'));
      assert.deepEqual(
        keys.map((k) => Object.keys(k)),
        keys.map(() => ['_id']),
      );
      assert.deepEqual(keys.map((k) => k._id).sort(), ids.map(idText).sort());
      assert.deepEqual(
        manifest.files.map((file) => file.key),
        [stagingLayout.keysFile(app, 'journal_entries', 'run-k', 0)],
      );
      const raw = await f.readRows(stagingLayout.runDataPrefix(app, 'journal_entries', 'run-k'));
      assert.equal(raw.length, 0, 'key files stay out of the data folder the raw append reads');
    });

    it("lists no keys for a collection configured with deletes: 'never'", async () => {
      const f = await fixture({
        collections: [{ ...JOURNAL_ONLY.collections[0], deletes: 'never' }],
      });
      await journal(f).insertMany([{ entry_id: 'JE1', updatedAt: T }]);
      const plan = planned(await planRun({ runId: 'run-n' }, f.context));
      assert.equal(plan.collections[0]?.detectDeletes, false);
      assert.deepEqual(
        plan.chunks?.map((c) => c.kind),
        ['range'],
      );
    });
  });
}
