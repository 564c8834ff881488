import type { DocumentList } from './cursors.ts';
import { compareStoredIds, storedId, withNewId } from './document-id.ts';
import { DocumentSlabs, type Location, offsetOf, viewOf } from './document-slabs.ts';
import { CommandError } from './errors.ts';

/** Bytes of a slab: a million journal entries (300 MB) take ten. */
export const DEFAULT_SLAB_BYTES = 32 * 1024 * 1024;

/**
 * A collection's documents in `_id` order, addressed by position: one
 * number per document (where its bytes are in the slabs), in a typed array.
 * `_id`s are read from the bytes when compared, not kept as objects.
 * Positions shift with inserts and deletes; a result kept past a write
 * (a cursor) holds locations instead (see `results`).
 */
export class StoredDocuments {
  private readonly slabs: DocumentSlabs;
  private locations = new Float64Array(16);
  private count = 0;

  constructor(slabBytes = DEFAULT_SLAB_BYTES) {
    this.slabs = new DocumentSlabs(slabBytes);
  }

  get size(): number {
    return this.count;
  }

  get bytes(): DocumentSlabs['bytes'] {
    return this.slabs.bytes;
  }

  /** The document at `position`, as a view of its slab. */
  raw(position: number): Buffer {
    return this.slabs.view(this.locations[position] as number);
  }

  /** The `_id` at `position`, with exact types. */
  id(position: number): unknown {
    const location = this.locations[position] as number;
    return storedId(this.slabs.slabOf(location), offsetOf(location));
  }

  *raws(): Generator<Buffer> {
    const slabs = this.slabs.snapshot();
    const locations = this.locations.slice(0, this.count);
    for (const location of locations) yield viewOf(slabs, location);
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

  /** Stores a copy of `raw`, in its `_id`'s place; one without an `_id` gets a new ObjectId. */
  insert(raw: Buffer): void {
    this.place(this.slabs.append(withNewId(raw) ?? raw));
  }

  /** Inserts the documents of a BSON dump file, read straight into the slabs. */
  async insertFile(path: string): Promise<void> {
    // Given their new `_id` once the file is read: nothing may be appended while it is read into the slabs.
    const withoutId: Buffer[] = [];
    await this.slabs.appendFile(path, (location) => {
      const missingId = withNewId(this.slabs.view(location));
      if (missingId === undefined) return this.place(location);
      this.slabs.release(location);
      withoutId.push(missingId);
    });
    for (const raw of withoutId) this.place(this.slabs.append(raw));
  }

  replace(position: number, raw: Buffer): void {
    this.slabs.release(this.locations[position] as number);
    this.locations[position] = this.slabs.append(raw);
    this.compactIfWasteful();
  }

  /** Removes the documents at `positions` (ascending). */
  remove(positions: readonly number[]): void {
    let kept = 0;
    let next = 0;
    for (let i = 0; i < this.count; i++) {
      const location = this.locations[i] as number;
      if (positions[next] === i) {
        next++;
        this.slabs.release(location);
      } else this.locations[kept++] = location;
    }
    this.count = kept;
    this.compactIfWasteful();
  }

  /**
   * The documents at `positions` as a cursor's result: their locations and
   * the slabs as they are now. A later write appends elsewhere and
   * compaction copies into new slabs, so the result reads the same bytes
   * whatever happens to the collection. `transform` (a projection) is
   * applied batch by batch as the cursor hands them out.
   */
  results(positions: ArrayLike<number>, transform?: (raw: Buffer) => Buffer): DocumentList {
    const locations = new Float64Array(positions.length);
    for (let i = 0; i < positions.length; i++)
      locations[i] = this.locations[positions[i] as number] as number;
    return new LocatedDocuments(this.slabs.snapshot(), locations, transform);
  }

  /** `results` of the positions `[start, end)`. */
  range(start: number, end: number, transform?: (raw: Buffer) => Buffer): DocumentList {
    return new LocatedDocuments(this.slabs.snapshot(), this.locations.slice(start, end), transform);
  }

  /** Puts a stored document in `_id` order; ascending `_id`s (the usual case) append without a search. */
  private place(location: Location): void {
    const raw = this.slabs.view(location);
    let at = this.count;
    if (this.count > 0 && compareStoredIds(raw, this.raw(this.count - 1)) <= 0) {
      at = this.lowerBound((stored) => compareStoredIds(stored, raw), true);
      if (compareStoredIds(this.raw(at), raw) === 0) {
        this.slabs.release(location);
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
  }

  private compactIfWasteful(): void {
    if (this.slabs.wasteful) this.slabs.compact(this.locations, this.count);
  }
}

/** A result held as locations in a snapshot of the slabs; documents are made views batch by batch. */
class LocatedDocuments implements DocumentList {
  constructor(
    private readonly slabs: readonly Buffer[],
    private readonly locations: Float64Array,
    private readonly transform: ((raw: Buffer) => Buffer) | undefined,
  ) {}

  get length(): number {
    return this.locations.length;
  }

  slice(start: number, end: number): Buffer[] {
    const batch: Buffer[] = [];
    for (const location of this.locations.subarray(start, Math.min(end, this.locations.length))) {
      const raw = viewOf(this.slabs, location);
      batch.push(this.transform === undefined ? raw : this.transform(raw));
    }
    return batch;
  }
}
