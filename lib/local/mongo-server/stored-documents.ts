import type { BlockCache } from './block-cache.ts';
import type { DocumentList } from './cursors.ts';
import { appendIdDocument, compareStoredIds, storedId, withNewId } from './document-id.ts';
import {
  DocumentStorage,
  type Location,
  readAt,
  type StorageSnapshot,
  type StoredBytes,
  viewAt,
} from './document-storage.ts';
import { CommandError } from './errors.ts';
import { type ArrayElements, ArrayElementsWriter } from './raw-bson.ts';

/** Bytes of a slab: a million journal entries (300 MB) take ten. */
export const DEFAULT_SLAB_BYTES = 32 * 1024 * 1024;

/**
 * A collection's documents in `_id` order, addressed by position: one
 * number per document (where its bytes are: in memory or in the dump file
 * it was read from, see DocumentStorage), in a typed array. `_id`s are read
 * from the bytes when compared, not kept as objects. Positions shift with
 * inserts and deletes; a result kept past a write (a cursor) holds
 * locations instead (see `results`).
 */
export class StoredDocuments {
  private readonly storage: DocumentStorage;
  private locations = new Float64Array(16);
  private count = 0;
  /** Bumped by every write, so a save knows whether what it wrote is still the collection. */
  private writes = 0;

  constructor(slabBytes = DEFAULT_SLAB_BYTES, cache?: BlockCache) {
    this.storage = new DocumentStorage(slabBytes, cache);
  }

  get size(): number {
    return this.count;
  }

  /** Changes with every write: what was read by position holds while it stays the same. */
  get version(): number {
    return this.writes;
  }

  get bytes(): StoredBytes {
    return this.storage.bytes;
  }

  /** The document at `position`, as a view of its slab or of a block of its file. */
  raw(position: number): Buffer {
    return this.storage.view(this.locations[position] as number);
  }

  /** The `_id` at `position`, with exact types. */
  id(position: number): unknown {
    return this.storage.id(this.locations[position] as number);
  }

  *raws(): Generator<Buffer> {
    const snapshot = this.storage.snapshot();
    const locations = this.locations.slice(0, this.count);
    for (const location of locations) yield viewAt(snapshot, location);
  }

  /** The first position whose `_id` compares (by `compare`, with the value searched for) ≥ 0, or > 0 when not `inclusive`. */
  lowerBound(compare: (raw: Buffer) => number, inclusive: boolean): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const order = compare(this.raw(mid));
      if (order < 0 || (!inclusive && order === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Stores a copy of `raw`, in its `_id`'s place, and returns that position; one without an `_id` gets a new ObjectId. */
  insert(raw: Buffer): number {
    this.writes++;
    return this.place(this.storage.append(withNewId(raw) ?? raw));
  }

  /**
   * Inserts the documents of a BSON dump file, which stay in the file: it
   * must not change while the collection reads it (`saveFile` writes a new
   * one). Documents without an `_id` get one, and are kept in memory.
   */
  insertFile(path: string): void {
    this.writes++;
    // Placed after the file's: new ObjectIds sort last, and the file's documents usually come in `_id` order.
    const withoutId: Buffer[] = [];
    this.storage.readFile(path, (location, raw) => {
      const missingId = withNewId(raw);
      if (missingId === undefined) return this.place(location, raw);
      this.storage.release(location);
      withoutId.push(missingId);
    });
    for (const raw of withoutId) this.place(this.storage.append(raw));
  }

  /**
   * Writes every document, in `_id` order, as a dump at `path` (a new file
   * renamed into place), and reads them from there from then on, unless the
   * collection changed while it was written.
   */
  async saveFile(path: string): Promise<void> {
    const writes = this.writes;
    const { file, offsets } = await this.storage.writeFile(path, this.locations.slice(0, this.count));
    if (this.writes === writes) this.storage.adopt(file, offsets, this.locations, this.count);
    else file.close();
  }

  replace(position: number, raw: Buffer): void {
    this.writes++;
    this.storage.release(this.locations[position] as number);
    this.locations[position] = this.storage.append(raw);
    this.compactIfWasteful();
  }

  /** Removes the documents at `positions` (ascending). */
  remove(positions: readonly number[]): void {
    this.writes++;
    let kept = 0;
    let next = 0;
    for (let i = 0; i < this.count; i++) {
      const location = this.locations[i] as number;
      if (positions[next] === i) {
        next++;
        this.storage.release(location);
      } else this.locations[kept++] = location;
    }
    this.count = kept;
    this.compactIfWasteful();
  }

  /**
   * The documents at `positions` as a cursor's result: their locations and
   * the storage as it is now. A later write appends elsewhere, compaction
   * copies into new slabs and a save writes a new dump file, so the result
   * reads the same bytes whatever happens to the collection. `transform` (a projection) is
   * applied batch by batch as the cursor hands them out.
   */
  results(positions: ArrayLike<number>, transform?: (raw: Buffer) => Buffer): DocumentList {
    const locations = new Float64Array(positions.length);
    for (let i = 0; i < positions.length; i++)
      locations[i] = this.locations[positions[i] as number] as number;
    return new LocatedDocuments(this.storage.snapshot(), locations, transform);
  }

  /** `results` of the positions `[start, end)`. */
  range(start: number, end: number, transform?: (raw: Buffer) => Buffer): DocumentList {
    return new LocatedDocuments(this.storage.snapshot(), this.locations.slice(start, end), transform);
  }

  /**
   * `{_id}` of each document at the positions `[start, end)`, in reverse
   * when `descending`, held as `results` holds documents: what a query
   * covered by the `_id` index answers, written batch by batch from the
   * stored `_id`s (see LocatedIds).
   */
  ids(start: number, end: number, descending: boolean): DocumentList {
    const locations = this.locations.slice(start, end);
    return new LocatedIds(this.storage.snapshot(), descending ? locations.reverse() : locations);
  }

  /** Closes the dump files documents are read from; nothing may be read after. */
  close(): void {
    this.storage.close();
  }

  /** Puts a stored document in `_id` order, at the position returned; ascending `_id`s (the usual case) append without a search. */
  private place(location: Location, raw = this.storage.view(location)): number {
    let at = this.count;
    if (this.count > 0 && compareStoredIds(raw, this.raw(this.count - 1)) <= 0) {
      at = this.lowerBound((stored) => compareStoredIds(stored, raw), true);
      if (compareStoredIds(this.raw(at), raw) === 0) {
        this.storage.release(location);
        throw new CommandError(
          11000,
          'DuplicateKey',
          `E11000 duplicate key error collection: dup key: { _id: ${JSON.stringify(String(storedId(raw)))} }`,
        );
      }
    }
    if (this.count === this.locations.length) {
      const grown = new Float64Array(this.locations.length * 2);
      grown.set(this.locations);
      this.locations = grown;
    }
    this.locations.copyWithin(at + 1, at, this.count);
    this.locations[at] = location;
    this.count++;
    return at;
  }

  private compactIfWasteful(): void {
    if (this.storage.wasteful) this.storage.compact(this.locations, this.count);
  }
}

/** A result held as locations in a snapshot of the storage; documents are made views batch by batch. */
class LocatedDocuments implements DocumentList {
  constructor(
    private readonly storage: StorageSnapshot,
    private readonly locations: Float64Array,
    private readonly transform: ((raw: Buffer) => Buffer) | undefined,
  ) {}

  get length(): number {
    return this.locations.length;
  }

  slice(start: number, end: number): Buffer[] {
    const batch: Buffer[] = [];
    for (const location of this.locations.subarray(start, Math.min(end, this.locations.length))) {
      const raw = viewAt(this.storage, location);
      batch.push(this.transform === undefined ? raw : this.transform(raw));
    }
    return batch;
  }
}

/** Bytes of a `{_id: ObjectId}` batch element with an index of up to five digits. */
const ID_ELEMENT_BYTES = 1 + 5 + 1 + 22;

/**
 * `{_id}` of each document of a result held as LocatedDocuments holds it,
 * written into one buffer per batch straight from the bytes the documents
 * are in: no document is decoded, copied or made a view of.
 */
class LocatedIds implements DocumentList {
  constructor(
    private readonly storage: StorageSnapshot,
    private readonly locations: Float64Array,
  ) {}

  get length(): number {
    return this.locations.length;
  }

  slice(start: number, end: number): ArrayElements {
    const last = Math.min(end, this.locations.length);
    const out = new ArrayElementsWriter(Math.max(0, last - start) * ID_ELEMENT_BYTES);
    const append = (bytes: Buffer, at: number) => appendIdDocument(out, bytes, at);
    for (let i = start; i < last; i++) readAt(this.storage, this.locations[i] as number, append);
    return out.finish();
  }
}
