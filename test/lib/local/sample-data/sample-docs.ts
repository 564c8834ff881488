import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BSON, type Decimal128, type Document } from 'mongodb';

const { EJSON } = BSON;

/** Canonical Extended JSON: every BSON type spelled out, so equal text means equal bytes and types. */
export function canonical(document: Document): string {
  return EJSON.stringify(document, { relaxed: false });
}

export function take<T>(documents: Iterable<T>, count: number): T[] {
  const taken: T[] = [];
  for (const document of documents) {
    if (taken.length === count) break;
    taken.push(document);
  }
  return taken;
}

/** SHA-256 over the canonical EJSON of every document, one per line; nothing is retained. */
export function digest(documents: Iterable<Document>): string {
  const hash = createHash('sha256');
  for (const document of documents) hash.update(`${canonical(document)}\n`);
  return hash.digest('hex');
}

const TWO_DECIMALS = /^\d+\.\d{2}$/;

/** Cents of a two-decimal money value; fails on any other shape. */
export function cents(value: Decimal128): bigint {
  const text = value.toString();
  if (!TWO_DECIMALS.test(text)) throw new Error(`not a two-decimal amount: ${text}`);
  return BigInt(text.replace('.', ''));
}

/** updatedAt never decreases, ties are common, and no more than `maxGroup` documents share one value. */
export function assertGroupedTimes(times: readonly Date[], maxGroup = 10): void {
  let run = 1;
  let longest = 1;
  let tiedRuns = 0;
  for (let i = 1; i < times.length; i++) {
    const previous = (times[i - 1] as Date).getTime();
    const current = (times[i] as Date).getTime();
    assert.ok(current >= previous, `updatedAt went back at ${i}`);
    if (current === previous) {
      run++;
      if (run === 2) tiedRuns++;
    } else run = 1;
    longest = Math.max(longest, run);
  }
  assert.ok(longest <= maxGroup, `${longest} documents share one updatedAt`);
  assert.ok(tiedRuns >= times.length / 20, `only ${tiedRuns} runs of tied updatedAt in ${times.length}`);
}

/** Fails at the first `ids[i]` that is not greater than `ids[i - 1]` (hex ObjectIds compare like their bytes). */
export function assertStrictlyIncreasing(ids: readonly string[]): void {
  ids.forEach((id, i) => {
    const previous = ids[i - 1];
    if (previous !== undefined) assert.ok(previous < id, `${previous} then ${id} at ${i}`);
  });
}
