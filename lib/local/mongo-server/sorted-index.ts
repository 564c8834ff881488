import type { Document } from 'mongodb';
import { bsonTypeBracket } from '../../../lambdas/shared/bson-type-order.ts';
import { compareBson, getPath, sortValue } from './bson-order.ts';
import { idComparator } from './document-id.ts';
import type { IndexChanges } from './index-changes.ts';
import type { Interval } from './key-interval.ts';
import { keyVerdicts } from './key-verdicts.ts';
import { compileDocumentFilter, compileFilter, fieldsOf } from './query.ts';
import { topLevelField, topLevelTime } from './raw-bson.ts';
import type { StoredDocuments } from './stored-documents.ts';

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

/** Whether `filter` reads only top-level fields of the key, so the key values alone can answer it. */
export function covers(pattern: KeyPattern, filter: Document): boolean {
  const fields = fieldsOf(filter);
  return fields !== null && [...fields].every((field) => pattern.fields.includes(field));
}

/** The values of one key field, by document position. */
interface KeyColumn {
  value(position: number): unknown;
  /** Two documents in this field's order. */
  compare(a: number, b: number): number;
  /** A document's value compared with `value` (made once for a binary search). */
  comparedWith(value: unknown): (position: number) => number;
  /** The column with each value moved to its document's new position (see IndexChanges.mapping), for `size` documents. */
  remapped(map: Int32Array, size: number): KeyColumn;
}

/** `_id`s a column keeps once read, until the next write (a few megabytes at most). */
const KEPT_IDS = 1 << 17;

/**
 * `_id`, read from the documents: they are stored in its order, so positions
 * compare as their `_id`s do. A filter on the key (a covered query) reads the
 * `_id` of every document whose watermark equals a bound, and a run's plan
 * counts the same documents its extraction then reads, so the `_id`s read are
 * kept until the next write: a bulk correction stamps thousands of documents
 * with one time, and each `_id` is a read of the document from the dump file.
 */
class IdColumn implements KeyColumn {
  private readonly kept = new Map<number, unknown>();
  private keptAt: number;

  constructor(private readonly docs: StoredDocuments) {
    this.keptAt = docs.version;
  }

  value(position: number): unknown {
    if (this.keptAt !== this.docs.version) {
      this.kept.clear();
      this.keptAt = this.docs.version;
    }
    if (this.kept.has(position)) return this.kept.get(position);
    const id = this.docs.id(position);
    if (this.kept.size < KEPT_IDS) this.kept.set(position, id);
    return id;
  }

  compare(a: number, b: number): number {
    return Math.sign(a - b);
  }

  comparedWith(value: unknown): (position: number) => number {
    const compare = idComparator(value, compareBson);
    return (position) => compare(this.docs.raw(position));
  }

  remapped(): IdColumn {
    return this;
  }
}

/**
 * Any other field. Dates (what watermarks are) are kept as their times in a
 * typed array, eight bytes a document; other values (irregular watermarks,
 * a few) as they are, by position.
 */
class ValueColumn implements KeyColumn {
  /** NaN where the value is not a Date (a BSON date is never NaN). */
  private readonly times: Float64Array;
  private readonly others = new Map<number, unknown>();
  /** The Date last handed out: rows next to each other in key order often share a time, and then share it. */
  private last = new Date(Number.NaN);

  constructor(size: number) {
    this.times = new Float64Array(size).fill(Number.NaN);
  }

  setTime(position: number, time: number): void {
    this.times[position] = time;
  }

  /** The time of a Date value; NaN for any other value. */
  time(position: number): number {
    return this.times[position] as number;
  }

  set(position: number, value: unknown): void {
    if (value instanceof Date) this.times[position] = value.getTime();
    else this.others.set(position, value);
  }

  value(position: number): unknown {
    const time = this.times[position] as number;
    if (Number.isNaN(time)) return this.others.get(position);
    if (time !== this.last.getTime()) this.last = new Date(time);
    return this.last;
  }

  compare(a: number, b: number): number {
    const x = this.times[a] as number;
    const y = this.times[b] as number;
    if (Number.isNaN(x) || Number.isNaN(y)) return compareBson(this.value(a), this.value(b));
    return x < y ? -1 : x > y ? 1 : 0;
  }

  comparedWith(value: unknown): (position: number) => number {
    const time = value instanceof Date ? value.getTime() : Number.NaN;
    if (Number.isNaN(time)) return (position) => compareBson(this.value(position), value);
    return (position) => {
      const x = this.times[position] as number;
      if (Number.isNaN(x)) return compareBson(this.value(position), value);
      return x < time ? -1 : x > time ? 1 : 0;
    };
  }

  remapped(map: Int32Array, size: number): ValueColumn {
    const next = new ValueColumn(size);
    for (let old = 0; old < map.length; old++) {
      const now = map[old] as number;
      if (now >= 0) next.times[now] = this.times[old] as number;
    }
    for (const [old, value] of this.others) {
      const now = map[old] as number;
      if (now >= 0) next.others.set(now, value);
    }
    return next;
  }
}

/**
 * A declared index as MongoDB keeps one: the documents in key order, with
 * their key values read once. Built when the collection is loaded or at
 * first use, and brought up to date after writes by reading the keys of the
 * documents written only (see `updated`): writes come between pipeline runs,
 * queries in bursts during one. Documents are positions in the collection
 * and key values are columns (see KeyColumn): a few bytes a document,
 * where objects per document would cost more than the documents' own bytes.
 *
 * A document with an array on a key path matches a range by any element and
 * sorts by its smallest or largest one, so it has no one place in the order:
 * such documents (irregular watermarks) are kept apart, tested by every query
 * and merged into ordered results.
 */
export class SortedIndex {
  private constructor(
    readonly pattern: KeyPattern,
    private readonly docs: StoredDocuments,
    private readonly columns: readonly KeyColumn[],
    /** Documents without arrays on key paths, in key order (ties in `_id` order). */
    private readonly rows: Int32Array,
    /** Documents with an array on a key path, in `_id` order. */
    private readonly multikey: Int32Array,
  ) {}

  /** Indexes the documents of `docs`. */
  static build(pattern: KeyPattern, docs: StoredDocuments): SortedIndex {
    const columns = pattern.fields.map((path) =>
      path === '_id' ? new IdColumn(docs) : new ValueColumn(docs.size),
    );
    const readKeys = keyReader(pattern, docs, columns);
    const rows = new Int32Array(docs.size);
    const multikey: number[] = [];
    let kept = 0;
    for (let position = 0; position < docs.size; position++) {
      if (readKeys(position)) multikey.push(position);
      else rows[kept++] = position;
    }
    const ordered = rows.subarray(0, kept).sort(rowOrder(columns, pattern.directions));
    return new SortedIndex(pattern, docs, columns, ordered, Int32Array.from(multikey));
  }

  /**
   * The index of the documents now, made from this one and the `changes`
   * since it was made: the documents kept move to their new positions
   * (one pass over the rows and columns), and only the documents added are
   * read and sorted, then merged in, so the result is the index `build`
   * makes without reading every document's key again.
   */
  updated(changes: IndexChanges): SortedIndex {
    if (changes.empty) return this;
    const size = this.docs.size;
    if (this.size - changes.gone.length + changes.added.length !== size)
      throw new Error(
        `index changes do not add up: ${this.size} documents indexed, ${changes.gone.length} gone, ${changes.added.length} added, ${size} now`,
      );
    const map = changes.mapping(this.size);
    const columns = this.columns.map((column) => column.remapped(map, size));
    const readKeys = keyReader(this.pattern, this.docs, columns);
    const addedRows: number[] = [];
    const addedMultikey: number[] = [];
    for (const position of changes.added) (readKeys(position) ? addedMultikey : addedRows).push(position);
    const order = rowOrder(columns, this.pattern.directions);
    const rows = mergeRows(moved(this.rows, map), Int32Array.from(addedRows).sort(order), order);
    const multikey = mergeRows(moved(this.multikey, map), Int32Array.from(addedMultikey), (a, b) => a - b);
    return new SortedIndex(this.pattern, this.docs, columns, rows, multikey);
  }

  /** Documents indexed. */
  get size(): number {
    return this.rows.length + this.multikey.length;
  }

  /** True while documents with arrays on the key are few enough that the index still narrows a query. */
  get selective(): boolean {
    return this.multikey.length <= this.rows.length;
  }

  /**
   * How many documents a query within `interval` of the first key field
   * examines: those whose first key value does not decide it (see `settled`).
   */
  candidates(interval: Interval, settled: readonly SettledRows[] = []): number {
    const [start, end] = this.slice(interval);
    let tested = this.multikey.length;
    for (const { from, to, matches } of pieces(start, end, settled))
      if (matches === undefined) tested += to - from;
    return tested;
  }

  /** The documents within `interval` that match, in no particular order; `test` decides the rows `settled` does not. */
  select(
    interval: Interval,
    test: (position: number) => boolean,
    settled: readonly SettledRows[] = [],
  ): number[] {
    const [start, end] = this.slice(interval);
    const found: number[] = [];
    for (const { from, to, matches } of pieces(start, end, settled)) {
      if (matches === false) continue;
      for (let i = from; i < to; i++) {
        const position = this.rows[i] as number;
        if (matches === true || test(position)) found.push(position);
      }
    }
    for (const position of this.multikey) if (test(position)) found.push(position);
    return found;
  }

  /** How many documents `select` returns, without listing them. */
  count(
    interval: Interval,
    test: (position: number) => boolean,
    settled: readonly SettledRows[] = [],
  ): number {
    const [start, end] = this.slice(interval);
    let n = 0;
    for (const { from, to, matches } of pieces(start, end, settled)) {
      if (matches === true) n += to - from;
      else if (matches === undefined) for (let i = from; i < to; i++) if (test(this.rows[i] as number)) n++;
    }
    for (const position of this.multikey) if (test(position)) n++;
    return n;
  }

  /**
   * The documents within `interval` that match, in key order forward
   * (`direction` 1) or backward (-1), produced as they are read so a limit
   * stops the walk; `test` decides the rows `settled` does not.
   */
  *walk(
    interval: Interval,
    direction: 1 | -1,
    test: (position: number) => boolean,
    settled: readonly SettledRows[] = [],
  ): Generator<number> {
    const signs = this.pattern.directions.map((d) => d * direction);
    const apart = [...this.multikey]
      .filter(test)
      .map((position) => ({
        position,
        keys: this.keysOf(position).map((value, i) => sortValue(value, signs[i] as number)),
      }))
      .sort((a, b) => compareKeys(a.keys, b.keys, signs));
    let next = 0;
    const [start, end] = this.slice(interval);
    const walked = pieces(start, end, settled);
    if (direction === -1) walked.reverse();
    for (const { from, to, matches } of walked) {
      if (matches === false) continue;
      for (let step = 0; step < to - from; step++) {
        const position = this.rows[direction === 1 ? from + step : to - 1 - step] as number;
        if (matches === undefined && !test(position)) continue;
        // Documents kept apart that come first are merged in.
        let ahead = apart[next];
        while (ahead !== undefined && this.compareWith(ahead.keys, position, signs) <= 0) {
          yield ahead.position;
          ahead = apart[++next];
        }
        yield position;
      }
    }
    for (const { position } of apart.slice(next)) yield position;
  }

  /**
   * The rows whose first key value alone decides `filter` (see keyVerdicts),
   * ascending and apart: the null and missing values when the filter says
   * the same of both, and the Dates, in runs between the Dates the filter
   * names. Other values (irregular watermarks, a few) and the documents kept
   * apart are left to the filter. A run's verdict is the filter's for one of
   * its values, which stands for all of them.
   */
  settled(filter: Document): SettledRows[] {
    const column = this.columns[0];
    const field = this.pattern.fields[0] as string;
    if (!(column instanceof ValueColumn) || field.includes('.')) return [];
    const verdicts = keyVerdicts(filter, field);
    if (verdicts === undefined) return [];
    const out: SettledRows[] = [];
    const add = (from: number, to: number, verdict: () => boolean | undefined) => {
      const matches = from < to ? verdict() : undefined;
      if (matches !== undefined) out.push({ start: from, end: to, matches });
    };
    const [nullsFrom, nullsTo] = this.bracketRows(column, NULL_BRACKET);
    add(nullsFrom, nullsTo, () => {
      const missing = verdicts.at(undefined);
      return missing === verdicts.at(null) ? missing : undefined;
    });
    // Times along the rows: negated on a descending key, so they ascend.
    const sign = this.pattern.directions[0] as number;
    const along = (position: number) => column.time(position) * sign;
    const [datesFrom, datesTo] = this.bracketRows(column, DATE_BRACKET);
    // BSON dates beyond what a JavaScript Date holds are left to the filter.
    const from = this.firstWhere((p) => along(p) >= -MAX_DATE_TIME, datesFrom, datesTo);
    const to = this.firstWhere((p) => along(p) > MAX_DATE_TIME, from, datesTo);
    const verdictOf = (row: number) => () => verdicts.at(column.value(this.rows[row] as number));
    let at = from;
    for (const point of verdicts.breakpoints.map((t) => t * sign).sort((a, b) => a - b)) {
      const equalFrom = this.firstWhere((p) => along(p) >= point, at, to);
      const equalTo = this.firstWhere((p) => along(p) > point, equalFrom, to);
      add(at, equalFrom, verdictOf(at));
      add(equalFrom, equalTo, verdictOf(equalFrom));
      at = equalTo;
    }
    add(at, to, verdictOf(at));
    return out.sort((a, b) => a.start - b.start);
  }

  /**
   * `filter` as a test of one document. A filter that reads only top-level
   * key fields is evaluated on the key values alone (a covered query),
   * without decoding the document.
   */
  tester(filter: Document): (position: number) => boolean {
    const keyFields = this.pattern.fields;
    if (covers(this.pattern, filter)) {
      const test = compileDocumentFilter(filter);
      const columns = this.columns;
      return (position) => {
        const doc: Document = {};
        for (let i = 0; i < columns.length; i++) {
          const value = (columns[i] as KeyColumn).value(position);
          if (value !== undefined) doc[keyFields[i] as string] = value;
        }
        return test(doc);
      };
    }
    const test = compileFilter(filter);
    return (position) => test(this.docs.raw(position));
  }

  /**
   * compareKeys(keys, this.keysOf(position), signs), reading a key value of
   * `position` only when the ones before it tie: the `_id`, the last key of a
   * watermark index, is read from the document itself.
   */
  private compareWith(keys: readonly unknown[], position: number, signs: readonly number[]): number {
    for (let i = 0; i < signs.length; i++) {
      const order = compareBson(keys[i], (this.columns[i] as KeyColumn).value(position));
      if (order !== 0) return order * (signs[i] as number);
    }
    return 0;
  }

  private keysOf(position: number): unknown[] {
    return this.columns.map((column) => column.value(position));
  }

  /** Rows `[start, end)` whose first key value lies within `interval`. */
  private slice(interval: Interval): [number, number] {
    const { lower, upper } = interval;
    const first = this.columns[0] as KeyColumn;
    const toLower = lower === undefined ? undefined : first.comparedWith(lower.value);
    const toUpper = upper === undefined ? undefined : first.comparedWith(upper.value);
    const below = (position: number) => {
      if (toLower === undefined) return false;
      const order = toLower(position);
      return order < 0 || (order === 0 && !lower?.inclusive);
    };
    const above = (position: number) => {
      if (toUpper === undefined) return false;
      const order = toUpper(position);
      return order > 0 || (order === 0 && !upper?.inclusive);
    };
    const ascending = this.pattern.directions[0] === 1;
    const start = this.firstWhere(ascending ? (p) => !below(p) : (p) => !above(p));
    const end = this.firstWhere(ascending ? above : below);
    return [start, Math.max(start, end)];
  }

  /** The rows `[start, end)` whose first key value is of BSON type bracket `bracket` (Dates are one, null and missing another). */
  private bracketRows(column: ValueColumn, bracket: number): [number, number] {
    const sign = this.pattern.directions[0] as number;
    const bracketOf = (position: number) =>
      Number.isNaN(column.time(position)) ? bsonTypeBracket(column.value(position)) : DATE_BRACKET;
    const start = this.firstWhere((p) => (bracketOf(p) - bracket) * sign >= 0);
    return [start, this.firstWhere((p) => (bracketOf(p) - bracket) * sign > 0, start)];
  }

  /** The first row of `[lo, hi)` for which `past` holds, `past` being false then true along the rows. */
  private firstWhere(past: (position: number) => boolean, lo = 0, hi = this.rows.length): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (past(this.rows[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

const NULL_BRACKET = 1;
const DATE_BRACKET = 9;
/** The largest time a JavaScript Date holds, either side of 1970. */
const MAX_DATE_TIME = 8.64e15;

/** Rows `[start, end)` in key order whose documents all match (`matches`) or all fail a filter. */
export interface SettledRows {
  readonly start: number;
  readonly end: number;
  readonly matches: boolean;
}

/** `[start, end)` cut at the settled rows, in order: each piece with its verdict, undefined where it is to be tested. */
function pieces(
  start: number,
  end: number,
  settled: readonly SettledRows[],
): { from: number; to: number; matches: boolean | undefined }[] {
  const out: { from: number; to: number; matches: boolean | undefined }[] = [];
  let at = start;
  for (const run of settled) {
    if (run.end <= at) continue;
    if (run.start >= end) break;
    if (run.start > at) out.push({ from: at, to: run.start, matches: undefined });
    const to = Math.min(run.end, end);
    out.push({ from: Math.max(run.start, at), to, matches: run.matches });
    at = to;
  }
  if (at < end) out.push({ from: at, to: end, matches: undefined });
  return out;
}

/**
 * Reads the key values of the document at a position into `columns`;
 * true when an array lies on a key path (the document has no one place in
 * the order).
 */
function keyReader(
  pattern: KeyPattern,
  docs: StoredDocuments,
  columns: readonly KeyColumn[],
): (position: number) => boolean {
  const read = pattern.fields.flatMap((path, i) => {
    const column = columns[i];
    return column instanceof ValueColumn ? [{ path, top: path.split('.')[0] as string, column }] : [];
  });
  return (position) => {
    if (read.length === 0) return false;
    const raw = docs.raw(position);
    let crosses = false;
    for (const { path, top, column } of read) {
      const time = path === top ? topLevelTime(raw, top) : undefined;
      if (time !== undefined) {
        column.setTime(position, time);
        continue;
      }
      const value = topLevelField(raw, top);
      if (path === top) {
        crosses ||= Array.isArray(value);
        column.set(position, value);
      } else {
        const doc = { [top]: value };
        crosses ||= crossesArray(doc, path);
        column.set(position, getPath(doc, path));
      }
    }
    return crosses;
  };
}

/** Positions in key order: by each key field in its direction, ties in `_id` (position) order. */
function rowOrder(
  columns: readonly KeyColumn[],
  directions: readonly (1 | -1)[],
): (a: number, b: number) => number {
  return (a, b) => {
    for (let i = 0; i < columns.length; i++) {
      const order = (columns[i] as KeyColumn).compare(a, b);
      if (order !== 0) return order * (directions[i] as number);
    }
    return a - b;
  };
}

/** `positions` at their new places by `map` (see IndexChanges.mapping), without those gone; the order is kept. */
function moved(positions: Int32Array, map: Int32Array): Int32Array {
  const out = new Int32Array(positions.length);
  let kept = 0;
  for (const position of positions) {
    const now = map[position] as number;
    if (now >= 0) out[kept++] = now;
  }
  return out.subarray(0, kept);
}

/**
 * Two lists of positions sorted by `order` as one: each of the few `added`
 * found its place in `rows` by bisection, and the rows between copied a
 * stretch at a time.
 */
function mergeRows(rows: Int32Array, added: Int32Array, order: (a: number, b: number) => number): Int32Array {
  const out = new Int32Array(rows.length + added.length);
  let from = 0;
  let written = 0;
  for (const position of added) {
    let lo = from;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (order(rows[mid] as number, position) < 0) lo = mid + 1;
      else hi = mid;
    }
    out.set(rows.subarray(from, lo), written);
    written += lo - from;
    out[written++] = position;
    from = lo;
  }
  out.set(rows.subarray(from), written);
  return out;
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
