import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BSON,
  type Collection,
  type Document,
  Double,
  type FindOptions,
  Int32,
  Long,
  MaxKey,
  MinKey,
  MongoClient,
  type MongoServerError,
  ObjectId,
  Timestamp,
} from 'mongodb';
import { keyRangeFilter } from '../../../../lambdas/shared/chunk-filter.ts';
import { ALL_TYPE_ALIASES, type KeyValues, keySort } from '../../../../lambdas/shared/range-key.ts';
import {
  FUTURE_WATERMARK_TOLERANCE_MS,
  irregularWatermarkFilter,
  irregularWatermarkFilters,
  notAnArray,
} from '../../../../lambdas/shared/watermark-filters.ts';
import { type RunningMongoServer, startMongoServer } from '../../../../lib/local/mongo-server/index.ts';
import { Prng } from '../../../../lib/local/sample-data/prng.ts';

const KEY = ['updatedAt', '_id'] as const;
const SORT = keySort(KEY);
const BACKWARD = keySort(KEY, -1);
const BASE = Date.UTC(2025, 0, 1);
/** Few distinct instants, so many documents tie on updatedAt. */
const INSTANTS = Array.from({ length: 40 }, (_, k) => new Date(BASE + k * 1000));

/** Deterministic pseudo-random numbers in [0, 1): the sample generator's Prng. */
function random(seed: number): () => number {
  const prng = new Prng(seed, 0);
  return () => prng.fraction();
}

const oid = (i: number) => new ObjectId(i.toString(16).padStart(24, '0'));

/** `_id`s of three types (numbers of two), in insertion order unrelated to their BSON order. */
function idFor(i: number): unknown {
  if (i % 7 === 0) return new Int32(i);
  if (i % 13 === 0) return new Double(i + 0.5);
  if (i % 11 === 0) return `id-${String(1000 - i).padStart(4, '0')}`;
  return oid(10_000 - i);
}

/** updatedAt: mostly tied Dates, and the irregular kinds (missing, null, strings, numbers, arrays). */
function updatedAtFor(next: () => number): { value?: unknown } {
  const r = next();
  const instant = () => INSTANTS[Math.floor(next() * INSTANTS.length)] as Date;
  if (r < 0.78) return { value: instant() };
  if (r < 0.83) return {};
  if (r < 0.86) return { value: null };
  if (r < 0.9) return { value: instant().toISOString() };
  if (r < 0.92) return { value: new Int32(7) };
  if (r < 0.95) return { value: [instant()] };
  if (r < 0.98) return { value: [instant(), instant()] };
  return { value: [] };
}

const pick = <T>(next: () => number, values: readonly T[]): T =>
  values[Math.floor(next() * values.length)] as T;

/**
 * updatedAt of every kind a watermark may hold: Dates (tied, between the
 * tied instants and far away), missing, null, arrays (empty, of Dates, with
 * null, nested), documents and scalars of the other BSON types.
 */
function mixedValueFor(next: () => number): { value?: unknown } {
  const instant = () => pick(next, INSTANTS);
  const kinds: (() => { value?: unknown })[] = [
    () => ({}),
    () => ({ value: null }),
    () => ({ value: [instant()] }),
    () => ({ value: [instant(), null] }),
    () => ({ value: [null] }),
    () => ({ value: [] }),
    () => ({ value: [[instant()]] }),
    () => ({ value: { x: instant() } }),
    () => ({ value: instant().toISOString() }),
    () => ({ value: new Int32(Math.floor(next() * 10)) }),
    () => ({ value: new Double(next() * 10) }),
    () => ({ value: Long.fromNumber(Math.floor(next() * 10)) }),
    () => ({ value: next() < 0.5 }),
    () => ({ value: oid(Math.floor(next() * 100)) }),
    () => ({ value: new Timestamp({ t: 1, i: 1 }) }),
    () => ({ value: new MinKey() }),
    () => ({ value: new MaxKey() }),
    () => ({ value: new Date(instant().getTime() + (next() < 0.5 ? 1 : 500)) }),
    () => ({ value: new Date(next() < 0.5 ? -8.64e15 : 8.64e15) }),
  ];
  return next() < 0.6 ? { value: instant() } : pick(next, kinds)();
}

function mixedDocuments(count: number, seed: number): Document[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const { value } = mixedValueFor(next);
    return { _id: idFor(i), i: new Int32(i), ...(value === undefined ? {} : { updatedAt: value }) };
  });
}

function sourceDocuments(count: number, seed: number): Document[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const { value } = updatedAtFor(next);
    return { _id: idFor(i), i: new Int32(i), ...(value === undefined ? {} : { updatedAt: value }) };
  });
}

/** `_id` order by hand for the types used: numbers, then strings, then ObjectIds. */
function compareIds(a: unknown, b: unknown): number {
  const rank = (v: unknown) =>
    v instanceof Int32 || v instanceof Double ? 0 : typeof v === 'string' ? 1 : 2;
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (rank(a) === 0) return Number(a) - Number(b);
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareKeys(doc: Document, key: KeyValues): number {
  const byTime = (doc.updatedAt as Date).getTime() - (key[0] as Date).getTime();
  return byTime !== 0 ? Math.sign(byTime) : compareIds(doc._id, key[1]);
}

/** Documents with key in `(lower, upper]`: a Date updatedAt when either bound is set, never an array. */
function inRange(doc: Document, lower: KeyValues | null, upper: KeyValues | null): boolean {
  if (Array.isArray(doc.updatedAt)) return false;
  if (lower === null && upper === null) return true;
  if (!(doc.updatedAt instanceof Date)) return false;
  return (lower === null || compareKeys(doc, lower) > 0) && (upper === null || compareKeys(doc, upper) <= 0);
}

function inKeyOrder(docs: Document[], direction: 1 | -1 = 1): Document[] {
  return [...docs].sort((a, b) => {
    const byTime = (a.updatedAt as Date).getTime() - (b.updatedAt as Date).getTime();
    return direction * (byTime !== 0 ? byTime : compareIds(a._id, b._id));
  });
}

const ids = (docs: Document[]) =>
  BSON.EJSON.stringify(
    docs.map((d) => d._id),
    { relaxed: false },
  );
const exact: FindOptions = { promoteValues: false };

describe('indexes of the embedded server answer sorted key ranges', () => {
  let server: RunningMongoServer;
  let client: MongoClient;
  let n = 0;
  const db = () => client.db('index_test');
  const fresh = (): Collection => db().collection(`c${n++}`);
  const examined = (c: Collection) => server.store.existing('index_test', c.collectionName)?.examined ?? 0;

  before(async () => {
    server = await startMongoServer();
    client = await new MongoClient(server.uri).connect();
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  /** The same documents without an index, with `{updatedAt: 1, _id: 1}` and with its mirror image. */
  async function collectionsOf(docs: Document[]): Promise<{ plain: Collection; indexed: Collection[] }> {
    const [plain, ascending, descending] = [fresh(), fresh(), fresh()] as [
      Collection,
      Collection,
      Collection,
    ];
    for (const c of [plain, ascending, descending]) await c.insertMany(docs.map((d) => ({ ...d })));
    await ascending.createIndex({ updatedAt: 1, _id: 1 });
    await descending.createIndex({ updatedAt: -1, _id: -1 });
    return { plain, indexed: [ascending, descending] };
  }

  /** Asserts that `query` returns `expected` from every collection. */
  async function sameEverywhere(
    collections: { plain: Collection; indexed: Collection[] },
    query: (c: Collection) => Promise<unknown>,
    expected: unknown,
    label: string,
  ): Promise<void> {
    assert.deepEqual(await query(collections.plain), expected, `${label}: without an index`);
    for (const c of collections.indexed)
      assert.deepEqual(await query(c), expected, `${label}: with an index`);
  }

  it('returns what the unindexed path and a plain reference return, for random key ranges', async () => {
    const docs = sourceDocuments(700, 1);
    const collections = await collectionsOf(docs);
    const dated = docs.filter((d) => d.updatedAt instanceof Date);
    const next = random(2);
    const pick = <T>(values: readonly T[]) => values[Math.floor(next() * values.length)] as T;
    const bound = (): KeyValues | null => {
      const r = next();
      if (r < 0.2) return null;
      if (r < 0.7) return [pick(dated).updatedAt, pick(dated)._id];
      const shifted = new Date((pick(INSTANTS) as Date).getTime() + (next() < 0.5 ? -500 : 0));
      return [shifted, idFor(Math.floor(next() * 800))];
    };
    for (let round = 0; round < 60; round++) {
      const lower = bound();
      const upper = bound();
      const filter = keyRangeFilter([...KEY], lower, upper, ALL_TYPE_ALIASES);
      const label = `(${BSON.EJSON.stringify(lower)}, ${BSON.EJSON.stringify(upper)}]`;
      const expected = docs.filter((d) => inRange(d, lower, upper));
      const sorted = lower === null && upper === null ? undefined : inKeyOrder(expected);
      if (sorted !== undefined) {
        await sameEverywhere(
          collections,
          async (c) => ids(await c.find(filter, exact).sort(SORT).toArray()),
          ids(sorted),
          `${label} in key order`,
        );
        const [skip, limit] = [Math.floor(next() * (sorted.length + 2)), 1 + Math.floor(next() * 5)];
        await sameEverywhere(
          collections,
          async (c) => ids(await c.find(filter, exact).sort(SORT).skip(skip).limit(limit).toArray()),
          ids(sorted.slice(skip, skip + limit)),
          `${label} skip ${skip} limit ${limit}`,
        );
        await sameEverywhere(
          collections,
          async (c) => ids(await c.find(filter, exact).sort(BACKWARD).limit(2).toArray()),
          ids(inKeyOrder(expected, -1).slice(0, 2)),
          `${label} backward`,
        );
      }
      await sameEverywhere(collections, (c) => c.countDocuments(filter), expected.length, `${label} count`);
      await sameEverywhere(
        collections,
        async (c) => ids(await c.find(filter, exact).toArray()),
        ids(await collections.plain.find(filter, exact).toArray()),
        `${label} unsorted`,
      );
    }
  });

  it('answers the other queries planning sends as the unindexed path does', async () => {
    const docs = sourceDocuments(500, 3);
    const collections = await collectionsOf(docs);
    const planTime = INSTANTS[30] as Date;
    // Dates after INSTANTS[20] are in the future for this plan.
    const earlyPlan = new Date(BASE + 20_000 - FUTURE_WATERMARK_TOLERANCE_MS);
    for (const instant of [INSTANTS[0], INSTANTS[12], INSTANTS[39], new Date(BASE + 12_500)] as Date[]) {
      const below = { $and: [{ updatedAt: { $lt: instant } }, notAnArray('updatedAt')] };
      const last = inKeyOrder(
        docs.filter((d) => d.updatedAt instanceof Date && d.updatedAt < instant),
        -1,
      );
      await sameEverywhere(
        collections,
        async (c) => ids(await c.find(below, exact).sort(BACKWARD).limit(1).toArray()),
        ids(last.slice(0, 1)),
        `last key below ${instant.toISOString()}`,
      );
      const upTo = {
        $and: [
          keyRangeFilter([...KEY], null, null, ALL_TYPE_ALIASES),
          { updatedAt: { $lte: planTime, $lt: instant } },
        ],
      };
      const top = inKeyOrder(
        docs.filter((d) => d.updatedAt instanceof Date && d.updatedAt <= planTime && d.updatedAt < instant),
        -1,
      );
      await sameEverywhere(
        collections,
        async (c) => ids(await c.find(upTo, exact).sort(BACKWARD).limit(1).toArray()),
        ids(top.slice(0, 1)),
        `max key before ${instant.toISOString()}`,
      );
    }
    for (const [reason, filter] of Object.entries(irregularWatermarkFilters('updatedAt', earlyPlan))) {
      const count = await collections.plain.countDocuments(filter);
      assert.ok(count > 0, `the data holds some ${reason}`);
      await sameEverywhere(collections, (c) => c.countDocuments(filter), count, reason);
      await sameEverywhere(
        collections,
        async (c) => ids(await c.find(filter, exact).sort(SORT).toArray()),
        ids(await collections.plain.find(filter, exact).sort(SORT).toArray()),
        `${reason} in key order`,
      );
    }
    const irregular = irregularWatermarkFilter('updatedAt', earlyPlan);
    const byId = { _id: 1 } as const;
    const irregularIds = (await collections.plain.find(irregular, exact).sort(byId).toArray()).map(
      (d) => d._id,
    );
    for (const [lower, upper] of [
      [null, irregularIds[10]],
      [irregularIds[10], irregularIds[40]],
      [irregularIds[40], null],
    ]) {
      const filter = keyRangeFilter(
        ['_id'],
        lower === null ? null : [lower],
        upper === null ? null : [upper],
        ALL_TYPE_ALIASES,
        irregular,
      );
      await sameEverywhere(
        collections,
        async (c) => ids(await c.find(filter, exact).sort(byId).skip(3).limit(1).toArray()),
        ids(await collections.plain.find(filter, exact).sort(byId).skip(3).limit(1).toArray()),
        'an irregular chunk boundary',
      );
      await sameEverywhere(
        collections,
        (c) => c.countDocuments(filter),
        await collections.plain.countDocuments(filter),
        'an irregular chunk count',
      );
    }
    for (const filter of [
      { updatedAt: null },
      { updatedAt: INSTANTS[5] },
      { updatedAt: { $in: [INSTANTS[5]] } },
    ]) {
      await sameEverywhere(
        collections,
        async (c) => ids(await c.find(filter, exact).sort(SORT).toArray()),
        ids(await collections.plain.find(filter, exact).sort(SORT).toArray()),
        BSON.EJSON.stringify(filter),
      );
    }
  });

  it('counts irregular watermarks from the index as a plain evaluation does, for random mixes of types', async () => {
    const docs = mixedDocuments(1500, 5);
    const collections = await collectionsOf(docs);
    const next = random(6);
    const notDated = docs.filter((d) => !(d.updatedAt instanceof Date)).length;
    const planTimes = [
      ...Array.from(
        { length: 6 },
        () => new Date(pick(next, INSTANTS).getTime() - FUTURE_WATERMARK_TOLERANCE_MS),
      ),
      new Date(BASE + 7_500 - FUTURE_WATERMARK_TOLERANCE_MS),
      new Date(BASE - 3_600_000),
      new Date(BASE + 3_600_000),
    ];
    for (const planTime of planTimes) {
      const cutoff = planTime.getTime() + FUTURE_WATERMARK_TOLERANCE_MS;
      const expected: Record<string, (value: unknown) => boolean> = {
        missingWatermarkField: (v) => v === undefined || v === null,
        watermarkFieldType: (v) =>
          Array.isArray(v) || (v !== undefined && v !== null && !(v instanceof Date)),
        futureWatermark: (v) => v instanceof Date && v.getTime() > cutoff,
      };
      for (const [reason, filter] of Object.entries(irregularWatermarkFilters('updatedAt', planTime))) {
        const label = `${reason} at ${planTime.toISOString()}`;
        const matching = docs
          .filter((d) => (expected[reason] as (v: unknown) => boolean)(d.updatedAt))
          .sort((a, b) => compareIds(a._id, b._id));
        await sameEverywhere(collections, (c) => c.countDocuments(filter), matching.length, label);
        for (const c of collections.indexed) {
          const before = examined(c);
          await c.countDocuments(filter);
          const read = examined(c) - before;
          assert.ok(read <= notDated, `${label}: examined ${read}, more than the ${notDated} not dated`);
        }
        await sameEverywhere(
          collections,
          async (c) => ids(await c.find(filter, exact).toArray()),
          ids(matching),
          `${label} listed`,
        );
      }
      const irregular = irregularWatermarkFilter('updatedAt', planTime);
      const all = docs.filter((d) => Object.values(expected).some((test) => test(d.updatedAt)));
      await sameEverywhere(collections, (c) => c.countDocuments(irregular), all.length, 'irregular');
    }
  });

  it('answers filters the watermark values cannot decide alone as the unindexed path does', async () => {
    const docs = mixedDocuments(1200, 7);
    const collections = await collectionsOf(docs);
    const next = random(8);
    const at = () => pick(next, INSTANTS);
    const between = () => new Date(at().getTime() + 500);
    const filters: Document[] = [
      { updatedAt: null },
      { updatedAt: at() },
      { updatedAt: { $ne: at() } },
      { updatedAt: { $gte: at(), $lt: between() } },
      { updatedAt: { $lte: at() } },
      { updatedAt: { $in: [at(), between(), null] } },
      { updatedAt: { $nin: [at(), 'text'] } },
      { updatedAt: { $exists: false } },
      { updatedAt: { $exists: true } },
      { updatedAt: { $type: 'date' } },
      { updatedAt: { $type: ['null', 'array'] } },
      { updatedAt: { $type: 'number' } },
      { updatedAt: { $not: { $gt: at() } } },
      { updatedAt: { $gt: new MinKey() } },
      { updatedAt: { $lt: new MaxKey() } },
      { updatedAt: { $gt: 3 } },
      { updatedAt: { $lt: 'z' } },
      { $nor: [{ updatedAt: { $lt: at() } }, { updatedAt: null }] },
      { $or: [{ updatedAt: { $gt: at() } }, { i: { $lt: 100 } }] },
      { $and: [{ updatedAt: { $lte: at() } }, { i: { $gte: 600 } }] },
      { updatedAt: { $gt: at() }, _id: { $type: 'objectId' } },
      { $and: [{ updatedAt: { $gt: at() } }, { _id: { $gt: oid(9_000) } }] },
      // Beyond what the watermark value decides: tested document by document.
      { 'updatedAt.x': null },
      { updatedAt: { $elemMatch: { $gt: at() } } },
      { updatedAt: { $size: 1 } },
      { updatedAt: { $all: [at()] } },
      { updatedAt: { $regex: /^2025/ } },
      { updatedAt: [at()] },
      { updatedAt: { x: at() } },
    ];
    for (const filter of filters) {
      const label = BSON.EJSON.stringify(filter, { relaxed: false });
      const unindexed = async (query: (c: Collection) => Promise<unknown>) => query(collections.plain);
      const listed = (c: Collection) => c.find(filter, exact).toArray().then(ids);
      await sameEverywhere(
        collections,
        (c) => c.countDocuments(filter),
        await unindexed((c) => c.countDocuments(filter)),
        `${label} count`,
      );
      await sameEverywhere(collections, listed, await unindexed(listed), `${label} listed`);
      const sorted = (c: Collection) => c.find(filter, exact).sort(SORT).toArray().then(ids);
      await sameEverywhere(collections, sorted, await unindexed(sorted), `${label} in key order`);
      const page = (c: Collection) => c.find(filter, exact).skip(2).limit(3).toArray().then(ids);
      await sameEverywhere(collections, page, await unindexed(page), `${label} a page`);
      const backward = (c: Collection) =>
        c.find(filter, exact).sort(BACKWARD).skip(1).limit(2).toArray().then(ids);
      await sameEverywhere(collections, backward, await unindexed(backward), `${label} backward`);
    }
  });

  it('finds the first documents in _id order without testing the rest', async () => {
    const c = fresh();
    await c.insertMany(
      Array.from({ length: 5_000 }, (_, i) => ({ _id: oid(i), updatedAt: new Date(BASE + i) })),
    );
    await c.createIndex({ updatedAt: 1, _id: 1 });
    const every: Document = { _id: { $type: [...ALL_TYPE_ALIASES] } };
    await c.countDocuments({ updatedAt: { $gt: new Date(0) } }); // builds the index
    const before = examined(c);
    const first = await c.findOne(every, exact);
    assert.equal(first?._id.toHexString(), oid(0).toHexString());
    assert.ok(examined(c) - before <= 1, `the first match examined ${examined(c) - before} documents`);
  });

  it('sees updates, deletes and inserts made between queries', async () => {
    const docs = sourceDocuments(300, 4);
    const collections = await collectionsOf(docs);
    const all = [collections.plain, ...collections.indexed];
    const lower: KeyValues = [INSTANTS[10] as Date, oid(0)];
    const filter = keyRangeFilter([...KEY], lower, null, ALL_TYPE_ALIASES);
    const expectRange = async (label: string) =>
      sameEverywhere(
        collections,
        async (c) => ids(await c.find(filter, exact).sort(SORT).toArray()),
        ids(inKeyOrder(docs.filter((d) => inRange(d, lower, null)))),
        label,
      );
    await expectRange('before the writes');
    const moved = docs.find(
      (d) => d.updatedAt instanceof Date && d.updatedAt < (INSTANTS[10] as Date),
    ) as Document;
    const removed = docs.find(
      (d) => d.updatedAt instanceof Date && d.updatedAt > (INSTANTS[20] as Date),
    ) as Document;
    const added: Document = { _id: 'added', i: new Int32(-1), updatedAt: INSTANTS[15] };
    for (const c of all) {
      await c.updateOne({ _id: moved._id }, { $set: { updatedAt: INSTANTS[39] } });
      await c.deleteOne({ _id: removed._id });
      await c.insertOne({ ...added } as never);
    }
    moved.updatedAt = INSTANTS[39];
    docs.splice(docs.indexOf(removed), 1);
    docs.push(added);
    await expectRange('after an update, a delete and an insert');
    for (const c of all)
      await c.updateMany({ updatedAt: INSTANTS[39] }, { $set: { updatedAt: INSTANTS[0] } });
    const last = (INSTANTS[39] as Date).getTime();
    const holdsLast = (value: unknown): boolean =>
      Array.isArray(value) ? value.some(holdsLast) : value instanceof Date && value.getTime() === last;
    for (const d of docs) if (holdsLast(d.updatedAt)) d.updatedAt = INSTANTS[0];
    await expectRange('after an update addressed by the indexed field');
    await sameEverywhere(collections, (c) => c.countDocuments({ updatedAt: INSTANTS[39] }), 0, 'moved away');
  });

  it('answers as a freshly built index does after random inserts, updates and deletes between queries', async () => {
    const collections = await collectionsOf(mixedDocuments(300, 9));
    const maintained = [collections.plain, ...collections.indexed];
    const next = random(10);
    let written = 0;
    /** A new document: half with an ObjectId after every `_id` (appended), half anywhere in the `_id` order. */
    const newDocument = (): Document => {
      const k = ++written;
      const { value } = mixedValueFor(next);
      const _id = next() < 0.5 ? oid(1_000_000 + k) : idFor(600 + k);
      return { _id, i: new Int32(10_000 + k), ...(value === undefined ? {} : { updatedAt: value }) };
    };
    const newValue = (): Document => {
      const { value } = mixedValueFor(next);
      return value === undefined ? { $unset: { updatedAt: '' } } : { $set: { updatedAt: value } };
    };
    /** The same write on every collection, which must change as many documents in each. */
    const everywhere = async (write: (c: Collection) => Promise<number>, label: string) => {
      const changed = await Promise.all(maintained.map(write));
      assert.ok(
        changed.every((n) => n === changed[0]),
        `${label}: ${changed.join(', ')} documents changed`,
      );
    };
    const writeBatch = async (size: number) => {
      const current = await collections.plain.find({}, exact).toArray();
      for (let w = 0; w < size; w++) {
        const r = next();
        const someone = pick(next, current);
        if (r < 0.3 || someone === undefined) {
          const doc = newDocument();
          await everywhere(async (c) => {
            await c.insertOne({ ...doc });
            return 1;
          }, 'insert');
        } else if (r < 0.6) {
          const change = newValue();
          await everywhere(
            async (c) => (await c.updateOne({ _id: someone._id }, change)).modifiedCount,
            'update one',
          );
        } else if (r < 0.7) {
          const [from, to] = [pick(next, INSTANTS), pick(next, INSTANTS)];
          await everywhere(
            async (c) => (await c.updateMany({ updatedAt: from }, { $set: { updatedAt: to } })).modifiedCount,
            'update by the indexed field',
          );
        } else if (r < 0.9) {
          await everywhere(async (c) => (await c.deleteOne({ _id: someone._id })).deletedCount, 'delete one');
        } else {
          const filter =
            next() < 0.5
              ? { updatedAt: pick(next, INSTANTS) }
              : { i: { $in: [someone.i, pick(next, current)?.i] } };
          await everywhere(async (c) => (await c.deleteMany(filter)).deletedCount, 'delete many');
        }
      }
    };
    const planTime = new Date(BASE + 20_000 - FUTURE_WATERMARK_TOLERANCE_MS);
    const checkQueries = async (label: string) => {
      const docs = await collections.plain.find({}, exact).toArray();
      const fresh = await collectionsOf(docs);
      const dated = docs.filter((d) => d.updatedAt instanceof Date);
      const bound = (): KeyValues | null =>
        next() < 0.2 || dated.length === 0
          ? null
          : [
              pick(next, dated).updatedAt,
              next() < 0.7 ? pick(next, docs)._id : idFor(Math.floor(next() * 900)),
            ];
      const filters: Document[] = [
        {},
        ...Array.from({ length: 3 }, () => keyRangeFilter([...KEY], bound(), bound(), ALL_TYPE_ALIASES)),
        ...Object.values(irregularWatermarkFilters('updatedAt', planTime)),
        { updatedAt: pick(next, INSTANTS) },
        { updatedAt: { $gt: pick(next, INSTANTS) } },
        { updatedAt: null },
      ];
      for (const filter of filters) {
        const at = `${label}, ${BSON.EJSON.stringify(filter, { relaxed: false })}`;
        const queries: [string, (c: Collection) => Promise<unknown>][] = [
          ['count', (c) => c.countDocuments(filter)],
          [
            'listed',
            (c) =>
              c
                .find(filter, exact)
                .toArray()
                .then((docs) => BSON.EJSON.stringify(docs, { relaxed: false })),
          ],
          ['in key order', (c) => c.find(filter, exact).sort(SORT).toArray().then(ids)],
          ['backward', (c) => c.find(filter, exact).sort(BACKWARD).skip(1).limit(3).toArray().then(ids)],
        ];
        for (const [kind, query] of queries) {
          const expected = await query(collections.plain);
          for (const c of collections.indexed)
            assert.deepEqual(await query(c), expected, `${at}: ${kind}, updated index`);
          for (const c of fresh.indexed)
            assert.deepEqual(await query(c), expected, `${at}: ${kind}, freshly built index`);
        }
        // The same rows in the same order: an updated index tests exactly what a fresh one tests.
        for (const [c, built] of collections.indexed.map((c, k) => [c, fresh.indexed[k]] as const)) {
          const reads = async (x: Collection) => {
            const start = examined(x);
            await x.countDocuments(filter);
            return examined(x) - start;
          };
          assert.equal(await reads(c), await reads(built as Collection), `${at}: documents examined`);
        }
      }
    };
    await checkQueries('before the writes');
    for (let round = 0; round < 12; round++) {
      // Now and then all at once, which rebuilds rather than updates.
      if (round % 5 === 4) {
        const value = pick(next, INSTANTS);
        await everywhere(
          async (c) => (await c.updateMany({}, { $set: { updatedAt: value } })).modifiedCount,
          'update all',
        );
      } else await writeBatch(1 + Math.floor(next() * 40));
      await checkQueries(`after write batch ${round}`);
    }
  });

  it('builds its declared indexes when asked, as a restore does, and keeps them built through writes', async () => {
    const c = fresh();
    const total = 2_000;
    await c.insertMany(
      Array.from({ length: total }, (_, i) => ({ _id: oid(i), updatedAt: new Date(BASE + i * 1000) })),
    );
    await c.createIndex({ updatedAt: 1, _id: 1 });
    /** Adds one to `touched` of the documents updated before second `below`: how many, and how many documents were examined. */
    const touch = async (below: number): Promise<[number, number]> => {
      const start = examined(c);
      const { modifiedCount } = await c.updateMany(
        { updatedAt: { $lt: new Date(BASE + below * 1000) } },
        { $inc: { touched: 1 } },
      );
      return [modifiedCount, examined(c) - start];
    };
    // A write's filter does not build an index: finding what to change reads the documents, as building would.
    assert.deepEqual(await touch(5), [5, total]);
    server.store.existing('index_test', c.collectionName)?.buildIndexes();
    assert.deepEqual(await touch(5), [5, 0], 'the index answers the next write');
    await c.insertOne({ _id: oid(total), updatedAt: new Date(BASE) });
    await c.updateOne({ _id: oid(10) }, { $set: { updatedAt: new Date(BASE - 1000) } });
    assert.deepEqual(await touch(5), [7, 0], 'inserts and updates leave the index built');
  });

  it('reads about one chunk of 100,000 documents for a chunk query, not the whole collection', async () => {
    const c = fresh();
    const total = 100_000;
    for (let start = 0; start < total; start += 10_000)
      await c.insertMany(
        Array.from({ length: 10_000 }, (_, k) => ({
          _id: oid(start + k),
          updatedAt: new Date(BASE + Math.floor((start + k) / 3) * 1000),
        })),
      );
    await c.createIndex({ updatedAt: 1, _id: 1 });
    const keyOf = (i: number): KeyValues => [new Date(BASE + Math.floor(i / 3) * 1000), oid(i)];
    const chunk = keyRangeFilter([...KEY], keyOf(40_000), keyOf(45_000), ALL_TYPE_ALIASES);
    const reads = async (query: () => Promise<unknown>): Promise<number> => {
      const start = examined(c);
      await query();
      return examined(c) - start;
    };
    await c.countDocuments({ updatedAt: { $gt: new Date(0) } }); // builds the index
    assert.equal(await c.countDocuments(chunk), 5_000);
    // The slice holds the chunk and the documents tied on its bounds' updatedAt (three a second).
    assert.ok((await reads(() => c.countDocuments(chunk))) <= 5_010);
    const read = await reads(async () =>
      assert.equal((await c.find(chunk).sort(SORT).toArray()).length, 5_000),
    );
    assert.ok(read <= 5_010, `a chunk read examined ${read} documents`);
    const boundary = await reads(async () => {
      const next = keyRangeFilter([...KEY], keyOf(40_000), null, ALL_TYPE_ALIASES);
      const [doc] = await c.find(next).sort(SORT).skip(4_999).limit(1).toArray();
      assert.equal(doc?._id.toHexString(), oid(45_000).toHexString());
    });
    assert.ok(boundary <= 5_010, `a chunk boundary examined ${boundary} documents`);
    const top = await reads(() =>
      c
        .find({ updatedAt: { $lte: new Date(BASE) } })
        .sort(BACKWARD)
        .limit(1)
        .toArray(),
    );
    assert.ok(top <= 3, `the last key up to a time examined ${top} documents`);
    await c.dropIndex('updatedAt_1__id_1');
    assert.equal(
      await reads(() => c.countDocuments(chunk)),
      total,
      'without the index every document is read',
    );
  });

  it('lists and drops indexes, and refuses to drop _id_', async () => {
    const c = fresh();
    await c.insertOne({ updatedAt: new Date() });
    assert.equal(await c.createIndex({ updatedAt: 1, _id: 1 }), 'updatedAt_1__id_1');
    assert.deepEqual(
      (await c.listIndexes().toArray()).map((i) => [i.name, i.key]),
      [
        ['_id_', { _id: 1 }],
        ['updatedAt_1__id_1', { updatedAt: 1, _id: 1 }],
      ],
    );
    await assert.rejects(c.dropIndex('_id_'), (e: MongoServerError) => e.code === 72);
    await assert.rejects(c.dropIndex('nope'), (e: MongoServerError) => e.code === 27);
    await c.dropIndexes();
    assert.deepEqual(
      (await c.listIndexes().toArray()).map((i) => i.name),
      ['_id_'],
    );
  });
});
