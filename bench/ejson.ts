/**
 * Micro-benchmark of `_doc_ejson` (`npx tsx bench/ejson.ts [--docs N] [--rounds R]`):
 * canonical Extended JSON of N sample journal entries from their BSON bytes,
 * the bson library way (deserialize with promoteValues false, then
 * EJSON.stringify) against canonicalExtendedJson's byte walk. Prints docs/s
 * for each, best of R rounds.
 */
import { parseArgs } from 'node:util';
import { BSON } from 'mongodb';
import { canonicalExtendedJson } from '../lambdas/shared/raw-ejson.ts';
import { generateJournalEntries } from '../lib/local/sample-data/index.ts';

const { values } = parseArgs({
  options: { docs: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '7' } },
});
const docs = Number(values.docs);
const rounds = Number(values.rounds);
const encoded = [...generateJournalEntries({ journalEntries: docs })].map((doc) => BSON.serialize(doc));

const viaLibrary = (bytes: Uint8Array) =>
  BSON.EJSON.stringify(BSON.deserialize(bytes, { promoteValues: false }), { relaxed: false });
const viaBytes = (bytes: Uint8Array) => canonicalExtendedJson(bytes) ?? '';

for (const bytes of encoded) {
  if (viaBytes(bytes) !== viaLibrary(bytes))
    throw new Error('canonicalExtendedJson differs from the library');
}

function docsPerSecond(encode: (bytes: Uint8Array) => string): number {
  let best = 0;
  let length = 0;
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (const bytes of encoded) length += encode(bytes).length;
    best = Math.max(best, encoded.length / ((performance.now() - started) / 1000));
  }
  // Using the lengths keeps the work from being optimised away.
  if (length === 0) throw new Error('no output');
  return Math.round(best);
}

const library = docsPerSecond(viaLibrary);
const raw = docsPerSecond(viaBytes);
console.log(
  JSON.stringify({
    documents: docs,
    deserializeAndStringify: library,
    canonicalExtendedJson: raw,
    speedup: Number((raw / library).toFixed(2)),
  }),
);
