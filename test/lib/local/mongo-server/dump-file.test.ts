import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Binary, BSON, type Document, Double, Int32, Long, ObjectId, UUID } from 'mongodb';
import { BlockCache } from '../../../../lib/local/mongo-server/block-cache.ts';
import { type FindOptions, MemoryCollection } from '../../../../lib/local/mongo-server/collection.ts';
import { CursorRegistry, type DocumentList } from '../../../../lib/local/mongo-server/cursors.ts';
import { detachedStoredId } from '../../../../lib/local/mongo-server/document-id.ts';
import { DumpFile } from '../../../../lib/local/mongo-server/dump-file.ts';
import { ArrayElements, batchDocuments, cursorReply } from '../../../../lib/local/mongo-server/raw-bson.ts';
import { SAMPLE_INDEX } from '../../../../lib/local/sample-data/index.ts';
import { Prng } from '../../../../lib/local/sample-data/prng.ts';

/** Small blocks, so a few hundred documents span many, some documents cross a block's end and some are larger than a block. */
const BLOCK_BYTES = 4096;
const CAPACITY_BYTES = 4 * BLOCK_BYTES;
const COUNT = 600;
const BASE = Date.UTC(2025, 0, 1);

const oid = (i: number) => new ObjectId(i.toString(16).padStart(24, '0'));
const bytesOf = (doc: Document) => Buffer.from(BSON.serialize(doc));
/** Documents of varied sizes; updatedAt mostly follows `_id`, as generated data does, some out of step. */
const docFor = (i: number, round = 0): Document => ({
  _id: oid(i),
  i: new Int32(i),
  round: new Int32(round),
  updatedAt: new Date(BASE + (i % 23 === 0 ? 5_000_000 - i : i) * 1000 + round * 10_000_000),
  pad: 'x'.repeat((i * 37 + round * 11) % (i % 41 === 0 ? 6000 : 300)),
});
const all = (found: DocumentList): readonly Buffer[] => batchDocuments(found.slice(0, found.length));

/** The replies a cursor over `found` sends, byte for byte: batches of 123, so element names run to three digits. */
function replies(found: DocumentList): Buffer[] {
  const cursors = new CursorRegistry();
  const ns = 'test.mixed';
  let { id, batch } = cursors.start(ns, found, 123);
  const sent = [cursorReply(id, ns, 'firstBatch', batch)];
  while (id !== 0n) {
    const next = cursors.next(id, 123);
    if (next === undefined) throw new Error(`cursor ${id} lost`);
    ({ id, batch } = next);
    sent.push(cursorReply(id, ns, 'nextBatch', batch));
  }
  return sent;
}

/** Deterministic pseudo-random numbers in [0, 1): the sample generator's Prng. */
function random(seed: number): () => number {
  const prng = new Prng(seed, 0);
  return () => prng.fraction();
}

/** The finds a chunk read, a key listing, planning and point lookups send, each as both collections answer it. */
function assertSameAnswers(actual: MemoryCollection, expected: MemoryCollection, cache?: BlockCache): void {
  const next = random(7);
  const finds: FindOptions[] = [
    { sort: { _id: 1 } },
    { sort: { _id: -1 } },
    { sort: { _id: 1 }, projection: { _id: 1 } },
    { filter: { updatedAt: { $gte: new Date(BASE + 100_000) } }, sort: { updatedAt: 1, _id: 1 } },
    { filter: { updatedAt: { $lt: new Date(BASE + 4_000_000_000) } }, sort: { updatedAt: -1, _id: -1 } },
    { filter: { i: { $gte: 100, $lt: 140 } }, sort: { i: -1 } },
    { filter: { _id: { $gt: oid(250) } }, sort: { _id: 1 }, limit: 5 },
    ...Array.from({ length: 40 }, () => ({ filter: { _id: oid(Math.floor(next() * (COUNT + 50))) } })),
  ];
  for (const find of finds) {
    assert.deepEqual(all(actual.find(find)), all(expected.find(find)), JSON.stringify(find));
    if (cache !== undefined) assert.ok(cache.bytes <= cache.capacityBytes, `${cache.bytes} bytes cached`);
  }
  assert.equal(actual.count({ round: { $gt: 0 } }), expected.count({ round: { $gt: 0 } }));
}

describe('documents served from the dump file they were loaded from', () => {
  let dir: string;
  let dumped: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dump-file-'));
    // Mostly in _id order, as a dump is written, with a few out of place.
    const order = Array.from({ length: COUNT }, (_, i) => i);
    for (let i = 7; i + 30 < COUNT; i += 50) [order[i], order[i + 30]] = [i + 30, i];
    dumped = Buffer.concat(order.map((i) => bytesOf(docFor(i))));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A dump of the sample documents at a path of its own, loaded with a small cache, and the same documents held in memory. */
  async function loaded(name: string) {
    const path = join(dir, `${name}.bson`);
    await writeFile(path, dumped);
    const cache = new BlockCache({ blockBytes: BLOCK_BYTES, capacityBytes: CAPACITY_BYTES });
    const collection = new MemoryCollection({ blockCache: cache, slabBytes: 1024 });
    await collection.insertDump(path);
    const reference = new MemoryCollection();
    reference.insertMany(Array.from({ length: COUNT }, (_, i) => docFor(i)));
    for (const c of [collection, reference]) c.createIndex({ v: 2, ...SAMPLE_INDEX });
    return { path, cache, collection, reference };
  }

  it('reads every document back byte for byte, in any order and across block edges, holding none in memory', async () => {
    const { cache, collection, reference } = await loaded('read-back');
    assert.deepEqual(collection.bytes, { live: dumped.length, garbage: 0, slabs: 0, inFiles: dumped.length });
    assertSameAnswers(collection, reference, cache);
    assert.deepEqual([...collection.rawDocuments()], [...reference.rawDocuments()]);
    collection.close();
  });

  it('keeps updates, deletes and inserts made after loading in memory, and leaves the dump as it was', async () => {
    const { path, cache, collection, reference } = await loaded('writes');
    for (const c of [collection, reference]) {
      c.modify({ i: { $mod: [3, 0] } }, true, (current) => bytesOf(docFor(Number(current.i), 1)));
      c.modify({ i: { $mod: [5, 1] } }, true, () => undefined);
      c.insertMany(Array.from({ length: 30 }, (_, k) => docFor(COUNT + k)));
    }
    assertSameAnswers(collection, reference, cache);
    const { live, inFiles, slabs } = collection.bytes;
    assert.ok(slabs > 0 && inFiles < dumped.length && live > inFiles, JSON.stringify(collection.bytes));
    // Updated again: the memory copies are replaced in turn, and compacted.
    for (const c of [collection, reference])
      for (let round = 2; round <= 6; round++)
        c.modify({ i: { $mod: [3, 0] } }, true, (current) => bytesOf(docFor(Number(current.i), round)));
    assertSameAnswers(collection, reference, cache);
    assert.deepEqual(await readFile(path), dumped);
    collection.close();
  });

  it('saves over the dump it reads, reads on from the new one, and loads it again', async () => {
    const { path, cache, collection, reference } = await loaded('saved');
    for (const c of [collection, reference]) {
      c.modify({ i: { $mod: [4, 0] } }, true, (current) => bytesOf(docFor(Number(current.i), 1)));
      c.modify({ i: { $in: [3, 333, 599] } }, true, () => undefined);
      c.insertMany([docFor(COUNT + 1), { _id: 'text', pad: 'y'.repeat(5000) }]);
    }
    await collection.saveDump(path);
    const saved = await readFile(path);
    assert.deepEqual(saved, Buffer.concat([...reference.rawDocuments()]));
    assert.deepEqual(collection.bytes, { live: saved.length, garbage: 0, slabs: 0, inFiles: saved.length });
    assertSameAnswers(collection, reference, cache);

    const reloaded = new MemoryCollection({ blockCache: cache });
    await reloaded.insertDump(path);
    reloaded.createIndex({ v: 2, ...SAMPLE_INDEX });
    assertSameAnswers(reloaded, reference, cache);

    // Changed and saved again: the second dump is read as the first was.
    for (const c of [collection, reference])
      c.modify({ i: { $mod: [7, 2] } }, true, (current) => bytesOf(docFor(Number(current.i), 2)));
    await collection.saveDump(path);
    assert.deepEqual(await readFile(path), Buffer.concat([...reference.rawDocuments()]));
    assertSameAnswers(collection, reference, cache);
    for (const c of [collection, reloaded]) c.close();
  });

  it('hands an open cursor the documents as found, across a save and the writes after it', async () => {
    const { path, collection } = await loaded('cursor');
    const byId = collection.find({ sort: { _id: 1 } });
    const byKey = collection.find({ filter: { i: { $gte: 0 } }, sort: { updatedAt: -1, _id: -1 } });
    const keyOrder = (raw: Buffer) => {
      const doc = BSON.deserialize(raw);
      return [doc.updatedAt.getTime(), doc._id.toHexString()].join();
    };
    const original = Array.from({ length: COUNT }, (_, i) => bytesOf(docFor(i)));
    const originalByKey = [...original].sort((a, b) => (keyOrder(a) < keyOrder(b) ? 1 : -1));
    assert.deepEqual(byId.slice(0, 100), original.slice(0, 100));
    assert.deepEqual(byKey.slice(0, 100), originalByKey.slice(0, 100));

    collection.modify({}, true, (current) => bytesOf(docFor(Number(current.i), 1)));
    await collection.saveDump(path);
    collection.modify({ i: { $lt: 300 } }, true, () => undefined);
    await collection.saveDump(path);

    assert.deepEqual(byId.slice(100, byId.length), original.slice(100));
    assert.deepEqual(byKey.slice(100, byKey.length), originalByKey.slice(100));
    assert.deepEqual(
      all(collection.find({ sort: { _id: 1 } })),
      Array.from({ length: COUNT - 300 }, (_, k) => bytesOf(docFor(300 + k, 1))),
    );
    collection.close();
  });

  it('holds no more blocks than its cache allows, however many readers walk the dump at once', async () => {
    const { cache, collection, reference } = await loaded('bounded');
    const walks = [
      collection.find({ sort: { _id: 1 } }),
      collection.find({ sort: { _id: -1 } }),
      collection.find({ filter: { i: { $gte: 0 } }, sort: { updatedAt: 1, _id: 1 } }),
      collection.find({ sort: { _id: 1 }, projection: { _id: 1 } }),
    ];
    const expected = [
      reference.find({ sort: { _id: 1 } }),
      reference.find({ sort: { _id: -1 } }),
      reference.find({ filter: { i: { $gte: 0 } }, sort: { updatedAt: 1, _id: 1 } }),
      reference.find({ sort: { _id: 1 }, projection: { _id: 1 } }),
    ];
    let most = 0;
    for (let at = 0; at < COUNT; at += 25) {
      walks.forEach((walk, k) => {
        assert.deepEqual(
          batchDocuments(walk.slice(at, at + 25)),
          batchDocuments(expected[k]?.slice(at, at + 25) ?? []),
        );
        most = Math.max(most, cache.bytes);
      });
    }
    assert.ok(most <= CAPACITY_BYTES, `at most ${most} bytes cached`);
    assert.ok(most >= 2 * BLOCK_BYTES, `walks read whole blocks: at most ${most} bytes cached`);
    collection.close();
    assert.equal(cache.bytes, 0);
  });

  it('answers an _id-only projection from the stored _ids, reply for reply as the full path does', async () => {
    const path = join(dir, 'mixed-ids.bson');
    const others: unknown[] = [
      'a',
      'text',
      new Int32(-3),
      new Int32(12),
      Long.fromString('9007199254740993'),
      new Double(2.5),
      new UUID('6f1c9e2a-4b1d-4c3e-9f00-0123456789ab'),
      new Binary(Buffer.from([1, 2, 3])),
    ];
    const mixed = [
      ...Array.from({ length: COUNT }, (_, i) => docFor(i)),
      ...others.map((_id, k) => ({ _id, i: new Int32(-1 - k), pad: 'z'.repeat(k * 900) })),
      // `_id` stored after another field: found by walking the document.
      { first: 'before the id', _id: 'stored second' },
    ];
    await writeFile(path, Buffer.concat(mixed.reverse().map(bytesOf)));
    const cache = new BlockCache({ blockBytes: BLOCK_BYTES, capacityBytes: CAPACITY_BYTES });
    const collection = new MemoryCollection({ blockCache: cache, slabBytes: 1024 });
    await collection.insertDump(path);

    /** Each find's replies, batch by batch, with `{_id: 1}` and with a projection the `_id` index does not cover. */
    const assertCoveredAsFull = (stage: string) => {
      const filters = [
        {},
        { _id: { $gte: oid(100), $lt: oid(400) } },
        { _id: { $gt: 'a' } },
        { _id: { $lt: 100 } },
        { _id: oid(77) },
      ];
      const pages = [{}, { skip: 5, limit: 20 }, { skip: 3 }, { limit: 1 }, { skip: 10_000 }];
      for (const filter of filters)
        for (const sort of [undefined, { _id: 1 }, { _id: -1 }])
          for (const page of pages) {
            const find = { filter, ...(sort === undefined ? {} : { sort }), ...page };
            const covered = replies(collection.find({ ...find, projection: { _id: 1 } }));
            const full = replies(collection.find({ ...find, projection: { _id: 1, absent: 1 } }));
            assert.deepEqual(covered, full, `${stage}: ${JSON.stringify(find)}`);
          }
      const listing = collection.find({ projection: { _id: 1 } });
      assert.ok(
        listing.slice(0, 10) instanceof ArrayElements,
        `${stage}: the listing is written from the _ids`,
      );
      for (const projection of [{ _id: 1, absent: 1 }, { _id: 0 }, { _id: 1, i: 1 }, {}])
        assert.ok(Array.isArray(collection.find({ projection }).slice(0, 10)), JSON.stringify(projection));
    };
    assertCoveredAsFull('as loaded');
    collection.modify({ i: { $mod: [3, 0], $gte: 0 } }, true, (current) =>
      bytesOf(docFor(Number(current.i), 1)),
    );
    collection.modify({ i: { $mod: [5, 1] } }, true, () => undefined);
    collection.modify({ _id: 'text' }, false, () => undefined);
    collection.insertMany([
      ...Array.from({ length: 30 }, (_, k) => docFor(COUNT + k)),
      { _id: 'inserted', pad: 'w'.repeat(5000) },
      { _id: new Double(-0.5) },
    ]);
    assertCoveredAsFull('after writes');
    assert.ok(cache.bytes <= CAPACITY_BYTES, `${cache.bytes} bytes cached`);
    collection.close();
  });

  it('reads a scattered 1% of the documents alone, and a dense walk by whole blocks', async () => {
    // Journal-entry-sized documents (about 270 bytes), 4,000 to a 1 MiB block, as in the benchmark's source.
    const path = join(dir, 'scattered.bson');
    const docs = Array.from({ length: 40_000 }, (_, i) =>
      bytesOf({ _id: oid(i), pad: 'x'.repeat(220 + (i % 90)) }),
    );
    await writeFile(path, Buffer.concat(docs));
    const offsets: number[] = [];
    for (let at = 0, i = 0; i < docs.length; i++) {
      offsets.push(at);
      at += (docs[i] as Buffer).length;
    }
    const next = random(11);
    /** Reads the documents a walk picks with `chance` each, in file order, and returns the bytes of blocks it loaded. */
    const walk = (chance: number) => {
      const cache = new BlockCache();
      const file = DumpFile.open(path, cache);
      let loaded = 0;
      for (const [i, offset] of offsets.entries()) {
        if (next() >= chance) continue;
        assert.deepEqual(file.view(offset), docs[i]);
        loaded = Math.max(loaded, cache.bytes);
      }
      file.close();
      return loaded;
    };
    // 1% (an incremental run's change, 27 KiB apart on average): half its steps are under 16 KiB.
    assert.equal(walk(0.01), 0, 'a scattered walk loads no block');
    // Every 20th document (5.4 KiB apart): 200 documents a block, cheaper read whole.
    assert.ok(walk(0.05) >= 1024 * 1024, 'a dense walk reads whole blocks');
  });

  it('reads the _ids of documents met alone, each into the same buffer, and every _id stays its own', async () => {
    const path = join(dir, 'alone-ids.bson');
    const ids: unknown[] = [
      new Binary(Buffer.from([1, 2, 3])),
      new UUID('6f1c9e2a-4b1d-4c3e-9f00-0123456789ab'),
      oid(5),
      'text',
      Long.fromString('9007199254740993'),
      new Binary(Buffer.from([9, 8, 7, 6])),
    ];
    // Small documents far apart: each is read alone, in one read, into the same buffer.
    const docs = ids.flatMap((_id, i) => [
      bytesOf({ _id }),
      bytesOf({ _id: `filler ${i}`, pad: 'p'.repeat(20_000) }),
    ]);
    await writeFile(path, Buffer.concat(docs));
    const file = DumpFile.open(path, new BlockCache());
    const offsets = ids.map((_, i) => docs.slice(0, 2 * i).reduce((sum, d) => sum + d.length, 0));
    const read = offsets.map((offset) => file.read(offset, detachedStoredId));
    file.close();
    assert.deepEqual(BSON.EJSON.serialize(read), BSON.EJSON.serialize(ids));
  });

  it('fails on a read after the collection is closed rather than reading another file', async () => {
    const { collection } = await loaded('closed');
    collection.close();
    assert.throws(() => all(collection.find({ sort: { _id: 1 } })), /read after the dump file was closed/);
  });
});
