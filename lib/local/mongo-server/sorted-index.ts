import type { Document } from 'mongodb';
import { bsonTypeBracket } from '../../../lambdas/shared/bson-type-order.ts';
import { compareBson, getPath, sortValue } from './bson-order.ts';
import type { Entry } from './collection.ts';
import type { Interval } from './key-interval.ts';
import { compileDocumentFilter, compileFilter, fieldsOf } from './query.ts';
import { topLevelField } from './raw-bson.ts';

/** The fields and directions of a declared index that can answer ranges and sorts. */
export interface KeyPattern {
  readonly fields: readonly string[];
  readonly directions: readonly (1 | -1)[];
}

/**
 * The key pattern of an index spec (`{key: {updatedAt: 1, _id: 1}, name}`);
 * undefined for text, hashed, geo or collated indexes, which order nothing
 * the way a query's comparisons do.
 */
export function keyPatternOf(spec: Document): KeyPattern | undefined {
  const key = spec.key as Document | undefined;
  if (spec.collation !== undefined || key === null || typeof key !== 'object') return undefined;
  const fields = Object.keys(key);
  const directions = Object.values(key).map(Number);
  if (fields.length === 0 || !directions.every((d) => d === 1 || d === -1)) return undefined;
  return { fields, directions: directions as (1 | -1)[] };
}

/**
 * 1 when `sort` orders like walking the pattern forward (its fields are a
 * prefix of the pattern's, in the same directions), -1 when walking it
 * backward, undefined when the index cannot give that order.
 */
export function walkDirection(pattern: KeyPattern, sort: Document): 1 | -1 | undefined {
  const keys = Object.entries(sort);
  if (keys.length === 0 || keys.length > pattern.fields.length) return undefined;
  const signs = keys.map(([field, direction], i) =>
    field === pattern.fields[i] ? (Number(direction) < 0 ? -1 : 1) * (pattern.directions[i] as number) : 0,
  );
  const first = signs[0];
  return (first === 1 || first === -1) && signs.every((s) => s === first) ? first : undefined;
}

/** Brackets whose values differ once numbers are promoted: numbers, documents and arrays holding them. */
const PROMOTED = new Set([2, 4, 5]);

/** `_id` with exact types: the entry's decoded `_id` unless promoting numbers changed it. */
function idValue(entry: Entry): unknown {
  return PROMOTED.has(bsonTypeBracket(entry.id)) ? topLevelField(entry.raw, '_id') : entry.id;
}

/** Whether `filter` reads only top-level fields of the key, so the key values alone can answer it. */
export function covers(pattern: KeyPattern, filter: Document): boolean {
  const fields = fieldsOf(filter);
  return fields !== null && [...fields].every((field) => pattern.fields.includes(field));
}

/** One document's values of the key fields, in pattern order (undefined when missing). */
export interface Row {
  readonly entry: Entry;
  readonly keys: readonly unknown[];
}

/**
 * A declared index as MongoDB keeps one: the documents in key order, with
 * their key values read once. Built for one version of the collection and
 * rebuilt when it is used after a write (writes come between pipeline runs,
 * queries in bursts during one).
 *
 * A document with an array on a key path matches a range by any element and
 * sorts by its smallest or largest one, so it has no one place in the order:
 * such documents (irregular watermarks) are kept apart, tested by every query
 * and merged into ordered results.
 */
export class SortedIndex {
  private constructor(
    readonly pattern: KeyPattern,
    readonly version: number,
    /** Documents without arrays on key paths, in key order (ties in `_id` order). */
    private readonly rows: readonly Row[],
    /** Documents with an array on a key path, in `_id` order. */
    private readonly multikey: readonly Row[],
  ) {}

  /** Indexes `entries` (given in `_id` order). */
  static build(pattern: KeyPattern, entries: readonly Entry[], version: number): SortedIndex {
    const paths = pattern.fields.map((path) => ({ path, top: path.split('.')[0] as string }));
    const rows: Row[] = [];
    const multikey: Row[] = [];
    // Documents next to each other in `_id` order often share a timestamp: they share its Date too.
    const previous: unknown[] = [];
    for (const entry of entries) {
      let crosses = false;
      const keys = paths.map(({ path, top }, i) => {
        let value = top === '_id' ? idValue(entry) : topLevelField(entry.raw, top);
        const last = previous[i];
        if (value instanceof Date && last instanceof Date && value.getTime() === last.getTime()) value = last;
        previous[i] = value;
        if (path === top) {
          crosses ||= Array.isArray(value);
          return value;
        }
        const doc = { [top]: value };
        crosses ||= crossesArray(doc, path);
        return getPath(doc, path);
      });
      (crosses ? multikey : rows).push({ entry, keys });
    }
    const directions = pattern.directions;
    rows.sort((a, b) => compareKeys(a.keys, b.keys, directions));
    return new SortedIndex(pattern, version, rows, multikey);
  }

  /** True while documents with arrays on the key are few enough that the index still narrows a query. */
  get selective(): boolean {
    return this.multikey.length <= this.rows.length;
  }

  /** How many documents a query within `interval` of the first key field examines. */
  candidates(interval: Interval): number {
    const [start, end] = this.slice(interval);
    return end - start + this.multikey.length;
  }

  /** The documents within `interval` that pass `test`, in no particular order. */
  select(interval: Interval, test: (row: Row) => boolean): Entry[] {
    const [start, end] = this.slice(interval);
    const found: Entry[] = [];
    for (let i = start; i < end; i++) {
      const row = this.rows[i] as Row;
      if (test(row)) found.push(row.entry);
    }
    for (const row of this.multikey) if (test(row)) found.push(row.entry);
    return found;
  }

  /**
   * The documents within `interval` that pass `test`, in key order forward
   * (`direction` 1) or backward (-1), produced as they are read so a limit
   * stops the walk.
   */
  *walk(interval: Interval, direction: 1 | -1, test: (row: Row) => boolean): Generator<Entry> {
    const signs = this.pattern.directions.map((d) => d * direction);
    const apart = this.multikey
      .filter(test)
      .map((row) => ({
        entry: row.entry,
        keys: row.keys.map((value, i) => sortValue(value, signs[i] as number)),
      }))
      .sort((a, b) => compareKeys(a.keys, b.keys, signs));
    let next = 0;
    const [start, end] = this.slice(interval);
    for (let step = 0; step < end - start; step++) {
      const row = this.rows[direction === 1 ? start + step : end - 1 - step] as Row;
      if (!test(row)) continue;
      while (next < apart.length && compareKeys((apart[next] as Row).keys, row.keys, signs) <= 0)
        yield (apart[next++] as Row).entry;
      yield row.entry;
    }
    while (next < apart.length) yield (apart[next++] as Row).entry;
  }

  /**
   * `filter` as a test of one row. A filter that reads only top-level key
   * fields is evaluated on the key values alone (a covered query), without
   * decoding the document.
   */
  tester(filter: Document): (row: Row) => boolean {
    const keyFields = this.pattern.fields;
    if (covers(this.pattern, filter)) {
      const test = compileDocumentFilter(filter);
      return (row) => {
        const doc: Document = {};
        for (const [i, field] of keyFields.entries()) if (row.keys[i] !== undefined) doc[field] = row.keys[i];
        return test(doc);
      };
    }
    const test = compileFilter(filter);
    return (row) => test(row.entry.raw);
  }

  /** Rows `[start, end)` whose first key value lies within `interval`. */
  private slice(interval: Interval): [number, number] {
    const { lower, upper } = interval;
    const below = (row: Row) => {
      if (lower === undefined) return false;
      const order = compareBson(row.keys[0], lower.value);
      return order < 0 || (order === 0 && !lower.inclusive);
    };
    const above = (row: Row) => {
      if (upper === undefined) return false;
      const order = compareBson(row.keys[0], upper.value);
      return order > 0 || (order === 0 && !upper.inclusive);
    };
    const ascending = this.pattern.directions[0] === 1;
    const start = this.firstWhere(ascending ? (row) => !below(row) : (row) => !above(row));
    const end = this.firstWhere(ascending ? above : below);
    return [start, Math.max(start, end)];
  }

  /** The first row for which `past` holds, `past` being false then true along the rows. */
  private firstWhere(past: (row: Row) => boolean): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (past(this.rows[mid] as Row)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

function compareKeys(a: readonly unknown[], b: readonly unknown[], signs: readonly number[]): number {
  for (let i = 0; i < signs.length; i++) {
    const order = compareBson(a[i], b[i]);
    if (order !== 0) return order * (signs[i] as number);
  }
  return 0;
}

/** Whether an array lies on `path` in `doc` (the value itself or a document on the way). */
function crossesArray(doc: Document, path: string): boolean {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return false;
    value = (value as Document)[part];
    if (Array.isArray(value)) return true;
  }
  return false;
}
