import { BSON, type Document, ObjectId } from 'mongodb';
import { BSON_TYPE_BRACKETS, bsonTypeBracket } from '../../../lambdas/shared/bson-type-order.ts';
import type { BlockCache } from './block-cache.ts';
import { compareBson, sortComparator } from './bson-order.ts';
import type { DocumentList } from './cursors.ts';
import { compareStoredIds, idComparator, idDocument } from './document-id.ts';
import { CommandError } from './errors.ts';
import { IndexChanges } from './index-changes.ts';
import { type Bound, fieldInterval, type Interval, isBounded, isOperatorObject } from './key-interval.ts';
import { compileFilter, decode, fieldsOf } from './query.ts';
import { covers, keyPatternOf, type SettledRows, SortedIndex, walkDirection } from './sorted-index.ts';
import { StoredDocuments } from './stored-documents.ts';

export interface FindOptions {
  readonly filter?: Document;
  readonly sort?: Document;
  readonly projection?: Document;
  readonly skip?: number;
  readonly limit?: number;
}

export interface MemoryCollectionOptions {
  /**
   * Bytes of each buffer documents are stored in (documents larger get one of their own).
   * @default 32 MiB
   */
  readonly slabBytes?: number;
  /**
   * The cache of the blocks read from the dump files that loaded documents stay in.
   * @default - the cache all collections share, 16 MiB
   */
  readonly blockCache?: BlockCache;
}

/** An index chosen for a query: its slice, the rows its first key decides, and how many documents it tests. */
interface IndexedQuery {
  readonly index: SortedIndex;
  readonly interval: Interval;
  readonly settled: readonly SettledRows[];
  readonly size: number;
}

/** Read with exact BSON types (Int32, Long, Double, Decimal128 kept). */
export const exact = (raw: Buffer): Document => BSON.deserialize(raw, { promoteValues: false });
/** Read with JS numbers, as aggregation stages expect them. */
const promoted = (raw: Buffer): Document => BSON.deserialize(raw);

/**
 * One collection: documents as raw BSON (in memory, or left in the dump file
 * they were loaded from, see DocumentStorage), kept in `_id` order so
 * `_id` ranges (how the pipeline extracts) are found by binary search rather
 * than a scan. Declared indexes answer ranges of their first field and sorts
 * by their key as MongoDB's do (see SortedIndex). Any filter is evaluated by
 * mingo on the candidates. Documents are addressed by position in `_id`
 * order (see StoredDocuments) and a query works on positions until it hands
 * its result to a cursor.
 */
export class MemoryCollection {
  private readonly docs: StoredDocuments;
  /** Bumped on every write, so cached sort orders know when they are stale. */
  private version = 0;
  /** Positions in the order of a recent sort, reused while nothing changes (planning sorts the same way many times). */
  private readonly sortOrders = new Map<string, { version: number; order: Int32Array }>();
  /** Index specs as declared by createIndexes, `_id_` first. */
  readonly indexes: Document[] = [{ v: 2, key: { _id: 1 }, name: '_id_' }];
  /** Built indexes by name, all of the documents as they were before `changes`. */
  private readonly built = new Map<string, SortedIndex>();
  /** Writes since the built indexes were brought up to date, applied at their next use. */
  private changes = new IndexChanges();
  private examinedSoFar = 0;

  constructor(options: MemoryCollectionOptions = {}) {
    this.docs = new StoredDocuments(options.slabBytes, options.blockCache);
  }

  get size(): number {
    return this.docs.size;
  }

  /**
   * Bytes of the documents stored (`inFiles` of them read from a dump and
   * left there), and of replaced or deleted ones in memory not yet compacted away.
   */
  get bytes(): StoredDocuments['bytes'] {
    return this.docs.bytes;
  }

  /** Documents examined by queries so far (candidates read from storage or an index): what an index saves. */
  get examined(): number {
    return this.examinedSoFar;
  }

  /** Every document as stored (raw BSON), in `_id` order: what a dump writes. */
  rawDocuments(): Generator<Buffer> {
    return this.docs.raws();
  }

  /** Inserts documents given as JS objects (BSON classes keep their types). */
  insertMany(docs: readonly Document[]): void {
    for (const doc of docs)
      this.insertRaw(
        Buffer.from(BSON.serialize(doc._id === undefined ? { _id: new ObjectId(), ...doc } : doc)),
      );
  }

  /** Stores a copy of `raw`; one without an `_id` gets a new ObjectId. */
  insertRaw(raw: Buffer): void {
    this.version++;
    const position = this.docs.insert(raw);
    this.noteChange((changes) => changes.inserted(position));
  }

  /**
   * Inserts the documents of a BSON dump file (mongodump's `<name>.bson`),
   * which are read from the file when needed rather than held in memory:
   * the file must not change while the collection is in use, other than
   * by `saveDump`.
   */
  async insertDump(path: string): Promise<void> {
    this.version++;
    // Rebuilt rather than updated: a dump's documents come many at once, anywhere in the `_id` order.
    this.forgetBuiltIndexes();
    this.docs.insertFile(path);
  }

  /**
   * Writes every document, in `_id` order, as a BSON dump at `path`: to a
   * new file renamed over it, so reads of a dump the collection was loaded
   * from (open cursors included) go on from the old file, while the
   * collection reads its documents from the new one from then on.
   */
  async saveDump(path: string): Promise<void> {
    await this.docs.saveFile(path);
  }

  /** Closes the dump files the documents are read from; the collection cannot be read after. */
  close(): void {
    this.docs.close();
  }

  /** Declares an index, built at its first use (or by `buildIndexes`); false when one of that name exists already. */
  createIndex(spec: Document): boolean {
    if (this.indexes.some((index) => index.name === spec.name)) return false;
    this.indexes.push(spec);
    return true;
  }

  /**
   * Builds the declared indexes not built yet and brings the others up to
   * date, as mongorestore does after loading a dump: the first query that
   * uses one then finds it ready.
   */
  buildIndexes(): void {
    for (const spec of this.indexes) if (spec.name !== '_id_') this.sortedIndex(spec, true);
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
    if (this.built.size === 0) this.changes = new IndexChanges();
    return dropped > 0 || name === '*';
  }

  /**
   * Matching documents in result order, after skip and limit, projected.
   * The result reads the documents as they are now even if the collection
   * changes before a cursor has handed all of it out.
   */
  find(options: FindOptions): DocumentList {
    const filter = options.filter ?? {};
    const from = options.skip ?? 0;
    const to = options.limit !== undefined && options.limit > 0 ? from + options.limit : undefined;
    const projection = options.projection;
    const transform =
      projection === undefined || Object.keys(projection).length === 0
        ? undefined
        : (raw: Buffer) => project(raw, projection);
    const walk = isSecondarySort(options.sort) ? this.indexWalk(filter, options.sort as Document) : undefined;
    if (walk !== undefined) return this.docs.results(take(walk, from, to), transform);
    if (to !== undefined && isSecondarySort(options.sort))
      return this.docs.results(
        this.firstMatchesInOrder(filter, options.sort as Document, from, to),
        transform,
      );
    const { start, end, residual } = this.idSlice(filter);
    const idOrder = idSortDirection(options.sort);
    if (Object.keys(residual).length === 0 && idOrder !== undefined && isIdOnly(projection) && from >= 0) {
      // Covered by the `_id` index, as MongoDB answers a key listing: `{_id}`s made from the stored `_id`s.
      // (A negative skip, which MongoDB refuses, is left to the paths below, which answered it before.)
      this.examinedSoFar += end - start;
      const first = Math.min(from, end - start);
      const last = to === undefined ? end - start : Math.min(to, end - start);
      return idOrder > 0
        ? this.docs.ids(start + first, start + last, false)
        : this.docs.ids(end - last, end - first, true);
    }
    if (Object.keys(residual).length === 0 && inIdOrder(options.sort)) {
      // An `_id` range in `_id` order (how the pipeline reads a chunk keyed by `_id`) lists no positions.
      this.examinedSoFar += end - start;
      return this.docs.range(start + from, to === undefined ? end : Math.min(end, start + to), transform);
    }
    if (to !== undefined && inIdOrder(options.sort)) {
      const page = this.firstMatchesById(filter, from, to);
      if (page !== undefined) return this.docs.results(page, transform);
    }
    return this.docs.results(this.sortPositions(this.match(filter), options.sort).slice(from, to), transform);
  }

  count(filter: Document): number {
    const { start, end, residual } = this.idSlice(filter);
    if (Object.keys(residual).length === 0) {
      this.examinedSoFar += end - start;
      return end - start;
    }
    const indexed = this.narrowestIndex(filter, end - start, true);
    if (indexed === undefined) return this.match(filter, { ordered: false }).length;
    const { index, interval, settled } = indexed;
    return index.count(interval, this.counted(index.tester(filter)), settled);
  }

  /** Promoted copies of matching documents, for aggregation. */
  matchDocuments(filter: Document): Document[] {
    return this.match(filter).map((position) => promoted(this.docs.raw(position)));
  }

  /** Replaces or removes matching documents; `change` returns the new raw document or undefined to delete. */
  modify(filter: Document, many: boolean, change: (current: Document) => Buffer | undefined): number {
    // An index not built yet is not built to find what to change: that reads every document, as a scan does.
    const targets = this.match(filter, { build: false });
    this.version++;
    const chosen = many ? targets : targets.slice(0, 1);
    const removed: number[] = [];
    for (const position of chosen) {
      const current = this.docs.raw(position);
      const next = change(exact(current));
      if (next === undefined) {
        removed.push(position);
        continue;
      }
      // As MongoDB does; a changed `_id` would also be out of the order documents are kept in.
      if (compareStoredIds(current, next) !== 0)
        throw new CommandError(
          66,
          'ImmutableField',
          `After applying the update, the (immutable) field '_id' was found to have been altered`,
        );
      this.docs.replace(position, next);
      this.noteChange((changes) => changes.replaced(position));
    }
    if (removed.length > 0) {
      this.docs.remove(removed);
      this.noteChange((changes) => changes.removed(removed));
    }
    return chosen.length;
  }

  /**
   * Records a write for the built indexes. Once more documents were written
   * since they were up to date than were not, rebuilding them reads little
   * more than updating would, and they are dropped to be built again at
   * their next use.
   */
  private noteChange(record: (changes: IndexChanges) => void): void {
    if (this.built.size === 0) return;
    record(this.changes);
    const written = this.changes.added.length;
    if (written > this.docs.size - written) this.forgetBuiltIndexes();
  }

  private forgetBuiltIndexes(): void {
    this.built.clear();
    this.changes = new IndexChanges();
  }

  /**
   * Positions of matching documents, in `_id` order unless `ordered` is
   * false. Candidates come from the `_id` range of the filter or from an
   * index slice, whichever is smaller.
   */
  private match(filter: Document, { ordered = true, build = true } = {}): number[] {
    const { start, end, residual } = this.idSlice(filter);
    // An `_id` range that is the whole filter needs no test, let alone an index.
    const exact = Object.keys(residual).length === 0;
    const indexed = exact ? undefined : this.narrowestIndex(filter, end - start, build);
    if (indexed !== undefined) {
      const { index, interval, settled } = indexed;
      const found = index.select(interval, this.counted(index.tester(filter)), settled);
      // Positions are in `_id` order.
      return ordered ? found.sort((a, b) => a - b) : found;
    }
    this.examinedSoFar += end - start;
    const found: number[] = [];
    if (exact) {
      for (let i = start; i < end; i++) found.push(i);
      return found;
    }
    const test = compileFilter(residual);
    for (let i = start; i < end; i++) if (test(this.docs.raw(i))) found.push(i);
    return found;
  }

  /**
   * The index whose slice for `filter` holds the fewest candidates to test,
   * when no more than `than`. An index that bounds nothing still serves a
   * filter it covers (testing key values costs less than decoding
   * documents) or one its first key's values decide for most documents
   * (see SortedIndex.settled).
   */
  private narrowestIndex(filter: Document, than: number, build: boolean): IndexedQuery | undefined {
    let best: IndexedQuery | undefined;
    for (const spec of this.indexes) {
      const pattern = keyPatternOf(spec);
      if (pattern === undefined || spec.name === '_id_') continue;
      const field = pattern.fields[0] as string;
      const interval = fieldInterval(filter, field);
      if (!isBounded(interval) && !covers(pattern, filter) && !fieldsOf(filter)?.has(field)) continue;
      const index = this.sortedIndex(spec, build);
      if (index === undefined || !index.selective) continue;
      const settled = index.settled(filter);
      const size = index.candidates(interval, settled);
      if (best === undefined ? size <= than : size < best.size) best = { index, interval, settled, size };
    }
    return best;
  }

  /**
   * Matching documents in `sort` order from an index whose key starts with
   * the sort's fields, read lazily; undefined when no index gives that order
   * or the filter's `_id` range holds fewer candidates (sorting those is cheaper).
   */
  private indexWalk(filter: Document, sort: Document): Iterable<number> | undefined {
    for (const spec of this.indexes) {
      const pattern = keyPatternOf(spec);
      const direction = pattern === undefined ? undefined : walkDirection(pattern, sort);
      if (pattern === undefined || direction === undefined) continue;
      const index = this.sortedIndex(spec, true);
      if (index === undefined || !index.selective) continue;
      const interval = fieldInterval(filter, pattern.fields[0] as string);
      const settled = index.settled(filter);
      const { start, end } = this.idSlice(filter);
      if (end - start < index.candidates(interval, settled)) return undefined;
      return index.walk(interval, direction, this.counted(index.tester(filter)), settled);
    }
    return undefined;
  }

  /** Positions `[start, end)` within the filter's `_id` range, and the rest of the filter. */
  private idSlice(filter: Document): { start: number; end: number; residual: Document } {
    const { lower, upper, residual } = idRange(filter);
    const start =
      lower === undefined
        ? 0
        : this.docs.lowerBound(idComparator(lower.value, comparePoints), lower.inclusive);
    const end =
      upper === undefined
        ? this.docs.size
        : this.docs.lowerBound(idComparator(upper.value, comparePoints), !upper.inclusive);
    return { start, end: Math.max(start, end), residual };
  }

  /**
   * The index for `spec` as of now: the built indexes are first brought up
   * to date with the writes since they were (see SortedIndex.updated), and
   * one not built yet is built, unless `build` is false.
   */
  private sortedIndex(spec: Document, build: boolean): SortedIndex | undefined {
    const pattern = keyPatternOf(spec);
    if (pattern === undefined) return undefined;
    if (!this.changes.empty) {
      for (const [name, index] of this.built) this.built.set(name, index.updated(this.changes));
      this.changes = new IndexChanges();
    }
    const name = String(spec.name);
    const current = this.built.get(name);
    if (current !== undefined || !build) return current;
    const index = SortedIndex.build(pattern, this.docs);
    this.built.set(name, index);
    return index;
  }

  private counted(test: (position: number) => boolean): (position: number) => boolean {
    return (position) => {
      this.examinedSoFar++;
      return test(position);
    };
  }

  /**
   * A find with a limit in `_id` order (how planning asks which `$type`
   * aliases the server knows): documents tested in order until the page is
   * full, rather than all of them. Undefined when an index narrows the
   * candidates below the filter's `_id` range: testing those costs less.
   */
  private firstMatchesById(filter: Document, from: number, to: number): number[] | undefined {
    const { start, end, residual } = this.idSlice(filter);
    const indexed = this.narrowestIndex(filter, end - start, true);
    if (indexed !== undefined && indexed.size < end - start) return undefined;
    // The index's test reads key values rather than documents when the index covers the filter.
    const indexTest = indexed?.index.tester(filter);
    const test = compileFilter(residual);
    const page: number[] = [];
    let seen = 0;
    for (let position = start; position < end && seen < to; position++) {
      this.examinedSoFar++;
      if (!(indexTest === undefined ? test(this.docs.raw(position)) : indexTest(position))) continue;
      if (seen++ >= from) page.push(position);
    }
    return page;
  }

  /**
   * A sorted find with a limit (how planning finds chunk boundaries and the
   * run's upper bound): walks a cached sort order and stops at the last row
   * wanted, instead of filtering and sorting the whole collection each time.
   */
  private firstMatchesInOrder(filter: Document, sort: Document, from: number, to: number): number[] {
    const key = JSON.stringify(sort);
    let cached = this.sortOrders.get(key);
    if (cached === undefined || cached.version !== this.version) {
      const all = Array.from({ length: this.docs.size }, (_, i) => i);
      cached = { version: this.version, order: Int32Array.from(this.sortPositions(all, sort)) };
      this.sortOrders.clear();
      this.sortOrders.set(key, cached);
    }
    const test = this.matcher(filter);
    const page: number[] = [];
    let seen = 0;
    for (const position of cached.order) {
      this.examinedSoFar++;
      if (!test(position)) continue;
      if (seen++ >= from) page.push(position);
      if (seen >= to) break;
    }
    return page;
  }

  /** The filter as a test of one document: `_id` bounds compared directly, the rest by mingo. */
  private matcher(filter: Document): (position: number) => boolean {
    const { lower, upper, residual } = idRange(filter);
    const test = Object.keys(residual).length === 0 ? undefined : compileFilter(residual);
    const toLower = lower === undefined ? undefined : idComparator(lower.value, comparePoints);
    const toUpper = upper === undefined ? undefined : idComparator(upper.value, comparePoints);
    return (position) => {
      const raw = this.docs.raw(position);
      if (toLower !== undefined) {
        const order = toLower(raw);
        if (order < 0 || (order === 0 && !lower?.inclusive)) return false;
      }
      if (toUpper !== undefined) {
        const order = toUpper(raw);
        if (order > 0 || (order === 0 && !upper?.inclusive)) return false;
      }
      return test === undefined || test(raw);
    };
  }

  /** Positions (given in `_id` order) in `sort` order. */
  private sortPositions(positions: number[], sort: Document | undefined): number[] {
    if (sort === undefined || Object.keys(sort).length === 0) return positions;
    const keys = Object.entries(sort);
    if (keys.length === 1 && keys[0]?.[0] === '_id')
      return Number(keys[0][1]) < 0 ? positions.reverse() : positions;
    const compare = sortComparator(sort);
    const sortFields = new Set(keys.map(([path]) => path.split('.')[0] as string));
    return positions
      .map((position) => ({ position, doc: decode(this.docs.raw(position), sortFields) }))
      .sort((a, b) => compare(a.doc, b.doc))
      .map((x) => x.position);
  }
}

/** Positions `from` to `to` (exclusive; undefined for all) of `positions`, reading no further. */
function take(positions: Iterable<number>, from: number, to: number | undefined): number[] {
  const page: number[] = [];
  if (to !== undefined && to <= from) return page;
  let seen = 0;
  for (const position of positions) {
    if (seen++ >= from) page.push(position);
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

/** 1 or -1 for no sort or a sort on `_id` alone (ascending unless negative, as sortPositions has it); else undefined. */
function idSortDirection(sort: Document | undefined): 1 | -1 | undefined {
  const keys = Object.keys(sort ?? {});
  if (keys.length === 0) return 1;
  if (keys.length > 1 || keys[0] !== '_id') return undefined;
  return Number(sort?._id) < 0 ? -1 : 1;
}

/** No sort, or ascending `_id`: the storage order. */
function inIdOrder(sort: Document | undefined): boolean {
  const keys = Object.entries(sort ?? {});
  return keys.length === 0 || (keys.length === 1 && keys[0]?.[0] === '_id' && Number(keys[0][1]) > 0);
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
  if (isIdOnly(projection)) return idDocument(raw);
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

/** An inclusion of `_id` alone (`{_id: 1}`): what the `_id` index covers. */
function isIdOnly(projection: Document | undefined): boolean {
  const keys = projection === undefined ? [] : Object.keys(projection);
  return keys.length === 1 && keys[0] === '_id' && Boolean(projection?._id);
}
