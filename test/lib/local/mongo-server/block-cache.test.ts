import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockCache } from '../../../../lib/local/mongo-server/block-cache.ts';

const KiB = 1024;
const block = (bytes: number, fill: number) => Buffer.alloc(bytes, fill);

describe('the block cache', () => {
  it('evicts the least recently used blocks to stay within its bytes', () => {
    const cache = new BlockCache({ blockBytes: 4 * KiB, capacityBytes: 12 * KiB });
    const first = cache.put(1, 0, block(4 * KiB, 1));
    cache.put(1, 1, block(4 * KiB, 2));
    cache.put(2, 0, block(4 * KiB, 3));
    assert.equal(cache.get(1, 0), first, 'a lookup makes block 0 the most recently used');
    const fourth = cache.put(1, 2, block(4 * KiB, 4));
    assert.equal(cache.get(1, 1), undefined, 'block 1 was the least recently used');
    assert.equal(cache.bytes, 12 * KiB);
    assert.deepEqual(
      [cache.get(1, 0), cache.get(2, 0), cache.get(1, 2)].map((held) => held?.bytes[0]),
      [1, 3, 4],
    );
    assert.equal(first.evicted, false);
    assert.equal(fourth.evicted, false);
  });

  it('counts a short last block by its bytes, and marks what it evicts for readers holding it', () => {
    const cache = new BlockCache({ blockBytes: 4 * KiB, capacityBytes: 8 * KiB });
    const held = cache.put(1, 0, block(4 * KiB, 1));
    cache.put(1, 1, block(1 * KiB, 2));
    cache.put(1, 2, block(3 * KiB, 3));
    assert.equal(cache.bytes, 8 * KiB, 'the blocks fill the cache exactly');
    assert.equal(held.evicted, false);
    cache.put(1, 3, block(2 * KiB, 4));
    assert.equal(held.evicted, true);
    assert.equal(held.bytes[0], 1, 'an evicted block is never reused: a view of it stays valid');
    assert.equal(cache.bytes, 6 * KiB);
  });

  it('forgets the blocks of a file no longer read, and a block put again replaces the one held', () => {
    const cache = new BlockCache({ blockBytes: 4 * KiB, capacityBytes: 16 * KiB });
    cache.put(1, 0, block(4 * KiB, 1));
    const other = cache.put(2, 0, block(4 * KiB, 2));
    const replaced = cache.put(1, 1, block(4 * KiB, 3));
    cache.put(1, 1, block(4 * KiB, 4));
    assert.equal(replaced.evicted, true);
    assert.equal(cache.bytes, 12 * KiB);
    cache.forget(1);
    assert.equal(cache.bytes, 4 * KiB);
    assert.equal(cache.get(1, 0), undefined);
    assert.equal(cache.get(2, 0), other);
  });

  it('fails on a capacity smaller than one block', () => {
    assert.throws(
      () => new BlockCache({ blockBytes: 8 * KiB, capacityBytes: 4 * KiB }),
      /capacityBytes must be an integer of at least blockBytes \(8192\), got 4096/,
    );
    assert.throws(
      () => new BlockCache({ blockBytes: 100 }),
      /blockBytes must be an integer of at least 1024, got 100/,
    );
  });
});
