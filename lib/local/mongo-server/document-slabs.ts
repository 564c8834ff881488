import { open } from 'node:fs/promises';

/** Where a stored document starts: its slab's number × 2^32 + its byte offset in the slab (exact in a double). */
export type Location = number;

const SLAB_STRIDE = 2 ** 32;
const FIRST_SLAB_BYTES = 64 * 1024;
/** Bytes read from a dump at a time. */
const READ_BYTES = 4 * 1024 * 1024;

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
  /** True while a file is read into the last slab, past its last whole document. */
  private reading = false;

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
    if (this.reading) throw new Error('a document was appended while a file is read into the slabs');
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
    return this.slabs[Math.floor(location / SLAB_STRIDE)] as Buffer;
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
   * listed is dropped.
   */
  compact(locations: Float64Array, count: number): void {
    const old = this.slabs;
    let remaining = this.live;
    this.slabs = [];
    this.used = 0;
    this.live = 0;
    this.garbage = 0;
    for (let i = 0; i < count; i++) {
      const raw = viewOf(old, locations[i] as number);
      // Full slabs, and a last one just big enough: compaction knows how much it copies.
      this.room(raw.length, Math.min(this.slabBytes, remaining));
      locations[i] = this.append(raw);
      remaining -= raw.length;
    }
  }

  /**
   * Appends the documents of a BSON dump file (each starting with its int32
   * length) by reading the file straight into slabs, and calls `stored` with
   * each one's location in file order. A document `stored` throws on stays
   * garbage; the error ends the read.
   */
  async appendFile(path: string, stored: (location: Location) => void): Promise<void> {
    const file = await open(path, 'r');
    this.reading = true;
    try {
      const { size: fileBytes } = await file.stat();
      // Bytes read past the last whole document, at `this.used` in the last slab.
      let pending = 0;
      let position = 0;
      while (position < fileBytes) {
        const needed = pending >= 4 ? this.lastSlab().readInt32LE(this.used) : pending + 1;
        const slab = this.roomForPending(
          pending,
          needed,
          Math.min(this.slabBytes, fileBytes - position + pending),
        );
        const length = Math.min(READ_BYTES, slab.length - this.used - pending);
        const { bytesRead } = await file.read(slab, this.used + pending, length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        pending += bytesRead;
        while (pending >= 4) {
          const size = slab.readInt32LE(this.used);
          if (size < 5)
            throw new Error(`${path}: corrupt BSON document length ${size} at byte ${position - pending}`);
          if (pending < size) break;
          const location = (this.slabs.length - 1) * SLAB_STRIDE + this.used;
          this.used += size;
          this.live += size;
          pending -= size;
          try {
            stored(location);
          } catch (error) {
            this.release(location);
            throw error;
          }
        }
      }
      if (pending > 0) throw new Error(`${path}: ${pending} bytes of a truncated BSON document at the end`);
    } finally {
      this.reading = false;
      await file.close();
    }
  }

  private lastSlab(): Buffer {
    return this.slabs.at(-1) as Buffer;
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

  /**
   * The last slab when it has room for the `bytes` of a document of which
   * `pending` are read already; else a new one of `preferred` bytes, with
   * those pending bytes moved to its start.
   */
  private roomForPending(pending: number, bytes: number, preferred: number): Buffer {
    const last = this.slabs.at(-1);
    if (last !== undefined && last.length - this.used >= bytes) return last;
    const from = this.used;
    const slab = this.room(bytes, preferred);
    if (pending > 0) (last as Buffer).copy(slab, 0, from, from + pending);
    return slab;
  }
}

export function offsetOf(location: Location): number {
  return location % SLAB_STRIDE;
}

/** The document at `location` in `slabs`, as a view. */
export function viewOf(slabs: readonly Buffer[], location: Location): Buffer {
  const slab = slabs[Math.floor(location / SLAB_STRIDE)] as Buffer;
  const offset = location % SLAB_STRIDE;
  return slab.subarray(offset, offset + slab.readInt32LE(offset));
}
