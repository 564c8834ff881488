import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Document, Int32, ObjectId } from 'mongodb';
import { keyRangeFilter } from '../../../../lambdas/shared/chunk-filter.ts';
import { ALL_TYPE_ALIASES } from '../../../../lambdas/shared/range-key.ts';
import {
  FUTURE_WATERMARK_TOLERANCE_MS,
  irregularWatermarkFilters,
} from '../../../../lambdas/shared/watermark-filters.ts';
import { keyVerdicts } from '../../../../lib/local/mongo-server/key-verdicts.ts';

const PLAN_TIME = new Date(Date.UTC(2025, 5, 1));
const CUTOFF = PLAN_TIME.getTime() + FUTURE_WATERMARK_TOLERANCE_MS;
const at = (time: number) => new Date(time);

/** The verdicts of `filter` on updatedAt, which must exist. */
function verdictsOf(filter: Document) {
  const verdicts = keyVerdicts(filter, 'updatedAt');
  assert.ok(verdicts !== undefined, 'the filter is decided by updatedAt');
  return verdicts;
}

describe('verdicts of a filter from one field value', () => {
  it('decides the irregular watermark filters from the watermark alone', () => {
    const filters = irregularWatermarkFilters('updatedAt', PLAN_TIME);
    const missing = verdictsOf(filters.missingWatermarkField);
    assert.deepEqual(missing.breakpoints, []);
    assert.deepEqual(
      [undefined, null, at(CUTOFF), [null], 'text'].map((v) => missing.at(v)),
      [true, true, false, false, false],
    );
    const type = verdictsOf(filters.watermarkFieldType);
    assert.deepEqual(
      [undefined, null, at(CUTOFF), [], [at(0)], 'text', new Int32(1)].map((v) => type.at(v)),
      [false, false, false, true, true, true, true],
    );
    const future = verdictsOf(filters.futureWatermark);
    assert.deepEqual(future.breakpoints, [CUTOFF]);
    assert.deepEqual(
      [at(CUTOFF - 1), at(CUTOFF), at(CUTOFF + 1), [at(CUTOFF + 1)], null].map((v) => future.at(v)),
      [false, false, true, false, false],
    );
  });

  it('leaves a range bound to the other key fields and decides either side of it', () => {
    const bound = at(Date.UTC(2025, 0, 1));
    const id = new ObjectId('0000000000000000000000aa');
    const filter = keyRangeFilter(['updatedAt', '_id'], [bound, id], null, ALL_TYPE_ALIASES);
    const verdicts = verdictsOf(filter);
    assert.deepEqual(verdicts.breakpoints, [bound.getTime()]);
    assert.deepEqual(
      [at(bound.getTime() - 1), bound, at(bound.getTime() + 1)].map((v) => verdicts.at(v)),
      [false, undefined, true],
    );
  });

  it('collects every Date the field is compared with, in order', () => {
    const verdicts = verdictsOf({
      $or: [{ updatedAt: { $in: [at(30), at(10)] } }, { updatedAt: { $not: { $lte: at(20) } } }],
    });
    assert.deepEqual(verdicts.breakpoints, [10, 20, 30]);
    assert.deepEqual(
      [5, 10, 15, 20, 25, 30, 35].map((t) => verdicts.at(at(t))),
      [false, true, false, false, true, true, true],
    );
  });

  it('gives no verdicts where the field value alone cannot decide', () => {
    for (const filter of [
      {},
      { i: 1 },
      { 'updatedAt.x': null },
      { updatedAt: { $regex: /^2025/ } },
      { updatedAt: { $elemMatch: { $gt: at(0) } } },
      { updatedAt: [at(0)] },
      { updatedAt: { x: at(0) } },
      { updatedAt: { $gt: at(Number.NaN) } },
    ])
      assert.equal(keyVerdicts(filter, 'updatedAt'), undefined, JSON.stringify(filter));
    const mixed = verdictsOf({ $and: [{ updatedAt: { $gt: at(10) } }, { updatedAt: { $size: 1 } }] });
    assert.deepEqual(
      [at(5), at(15)].map((v) => mixed.at(v)),
      [false, undefined],
    );
  });
});
