import type { Binary, BSONRegExp, Document, Long, Timestamp } from 'mongodb';
import { bsonTypeBracket } from '../../../lambdas/shared/bson-type-order.ts';

/**
 * MongoDB's comparison order, for values as the driver deserializes them
 * with or without promoted numbers (Int32, Long, Double and Decimal128 all
 * compare by numeric value). Used for sorts, `_id` order and the comparison
 * query operators. Types compare by bracket first (MinKey, null, numbers,
 * strings, documents, arrays, binary, ObjectId, boolean, Date, Timestamp,
 * regex, MaxKey); see https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/
 */
export function compareBson(a: unknown, b: unknown): number {
  const ra = bsonTypeBracket(a);
  const rb = bsonTypeBracket(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 2:
      return compareNumbers(a, b);
    case 3:
      return compareStrings(String(a), String(b));
    case 4:
      return compareDocuments(a as Document, b as Document);
    case 5:
      return compareArrays(a as unknown[], b as unknown[]);
    case 6:
      return compareBinary(a as Binary, b as Binary);
    case 7:
      // ObjectId hex order is its byte order.
      return compareStrings(String(a), String(b));
    case 8:
      return Number(a) - Number(b);
    case 9:
      return Math.sign((a as Date).getTime() - (b as Date).getTime());
    case 10:
      return compareTimestamps(a as Timestamp, b as Timestamp);
    case 11:
      return compareRegexes(a as RegExp | BSONRegExp, b as BSONRegExp | RegExp);
    default:
      // MinKey, null and MaxKey each have one value.
      return 0;
  }
}

type Numeric =
  | { readonly kind: 'nan' }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'float'; readonly value: number };

function numeric(value: unknown): Numeric {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') return { kind: 'int', value };
  else {
    const tag = (value as { _bsontype?: string })._bsontype;
    if (tag === 'Long') return { kind: 'int', value: BigInt((value as Long).toString()) };
    if (tag === 'Int32' || tag === 'Double') n = (value as { value: number }).value;
    else n = Number(String(value));
  }
  if (Number.isNaN(n)) return { kind: 'nan' };
  return Number.isSafeInteger(n) ? { kind: 'int', value: BigInt(n) } : { kind: 'float', value: n };
}

/** By value across number types; NaN sorts below every other number, as in MongoDB. */
function compareNumbers(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number' && !Number.isNaN(a) && !Number.isNaN(b)) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const x = numeric(a);
  const y = numeric(b);
  if (x.kind === 'nan' || y.kind === 'nan') return x.kind === y.kind ? 0 : x.kind === 'nan' ? -1 : 1;
  if (x.kind === 'int' && y.kind === 'int') return x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
  const fx = Number(x.value);
  const fy = Number(y.value);
  return fx < fy ? -1 : fx > fy ? 1 : 0;
}

/**
 * By code point, which is MongoDB's byte order of UTF-8. JavaScript's `<`
 * compares UTF-16 units, which puts characters above U+FFFF (surrogate
 * pairs) before U+E000-U+FFFF.
 */
export function compareStrings(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x < y ? -1 : 1;
    const cx = a.codePointAt(i) as number;
    const cy = b.codePointAt(i) as number;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
  return Math.sign(a.length - b.length);
}

function compareArrays(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = compareBson(a[i], b[i]);
    if (order !== 0) return order;
  }
  return Math.sign(a.length - b.length);
}

/** Field by field: the value's type bracket, then the field name, then the value. */
function compareDocuments(a: Document, b: Document): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const va = a[ka[i] as string];
    const vb = b[kb[i] as string];
    const byType = Math.sign(bsonTypeBracket(va) - bsonTypeBracket(vb));
    if (byType !== 0) return byType;
    const byName = compareStrings(ka[i] as string, kb[i] as string);
    if (byName !== 0) return byName;
    const byValue = compareBson(va, vb);
    if (byValue !== 0) return byValue;
  }
  return Math.sign(ka.length - kb.length);
}

/** Length first, then subtype, then bytes. */
function compareBinary(a: Binary, b: Binary): number {
  const x = a.value();
  const y = b.value();
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  if (a.sub_type !== b.sub_type) return a.sub_type < b.sub_type ? -1 : 1;
  return Math.sign(Buffer.compare(Buffer.from(x), Buffer.from(y)));
}

function compareTimestamps(a: Timestamp, b: Timestamp): number {
  const x = BigInt(a.toString());
  const y = BigInt(b.toString());
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareRegexes(a: RegExp | BSONRegExp, b: RegExp | BSONRegExp): number {
  const pattern = (r: RegExp | BSONRegExp) => (r instanceof RegExp ? r.source : r.pattern);
  const flags = (r: RegExp | BSONRegExp) => (r instanceof RegExp ? r.flags : r.options);
  return compareStrings(pattern(a), pattern(b)) || compareStrings(flags(a), flags(b));
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

/**
 * The value a document sorts by for one key: an array sorts by its smallest
 * element ascending and its largest descending, an empty array below null.
 */
export function sortValue(value: unknown, sign: number): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length === 0) return EMPTY_ARRAY_SORT_VALUE;
  let best = value[0];
  for (const element of value.slice(1)) if (compareBson(element, best) * sign < 0) best = element;
  return best;
}

/** Below null in MongoDB's sort order; compared as MinKey. */
const EMPTY_ARRAY_SORT_VALUE = { _bsontype: 'MinKey' };

/** Comparator for a sort specification such as `{ updatedAt: 1, _id: 1 }`. */
export function sortComparator(sort: Document): (a: Document, b: Document) => number {
  const keys = Object.entries(sort).map(([path, direction]) => ({
    path,
    sign: Number(direction) < 0 ? -1 : 1,
  }));
  return (a, b) => {
    for (const { path, sign } of keys) {
      const order = compareBson(sortValue(getPath(a, path), sign), sortValue(getPath(b, path), sign));
      if (order !== 0) return order * sign;
    }
    return 0;
  };
}
