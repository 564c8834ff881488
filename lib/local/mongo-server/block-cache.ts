/** One block of a file as held by a BlockCache; `evicted` tells a reader holding it to look it up again. */
export interface CachedBlock {
  readonly bytes: Buffer;
  readonly evicted: boolean;
}

interface Entry extends CachedBlock {
  readonly key: number;
  evicted: boolean;
}

export interface BlockCacheOptions {
  /**
   * Bytes of a block: what one read from the file fetches.
   * @default 1 MiB
   */
  readonly blockBytes?: number;
  /**
   * Bytes of blocks held at most; the least recently used go first.
   * @default 16 MiB
   */
  readonly capacityBytes?: number;
}

/** Where a cache key keeps the file: blocks are numbered below 2^32 (4 PiB of 1 MiB blocks). */
const FILE_STRIDE = 2 ** 32;

/**
 * Blocks of files read from disk, least recently used evicted first, within
 * a fixed number of bytes. A block is never rewritten: one evicted while a
 * reader still holds a view of it stays valid for that reader, and its
 * memory is freed when the last view is dropped.
 */
export class BlockCache {
  readonly blockBytes: number;
  readonly capacityBytes: number;
  /** In order of use, least recent first (a Map iterates in insertion order). */
  private readonly blocks = new Map<number, Entry>();
  private held = 0;

  constructor(options: BlockCacheOptions = {}) {
    this.blockBytes = options.blockBytes ?? 1024 * 1024;
    this.capacityBytes = options.capacityBytes ?? 16 * 1024 * 1024;
    if (!Number.isInteger(this.blockBytes) || this.blockBytes < 1024)
      throw new Error(`blockBytes must be an integer of at least 1024, got ${this.blockBytes}`);
    if (!Number.isInteger(this.capacityBytes) || this.capacityBytes < this.blockBytes)
      throw new Error(
        `capacityBytes must be an integer of at least blockBytes (${this.blockBytes}), got ${this.capacityBytes}`,
      );
  }

  /** Bytes of the blocks held now. */
  get bytes(): number {
    return this.held;
  }

  /** Block `index` of file `file`, now the most recently used; undefined when not held. */
  get(file: number, index: number): CachedBlock | undefined {
    const key = file * FILE_STRIDE + index;
    const block = this.blocks.get(key);
    if (block === undefined) return undefined;
    this.blocks.delete(key);
    this.blocks.set(key, block);
    return block;
  }

  /** Holds block `index` of file `file`, evicting the least recently used blocks to make room. */
  put(file: number, index: number, bytes: Buffer): CachedBlock {
    const key = file * FILE_STRIDE + index;
    this.evict(this.blocks.get(key));
    for (const oldest of this.blocks.values()) {
      if (this.held + bytes.length <= this.capacityBytes) break;
      this.evict(oldest);
    }
    const block = { key, bytes, evicted: false };
    this.blocks.set(key, block);
    this.held += bytes.length;
    return block;
  }

  /** Drops the blocks of file `file` (one no longer read). */
  forget(file: number): void {
    for (const [key, block] of this.blocks) if (Math.floor(key / FILE_STRIDE) === file) this.evict(block);
  }

  private evict(block: Entry | undefined): void {
    if (block === undefined) return;
    block.evicted = true;
    this.held -= block.bytes.length;
    this.blocks.delete(block.key);
  }
}

/** The cache every dump file read by this process shares, unless given its own. */
export const sharedBlockCache = new BlockCache();
