import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type BlockCache, type CachedBlock, sharedBlockCache } from './block-cache.ts';

/**
 * Bytes read at once for a document met out of sequence: journal entries
 * are under 600 bytes, so one read fetches one (a larger document takes a
 * second read). Reading more costs: 11,000 scattered reads of 16 KiB took
 * 32-60 ms against 13-16 ms of 2 KiB.
 */
const SCRATCH = Buffer.allocUnsafeSlow(2 * 1024);
/**
 * Reads this close to the one before, in the same direction, this many times
 * running, are a sequential walk, read by whole blocks. A block (1 MiB by
 * default) costs about as much as 100 reads alone (106-124 µs against
 * 0.9-1.5 µs), so it pays for a walk that reads a document every 10 KiB or
 * closer. The 1% of a collection an incremental run reads lies 24 KiB apart
 * on average, scattered through the file: half its steps are under 16 KiB,
 * so a streak of three such steps loaded most of the file's blocks, while
 * eight steps under 8 KiB running come up by chance once in 24,000.
 */
const NEAR_BYTES = 8 * 1024;
const SEQUENTIAL_STREAK = 8;
/** Bytes written to a new dump at a time. */
const WRITE_BYTES = 1024 * 1024;

let nextFileId = 0;
const closeOnCollect = new FinalizationRegistry<{ fd: number; id: number; cache: BlockCache }>(
  ({ fd, id, cache }) => {
    cache.forget(id);
    try {
      closeSync(fd);
    } catch {
      // Nothing is left to read it; a descriptor that will not close is not worth ending the process for.
    }
  },
);

/**
 * A BSON dump file (documents concatenated, each starting with its int32
 * length) whose documents are read where they lie, when asked for, rather
 * than held in memory. A sequential walk (a scan, a range read in file
 * order) reads whole blocks through a BlockCache; a document met out of
 * sequence (a binary search's probe, a changed document's new place in an
 * index) is read alone and not cached, so a scattered walk does not churn
 * the cache a block per document.
 *
 * The file must not change while it is read: a dump is replaced by writing
 * a new file and renaming it over the old one (see writeDumpFile), which an
 * open DumpFile goes on reading. Its descriptor is closed by `close`, or
 * when nothing refers to it any more (a cursor's snapshot keeps it open).
 */
export class DumpFile {
  readonly size: number;
  private readonly id = nextFileId++;
  private readonly blockBytes: number;
  private fd: number | undefined;
  /** The block read from last, used again without a cache lookup while it is held. */
  private current: { readonly index: number; readonly block: CachedBlock } | undefined;
  /** The document read alone last: a write reads the document it replaces twice. */
  private single: { readonly offset: number; readonly raw: Buffer } | undefined;
  private lastOffset = -1;
  private direction = 0;
  private streak = 0;

  private constructor(
    /** The path it is known by, for messages: a new dump is opened before it is renamed there. */
    readonly path: string,
    fd: number,
    private readonly cache: BlockCache,
  ) {
    this.fd = fd;
    this.size = fstatSync(fd).size;
    this.blockBytes = cache.blockBytes;
    closeOnCollect.register(this, { fd, id: this.id, cache }, this);
  }

  static open(path: string, cache: BlockCache = sharedBlockCache, knownAs = path): DumpFile {
    return new DumpFile(knownAs, openSync(path, 'r'), cache);
  }

  /**
   * Calls `found` with each document's offset and bytes, in file order,
   * reading the file block by block.
   * Throws on a corrupt length or a truncated last document.
   */
  scan(found: (offset: number, raw: Buffer) => void): void {
    for (let offset = 0; offset < this.size; ) {
      const raw = this.view(offset, true, true);
      found(offset, raw);
      offset += raw.length;
    }
  }

  /**
   * The document at `offset` (where one starts: lengths are checked by
   * `scan` only), as a view of a cached block, or a copy when read alone.
   */
  view(offset: number, sequential = this.follows(offset), check = false): Buffer {
    const block = this.blockHolding(offset, sequential, check);
    if (block === undefined) return this.readAlone(offset, check);
    const at = offset % this.blockBytes;
    return block.subarray(at, at + block.readInt32LE(at));
  }

  /**
   * `read` of the bytes the document at `offset` is in and where in them it
   * starts (a cached block, or when read alone the buffer it was read into),
   * read as `view` reads it but making no view and, read alone, no copy: a
   * walk of a million `_id`s makes none. The bytes are `read`'s only while
   * it runs: it must keep nothing that refers to them.
   */
  read<T>(offset: number, read: (bytes: Buffer, at: number) => T): T {
    const block = this.blockHolding(offset, this.follows(offset), false);
    return block === undefined
      ? read(this.readAlone(offset, false, true), 0)
      : read(block, offset % this.blockBytes);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeOnCollect.unregister(this);
    this.cache.forget(this.id);
    closeSync(this.fd);
    this.fd = undefined;
    this.current = undefined;
    this.single = undefined;
  }

  /**
   * The cached block the whole document at `offset` is in (loaded when the
   * read is `sequential`); undefined when it is to be read alone.
   */
  private blockHolding(offset: number, sequential: boolean, check: boolean): Buffer | undefined {
    const index = Math.floor(offset / this.blockBytes);
    let current = this.current;
    if (current === undefined || current.index !== index || current.block.evicted) {
      const block = this.cache.get(this.id, index) ?? (sequential ? this.load(index) : undefined);
      if (block === undefined) return undefined;
      current = { index, block };
      this.current = current;
    }
    const bytes = current.block.bytes;
    const at = offset - index * this.blockBytes;
    if (at + 4 > bytes.length) return undefined;
    const size = bytes.readInt32LE(at);
    if (check) this.checked(offset, size);
    // A document across the block's end is read alone: one in thousands.
    return at + size > bytes.length ? undefined : bytes;
  }

  /** Whether the read at `offset` continues a walk through the file, forward or backward. */
  private follows(offset: number): boolean {
    const step = offset - this.lastOffset;
    if (step !== 0) {
      const direction = Math.sign(step);
      const near = Math.abs(step) <= NEAR_BYTES;
      this.streak = near ? (direction === this.direction ? this.streak + 1 : 1) : 0;
      this.direction = direction;
      this.lastOffset = offset;
    }
    return this.streak >= SEQUENTIAL_STREAK;
  }

  private load(index: number): CachedBlock {
    const start = index * this.blockBytes;
    const bytes = Buffer.allocUnsafeSlow(Math.min(this.blockBytes, this.size - start));
    this.readFully(bytes, start);
    return this.cache.put(this.id, index, bytes);
  }

  /**
   * The document at `offset`, read without the block cache: a copy, kept as
   * `single`, or when `borrowed` and it fits in one read, a view of the
   * scratch buffer it was read into, valid until any dump file reads alone again.
   */
  private readAlone(offset: number, check: boolean, borrowed = false): Buffer {
    if (this.single?.offset === offset) return this.single.raw;
    const head = this.readAt(SCRATCH, offset, Math.min(SCRATCH.length, this.size - offset));
    const size = head < 4 ? this.checked(offset, undefined) : SCRATCH.readInt32LE(0);
    if (check) this.checked(offset, size);
    if (borrowed && size <= head) return SCRATCH.subarray(0, size);
    const raw = Buffer.allocUnsafe(size);
    if (size <= head) SCRATCH.copy(raw, 0, 0, size);
    else this.readFully(raw, offset);
    this.single = { offset, raw };
    return raw;
  }

  /** `size`, the length read at `offset` (undefined when the file ends first), when it is a document's; else throws. */
  private checked(offset: number, size: number | undefined): number {
    if (size === undefined || offset + size > this.size)
      throw new Error(`${this.path}: ${this.size - offset} bytes of a truncated BSON document at the end`);
    if (size < 5) throw new Error(`${this.path}: corrupt BSON document length ${size} at byte ${offset}`);
    return size;
  }

  private readFully(into: Buffer, position: number): void {
    for (let done = 0; done < into.length; ) {
      const read = this.readAt(into.subarray(done), position + done, into.length - done);
      if (read === 0) throw new Error(`${this.path}: ended at byte ${position + done} while it was read`);
      done += read;
    }
  }

  private readAt(into: Buffer, position: number, length: number): number {
    if (this.fd === undefined) throw new Error(`${this.path}: read after the dump file was closed`);
    return readSync(this.fd, into, 0, length, position);
  }
}

/**
 * Writes `documents` as a dump at `path`: to a temporary file beside it,
 * renamed over `path` once whole, so a DumpFile reading the old dump goes on
 * reading it. Returns the new dump, opened, and where each document is in it.
 */
export async function writeDumpFile(
  path: string,
  documents: Iterable<Buffer>,
  count: number,
  cache: BlockCache = sharedBlockCache,
): Promise<{ file: DumpFile; offsets: Float64Array }> {
  const temporary = join(dirname(path), `.${basename(path)}.tmp`);
  const offsets = new Float64Array(count);
  const out = await open(temporary, 'w');
  try {
    const buffer = Buffer.allocUnsafeSlow(WRITE_BYTES);
    let used = 0;
    let written = 0;
    let i = 0;
    const flush = async (bytes: Buffer) => {
      for (let done = 0; done < bytes.length; )
        done += (await out.write(bytes, done, bytes.length - done)).bytesWritten;
      written += bytes.length;
    };
    for (const raw of documents) {
      offsets[i++] = written + used;
      if (used + raw.length > buffer.length) {
        await flush(buffer.subarray(0, used));
        used = 0;
      }
      if (raw.length > buffer.length) await flush(raw);
      else used += raw.copy(buffer, used);
    }
    await flush(buffer.subarray(0, used));
    if (i !== count) throw new Error(`${path}: ${i} documents written where ${count} were expected`);
  } catch (error) {
    await out.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await out.close();
  // Opened before the rename, so it is the file just written whatever happens to the path.
  const file = DumpFile.open(temporary, cache, path);
  await rename(temporary, path);
  return { file, offsets };
}
