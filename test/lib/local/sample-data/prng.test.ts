import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prng } from '../../../../lib/local/sample-data/prng.ts';

describe('seeded PRNG', () => {
  it('matches the xoshiro128** reference C code seeded through splitmix32', () => {
    // Printed by Vigna's xoshiro128starstar.c with the same splitmix32 seeding (seed 42, stream 2).
    const rng = new Prng(42, 2);
    const first = Array.from({ length: 6 }, () => rng.uint32());
    assert.deepEqual(first, [1594340059, 3646619537, 3155579203, 1743172146, 3175956702, 1366771448]);
  });

  it('gives independent sequences for different streams of one seed', () => {
    const a = new Prng(42, 1);
    const b = new Prng(42, 2);
    assert.notDeepEqual(
      Array.from({ length: 4 }, () => a.uint32()),
      Array.from({ length: 4 }, () => b.uint32()),
    );
  });

  it('draws integers within inclusive bounds and reaches both ends', () => {
    const rng = new Prng(7, 0);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const value = rng.int(3, 9);
      assert.ok(Number.isInteger(value) && value >= 3 && value <= 9, `out of range: ${value}`);
      seen.add(value);
    }
    assert.deepEqual([...seen].sort(), [3, 4, 5, 6, 7, 8, 9]);
  });
});
