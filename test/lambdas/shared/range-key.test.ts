import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Int32, Long, MaxKey, MinKey, ObjectId } from 'mongodb';
import { BSON_TYPE_BRACKETS } from '../../../lambdas/shared/bson-type-order.ts';
import {
  bsonOrderComparison,
  decodeBound,
  encodeBound,
  rangeFilter,
  rangeKeyFor,
} from '../../../lambdas/shared/range-key.ts';

describe('range key', () => {
  it('breaks timestamp ties by _id', () => {
    assert.deepEqual(rangeKeyFor('updatedAt'), ['updatedAt', '_id']);
    assert.deepEqual(rangeKeyFor('_id'), ['_id']);
  });

  it('round-trips bounds through Extended JSON with their BSON types', () => {
    const id = new ObjectId('68ca9aca193e5d257e046f22');
    const at = new Date('2025-05-31T10:00:00.123Z');
    const text = encodeBound([at, id]);
    assert.equal(text, '[{"$date":{"$numberLong":"1748685600123"}},{"$oid":"68ca9aca193e5d257e046f22"}]');
    const [decodedAt, decodedId] = decodeBound(text);
    assert.ok(decodedAt instanceof Date && decodedAt.getTime() === at.getTime());
    assert.ok(decodedId instanceof ObjectId && decodedId.equals(id));
  });

  it('refuses a bound that is not an array', () => {
    assert.throws(
      () => decodeBound('{"$oid":"68ca9aca193e5d257e046f22"}'),
      /range bound must be an Extended JSON array/,
    );
  });

  it('builds a lexicographic (lower, upper] filter on a compound key, comparing _id across BSON types', () => {
    const t1 = new Date(1000);
    const t2 = new Date(2000);
    const a = new ObjectId('000000000000000000000001');
    const b = new ObjectId('000000000000000000000002');
    assert.deepEqual(rangeFilter(['updatedAt', '_id'], [t1, a], [t2, b]), {
      $and: [
        {
          $or: [
            { updatedAt: { $gt: t1 } },
            {
              updatedAt: t1,
              $or: [
                { _id: { $gt: a } },
                { _id: { $type: ['bool', 'date', 'timestamp', 'regex', 'maxKey'] } },
              ],
            },
          ],
        },
        {
          $or: [
            { updatedAt: { $lt: t2 } },
            {
              updatedAt: t2,
              $or: [
                { _id: { $lte: b } },
                {
                  _id: {
                    $type: [
                      'minKey',
                      'null',
                      'int',
                      'long',
                      'double',
                      'decimal',
                      'string',
                      'symbol',
                      'object',
                      'array',
                      'binData',
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    assert.deepEqual(rangeFilter(['_id'], null, null), {});
  });

  it('adds the type brackets beyond a bound of any _id type, leaving out aliases the server refuses', () => {
    assert.deepEqual(rangeFilter(['_id'], ['x'], null), {
      $or: [
        { _id: { $gt: 'x' } },
        {
          _id: {
            $type: ['object', 'array', 'binData', 'objectId', 'bool', 'date', 'timestamp', 'regex', 'maxKey'],
          },
        },
      ],
    });
    const ferretdb = new Set([
      'null',
      'int',
      'long',
      'double',
      'string',
      'object',
      'array',
      'binData',
      'objectId',
    ]);
    assert.deepEqual(rangeFilter(['_id'], null, [new Int32(5)], ferretdb), {
      $or: [{ _id: { $lte: new Int32(5) } }, { _id: { $type: ['null'] } }],
    });
    assert.deepEqual(rangeFilter(['_id'], null, [new MinKey()]), { _id: { $lte: new MinKey() } });
    assert.deepEqual(rangeFilter(['_id'], [new MaxKey()], null), { _id: { $gt: new MaxKey() } });
    assert.deepEqual(
      bsonOrderComparison('_id', '$gt', Long.fromNumber(7)).$or[1],
      { _id: { $type: [...BSON_TYPE_BRACKETS.slice(3).flat()] } },
      'numbers of every type are one bracket',
    );
  });

  it('refuses a bound whose length does not match the key', () => {
    assert.throws(
      () => rangeFilter(['updatedAt', '_id'], [new Date(0)], null),
      /range bound has 1 values but the key \(updatedAt, _id\) has 2/,
    );
  });
});
