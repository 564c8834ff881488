import type { Document } from 'mongodb';

/**
 * MongoDB's comparison order across BSON types, for values deserialized with
 * promoted numbers (Int32, Long and Double become JS numbers; Decimal128
 * compares by its numeric value). Used for sorts and for ordering `_id`.
 */
const TYPE_RANK: Record<string, number> = {
  minkey: 0,
  undefined: 1,
  null: 1,
  number: 2,
  decimal128: 2,
  long: 2,
  int32: 2,
  double: 2,
  string: 3,
  symbol: 3,
  object: 4,
  array: 5,
  binary: 6,
  objectid: 7,
  boolean: 8,
  date: 9,
  timestamp: 10,
  bsonregexp: 11,
  regexp: 11,
  maxkey: 12,
};

export function typeName(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regexp';
  const tag = (value as { _bsontype?: string })._bsontype;
  return tag === undefined ? 'object' : tag.toLowerCase();
}

function numeric(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return Number(String(value));
}

export function compareBson(a: unknown, b: unknown): number {
  const ta = typeName(a);
  const tb = typeName(b);
  const ra = TYPE_RANK[ta] ?? 13;
  const rb = TYPE_RANK[tb] ?? 13;
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 2: {
      const x = numeric(a);
      const y = numeric(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 3:
      return compareStrings(String(a), String(b));
    case 7:
      // ObjectId hex order is its byte order.
      return compareStrings(String(a), String(b));
    case 8:
      return Number(a) - Number(b);
    case 9:
      return Math.sign((a as Date).getTime() - (b as Date).getTime());
    case 4:
      return compareDocuments(a as Document, b as Document);
    case 5:
      return compareArrays(a as unknown[], b as unknown[]);
    default:
      return compareStrings(String(a), String(b));
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareArrays(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareBson(a[i], b[i]);
    if (order !== 0) return order;
  }
  return Math.sign(a.length - b.length);
}

function compareDocuments(a: Document, b: Document): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const byValue = compareBson(a[ka[i] as string], b[kb[i] as string]);
    if (byValue !== 0) return byValue;
    const byName = compareStrings(ka[i] as string, kb[i] as string);
    if (byName !== 0) return byName;
  }
  return Math.sign(ka.length - kb.length);
}

/** Reads a dotted path; undefined when missing. */
export function getPath(doc: Document, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Document)[part];
  }
  return value;
}

/** Comparator for a sort specification such as `{ updatedAt: 1, _id: 1 }`. */
export function sortComparator(sort: Document): (a: Document, b: Document) => number {
  const keys = Object.entries(sort).map(([path, direction]) => ({
    path,
    sign: Number(direction) < 0 ? -1 : 1,
  }));
  return (a, b) => {
    for (const { path, sign } of keys) {
      const order = compareBson(getPath(a, path), getPath(b, path));
      if (order !== 0) return order * sign;
    }
    return 0;
  };
}
