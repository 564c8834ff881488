import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  Binary,
  BSON,
  type Collection,
  Decimal128,
  type Document,
  Double,
  type FindOptions,
  Int32,
  Long,
  MongoClient,
  type MongoServerError,
  ObjectId,
  UUID,
} from 'mongodb';
import { type RunningMongoServer, startMongoServer } from '../../../../lib/local/mongo-server/index.ts';

/** The documents of a find as the server sent them, byte for byte. */
async function rawFind(c: Collection, filter: Document, options: FindOptions): Promise<Buffer[]> {
  const docs = await c.find(filter, { ...options, raw: true }).toArray();
  return docs.map((doc) => Buffer.from(doc as unknown as Uint8Array));
}

describe('embedded MongoDB wire-protocol server, through the official driver', () => {
  let server: RunningMongoServer;
  let client: MongoClient;
  let n = 0;
  const fresh = (): Collection => client.db('server_test').collection(`c${n++}`);

  before(async () => {
    server = await startMongoServer();
    client = await new MongoClient(server.uri).connect();
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  it('answers the handshake and ping', async () => {
    assert.deepEqual(await client.db('admin').command({ ping: 1 }), { ok: 1 });
    const info = await client.db('admin').command({ buildInfo: 1 });
    assert.equal(info.version, '7.0.0');
  });

  it('finds with filter, sort, skip, limit and projection', async () => {
    const c = fresh();
    await c.insertMany([5, 3, 9, 1, 7].map((v) => ({ v: new Int32(v), name: `n${v}`, extra: true })));
    const docs = await c
      .find({ v: { $gte: 3 } }, { projection: { _id: 0, v: 1 } })
      .sort({ v: -1 })
      .skip(1)
      .limit(2)
      .toArray();
    assert.deepEqual(docs, [{ v: 7 }, { v: 5 }]);
  });

  it('getMore returns the rest of a sorted range in batches, every document exactly once', async () => {
    const c = fresh();
    await c.insertMany(Array.from({ length: 2_345 }, (_, i) => ({ i: new Int32(i) })));
    const seen: number[] = [];
    for await (const doc of c.find({}, { batchSize: 100 }).sort({ _id: 1 })) seen.push(doc.i as number);
    assert.deepEqual(
      seen,
      Array.from({ length: 2_345 }, (_, i) => i),
    );
  });

  it('kills a cursor so getMore on it fails', async () => {
    const c = fresh();
    await c.insertMany(Array.from({ length: 50 }, (_, i) => ({ i })));
    const first = await c.db.command({ find: c.collectionName, batchSize: 10 });
    const id = first.cursor.id as Long;
    const killed = await c.db.command({ killCursors: c.collectionName, cursors: [id] });
    assert.equal(killed.cursorsKilled.length, 1);
    await assert.rejects(
      c.db.command({ getMore: id, collection: c.collectionName }),
      (e: MongoServerError) => e.code === 43,
    );
  });

  it('counts and aggregates with $match, $group and $sort', async () => {
    const c = fresh();
    await c.insertMany([
      { type: 'Asset', amount: 10 },
      { type: 'Asset', amount: 5 },
      { type: 'Liability', amount: 7 },
    ]);
    assert.equal(await c.countDocuments({ type: 'Asset' }), 2);
    assert.equal(await c.countDocuments({}), 3);
    const groups = await c
      .aggregate([
        { $match: { amount: { $gt: 1 } } },
        { $group: { _id: '$type', total: { $sum: '$amount' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    assert.deepEqual(groups, [
      { _id: 'Asset', total: 15 },
      { _id: 'Liability', total: 7 },
    ]);
  });

  it('lists collections and databases', async () => {
    const c = fresh();
    await c.insertOne({ a: 1 });
    const names = (await c.db.listCollections({}, { nameOnly: true }).toArray()).map((x) => x.name);
    assert.ok(names.includes(c.collectionName));
    const dbs = await client.db('admin').admin().listDatabases();
    assert.ok(dbs.databases.some((d) => d.name === 'server_test'));
  });

  it('updates, upserts and deletes', async () => {
    const c = fresh();
    await c.insertMany([
      { k: 1, s: 'a' },
      { k: 2, s: 'b' },
      { k: 3, s: 'c' },
    ]);
    const updated = await c.updateOne({ k: 2 }, { $set: { s: 'B' }, $inc: { n: 1 } });
    assert.equal(updated.modifiedCount, 1);
    const upserted = await c.updateOne({ k: 4 }, { $set: { s: 'd' } }, { upsert: true });
    assert.ok(upserted.upsertedId instanceof ObjectId);
    const deleted = await c.deleteMany({ k: { $in: [1, 3] } });
    assert.equal(deleted.deletedCount, 2);
    assert.deepEqual(
      await c
        .find({}, { projection: { _id: 0 } })
        .sort({ k: 1 })
        .toArray(),
      [
        { k: 2, s: 'B', n: 1 },
        { k: 4, s: 'd' },
      ],
    );
  });

  it('addresses one document by _id equality, whatever the _id type', async () => {
    const c = fresh();
    const ids = [new ObjectId(), new ObjectId(), new ObjectId()];
    await c.insertMany([
      ...ids.map((_id, i) => ({ _id, i })),
      { _id: 7 as never, i: 7 },
      { _id: { a: 1 } as never, i: 8 },
    ]);
    await c.updateOne({ _id: ids[1] }, { $set: { touched: true } });
    assert.deepEqual(
      (await c.find({ touched: true }).toArray()).map((d) => d.i),
      [1],
    );
    assert.equal((await c.findOne({ _id: 7 as never }))?.i, 7);
    assert.equal((await c.findOne({ _id: { a: 1 } as never }))?.i, 8);
    assert.equal(await c.countDocuments({ _id: new ObjectId() }), 0);
    assert.equal(await c.countDocuments({ _id: { $in: [ids[0], ids[2]] } as never }), 2);
  });

  it('pages a sorted find with skip and limit correctly, and sees writes made since the last sort', async () => {
    const c = fresh();
    await c.insertMany(Array.from({ length: 60 }, (_, i) => ({ _id: i as never, t: (i * 7) % 10 })));
    const page = async () =>
      (
        await c
          .find({ t: { $gte: 3 } })
          .sort({ t: -1, _id: 1 })
          .skip(5)
          .limit(4)
          .toArray()
      ).map((d) => d._id as unknown as number);
    const expected = () =>
      docs
        .filter((d) => d.t >= 3)
        .sort((a, b) => b.t - a.t || a._id - b._id)
        .slice(5, 9)
        .map((d) => d._id);
    const docs = Array.from({ length: 60 }, (_, i) => ({ _id: i, t: (i * 7) % 10 }));
    assert.deepEqual(await page(), expected());
    await c.updateOne({ _id: 0 as never }, { $set: { t: 9 } });
    (docs[0] as { t: number }).t = 9;
    assert.deepEqual(await page(), expected(), 'the cached order was refreshed after the update');
    await c.insertOne({ _id: 100 as never, t: 9 });
    docs.push({ _id: 100, t: 9 });
    assert.deepEqual(await page(), expected(), 'and after an insert');
  });

  it('hands out the rest of a cursor as found, though the documents change before getMore', async () => {
    const c = fresh();
    await c.insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: i as never, v: new Int32(i) })));
    const cursor = c.find({}, { batchSize: 50 }).sort({ _id: 1 });
    const first = await cursor.next();
    await c.updateMany({}, { $set: { v: new Int32(-1), grown: 'x'.repeat(300) } });
    await c.deleteMany({ _id: { $gte: 250 } as never });
    const rest = await cursor.toArray();
    assert.deepEqual(
      [first, ...rest].map((d) => d?.v),
      Array.from({ length: 500 }, (_, i) => i),
    );
    assert.equal(await c.countDocuments({ v: -1 }), 250);
  });

  it('refuses an update that changes _id with ImmutableField (66)', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1 as never, a: 1 });
    await assert.rejects(
      c.updateOne({ _id: 1 as never }, { $set: { _id: 2 } }),
      (e: MongoServerError) => e.code === 66,
    );
    await assert.rejects(
      c.replaceOne({ _id: 1 as never }, { _id: 3, a: 2 }),
      (e: MongoServerError) => e.code === 66,
    );
    assert.deepEqual(await c.find().toArray(), [{ _id: 1, a: 1 }]);
  });

  it('refuses a duplicate _id with error 11000', async () => {
    const c = fresh();
    const id = new ObjectId();
    await c.insertOne({ _id: id });
    await assert.rejects(c.insertOne({ _id: id }), (e: MongoServerError) => e.code === 11000);
  });

  it('returns every BSON type exactly as inserted', async () => {
    const c = fresh();
    const doc: Document = {
      _id: new ObjectId('68ca9aca193e5d257e046f22'),
      int: new Int32(7),
      long: Long.fromString('9223372036854775807'),
      double: new Double(1),
      decimal: Decimal128.fromString('12345678901234567890.1234'),
      date: new Date('2025-05-31T00:00:00Z'),
      binary: new Binary(Buffer.from([0, 1, 2])),
      nested: { lines: [{ debit: Decimal128.fromString('500.00') }, null] },
      flag: false,
      nothing: null,
    };
    await c.insertOne(doc);
    const back = await c.findOne({}, { promoteValues: false, promoteLongs: false });
    assert.equal(
      BSON.EJSON.stringify(back, { relaxed: false }),
      BSON.EJSON.stringify(doc, { relaxed: false }),
    );
  });

  it('orders numbers across BSON types and ObjectIds by bytes', async () => {
    const c = fresh();
    await c.insertMany([
      { v: Decimal128.fromString('2.5') },
      { v: new Int32(3) },
      { v: Long.fromNumber(1) },
      { v: new Double(2) },
      { v: 'text' },
    ]);
    const ordered = await c.find({}, { promoteValues: false }).sort({ v: 1 }).toArray();
    assert.deepEqual(
      ordered.map((d) => String(d.v)),
      ['1', '2', '2.5', '3', 'text'],
    );
    const ids = ['ffffffffffffffffffffffff', '000000000000000000000000', '0a0000000000000000000000'];
    const d = fresh();
    await d.insertMany(ids.map((hex) => ({ _id: new ObjectId(hex) })));
    const sorted = (await d.find({ _id: { $gt: new ObjectId('000000000000000000000000') } }).toArray()).map(
      (x) => x._id.toHexString(),
    );
    assert.deepEqual(sorted, ['0a0000000000000000000000', 'ffffffffffffffffffffffff']);
  });

  it('breaks equal timestamps by _id in a compound range', async () => {
    const c = fresh();
    const t = new Date('2025-06-01T00:00:00Z');
    const ids = [3, 1, 2].map((i) => new ObjectId(i.toString(16).padStart(24, '0')));
    await c.insertMany(ids.map((_id) => ({ _id, updatedAt: t })));
    const after1 = await c
      .find({ $or: [{ updatedAt: { $gt: t } }, { updatedAt: t, _id: { $gt: ids[1] } }] })
      .sort({ updatedAt: 1, _id: 1 })
      .toArray();
    assert.deepEqual(
      after1.map((d) => d._id.toHexString().slice(-1)),
      ['2', '3'],
    );
  });

  it('projects {_id: 1} to the _id alone, whatever its type and wherever it is stored', async () => {
    const c = fresh();
    const ids = [new ObjectId(), 'text', new Int32(7), Long.fromString('9007199254740993'), { a: 1 }];
    await c.insertMany(ids.map((_id, i) => ({ _id, i, lines: [{ x: i }] }) as Document));
    await c.db.command({ insert: c.collectionName, documents: [{ first: 1, _id: 'stored second' }] });
    const keys = await c.find({}, { projection: { _id: 1 }, promoteValues: false }).toArray();
    assert.deepEqual(
      keys.map((k) => Object.keys(k)),
      keys.map(() => ['_id']),
    );
    assert.equal(keys.length, ids.length + 1);
    const withField = await c.find({ i: 2 }, { projection: { _id: 0, i: 1 } }).toArray();
    assert.deepEqual(withField, [{ i: 2 }]);
  });

  it('answers an _id-only projection byte for byte as the full path does, whatever the _id types, order and paging', async () => {
    const c = fresh();
    const oid = (i: number) => new ObjectId(i.toString(16).padStart(24, '0'));
    const ids: unknown[] = [
      ...Array.from({ length: 40 }, (_, i) => oid(i * 7)),
      ...['a', 'b', 'text', ''].map(String),
      ...[-3, 0, 12, 400].map((i) => new Int32(i)),
      Long.fromString('9007199254740993'),
      Long.fromNumber(15),
      new Double(2.5),
      new Double(-0.5),
      Decimal128.fromString('12.25'),
      new UUID('6f1c9e2a-4b1d-4c3e-9f00-0123456789ab'),
      new Binary(Buffer.from([1, 2, 3])),
      { nested: new Int32(1) },
      new Date('2025-01-01T00:00:00Z'),
      true,
    ];
    await c.insertMany(ids.map((_id, i) => ({ _id, v: new Int32(i), lines: [{ x: i }] }) as Document));
    await c.insertOne({ v: new Int32(-1), _id: 'stored second' } as Document);
    const filters: Document[] = [
      {},
      { _id: { $gte: 0, $lt: 100 } },
      { _id: { $gt: 'a' } },
      { _id: { $gte: oid(70), $lte: oid(210) } },
      { _id: 12 },
    ];
    const pages = [{}, { skip: 2, limit: 5 }, { skip: 3 }, { limit: 1 }, { skip: 500 }];
    for (const filter of filters)
      for (const sort of [undefined, { _id: 1 }, { _id: -1 }] as const)
        for (const page of pages) {
          const options = { ...page, ...(sort === undefined ? {} : { sort }), batchSize: 3 };
          const label = JSON.stringify({ filter, ...options });
          assert.deepEqual(
            await rawFind(c, filter, { ...options, projection: { _id: 1 } }),
            // An absent field makes the projection one the _id index does not cover: each document is decoded.
            await rawFind(c, filter, { ...options, projection: { _id: 1, absent: 1 } }),
            label,
          );
        }
    assert.deepEqual(
      await rawFind(c, { v: { $gte: 0 } }, { projection: { _id: true }, sort: { _id: -1 }, batchSize: 4 }),
      await rawFind(
        c,
        { v: { $gte: 0 } },
        { projection: { _id: 1, absent: 1 }, sort: { _id: -1 }, batchSize: 4 },
      ),
      'a filter beyond _id: not covered, same answer',
    );
  });

  it('answers projections the _id index does not cover from the whole documents, as before', async () => {
    const c = fresh();
    const updatedAt = new Date('2025-06-01T00:00:00Z');
    await c.insertMany(
      Array.from({ length: 50 }, (_, i) => ({ i: new Int32(i), updatedAt, pad: 'x'.repeat(i) })),
    );
    await c.updateMany({ i: { $mod: [4, 0] } }, { $set: { pad: 'changed' } });
    await c.deleteMany({ i: { $mod: [5, 0] } });
    const whole = await c.find({}, { sort: { _id: 1 }, promoteValues: false }).toArray();
    assert.equal(whole.length, 40);
    const read = (projection: Document) =>
      c.find({}, { projection, sort: { _id: 1 }, batchSize: 7, promoteValues: false }).toArray();
    assert.deepEqual(
      await read({ _id: 1, updatedAt: 1 }),
      whole.map(({ _id, updatedAt }) => ({ _id, updatedAt })),
    );
    assert.deepEqual(
      await read({ _id: 0 }),
      whole.map(({ _id, ...rest }) => rest),
    );
    assert.deepEqual(
      await read({ _id: 0, i: 1 }),
      whole.map(({ i }) => ({ i })),
    );
  });

  it('lists every _id of a large collection across getMores after in-memory writes, as the full path does', async () => {
    const c = fresh();
    await c.insertMany(Array.from({ length: 3_000 }, (_, i) => ({ i: new Int32(i) })));
    await c.updateMany({ i: { $mod: [3, 0] } }, { $set: { grown: 'y'.repeat(200) } });
    await c.deleteMany({ i: { $mod: [7, 0] } });
    await c.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: `k${i}` as never, i: new Int32(-i) })));
    for (const sort of [{ _id: 1 }, { _id: -1 }] as const) {
      const keys = await rawFind(c, {}, { projection: { _id: 1 }, sort, batchSize: 500 });
      assert.equal(keys.length, 3_000 - Math.ceil(3_000 / 7) + 300);
      assert.deepEqual(
        keys,
        await rawFind(c, {}, { projection: { _id: 1, absent: 1 }, sort, batchSize: 500 }),
      );
    }
  });

  it('counts with countDocuments, honouring skip and limit', async () => {
    const c = fresh();
    await c.insertMany(Array.from({ length: 30 }, (_, i) => ({ i: new Int32(i) })));
    assert.equal(await c.countDocuments({ i: { $gte: 10 } }), 20);
    assert.equal(await c.countDocuments({ i: { $gte: 10 } }, { skip: 5, limit: 10 }), 10);
    assert.equal(await c.countDocuments({ i: { $gte: 10 } }, { skip: 25 }), 0);
    assert.equal(await c.countDocuments({ i: { $lt: 0 } }), 0);
  });

  it('answers an unknown command with CommandNotFound (59) and a refused stage with NotImplemented', async () => {
    await assert.rejects(
      client.db('x').command({ splitVector: 'x.y' }),
      (e: MongoServerError) => e.code === 59,
    );
    await assert.rejects(
      fresh()
        .aggregate([{ $bucketAuto: { groupBy: '$_id', buckets: 2 } }])
        .toArray(),
      (e: MongoServerError) => e.code === 238,
    );
  });

  it('reads a message that arrives in pieces', async () => {
    const body = BSON.serialize({ ping: 1, $db: 'admin' });
    const message = Buffer.alloc(21 + body.length);
    message.writeInt32LE(message.length, 0);
    message.writeInt32LE(7, 4);
    message.writeInt32LE(2013, 12);
    Buffer.from(body).copy(message, 21);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.write(message.subarray(0, 10));
        setTimeout(() => socket.write(message.subarray(10)), 20);
      });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data);
      });
      socket.once('error', reject);
    });
    assert.equal(reply.readInt32LE(8), 7, 'responseTo');
    assert.deepEqual(BSON.deserialize(reply.subarray(21)), { ok: 1 });
  });
});
