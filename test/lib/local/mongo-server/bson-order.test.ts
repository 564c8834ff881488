import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Binary,
  BSON,
  BSONRegExp,
  type Collection,
  Decimal128,
  type Document,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  MongoClient,
  ObjectId,
  Timestamp,
  UUID,
} from 'mongodb';
import { ALL_TYPE_ALIASES, rangeFilter, supportedTypeAliases } from '../../../../lambdas/shared/range-key.ts';
import { startMongoServer } from '../../../../lib/local/mongo-server/index.ts';
import { ferretdbUri } from '../../../support/services.ts';

/** Documents whose `_id` may be of any type. */
type AnyDocument = { _id: unknown; [field: string]: unknown };

const text = (value: unknown) => BSON.EJSON.stringify({ v: value }, { relaxed: false });

/**
 * One value of every BSON type bracket a server can store, in MongoDB's
 * order (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/).
 */
function valuesInBsonOrder(all: boolean): unknown[] {
  return [
    ...(all ? [new MinKey()] : []),
    null,
    new Int32(-5),
    Long.fromString('3'),
    new Double(3.5),
    ...(all ? [Decimal128.fromString('4')] : []),
    'a',
    'b',
    { a: new Int32(1) },
    { a: new Int32(2) },
    new Binary(Buffer.from([0xff])),
    new Binary(Buffer.from([0x00, 0x00])),
    new UUID('00000000-0000-4000-8000-000000000001'),
    new ObjectId('000000000000000000000001'),
    new ObjectId('ffffffffffffffffffffffff'),
    false,
    true,
    new Date('1970-01-01T00:00:00Z'),
    new Date('2025-01-01T00:00:00Z'),
    new Timestamp({ t: 1, i: 1 }),
    new Timestamp({ t: 2, i: 0 }),
    new BSONRegExp('a', 'i'),
    ...(all ? [new MaxKey()] : []),
  ];
}

/** `_id`s of every type an `_id` may have, in MongoDB's order. */
function idsInBsonOrder(all: boolean): unknown[] {
  return valuesInBsonOrder(all).filter((v) => v !== null && !(v instanceof BSONRegExp));
}

const servers: { name: string; all: boolean; start(): Promise<{ uri: string; close(): Promise<void> }> }[] = [
  // FerretDB 1.x stores neither MinKey, MaxKey nor Decimal128.
  { name: 'FerretDB', all: false, start: async () => ({ uri: await ferretdbUri(), close: async () => {} }) },
  { name: 'the embedded wire-protocol server', all: true, start: () => startMongoServer() },
];

for (const server of servers) {
  describe(`BSON order across types, against ${server.name}`, () => {
    let mongo: { uri: string; close(): Promise<void> };
    let client: MongoClient;
    let n = 0;
    const fresh = (): Collection<AnyDocument> =>
      client.db(`bson_order_${process.pid}`).collection<AnyDocument>(`c${n++}`);

    before(async () => {
      mongo = await server.start();
      client = await new MongoClient(mongo.uri).connect();
    });
    after(async () => {
      await client.db(`bson_order_${process.pid}`).dropDatabase();
      await client.close();
      await mongo.close();
    });

    it('sorts values of every type in MongoDB’s order, both ways', async () => {
      const c = fresh();
      const values = valuesInBsonOrder(server.all);
      // Inserted in a shuffled order, so storage order proves nothing.
      await c.insertMany(
        values
          .map((v, i) => ({ _id: new Int32(i), v }))
          .sort((a, b) => ((a._id.value * 7) % 11) - ((b._id.value * 7) % 11)),
      );
      const ascending = await c.find({}, { promoteValues: false, sort: { v: 1, _id: 1 } }).toArray();
      assert.deepEqual(
        ascending.map((d) => text(d.v)),
        values.map(text),
      );
      const descending = await c.find({}, { promoteValues: false, sort: { v: -1, _id: 1 } }).toArray();
      assert.deepEqual(
        descending.map((d) => text(d.v)),
        [...values].reverse().map(text),
      );
    });

    it('compares within a type bracket only, unless asked across types with $type', async () => {
      const c = fresh();
      const ids = idsInBsonOrder(server.all);
      await c.insertMany([...ids].reverse().map((_id) => ({ _id })));
      const sorted = await c.find({}, { promoteValues: false, sort: { _id: 1 } }).toArray();
      assert.deepEqual(
        sorted.map((d) => text(d._id)),
        ids.map(text),
      );

      const four = ids.findIndex((v) => v instanceof Long);
      const greaterThan3: Document = { _id: { $gt: Long.fromString('3') } };
      const bracketed = await c.find(greaterThan3, { promoteValues: false }).toArray();
      assert.deepEqual(
        bracketed.map((d) => text(d._id)),
        ids
          .slice(four + 1)
          .filter((v) => v instanceof Double || v instanceof Decimal128)
          .map(text),
        '$gt 3 matches only numbers',
      );
      const aliases = await supportedTypeAliases(c.db, c.collectionName);
      for (const [i, bound] of ids.entries()) {
        for (const [j, upper] of ids.entries()) {
          if (j < i) continue;
          const filter: Document = rangeFilter(['_id'], [bound], [upper], aliases);
          const found = await c.find(filter, { promoteValues: false, sort: { _id: 1 } }).toArray();
          assert.deepEqual(
            found.map((d) => text(d._id)),
            ids.slice(i + 1, j + 1).map(text),
            `(${text(bound)}, ${text(upper)}]`,
          );
        }
      }
    });

    it('matches $type aliases of every type it stores', async () => {
      const c = fresh();
      const values = valuesInBsonOrder(server.all);
      await c.insertMany(values.map((v, i) => ({ _id: i, v })));
      const aliases = await supportedTypeAliases(c.db, c.collectionName);
      const expected: Record<string, string[]> = {
        null: [text(null)],
        int: [text(new Int32(-5))],
        long: [text(Long.fromString('3'))],
        double: [text(new Double(3.5))],
        string: ['a', 'b'].map(text),
        object: [text({ a: new Int32(1) }), text({ a: new Int32(2) })],
        binData: values.filter((v) => v instanceof Binary).map(text),
        objectId: values.filter((v) => v instanceof ObjectId).map(text),
        bool: [false, true].map(text),
        date: values.filter((v) => v instanceof Date).map(text),
        timestamp: values.filter((v) => v instanceof Timestamp).map(text),
        regex: [text(new BSONRegExp('a', 'i'))],
        ...(server.all
          ? {
              minKey: [text(new MinKey())],
              maxKey: [text(new MaxKey())],
              decimal: [text(Decimal128.fromString('4'))],
            }
          : {}),
      };
      const refused = server.all ? [] : ['minKey', 'decimal', 'symbol', 'maxKey'];
      assert.deepEqual(
        [...ALL_TYPE_ALIASES].filter((alias) => !aliases.has(alias)),
        refused,
      );
      for (const alias of aliases) {
        const filter: Document = { v: { $type: alias } };
        const found = await c.find(filter, { promoteValues: false, sort: { _id: 1 } }).toArray();
        assert.deepEqual(
          found.map((d) => text(d.v)),
          expected[alias] ?? [],
          alias,
        );
      }
    });

    it('asks about $type aliases with queries that end at the first document', async () => {
      // A probe that matched nothing would read the whole collection where no index answers it (FerretDB).
      const c = fresh();
      await c.insertMany(Array.from({ length: 50 }, () => ({ _id: new ObjectId() })));
      const watched = await new MongoClient(mongo.uri, { monitorCommands: true }).connect();
      const batches: number[] = [];
      const failed: string[] = [];
      watched.on('commandSucceeded', (event) => {
        if (event.commandName === 'find')
          batches.push((event.reply as { cursor: { firstBatch: unknown[] } }).cursor.firstBatch.length);
      });
      watched.on('commandFailed', (event) => failed.push(event.commandName));
      try {
        const aliases = await supportedTypeAliases(watched.db(c.dbName), c.collectionName);
        assert.equal(aliases.size, server.all ? ALL_TYPE_ALIASES.size : ALL_TYPE_ALIASES.size - 4);
        assert.ok(batches.length > 0);
        assert.deepEqual(
          batches,
          batches.map(() => 1),
          'every accepted probe returns the first document',
        );
        assert.equal(batches.length + failed.length, server.all ? 1 : 1 + ALL_TYPE_ALIASES.size);
      } finally {
        await watched.close();
      }
    });
  });
}

describe('BSON order details of the embedded server', () => {
  it('orders strings by code point (UTF-8 bytes), documents by type, then name, then value', async () => {
    const server = await startMongoServer();
    const client = await new MongoClient(server.uri).connect();
    try {
      const c = client.db('order').collection<AnyDocument>('details');
      await c.insertMany([
        { _id: 1, s: '\u{1F600}', d: { b: 1 } },
        { _id: 2, s: '\uFFFF', d: { a: 2 } },
        { _id: 3, s: 'z', d: { b: 'x' } },
      ]);
      const byString = await c.find({}, { sort: { s: 1 } }).toArray();
      assert.deepEqual(
        byString.map((d) => d._id),
        [3, 2, 1],
        'U+FFFF before U+1F600, as their UTF-8 bytes',
      );
      const byDocument = await c.find({}, { sort: { d: 1 } }).toArray();
      assert.deepEqual(
        byDocument.map((d) => d._id),
        [2, 1, 3],
        '{a: 2} < {b: 1} < {b: "x"}',
      );
    } finally {
      await client.close();
      await server.close();
    }
  });
});
