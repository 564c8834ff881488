import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexChanges } from '../../../../lib/local/mongo-server/index-changes.ts';
import { Prng } from '../../../../lib/local/sample-data/prng.ts';

/**
 * The documents as a list of names in `_id` order: the ones the indexes hold
 * are named by their position then (0 to size - 1), those written since by
 * negative numbers, so where each one is now can be told from the list.
 */
function checkAgainst(changes: IndexChanges, size: number, now: readonly number[], label: string): void {
  const added = now.flatMap((name, position) => (name < 0 ? [position] : []));
  assert.deepEqual(changes.added, added, `${label}: added`);
  const present = new Set(now);
  const gone = Array.from({ length: size }, (_, old) => old).filter((old) => !present.has(old));
  assert.deepEqual(changes.gone, gone, `${label}: gone`);
  const expected = Array.from({ length: size }, (_, old) => now.indexOf(old));
  assert.deepEqual([...changes.mapping(size)], expected, `${label}: mapping`);
  assert.equal(changes.empty, added.length === 0 && gone.length === 0, `${label}: empty`);
}

describe('the writes made since the indexes were brought up to date', () => {
  it('tell where every indexed document is now and which are new, through random writes', () => {
    const prng = new Prng(11, 0);
    for (let trial = 0; trial < 40; trial++) {
      const size = prng.int(0, 60);
      const now = Array.from({ length: size }, (_, i) => i);
      const changes = new IndexChanges();
      let written = 0;
      for (let step = 0; step < 80; step++) {
        const r = prng.fraction();
        let label: string;
        if (r < 0.35 || now.length === 0) {
          // Half at the end (a new ObjectId), half anywhere.
          const position = prng.fraction() < 0.5 ? now.length : prng.int(0, now.length);
          now.splice(position, 0, -++written);
          changes.inserted(position);
          label = `insert at ${position}`;
        } else if (r < 0.7) {
          const position = prng.int(0, now.length - 1);
          now[position] = -++written;
          changes.replaced(position);
          label = `replace at ${position}`;
        } else {
          const positions = [
            ...new Set(Array.from({ length: prng.int(1, 4) }, () => prng.int(0, now.length - 1))),
          ];
          positions.sort((a, b) => a - b);
          for (const position of [...positions].reverse()) now.splice(position, 1);
          changes.removed(positions);
          label = `remove ${positions.join(', ')}`;
        }
        checkAgainst(changes, size, now, `trial ${trial} step ${step}: ${label}`);
      }
    }
  });

  it('are empty until a write, and an append moves no indexed document', () => {
    const changes = new IndexChanges();
    assert.equal(changes.empty, true);
    changes.inserted(5);
    changes.inserted(6);
    assert.deepEqual(changes.added, [5, 6]);
    assert.deepEqual([...changes.mapping(5)], [0, 1, 2, 3, 4]);
    changes.replaced(2);
    assert.deepEqual(changes.gone, [2]);
    assert.deepEqual(changes.added, [2, 5, 6]);
    assert.deepEqual([...changes.mapping(5)], [0, 1, -1, 3, 4]);
  });
});
