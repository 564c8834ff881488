/**
 * Where a stored document starts: its slab's number × 2^32 + its byte offset
 * in the slab (exact in a double). Negative locations are not in the slabs
 * (see DocumentStorage): compaction leaves them as they are.
 */
export type Location = number;

const SLAB_STRIDE = 2 ** 32;
const FIRST_SLAB_BYTES = 64 * 1024;

/**
 * Documents as BSON bytes packed into large shared buffers ("slabs"),
 * append-only: a million documents cost a few dozen buffers, not a million,
 * and a document is handed out as a view of its slab, never copied.
 *
 * Bytes once written are never changed: a replaced or deleted document's
 * bytes become garbage, and compaction copies the live documents into new
 * slabs instead of moving them within old ones. A view handed out earlier
 * (a cursor's next batch) therefore stays valid, and keeps its old slab
 * alive until it is dropped.
 */
export class DocumentSlabs {
  /** Replaced by compaction, only ever appended to otherwise: a snapshot of it resolves older locations. */
  private slabs: Buffer[] = [];
  /** Bytes used of the last slab. */
  private used = 0;
  private live = 0;
  private garbage = 0;

  constructor(private readonly slabBytes: number) {
    if (!Number.isInteger(slabBytes) || slabBytes < 1024)
      throw new Error(`slabBytes must be an integer of at least 1024, got ${slabBytes}`);
  }

  /** Bytes of the documents stored, and of replaced or deleted ones not yet compacted away. */
  get bytes(): { readonly live: number; readonly garbage: number; readonly slabs: number } {
    return { live: this.live, garbage: this.garbage, slabs: this.slabs.length };
  }

  /**
   * Whether garbage is more than half the live documents (and more than a
   * slab): compaction then copies at most two bytes for each garbage byte it
   * frees, and memory stays within one and a half times the documents.
   */
  get wasteful(): boolean {
    return this.garbage > this.live / 2 && this.garbage > this.slabBytes;
  }

  /** The slabs now, to read locations of documents stored so far even after a compaction. */
  snapshot(): readonly Buffer[] {
    return this.slabs;
  }

  append(raw: Uint8Array): Location {
    const slab = this.room(raw.length);
    slab.set(raw, this.used);
    const location = (this.slabs.length - 1) * SLAB_STRIDE + this.used;
    this.used += raw.length;
    this.live += raw.length;
    return location;
  }

  view(location: Location): Buffer {
    return viewOf(this.slabs, location);
  }

  /** The slab a document is in; it starts at `offsetOf(location)`. */
  slabOf(location: Location): Buffer {
    return slabOf(this.slabs, location);
  }

  /** Marks a stored document as garbage (replaced or deleted). */
  release(location: Location): void {
    const size = this.view(location).readInt32LE(0);
    this.live -= size;
    this.garbage += size;
  }

  /**
   * Copies the documents at `locations[0..count)` into new slabs, in that
   * order, and rewrites `locations` to where they are now. Everything not
   * listed is dropped; negative locations (not in the slabs) are left as
   * they are.
   */
  compact(locations: Float64Array, count: number): void {
    const old = this.slabs;
    let remaining = this.live;
    this.slabs = [];
    this.used = 0;
    this.live = 0;
    this.garbage = 0;
    for (let i = 0; i < count; i++) {
      if ((locations[i] as number) < 0) continue;
      const raw = viewOf(old, locations[i] as number);
      // Full slabs, and a last one just big enough: compaction knows how much it copies.
      this.room(raw.length, Math.min(this.slabBytes, remaining));
      locations[i] = this.append(raw);
      remaining -= raw.length;
    }
  }

  /**
   * The last slab, or a new one when fewer than `bytes` are free in it: of
   * `preferred` bytes when given, else doubling from a small first slab up to
   * `slabBytes`, so a small collection stays small.
   */
  private room(bytes: number, preferred?: number): Buffer {
    const last = this.slabs.at(-1);
    if (last !== undefined && last.length - this.used >= bytes) return last;
    const grown = Math.min(this.slabBytes, Math.max((last?.length ?? FIRST_SLAB_BYTES / 2) * 2, this.live));
    const slab = Buffer.allocUnsafeSlow(Math.max(bytes, preferred ?? grown));
    this.slabs.push(slab);
    this.used = 0;
    return slab;
  }
}

export function offsetOf(location: Location): number {
  return location % SLAB_STRIDE;
}

/** The slab of `slabs` the document at `location` is in; it starts at `offsetOf(location)`. */
export function slabOf(slabs: readonly Buffer[], location: Location): Buffer {
  return slabs[Math.floor(location / SLAB_STRIDE)] as Buffer;
}

/** The document at `location` in `slabs`, as a view. */
export function viewOf(slabs: readonly Buffer[], location: Location): Buffer {
  const slab = slabOf(slabs, location);
  const offset = location % SLAB_STRIDE;
  return slab.subarray(offset, offset + slab.readInt32LE(offset));
}
