import { BSON, type Document, type Filter, type Sort } from 'mongodb';

const { EJSON } = BSON;

/**
 * The key that orders a collection for extraction: `_id` alone, or a
 * timestamp field with `_id` breaking ties, so documents sharing a timestamp
 * are never split ambiguously across chunks or runs.
 */
export type RangeKey = readonly string[];

/** Values of the range key fields, in key order. */
export type KeyValues = readonly unknown[];

export function rangeKeyFor(watermarkField: string): RangeKey {
  return watermarkField === '_id' ? ['_id'] : [watermarkField, '_id'];
}

/** Bounds travel through Step Functions and DynamoDB as canonical Extended JSON, so BSON types survive. */
export function encodeBound(values: KeyValues): string {
  return EJSON.stringify([...values], { relaxed: false });
}

export function decodeBound(text: string): KeyValues {
  const values = EJSON.parse(text, { relaxed: false });
  if (!Array.isArray(values)) throw new Error(`range bound must be an Extended JSON array, got ${text}`);
  return values;
}

export function keyValuesOf(doc: Document, key: RangeKey): KeyValues {
  return key.map((field) => doc[field]);
}

export function keySort(key: RangeKey, direction: 1 | -1 = 1): Sort {
  return Object.fromEntries(key.map((field) => [field, direction]));
}

export function keyProjection(key: RangeKey): Document {
  return Object.fromEntries(key.map((field) => [field, 1]));
}

/**
 * Filter for documents whose key is in `(lower, upper]` in lexicographic key
 * order; a null bound is open. Built from plain comparisons so it runs on
 * every MongoDB-compatible server and uses a compound index on the key.
 */
export function rangeFilter(
  key: RangeKey,
  lower: KeyValues | null,
  upper: KeyValues | null,
): Filter<Document> {
  const parts: Document[] = [];
  if (lower !== null) parts.push(compare(key, lower, '$gt'));
  if (upper !== null) parts.push(compare(key, upper, '$lte'));
  if (parts.length === 0) return {};
  return parts.length === 1 ? (parts[0] as Document) : { $and: parts };
}

function compare(key: RangeKey, values: KeyValues, op: '$gt' | '$lte'): Document {
  if (values.length !== key.length) {
    throw new Error(
      `range bound has ${values.length} values but the key (${key.join(', ')}) has ${key.length}`,
    );
  }
  const strict = op === '$gt' ? '$gt' : '$lt';
  const alternatives: Document[] = key.map((field, i) => {
    const clause: Document = {};
    for (let j = 0; j < i; j++) clause[key[j] as string] = values[j];
    const last = i === key.length - 1;
    clause[field] = { [last ? op : strict]: values[i] };
    return clause;
  });
  return alternatives.length === 1 ? (alternatives[0] as Document) : { $or: alternatives };
}
