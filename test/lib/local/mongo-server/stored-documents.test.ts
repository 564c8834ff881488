import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BSON, type Document, Int32, ObjectId } from 'mongodb';
import { MemoryCollection } from '../../../../lib/local/mongo-server/collection.ts';
import { batchDocuments } from '../../../../lib/local/mongo-server/raw-bson.ts';

/** Small slabs, so a few hundred documents fill many and compaction comes early. */
const SLAB_BYTES = 1024;

const oid = (i: number) => new ObjectId(i.toString(16).padStart(24, '0'));
const bytesOf = (doc: Document) => Buffer.from(BSON.serialize(doc));
/** Documents of varied sizes, some larger than a slab. */
const docFor = (i: number, round = 0): Document => ({
  _id: oid(i),
  i: new Int32(i),
  round: new Int32(round),
  pad: 'x'.repeat((i * 37 + round * 11) % (i % 17 === 0 ? 1500 : 200)),
});
const all = (collection: MemoryCollection): readonly Buffer[] => {
  const found = collection.find({ sort: { _id: 1 } });
  return batchDocuments(found.slice(0, found.length));
};

describe('documents stored in shared slabs', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stored-documents-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every document readable and equal through updates that compact the slabs', () => {
    const collection = new MemoryCollection({ slabBytes: SLAB_BYTES });
    const count = 300;
    collection.insertMany(Array.from({ length: count }, (_, i) => docFor(i)));
    for (let round = 1; round <= 12; round++) {
      collection.modify({}, true, (current) => bytesOf(docFor(Number(current.i), round)));
      const { live, garbage } = collection.bytes;
      assert.ok(
        garbage <= Math.max(live / 2, SLAB_BYTES),
        `round ${round}: garbage ${garbage} of ${live} live`,
      );
      assert.deepEqual(
        all(collection),
        Array.from({ length: count }, (_, i) => bytesOf(docFor(i, round))),
        `after round ${round}`,
      );
    }
  });

  it('hands out the documents as found to a held result, whatever the collection does meanwhile', () => {
    const collection = new MemoryCollection({ slabBytes: SLAB_BYTES });
    collection.insertMany(Array.from({ length: 200 }, (_, i) => docFor(i)));
    const held = collection.find({ filter: { i: { $gte: 50 } }, sort: { _id: 1 } });
    const projected = collection.find({ sort: { _id: -1 }, projection: { _id: 1 } });
    const expected = Array.from({ length: 150 }, (_, k) => bytesOf(docFor(50 + k)));
    for (let round = 1; round <= 8; round++)
      collection.modify({}, true, (current) => bytesOf(docFor(Number(current.i), round)));
    collection.modify({ i: { $lt: 100 } }, true, () => undefined);
    collection.insertMany(Array.from({ length: 50 }, (_, i) => docFor(1000 + i)));
    const { live, garbage } = collection.bytes;
    assert.ok(
      garbage <= Math.max(live / 2, SLAB_BYTES),
      `the updates compacted the slabs: garbage ${garbage}`,
    );
    assert.deepEqual(held.slice(0, 100), expected.slice(0, 100));
    assert.deepEqual(held.slice(100, held.length), expected.slice(100));
    assert.deepEqual(
      batchDocuments(projected.slice(0, projected.length)).map((raw) =>
        BSON.deserialize(raw)._id.toHexString(),
      ),
      Array.from({ length: 200 }, (_, i) => oid(199 - i).toHexString()),
    );
  });

  it('loads a dump into _id order, whatever its order, across reads and slabs', async () => {
    const docs = [
      ...Array.from({ length: 400 }, (_, i) => docFor((i * 7919) % 400)),
      { _id: 'text', pad: 'y'.repeat(3000) },
      { _id: new Int32(-3), n: 1 },
      { _id: { nested: true }, n: 2 },
    ];
    const path = join(dir, 'shuffled.bson');
    await writeFile(path, Buffer.concat(docs.map(bytesOf)));
    const collection = new MemoryCollection({ slabBytes: SLAB_BYTES });
    await collection.insertDump(path);
    const reference = new MemoryCollection();
    reference.insertMany(docs);
    assert.equal(collection.size, docs.length);
    assert.deepEqual([...collection.rawDocuments()], [...reference.rawDocuments()]);
    assert.deepEqual(
      all(collection).map((raw) => BSON.deserialize(raw)._id),
      [-3, 'text', { nested: true }, ...Array.from({ length: 400 }, (_, i) => oid(i))],
    );
  });

  it('gives a dumped document without _id a new ObjectId, and refuses a duplicate _id in a dump', async () => {
    const path = join(dir, 'irregular.bson');
    await writeFile(
      path,
      Buffer.concat([bytesOf({ _id: 1, a: 1 }), bytesOf({ a: 2 }), bytesOf({ _id: 3, a: 3 })]),
    );
    const collection = new MemoryCollection();
    await collection.insertDump(path);
    const [first, third, second] = all(collection).map((raw) => BSON.deserialize(raw));
    assert.deepEqual(
      [first, third],
      [
        { _id: 1, a: 1 },
        { _id: 3, a: 3 },
      ],
    );
    assert.ok(second?._id instanceof ObjectId);
    assert.equal(second?.a, 2);
    await assert.rejects(collection.insertDump(path), /E11000 duplicate key/);
  });

  it('fails on a dump that ends inside a document or holds a corrupt length', async () => {
    const whole = bytesOf({ _id: 1, a: 'abc' });
    const truncated = join(dir, 'truncated.bson');
    await writeFile(truncated, Buffer.concat([whole, whole.subarray(0, 10)]));
    await assert.rejects(
      new MemoryCollection().insertDump(truncated),
      /10 bytes of a truncated BSON document at the end/,
    );
    const corrupt = join(dir, 'corrupt.bson');
    await writeFile(corrupt, Buffer.concat([whole, Buffer.from([2, 0, 0, 0, 0])]));
    await assert.rejects(
      new MemoryCollection().insertDump(corrupt),
      new RegExp(`corrupt BSON document length 2 at byte ${whole.length}`),
    );
  });
});
