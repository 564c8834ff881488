import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateJournalEntries } from '../../../../lib/local/sample-data/index.ts';

// A full collection before measuring, so the numbers compare live objects, not garbage.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function liveHeap(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

describe('journal entry streaming', () => {
  it('generates 200,000 entries without the heap growing with the count', () => {
    const before = liveHeap();
    let lines = 0;
    let peak = before;
    let n = 0;
    for (const entry of generateJournalEntries({ journalEntries: 200_000 })) {
      lines += entry.lines.length;
      if (++n % 20_000 === 0) peak = Math.max(peak, liveHeap());
    }
    const after = liveHeap();
    assert.equal(n, 200_000);
    assert.ok(lines >= 400_000);
    // Retained, 200k entries would take well over 100 MB; a generator holds a few objects.
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    assert.ok(peak - before < 8 * 1024 * 1024, `live heap grew ${mb(peak - before)} MB while generating`);
    assert.ok(after - before < 4 * 1024 * 1024, `live heap grew ${mb(after - before)} MB after generating`);
  });
});
