import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Decimal128, type Document, Double, Int32, Long, ObjectId } from 'mongodb';
import { commitRun } from '../../lambdas/commit/commit-run.ts';
import { extractChunk } from '../../lambdas/extract/extract-chunk.ts';
import { extractTask } from '../../lambdas/extract/handler.ts';
import { type PlanResult, planRun } from '../../lambdas/plan/plan-run.ts';
import type { ChunkSpec } from '../../lambdas/shared/pipeline-context.ts';
import type { RunRequest } from '../../lambdas/validate/run-request.ts';
import { stagingLayout } from '../../lib/contracts/index.ts';
import { startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { ferretdbUri } from '../support/services.ts';
import { createFixture, type Fixture } from './pipeline-fixture.ts';

const BASE_MS = Date.parse('2025-06-01T00:00:00Z');

/** How a server stores money: Decimal128 where it can; FerretDB 1.x has no Decimal128. */
type Money = (text: string) => unknown;
const decimal128: Money = (text) => Decimal128.fromString(text);
const double: Money = (text) => new Double(Number(text));

/** Journal entries whose updatedAt comes in runs of 7 equal values, so chunk boundaries fall inside ties. */
function entries(money: Money, from: number, count: number, timeOffset = 0): Document[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      _id: new ObjectId(i.toString(16).padStart(24, '0')),
      entry_id: `JE${1000 + i}`,
      date: new Date(Date.UTC(2025, i % 12, 1 + (i % 28))),
      description: 'Vendor payment',
      lines: [
        {
          account_id: new Int32(1000),
          debit: money(`${i}.25`),
          credit: money('0.00'),
        },
        {
          account_id: new Int32(2000),
          debit: money('0.00'),
          credit: money(`${i}.25`),
        },
      ],
      // Timestamps run against _id order, so the key order is really (updatedAt, _id).
      updatedAt: new Date(BASE_MS + timeOffset + Math.floor((count - k) / 7) * 1000),
    };
  });
}

function planned(result: PlanResult): Extract<PlanResult, { status: 'PLANNED' }> {
  assert.equal(result.status, 'PLANNED', `expected a plan, got ${JSON.stringify(result)}`);
  return result as Extract<PlanResult, { status: 'PLANNED' }>;
}

async function extractAll(fixture: Fixture, chunks: readonly ChunkSpec[] | undefined) {
  assert.ok(chunks !== undefined, 'chunk list was not inline');
  for (const chunk of chunks) await extractTask(chunk, fixture.context);
}

async function runOnce(fixture: Fixture, runId: string) {
  const plan = planned(await planRun({ runId }, fixture.context));
  await extractAll(fixture, plan.chunks);
  return { plan, summary: await commitRun({ runId }, fixture.context) };
}

const JOURNAL_ONLY = {
  collections: [
    { name: 'journal_entries', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 100 },
  ],
};

const servers: { name: string; money: Money; start(): Promise<{ uri: string; close(): Promise<void> }> }[] = [
  {
    name: 'FerretDB',
    money: double,
    start: async () => ({ uri: await ferretdbUri(), close: async () => {} }),
  },
  { name: 'the embedded wire-protocol server', money: decimal128, start: () => startMongoServer() },
];

for (const server of servers) {
  describe(`extraction against ${server.name}`, () => {
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

    it('never writes the MongoDB URI from the secret to a log', async () => {
      const f = await fixture();
      await journal(f).insertMany(entries(server.money, 0, 150));
      const written: string[] = [];
      const original = process.stdout.write.bind(process.stdout);
      const originalErr = process.stderr.write.bind(process.stderr);
      const capture = (chunk: unknown) => {
        written.push(String(chunk));
        return true;
      };
      process.stdout.write = capture as typeof process.stdout.write;
      process.stderr.write = capture as typeof process.stderr.write;
      try {
        await runOnce(f, 'run-secret');
      } finally {
        process.stdout.write = original;
        process.stderr.write = originalErr;
      }
      const host = new URL(mongo.uri.replace(/^mongodb:/, 'http:')).host;
      assert.ok(
        written.some((line) => line.includes('chunk extracted')),
        'the run logged nothing to check',
      );
      assert.deepEqual(
        written.filter((line) => line.includes(host) || line.includes('mongodb://')),
        [],
      );
    });

    it('reads every document exactly once across chunks, including equal timestamps at chunk edges', async () => {
      const f = await fixture();
      await journal(f).insertMany(entries(server.money, 0, 1_050));
      const { plan, summary } = await runOnce(f, 'run-1');
      assert.equal(plan.collections[0]?.chunks, 11);
      assert.deepEqual(
        plan.chunks?.filter((c) => c.kind === 'range').map((c) => c.expectedDocuments),
        [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50],
      );
      assert.deepEqual(
        plan.chunks?.filter((c) => c.kind !== 'range').map((c) => c.kind),
        ['keys'],
        'and one key listing for delete detection',
      );
      const rows = await f.readRows(
        stagingLayout.runDataPrefix(f.context.config.app, 'journal_entries', 'run-1'),
      );
      const ids = rows.map((r) => r._id as string);
      assert.equal(ids.length, 1_050);
      assert.equal(new Set(ids).size, 1_050, 'a document was staged twice');
      const collectionSummary = summary.collections[0];
      assert.equal(collectionSummary?.documentsRead, 1_050);
      assert.equal(collectionSummary?.rowsStaged, 1_050);
      assert.equal(collectionSummary?.reconciled, true);
    });

    it('moves the watermark only on commit, and the next run reads only what changed after it', async () => {
      const f = await fixture();
      await journal(f).insertMany(entries(server.money, 0, 300));
      const first = planned(await planRun({ runId: 'run-a' }, f.context));
      await extractAll(f, first.chunks);
      assert.equal(
        (await f.context.runState.readWatermark('journal_entries')).bound,
        null,
        'moved before commit',
      );
      await commitRun({ runId: 'run-a' }, f.context);
      const committed = await f.context.runState.readWatermark('journal_entries');
      assert.equal(committed.bound, first.collections[0]?.high);

      const idle = planned(await planRun({ runId: 'run-b' }, f.context));
      assert.equal(idle.collections[0]?.chunks, 0, 'nothing to read; only the key listing');
      await commitRun({ runId: 'run-b' }, f.context);

      await journal(f).insertMany(entries(server.money, 300, 5, 3_600_000));
      await journal(f).updateOne(
        { entry_id: 'JE1007' },
        { $set: { description: 'corrected', updatedAt: new Date(BASE_MS + 7_200_000) } },
      );
      const { summary } = await runOnce(f, 'run-c');
      const rows = await f.readRows(
        stagingLayout.runDataPrefix(f.context.config.app, 'journal_entries', 'run-c'),
      );
      assert.deepEqual(rows.map((r) => r.entry_id).sort(), [
        'JE1007',
        'JE1300',
        'JE1301',
        'JE1302',
        'JE1303',
        'JE1304',
      ]);
      assert.equal(rows.find((r) => r.entry_id === 'JE1007')?.description, 'corrected');
      assert.equal(summary.collections[0]?.documentsRead, 6);
    });

    it('a retried chunk overwrites its own files and leaves no extra parts behind', async () => {
      const f = await fixture({
        ...JOURNAL_ONLY,
        collections: [
          { name: 'journal_entries', mode: 'incremental', watermarkField: '_id', chunkDocs: 2_500 },
        ],
        extraction: { stagingFileRows: 1_000 },
      });
      await journal(f).insertMany(entries(server.money, 0, 2_500));
      const plan = planned(await planRun({ runId: 'run-r' }, f.context));
      const chunk = plan.chunks?.[0] as ChunkSpec;
      const prefix = stagingLayout.runDataPrefix(f.context.config.app, 'journal_entries', 'run-r');
      const firstAttempt = await extractChunk(chunk, f.context);
      assert.equal(firstAttempt.files.length, 3);
      const again = await extractChunk(chunk, f.context);
      assert.deepEqual(
        again.files.map((x) => x.key),
        firstAttempt.files.map((x) => x.key),
      );
      assert.equal((await f.context.store.listKeys(prefix)).length, 3);

      const biggerFiles = {
        ...f.context,
        config: {
          ...f.context.config,
          extraction: { ...f.context.config.extraction, stagingFileRows: 5_000 },
        },
      };
      const retried = await extractChunk(chunk, biggerFiles);
      assert.equal(retried.files.length, 1);
      assert.deepEqual(await f.context.store.listKeys(prefix), [retried.files[0]?.key]);
      assert.equal((await f.readRows(prefix)).length, 2_500);
    });

    it('refuses a second concurrent run and lets it start once the first commits', async () => {
      const f = await fixture();
      await journal(f).insertMany(entries(server.money, 0, 10));
      const first = planned(await planRun({ runId: 'run-1' }, f.context));
      const second = await planRun({ runId: 'run-2' }, f.context);
      assert.deepEqual(
        { ...second, since: undefined },
        { status: 'ALREADY_RUNNING', runId: 'run-2', heldBy: 'run-1', since: undefined },
      );
      await extractAll(f, first.chunks);
      await commitRun({ runId: 'run-1' }, f.context);
      assert.equal((await planRun({ runId: 'run-2' }, f.context)).status, 'PLANNED');
    });

    it('a redriven run gets its original plan back, even after new documents arrive', async () => {
      const f = await fixture();
      await journal(f).insertMany(entries(server.money, 0, 250));
      const original = planned(await planRun({ runId: 'run-1' }, f.context));
      await journal(f).insertMany(entries(server.money, 250, 100, 3_600_000));
      const redriven = planned(await planRun({ runId: 'run-1' }, f.context));
      assert.equal(redriven.resumed, true);
      assert.deepEqual(redriven.chunks, original.chunks);
      await extractAll(f, redriven.chunks);
      const summary = await commitRun({ runId: 'run-1' }, f.context);
      assert.equal(summary.collections[0]?.documentsRead, 250);
      // A retried commit is harmless and reports the same numbers.
      const recommitted = await commitRun({ runId: 'run-1' }, f.context);
      assert.deepEqual(recommitted.collections, summary.collections);
    });

    it('plans exact chunks although the server refuses $bucketAuto and splitVector', async () => {
      const f = await fixture();
      await journal(f).insertMany(entries(server.money, 0, 1_000));
      const db = f.client.db(f.database);
      await assert.rejects(
        db.command({ splitVector: `${f.database}.journal_entries`, keyPattern: { _id: 1 }, maxChunkSize: 1 }),
      );
      await assert.rejects(
        journal(f)
          .aggregate([{ $bucketAuto: { groupBy: '$_id', buckets: 4 } }])
          .toArray(),
      );
      const plan = planned(await planRun({ runId: 'run-1' }, f.context));
      const ranges = plan.chunks?.filter((c) => c.kind === 'range') ?? [];
      assert.equal(ranges.length, 10);
      assert.ok(ranges.every((c) => c.expectedDocuments === 100));
    });

    it('stages every BSON type, quarantines what cannot be mapped and reports undeclared fields', async () => {
      const f = await fixture();
      await journal(f).insertMany([
        {
          _id: new ObjectId('68ca9aca193e5d257e046f22'),
          entry_id: 'JE1001',
          date: new Date('2025-05-31T00:00:00Z'),
          description: 'Vendor payment',
          lines: [
            {
              account_id: new Int32(1000),
              debit: server.money('500.00'),
              credit: server.money('0'),
            },
            { account_id: Long.fromNumber(2000), debit: 0, credit: Long.fromNumber(500), memo: 'net 30' },
          ],
          currency: 'EUR',
          updatedAt: new Date(BASE_MS),
        },
        {
          _id: new ObjectId('68ca9aca193e5d257e046f23'),
          entry_id: 'JE1002',
          date: 'end of May',
          lines: [
            {
              account_id: new Int32(1000),
              debit: server.money('0.00001'),
              credit: server.money('0'),
            },
          ],
          updatedAt: new Date(BASE_MS + 1),
        },
      ]);
      const { summary } = await runOnce(f, 'run-1');
      const rows = await f.readRowsExact(
        stagingLayout.runDataPrefix(f.context.config.app, 'journal_entries', 'run-1'),
      );
      assert.equal(rows.length, 2);
      const [clean, bad] = rows;
      assert.equal(clean?._mapping_errors, null);
      assert.deepEqual(clean?.lines, [
        { account_id: '1000', debit: '500.0000', credit: '0.0000' },
        { account_id: '2000', debit: '0.0000', credit: '500.0000' },
      ]);
      assert.equal(clean?.date, '2025-05-31');
      assert.equal(clean?.updated_at, '2025-06-01 00:00:00+00:00');
      assert.match(clean?._doc_ejson as string, /"credit":\{"\$numberLong":"500"\}/);
      assert.equal(bad?.date, null);
      assert.match(bad?._mapping_errors as string, /more than 4 decimal places \(0.00001\)/);
      const c = summary.collections[0];
      assert.equal(c?.quarantined, 1);
      assert.deepEqual(c?.quarantineReasons, {
        "field 'date': expected a Date or a 'YYYY-MM-DD' string": 1,
        "field 'lines[].debit': more than 4 decimal places": 1,
      });
      assert.deepEqual(c?.undeclaredFields, ['currency', 'lines[].memo']);
      assert.equal(c?.documentsRead, c?.rowsStaged);
    });

    it('a run request narrows collections, reloads whole, or backfills a window without moving the watermark', async () => {
      const f = await fixture({
        collections: [
          ...JOURNAL_ONLY.collections,
          { name: 'close_tasks', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 100 },
        ],
      });
      await journal(f).insertMany(entries(server.money, 0, 300));
      const request = (overrides: Partial<RunRequest>): RunRequest => ({
        collections: ['journal_entries'],
        mode: 'configured',
        backfill: null,
        closePeriod: null,
        reopen: false,
        resume: null,
        maintenance: false,
        ...overrides,
      });
      const run = async (runId: string, runRequest: RunRequest) => {
        const plan = planned(await planRun({ runId, request: runRequest }, f.context));
        await extractAll(f, plan.chunks);
        return { plan, summary: await commitRun({ runId }, f.context) };
      };

      const first = await run('run-1', request({}));
      assert.deepEqual(
        first.plan.collections.map((c) => [c.collection, c.mode, c.documents]),
        [['journal_entries', 'incremental', 300]],
        'close_tasks was not asked for',
      );
      const full = await run('run-2', request({ mode: 'full' }));
      assert.deepEqual(
        full.plan.collections.map((c) => [c.mode, c.documents, c.advancesWatermark]),
        [['full', 300, true]],
      );
      const watermark = await f.context.runState.readWatermark('journal_entries');
      assert.equal(watermark.runId, 'run-2', 'a full reload moves the watermark');

      const from = new Date(BASE_MS + 10_000);
      const to = new Date(BASE_MS + 20_000);
      const inWindow = await journal(f).countDocuments({ updatedAt: { $gte: from, $lt: to } });
      const backfill = await run(
        'run-3',
        request({ backfill: { from: from.toISOString(), to: to.toISOString() } }),
      );
      assert.equal(inWindow, 70);
      assert.deepEqual(
        backfill.plan.collections.map((c) => [c.mode, c.documents, c.advancesWatermark]),
        [['backfill', 70, false]],
      );
      const staged = await f.readRows(
        stagingLayout.runDataPrefix(f.context.config.app, 'journal_entries', 'run-3'),
      );
      assert.ok(
        staged.every((r) => {
          const at = Date.parse(String(r.updated_at));
          return at >= from.getTime() && at < to.getTime();
        }),
        'a staged row lies outside [from, to)',
      );
      assert.deepEqual(await f.context.runState.readWatermark('journal_entries'), watermark);
    });

    if (server.money === double) {
      it('FerretDB 1.x cannot store Decimal128, so its tests keep money as doubles (a known limit of the server)', async () => {
        const f = await fixture();
        await assert.rejects(journal(f).insertOne({ amount: Decimal128.fromString('1.25') }));
      });
    }
  });
}
