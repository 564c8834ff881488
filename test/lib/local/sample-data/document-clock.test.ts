import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentClock } from '../../../../lib/local/sample-data/document-clock.ts';
import { Prng } from '../../../../lib/local/sample-data/prng.ts';
import { assertGroupedTimes, assertStrictlyIncreasing } from './sample-docs.ts';

const START_MS = Date.UTC(2025, 8, 17, 12, 0, 0);

describe('document clock', () => {
  it('keeps ObjectIds strictly increasing when the 3-byte counter wraps within one second', () => {
    const clock = new DocumentClock(new Prng(1, 0), {
      startMs: START_MS,
      processId: new Uint8Array([1, 2, 3, 4, 5]),
      counterStart: 0xfffffd,
      maxGroupSize: 10,
      maxStepMs: 1,
    });
    const ids = Array.from({ length: 20 }, () => clock.next()._id.toHexString());
    assertStrictlyIncreasing(ids);
    assert.ok(
      ids.some((id) => id.endsWith('000000')),
      'the counter never wrapped',
    );
  });

  it('shares one updatedAt across groups of at most maxGroupSize documents', () => {
    const clock = new DocumentClock(new Prng(2, 0), {
      startMs: START_MS,
      processId: new Uint8Array(5),
      counterStart: 0,
      maxGroupSize: 4,
    });
    assertGroupedTimes(
      Array.from({ length: 2000 }, () => clock.next().updatedAt),
      4,
    );
  });

  it('stamps each ObjectId with the second of its updatedAt', () => {
    const clock = new DocumentClock(new Prng(3, 0), {
      startMs: START_MS,
      processId: new Uint8Array(5),
      counterStart: 0,
    });
    for (let i = 0; i < 500; i++) {
      const { _id, updatedAt } = clock.next();
      assert.equal(_id.getTimestamp().getTime(), Math.floor(updatedAt.getTime() / 1000) * 1000);
    }
  });
});
