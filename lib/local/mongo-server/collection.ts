import { BSON, type Document, ObjectId } from 'mongodb';
import { BSON_TYPE_BRACKETS, bsonTypeBracket } from '../../../lambdas/shared/bson-type-order.ts';
import { compareBson, sortComparator } from './bson-order.ts';
import { CommandError } from './errors.ts';
import { type Bound, fieldInterval, type Interval, isBounded, isOperatorObject } from './key-interval.ts';
import { compileFilter, decode } from './query.ts';
import { covers, keyPatternOf, type Row, SortedIndex, walkDirection } from './sorted-index.ts';

export interface Entry {
  /** `_id` with promoted numbers, for ordering. */
  readonly id: unknown;
  /** The document exactly as inserted. */
  raw: Buffer;
}

export interface FindOptions {
  readonly filter?: Document;
  readonly sort?: Document;
  readonly projection?: Document;
  readonly skip?: number;
  readonly limit?: number;
}

/** Read with exact BSON types (Int32, Long, Double, Decimal128 kept). */
export const exact = (raw: Buffer): Document => BSON.deserialize(raw, { promoteValues: false });
/** Read with JS numbers, as aggregation stages expect them. */
const promoted = (raw: Buffer): Document => BSON.deserialize(raw);

/**
 * One collection in memory: documents as raw BSON, kept in `_id` order so
 * `_id` ranges (how the pipeline extracts) are found by binary search rather
 * than a scan. Declared indexes answer ranges of their first field and sorts
 * by their key as MongoDB's do (see SortedIndex). Any filter is evaluated by
 * mingo on the candidates.
 */
export class MemoryCollection {
  private entries: Entry[] = [];
  /** Bumped on every write, so cached sort orders and indexes know when they are stale. */
  private version = 0;
  /** Entries in the order of a recent sort, reused while nothing changes (planning sorts the same way many times). */
  private readonly sortOrders = new Map<string, { version: number; order: Entry[] }>();
  /** Index specs as declared by createIndexes, `_id_` first. */
  readonly indexes: Document[] = [{ v: 2, key: { _id: 1 }, name: '_id_' }];
  /** Built indexes by name, each for the version it was built at. */
  private readonly built = new Map<string, SortedIndex>();
  private examinedSoFar = 0;

  get size(): number {
    return this.entries.length;
  }

  /** Documents examined by queries so far (candidates read from storage or an index): what an index saves. */
  get examined(): number {
    return this.examinedSoFar;
  }

  /** Every document as stored (raw BSON), in `_id` order: what a dump writes. */
  *rawDocuments(): Generator<Buffer> {
    for (const entry of this.entries) yield entry.raw;
  }

  /** Inserts documents given as JS objects (BSON classes keep their types). */
  insertMany(docs: readonly Document[]): void {
    for (const doc of docs)
      this.insertRaw(
        Buffer.from(BSON.serialize(doc._id === undefined ? { _id: new ObjectId(), ...doc } : doc)),
      );
  }

  insertRaw(raw: Buffer): void {
    this.version++;
    let bytes = raw;
    let id = promoted(raw)._id;
    if (id === undefined) {
      const doc = exact(raw);
      bytes = Buffer.from(BSON.serialize({ _id: new ObjectId(), ...doc }));
      id = BSON.deserialize(bytes)._id;
    }
    const last = this.entries.at(-1);
    // Ascending ObjectIds (the usual case) append without a search.
    if (last === undefined || compareBson(id, last.id) > 0) {
      this.entries.push({ id, raw: bytes });
      return;
    }
    const at = this.lowerBound(id, true);
    if (at < this.entries.length && compareBson((this.entries[at] as Entry).id, id) === 0) {
      throw new CommandError(
        11000,
        'DuplicateKey',
        `E11000 duplicate key error collection: dup key: { _id: ${JSON.stringify(String(id))} }`,
      );
    }
    this.entries.splice(at, 0, { id, raw: bytes });
  }

  /** Declares an index; false when one of that name exists already. */
  createIndex(spec: Document): boolean {
    if (this.indexes.some((index) => index.name === spec.name)) return false;
    this.indexes.push(spec);
    return true;
  }

  /** Removes the index of that name, or every index but `_id_` for `'*'`; false when there is none. */
  dropIndex(name: string): boolean {
    const kept = this.indexes.filter(
      (index) => index.name === '_id_' || (name !== '*' && index.name !== name),
    );
    const dropped = this.indexes.length - kept.length;
    this.indexes.splice(0, this.indexes.length, ...kept);
    for (const builtName of this.built.keys())
      if (!kept.some((i) => i.name === builtName)) this.built.delete(builtName);
    return dropped > 0 || name === '*';
  }

  /** Matching documents in result order, after skip and limit, projected. */
  find(options: FindOptions): Buffer[] {
    const filter = options.filter ?? {};
    const from = options.skip ?? 0;
    const to = options.limit !== undefined && options.limit > 0 ? from + options.limit : undefined;
    const walk = isSecondarySort(options.sort) ? this.indexWalk(filter, options.sort as Document) : undefined;
    let page: Entry[];
    if (walk !== undefined) page = take(walk, from, to);
    else if (to !== undefined && isSecondarySort(options.sort))
      page = this.firstMatchesInOrder(filter, options.sort as Document, from, to);
    else page = this.sortEntries(this.match(filter), options.sort).slice(from, to);
    const projection = options.projection;
    if (projection === undefined || Object.keys(projection).length === 0) return page.map((e) => e.raw);
    return page.map((e) => project(e.raw, projection));
  }

  count(filter: Document): number {
    return this.match(filter, { ordered: false }).length;
  }

  /** Promoted copies of matching documents, for aggregation. */
  matchDocuments(filter: Document): Document[] {
    return this.match(filter).map((e) => promoted(e.raw));
  }

  /** Replaces or removes matching documents; `change` returns the new raw document or undefined to delete. */
  modify(filter: Document, many: boolean, change: (current: Document) => Buffer | undefined): number {
    // A stale index is not rebuilt to find what to change: a write makes it stale again at once.
    const targets = this.match(filter, { build: false });
    this.version++;
    const chosen = many ? targets : targets.slice(0, 1);
    const removed = new Set<Entry>();
    for (const entry of chosen) {
      const next = change(exact(entry.raw));
      if (next === undefined) removed.add(entry);
      else entry.raw = next;
    }
    if (removed.size > 0) this.entries = this.entries.filter((e) => !removed.has(e));
    return chosen.length;
  }

  /**
   * Matching documents, in `_id` order unless `ordered` is false. Candidates
   * come from the `_id` range of the filter or from an index slice,
   * whichever is smaller.
   */
  private match(filter: Document, { ordered = true, build = true } = {}): Entry[] {
    const { start, end, residual } = this.idSlice(filter);
    // An `_id` range that is the whole filter needs no test, let alone an index.
    const exact = Object.keys(residual).length === 0;
    const indexed = exact ? undefined : this.narrowestIndex(filter, end - start, build);
    if (indexed !== undefined) {
      const found = indexed.index.select(indexed.interval, this.counted(indexed.index.tester(filter)));
      return ordered ? found.sort((a, b) => compareBson(a.id, b.id)) : found;
    }
    this.examinedSoFar += end - start;
    if (exact) return this.entries.slice(start, end);
    const test = compileFilter(residual);
    const found: Entry[] = [];
    for (let i = start; i < end; i++) {
      const entry = this.entries[i] as Entry;
      if (test(entry.raw)) found.push(entry);
    }
    return found;
  }

  /**
   * The index whose slice for `filter` holds the fewest candidates, when no
   * more than `than`. An index that bounds nothing still serves a filter it
   * covers: testing key values costs less than decoding documents.
   */
  private narrowestIndex(
    filter: Document,
    than: number,
    build: boolean,
  ): { index: SortedIndex; interval: Interval } | undefined {
    let best: { index: SortedIndex; interval: Interval; size: number } | undefined;
    for (const spec of this.indexes) {
      const pattern = keyPatternOf(spec);
      if (pattern === undefined || spec.name === '_id_') continue;
      const interval = fieldInterval(filter, pattern.fields[0] as string);
      const bounded = isBounded(interval);
      if (!bounded && !covers(pattern, filter)) continue;
      const index = this.sortedIndex(spec, build);
      if (index === undefined || !index.selective) continue;
      const size = index.candidates(interval);
      if (best === undefined ? size <= than : size < best.size) best = { index, interval, size };
    }
    return best;
  }

  /**
   * Matching documents in `sort` order from an index whose key starts with
   * the sort's fields, read lazily; undefined when no index gives that order
   * or the filter's `_id` range holds fewer candidates (sorting those is cheaper).
   */
  private indexWalk(filter: Document, sort: Document): Iterable<Entry> | undefined {
    for (const spec of this.indexes) {
      const pattern = keyPatternOf(spec);
      const direction = pattern === undefined ? undefined : walkDirection(pattern, sort);
      if (pattern === undefined || direction === undefined) continue;
      const index = this.sortedIndex(spec, true);
      if (index === undefined || !index.selective) continue;
      const interval = fieldInterval(filter, pattern.fields[0] as string);
      const { start, end } = this.idSlice(filter);
      if (end - start < index.candidates(interval)) return undefined;
      return index.walk(interval, direction, this.counted(index.tester(filter)));
    }
    return undefined;
  }

  /** Entries `[start, end)` within the filter's `_id` range, and the rest of the filter. */
  private idSlice(filter: Document): { start: number; end: number; residual: Document } {
    const { lower, upper, residual } = idRange(filter);
    const start = lower === undefined ? 0 : this.lowerBound(lower.value, lower.inclusive);
    const end = upper === undefined ? this.entries.length : this.lowerBound(upper.value, !upper.inclusive);
    return { start, end: Math.max(start, end), residual };
  }

  /** The built index for `spec`, rebuilt when the collection changed since (unless `build` is false). */
  private sortedIndex(spec: Document, build: boolean): SortedIndex | undefined {
    const name = String(spec.name);
    const current = this.built.get(name);
    if (current !== undefined && current.version === this.version) return current;
    const pattern = keyPatternOf(spec);
    if (!build || pattern === undefined) return undefined;
    const index = SortedIndex.build(pattern, this.entries, this.version);
    this.built.set(name, index);
    return index;
  }

  private counted(test: (row: Row) => boolean): (row: Row) => boolean {
    return (row) => {
      this.examinedSoFar++;
      return test(row);
    };
  }

  /**
   * A sorted find with a limit (how planning finds chunk boundaries and the
   * run's upper bound): walks a cached sort order and stops at the last row
   * wanted, instead of filtering and sorting the whole collection each time.
   */
  private firstMatchesInOrder(filter: Document, sort: Document, from: number, to: number): Entry[] {
    const key = JSON.stringify(sort);
    let cached = this.sortOrders.get(key);
    if (cached === undefined || cached.version !== this.version) {
      cached = { version: this.version, order: this.sortEntries([...this.entries], sort) };
      this.sortOrders.clear();
      this.sortOrders.set(key, cached);
    }
    const test = this.matcher(filter);
    const page: Entry[] = [];
    let seen = 0;
    for (const entry of cached.order) {
      this.examinedSoFar++;
      if (!test(entry)) continue;
      if (seen++ >= from) page.push(entry);
      if (seen >= to) break;
    }
    return page;
  }

  /** The filter as a test of one entry: `_id` bounds compared directly, the rest by mingo. */
  private matcher(filter: Document): (entry: Entry) => boolean {
    const { lower, upper, residual } = idRange(filter);
    const test = Object.keys(residual).length === 0 ? undefined : compileFilter(residual);
    return (entry) => {
      if (lower !== undefined) {
        const order = comparePoints(entry.id, lower.value);
        if (order < 0 || (order === 0 && !lower.inclusive)) return false;
      }
      if (upper !== undefined) {
        const order = comparePoints(entry.id, upper.value);
        if (order > 0 || (order === 0 && !upper.inclusive)) return false;
      }
      return test === undefined || test(entry.raw);
    };
  }

  private sortEntries(entries: Entry[], sort: Document | undefined): Entry[] {
    if (sort === undefined || Object.keys(sort).length === 0) return entries;
    const keys = Object.entries(sort);
    if (keys.length === 1 && keys[0]?.[0] === '_id')
      return Number(keys[0][1]) < 0 ? entries.reverse() : entries;
    const compare = sortComparator(sort);
    const sortFields = new Set(keys.map(([path]) => path.split('.')[0] as string));
    return entries
      .map((entry) => ({ entry, doc: decode(entry.raw, sortFields) }))
      .sort((a, b) => compare(a.doc, b.doc))
      .map((x) => x.entry);
  }

  /** First index whose id is ≥ value (inclusive) or > value (exclusive). */
  private lowerBound(value: unknown, inclusive: boolean): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const order = comparePoints((this.entries[mid] as Entry).id, value);
      if (order < 0 || (!inclusive && order === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Entries `from` to `to` (exclusive; undefined for all) of `entries`, reading no further. */
function take(entries: Iterable<Entry>, from: number, to: number | undefined): Entry[] {
  const page: Entry[] = [];
  if (to !== undefined && to <= from) return page;
  let seen = 0;
  for (const entry of entries) {
    if (seen++ >= from) page.push(entry);
    if (to !== undefined && seen >= to) break;
  }
  return page;
}

/** A sort on anything but `_id` alone (which is the storage order). */
function isSecondarySort(sort: Document | undefined): boolean {
  if (sort === undefined) return false;
  const keys = Object.keys(sort);
  return keys.length > 0 && !(keys.length === 1 && keys[0] === '_id');
}

/** The point just before the first (`start`) or just after the last (`end`) value of a BSON type bracket. */
class BracketEdge {
  constructor(
    readonly bracket: number,
    readonly side: 'start' | 'end',
  ) {}
}

const LAST_BRACKET = BSON_TYPE_BRACKETS.length - 1;
const COMPARISONS = new Set(['$gt', '$gte', '$lt', '$lte']);

/** compareBson, for `_id` values and bracket edges. */
function comparePoints(a: unknown, b: unknown): number {
  if (!(a instanceof BracketEdge) && !(b instanceof BracketEdge)) return compareBson(a, b);
  const place = (p: unknown): [number, number] =>
    p instanceof BracketEdge ? [p.bracket, p.side === 'start' ? -1 : 1] : [bsonTypeBracket(p), 0];
  const [ra, sa] = place(a);
  const [rb, sb] = place(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  return Math.sign(sa - sb);
}

/**
 * Pulls `_id` range conditions out of a filter (at the top level or inside a
 * top-level `$and`), so they can be answered by binary search; what remains
 * is evaluated by mingo. A plain comparison stays within its operand's type
 * bracket, as in MongoDB; the pipeline's comparison across types
 * (`{$or: [{_id: {$gt: X}}, {_id: {$type: [every bracket after X's]}}]}`) is
 * recognised and answered the same way.
 */
function idRange(filter: Document): { lower?: Bound; upper?: Bound; residual: Document } {
  let lower: Bound | undefined;
  let upper: Bound | undefined;
  const take = (condition: unknown, bracketed: boolean): boolean => {
    if (!isOperatorObject(condition)) return false;
    const ops = Object.entries(condition as Document);
    if (!ops.every(([op]) => COMPARISONS.has(op))) return false;
    for (const [op, value] of ops) {
      const bracket = bsonTypeBracket(value);
      const limited = bracketed && bracket !== 0 && bracket !== LAST_BRACKET;
      if (op === '$gt' || op === '$gte') {
        lower = tighterLower(lower, { value, inclusive: op === '$gte' });
        if (limited)
          upper = tighterUpper(upper, { value: new BracketEdge(bracket, 'end'), inclusive: false });
      } else {
        upper = tighterUpper(upper, { value, inclusive: op === '$lte' });
        if (limited)
          lower = tighterLower(lower, { value: new BracketEdge(bracket, 'start'), inclusive: false });
      }
    }
    return true;
  };
  const takeAcrossTypes = (alternatives: unknown): boolean => {
    const parts = acrossTypes(alternatives);
    return parts !== undefined && take({ [parts.op]: parts.value }, false);
  };
  const residual: Document = {};
  for (const [key, value] of Object.entries(filter)) {
    if (key === '_id' && take(value, true)) continue;
    // `{_id: value}` (how updates address one document) is the range [value, value].
    if (key === '_id' && !isOperatorObject(value)) {
      lower = tighterLower(lower, { value, inclusive: true });
      upper = tighterUpper(upper, { value, inclusive: true });
      continue;
    }
    if (key === '$or' && takeAcrossTypes(value)) continue;
    if (key === '$and' && Array.isArray(value)) {
      const rest = value.filter((clause: Document) => {
        const keys = Object.keys(clause);
        if (keys.length !== 1) return true;
        if (keys[0] === '_id') return !take(clause._id, true);
        if (keys[0] === '$or') return !takeAcrossTypes(clause.$or);
        return true;
      });
      if (rest.length > 0) residual.$and = rest;
      continue;
    }
    residual[key] = value;
  }
  return { ...(lower === undefined ? {} : { lower }), ...(upper === undefined ? {} : { upper }), residual };
}

/** `[{_id: {op: X}}, {_id: {$type: [the aliases of every bracket beyond X's]}}]` as its op and X. */
function acrossTypes(alternatives: unknown): { op: string; value: unknown } | undefined {
  if (!Array.isArray(alternatives) || alternatives.length !== 2) return undefined;
  const [comparison, types] = alternatives as Document[];
  const onlyId = (clause: Document | undefined) =>
    clause !== undefined && Object.keys(clause).length === 1 && isOperatorObject(clause._id);
  if (!onlyId(comparison) || !onlyId(types)) return undefined;
  const ops = Object.entries((comparison as Document)._id as Document);
  const typeCondition = (types as Document)._id as Document;
  if (ops.length !== 1 || Object.keys(typeCondition).length !== 1 || !Array.isArray(typeCondition.$type))
    return undefined;
  const [op, value] = ops[0] as [string, unknown];
  if (!COMPARISONS.has(op)) return undefined;
  const bracket = bsonTypeBracket(value);
  const beyond = (
    op === '$gt' || op === '$gte'
      ? BSON_TYPE_BRACKETS.slice(bracket + 1)
      : BSON_TYPE_BRACKETS.slice(0, bracket)
  ).flat();
  const listed = new Set(typeCondition.$type as unknown[]);
  return listed.size === beyond.length && beyond.every((alias) => listed.has(alias))
    ? { op, value }
    : undefined;
}

function tighterLower(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const order = comparePoints(a.value, b.value);
  return order > 0 || (order === 0 && !a.inclusive) ? a : b;
}

function tighterUpper(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const order = comparePoints(a.value, b.value);
  return order < 0 || (order === 0 && !a.inclusive) ? a : b;
}

/**
 * Inclusion (`{a: 1}`, `{_id: 1}`) or exclusion (`{a: 0}`) of top-level
 * fields; `_id` is kept unless excluded. A projection is an inclusion when
 * any field is included, `_id` alone too.
 */
function project(raw: Buffer, projection: Document): Buffer {
  const entries = Object.entries(projection);
  const including = entries.some(([, v]) => Boolean(v));
  if (including && entries.length === 1 && entries[0]?.[0] === '_id') return idOnly(raw);
  const doc = exact(raw);
  const out: Document = {};
  if (including) {
    if (projection._id === undefined || projection._id) out._id = doc._id;
    for (const [key, v] of entries) if (key !== '_id' && v && key in doc) out[key] = doc[key];
  } else {
    for (const [key, value] of Object.entries(doc))
      if (projection[key] === undefined || projection[key]) out[key] = value;
  }
  return Buffer.from(BSON.serialize(out));
}

const ID_NAME = Buffer.from('_id\0', 'latin1');
const OBJECT_ID_TYPE = 0x07;
const OBJECT_ID_DOCUMENT_BYTES = 4 + 1 + ID_NAME.length + 12 + 1;

/**
 * `{_id}` of a stored document, copied from its bytes without decoding the
 * rest: what a key listing (`projection: {_id: 1}`) reads of every document.
 */
function idOnly(raw: Buffer): Buffer {
  // The usual case, an ObjectId stored first: 4 + 1 + 4 + 12 bytes, then the document's end.
  if (raw[4] === OBJECT_ID_TYPE && raw.compare(ID_NAME, 0, ID_NAME.length, 5, 5 + ID_NAME.length) === 0) {
    const out = Buffer.alloc(OBJECT_ID_DOCUMENT_BYTES);
    raw.copy(out, 0, 0, OBJECT_ID_DOCUMENT_BYTES - 1);
    out.writeInt32LE(OBJECT_ID_DOCUMENT_BYTES, 0);
    return out;
  }
  for (const [type, nameOffset, nameLength, offset, length] of BSON.onDemand.parseToElements(raw)) {
    if (nameLength !== 3 || raw.toString('latin1', nameOffset, nameOffset + 3) !== '_id') continue;
    const out = Buffer.alloc(4 + 1 + ID_NAME.length + length + 1);
    out.writeInt32LE(out.length, 0);
    out[4] = type;
    ID_NAME.copy(out, 5);
    raw.copy(out, 5 + ID_NAME.length, offset, offset + length);
    return out;
  }
  return Buffer.from(BSON.serialize({}));
}
