import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import { decodeBound, encodeBound, rangeFilter, rangeKeyFor } from '../../../lambdas/shared/range-key.ts';

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

  it('builds a lexicographic (lower, upper] filter on a compound key', () => {
    const t1 = new Date(1000);
    const t2 = new Date(2000);
    const a = new ObjectId('000000000000000000000001');
    const b = new ObjectId('000000000000000000000002');
    assert.deepEqual(rangeFilter(['updatedAt', '_id'], [t1, a], [t2, b]), {
      $and: [
        { $or: [{ updatedAt: { $gt: t1 } }, { updatedAt: t1, _id: { $gt: a } }] },
        { $or: [{ updatedAt: { $lt: t2 } }, { updatedAt: t2, _id: { $lte: b } }] },
      ],
    });
    assert.deepEqual(rangeFilter(['_id'], null, [b]), { _id: { $lte: b } });
    assert.deepEqual(rangeFilter(['_id'], null, null), {});
  });

  it('refuses a bound whose length does not match the key', () => {
    assert.throws(
      () => rangeFilter(['updatedAt', '_id'], [new Date(0)], null),
      /range bound has 1 values but the key \(updatedAt, _id\) has 2/,
    );
  });
});
