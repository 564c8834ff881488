import { type BlockCache, sharedBlockCache } from './block-cache.ts';
import { detachedStoredId, storedId } from './document-id.ts';
import { DocumentSlabs, type Location, offsetOf, slabOf, viewOf } from './document-slabs.ts';
import { DumpFile, writeDumpFile } from './dump-file.ts';

export type { Location } from './document-slabs.ts';

/** A file location is -(the file's number × 2^40 + the byte offset in it) - 1: dumps of up to 1 TiB, 8,192 of them. */
const FILE_STRIDE = 2 ** 40;
const MAX_FILES = 2 ** 53 / FILE_STRIDE;

/** Bytes of the documents stored (`inFiles` of them in dump files), and of replaced or deleted ones in memory not yet compacted away. */
export interface StoredBytes {
  readonly live: number;
  readonly garbage: number;
  /** Memory buffers (slabs) holding the documents not in files. */
  readonly slabs: number;
  readonly inFiles: number;
}

/** The storage as it is at one moment: what a location handed out then is resolved against. */
export interface StorageSnapshot {
  readonly slabs: readonly Buffer[];
  readonly files: readonly DumpFile[];
}

/**
 * Where documents' bytes are: those read from a dump stay in the dump file
 * and are read from it when a query needs them (see DumpFile), so memory
 * does not carry the collection; documents written after it (inserts, a
 * replaced document's new version) go to memory slabs (see DocumentSlabs).
 * A location (a number) says which, and where. Neither is ever rewritten in
 * place, so a snapshot resolves the locations handed out when it was taken
 * whatever the collection does since.
 */
export class DocumentStorage {
  private slabs: DocumentSlabs;
  /** Replaced when the documents move to a new dump, only ever appended to otherwise. */
  private files: DumpFile[] = [];
  /** Bytes of the documents read from files and not yet replaced or deleted. */
  private inFiles = 0;

  constructor(
    private readonly slabBytes: number,
    private readonly cache: BlockCache = sharedBlockCache,
  ) {
    this.slabs = new DocumentSlabs(slabBytes);
  }

  get bytes(): StoredBytes {
    const { live, garbage, slabs } = this.slabs.bytes;
    return { live: live + this.inFiles, garbage, slabs, inFiles: this.inFiles };
  }

  /** Whether memory holds so much garbage that compaction pays (see DocumentSlabs.wasteful). */
  get wasteful(): boolean {
    return this.slabs.wasteful;
  }

  snapshot(): StorageSnapshot {
    return { slabs: this.slabs.snapshot(), files: this.files };
  }

  /** Stores a copy of `raw` in memory. */
  append(raw: Uint8Array): Location {
    return this.slabs.append(raw);
  }

  view(location: Location): Buffer {
    return location < 0 ? fileView(this.files, location) : this.slabs.view(location);
  }

  /** The `_id` of the document at `location`, read from its bytes. */
  id(location: Location): unknown {
    return location < 0
      ? fileRead(this.files, location, detachedStoredId)
      : storedId(this.slabs.slabOf(location), offsetOf(location));
  }

  /** Marks a stored document as replaced or deleted. */
  release(location: Location): void {
    if (location >= 0) this.slabs.release(location);
    else this.inFiles -= fileRead(this.files, location, (bytes, at) => bytes.readInt32LE(at));
  }

  /** Copies the documents at `locations[0..count)` held in memory into new slabs (see DocumentSlabs.compact). */
  compact(locations: Float64Array, count: number): void {
    this.slabs.compact(locations, count);
  }

  /**
   * Keeps the documents of the dump file at `path` where they are, and calls
   * `stored` with each one's location and bytes, in file order. A document
   * `stored` throws on is not stored; the error ends the read.
   */
  readFile(path: string, stored: (location: Location, raw: Buffer) => void): void {
    if (this.files.length === MAX_FILES)
      throw new Error(`${path}: more than ${MAX_FILES} dumps in one collection`);
    const file = DumpFile.open(path, this.cache);
    if (file.size >= FILE_STRIDE) {
      file.close();
      throw new Error(
        `${path}: a dump of ${file.size} bytes is larger than the ${FILE_STRIDE} this server reads`,
      );
    }
    const number = this.files.length;
    this.files.push(file);
    file.scan((offset, raw) => {
      this.inFiles += raw.length;
      stored(-(number * FILE_STRIDE + offset) - 1, raw);
    });
  }

  /**
   * Writes the documents at `locations` as a dump at `path` (a new file
   * renamed into place), and returns what `adopt` takes to read them from it.
   */
  async writeFile(path: string, locations: Float64Array): Promise<{ file: DumpFile; offsets: Float64Array }> {
    const snapshot = this.snapshot();
    return writeDumpFile(path, documentsAt(snapshot, locations), locations.length, this.cache);
  }

  /**
   * Moves the documents at `locations[0..count)`, just written to `file` at
   * `offsets`, to that file, rewriting `locations`: memory and the older
   * files are then no longer read (snapshots taken before still read them).
   */
  adopt(file: DumpFile, offsets: Float64Array, locations: Float64Array, count: number): void {
    // The older files are closed once no snapshot refers to them (see DumpFile).
    this.files = [file];
    this.slabs = new DocumentSlabs(this.slabBytes);
    this.inFiles = file.size;
    for (let i = 0; i < count; i++) locations[i] = -(offsets[i] as number) - 1;
  }

  /** Closes the dump files; nothing may be read after. */
  close(): void {
    for (const file of this.files) file.close();
  }
}

/** The document at `location` in `snapshot`, as a view. */
export function viewAt(snapshot: StorageSnapshot, location: Location): Buffer {
  return location < 0 ? fileView(snapshot.files, location) : viewOf(snapshot.slabs, location);
}

/**
 * `read` of the bytes the document at `location` in `snapshot` is in (its
 * slab, or a block of its file) and where in them it starts: `viewAt` without
 * making a view.
 */
export function readAt<T>(
  snapshot: StorageSnapshot,
  location: Location,
  read: (bytes: Buffer, at: number) => T,
): T {
  if (location >= 0) return read(slabOf(snapshot.slabs, location), offsetOf(location));
  return fileRead(snapshot.files, location, read);
}

/** `read` of the document at file location `location` (see DumpFile.read). */
function fileRead<T>(
  files: readonly DumpFile[],
  location: Location,
  read: (bytes: Buffer, at: number) => T,
): T {
  const at = -location - 1;
  const number = Math.floor(at / FILE_STRIDE);
  return (files[number] as DumpFile).read(at - number * FILE_STRIDE, read);
}

function fileView(files: readonly DumpFile[], location: Location): Buffer {
  const at = -location - 1;
  const number = Math.floor(at / FILE_STRIDE);
  return (files[number] as DumpFile).view(at - number * FILE_STRIDE);
}

function* documentsAt(snapshot: StorageSnapshot, locations: Float64Array): Generator<Buffer> {
  for (const location of locations) yield viewAt(snapshot, location);
}
