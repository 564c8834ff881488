import { BSON, type Document, Long } from 'mongodb';

/**
 * Documents written as the elements of a BSON array (`"0"`, `"1"`, ...),
 * one after another in one buffer: a batch of small documents (a key
 * listing's `{_id}`s) made without a Buffer for each.
 */
export class ArrayElements {
  constructor(
    readonly bytes: Buffer,
    readonly length: number,
  ) {}

  /** The documents, each as a view. */
  documents(): Buffer[] {
    const docs: Buffer[] = [];
    for (let at = 0; at < this.bytes.length; ) {
      const start = this.bytes.indexOf(0, at + 1) + 1;
      at = start + this.bytes.readInt32LE(start);
      docs.push(this.bytes.subarray(start, at));
    }
    return docs;
  }
}

/** The documents of a reply batch: each its own Buffer, or packed as ArrayElements. */
export type Batch = readonly Buffer[] | ArrayElements;

/** The documents of a batch, each its own Buffer (views into a packed one). */
export function batchDocuments(batch: Batch): readonly Buffer[] {
  return batch instanceof ArrayElements ? batch.documents() : batch;
}

/** Element copies up to this many bytes are a loop: Buffer.copy of a part makes a view to copy from. */
const COPY_LOOP_BYTES = 64;

/** Writes ArrayElements document by document, growing its buffer as needed. */
export class ArrayElementsWriter {
  private bytes: Buffer;
  private used = 0;
  private count = 0;

  constructor(expectedBytes: number) {
    this.bytes = Buffer.allocUnsafe(Math.max(64, expectedBytes));
  }

  /** Appends the document whose one element is `source[start, end)` (type, name, value); none when empty. */
  appendSingleElement(source: Buffer, start: number, end: number): void {
    const digits = decimalDigits(this.count);
    const size = 4 + (end - start) + 1;
    this.reserve(1 + digits + 1 + size);
    const out = this.bytes;
    let at = this.used;
    out[at] = 0x03;
    for (let n = this.count, i = digits; i > 0; i--, n = Math.floor(n / 10)) out[at + i] = 0x30 + (n % 10);
    at += 1 + digits;
    out[at++] = 0;
    at = out.writeInt32LE(size, at);
    if (end - start > COPY_LOOP_BYTES) at += source.copy(out, at, start, end);
    else for (let i = start; i < end; i++) out[at++] = source[i] as number;
    out[at++] = 0;
    this.used = at;
    this.count++;
  }

  finish(): ArrayElements {
    return new ArrayElements(this.bytes.subarray(0, this.used), this.count);
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + bytes));
    this.bytes.copy(grown, 0, 0, this.used);
    this.bytes = grown;
  }
}

function decimalDigits(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/**
 * Builds cursor replies around documents kept as raw BSON, so stored
 * documents are returned byte for byte (types included) without being
 * deserialized and serialized again, and copied once, into the reply.
 */
export function cursorReply(
  id: bigint,
  ns: string,
  batchName: 'firstBatch' | 'nextBatch',
  docs: Batch,
): Buffer {
  const nsBytes = Buffer.from(ns, 'utf8');
  let arrayBytes = 4 + 1;
  if (docs instanceof ArrayElements) arrayBytes += docs.bytes.length;
  else for (const [i, doc] of docs.entries()) arrayBytes += headerBytes(String(i)) + doc.length;
  const cursorBytes =
    4 +
    headerBytes(batchName) +
    arrayBytes +
    headerBytes('id') +
    8 +
    headerBytes('ns') +
    4 +
    nsBytes.length +
    2;
  const total = 4 + headerBytes('cursor') + cursorBytes + headerBytes('ok') + 8 + 1;
  const out = Buffer.allocUnsafe(total);
  let at = out.writeInt32LE(total, 0);
  at = writeHeader(out, at, 0x03, 'cursor');
  at = out.writeInt32LE(cursorBytes, at);
  at = writeHeader(out, at, 0x04, batchName);
  at = out.writeInt32LE(arrayBytes, at);
  if (docs instanceof ArrayElements) at += docs.bytes.copy(out, at);
  else
    for (const [i, doc] of docs.entries()) {
      at = writeHeader(out, at, 0x03, String(i));
      at += doc.copy(out, at);
    }
  at = out.writeUInt8(0, at);
  at = writeHeader(out, at, 0x12, 'id');
  at = out.writeBigInt64LE(id, at);
  at = writeHeader(out, at, 0x02, 'ns');
  at = out.writeInt32LE(nsBytes.length + 1, at);
  at += nsBytes.copy(out, at);
  at = out.writeUInt8(0, at);
  at = out.writeUInt8(0, at);
  at = writeHeader(out, at, 0x01, 'ok');
  at = out.writeDoubleLE(1, at);
  out.writeUInt8(0, at);
  return out;
}

export function serialize(doc: Document): Buffer {
  return Buffer.from(BSON.serialize(doc));
}

export function longId(id: bigint): Long {
  return Long.fromBigInt(id);
}

/** Bytes of an element's type and (ASCII) name. */
function headerBytes(name: string): number {
  return 1 + name.length + 1;
}

function writeHeader(out: Buffer, at: number, type: number, name: string): number {
  out[at] = type;
  const end = at + 1 + out.write(name, at + 1, 'latin1');
  out[end] = 0;
  return end + 1;
}

/**
 * A top-level field of a stored document, with exact BSON types (as
 * `promoteValues: false` reads it); undefined when missing. Finds the field
 * by walking the element headers: reading one key field of a million
 * documents should not decode them.
 */
export function topLevelField(raw: Buffer, name: string): unknown {
  const offset = topLevelElement(raw, name);
  return offset < 0 ? undefined : elementValue(raw, offset);
}

/** The time of a top-level Date field, without making a Date; undefined when missing or not a Date. */
export function topLevelTime(raw: Buffer, name: string): number | undefined {
  const offset = topLevelElement(raw, name);
  return offset < 0 || raw[offset] !== DATE ? undefined : dateAt(raw, raw.indexOf(0, offset + 1) + 1);
}

/**
 * Where the top-level element `name` of the document at byte `at` of `raw`
 * starts (its type byte); -1 when missing.
 */
export function topLevelElement(raw: Buffer, name: string, at = 0): number {
  let wanted = FIELD_NAMES.get(name);
  if (wanted === undefined) {
    wanted = Buffer.from(name, 'utf8');
    FIELD_NAMES.set(name, wanted);
  }
  const end = at + raw.readInt32LE(at) - 1;
  let offset = at + 4;
  while (offset < end) {
    const type = raw[offset] as number;
    const nameEnd = raw.indexOf(0, offset + 1);
    if (
      nameEnd - offset - 1 === wanted.length &&
      raw.compare(wanted, 0, wanted.length, offset + 1, nameEnd) === 0
    )
      return offset;
    offset = nameEnd + 1 + valueSize(raw, type, nameEnd + 1);
  }
  return -1;
}

/** Field names as bytes, as they are looked up again and again. */
const FIELD_NAMES = new Map<string, Buffer>();
const DATE = 0x09;
const NULL = 0x0a;

function dateAt(raw: Buffer, valueAt: number): number {
  return raw.readInt32LE(valueAt + 4) * 2 ** 32 + raw.readUInt32LE(valueAt);
}

function elementValue(raw: Buffer, offset: number): unknown {
  const type = raw[offset] as number;
  const valueAt = raw.indexOf(0, offset + 1) + 1;
  if (type === DATE) return new Date(dateAt(raw, valueAt));
  if (type === NULL) return null;
  const element = raw.subarray(offset, valueAt + valueSize(raw, type, valueAt));
  const doc = Buffer.alloc(4 + element.length + 1);
  doc.writeInt32LE(doc.length, 0);
  element.copy(doc, 4);
  return Object.values(BSON.deserialize(doc, { promoteValues: false }))[0];
}

/** Bytes of a value of BSON `type` starting at `at`. */
export function valueSize(raw: Buffer, type: number, at: number): number {
  switch (type) {
    case 0x06: // undefined
    case NULL:
    case 0x7f: // MaxKey
    case 0xff: // MinKey
      return 0;
    case 0x08: // boolean
      return 1;
    case 0x10: // int32
      return 4;
    case 0x01: // double
    case DATE:
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x07: // ObjectId
      return 12;
    case 0x13: // decimal128
      return 16;
    case 0x02: // string
    case 0x0d: // JavaScript code
    case 0x0e: // symbol
      return 4 + raw.readInt32LE(at);
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope
      return raw.readInt32LE(at);
    case 0x05: // binary: length, subtype, bytes
      return 4 + 1 + raw.readInt32LE(at);
    case 0x0b: {
      // regex: pattern and options, each a C string
      const patternEnd = raw.indexOf(0, at);
      return raw.indexOf(0, patternEnd + 1) + 1 - at;
    }
    case 0x0c: // DBPointer: string, then 12 bytes
      return 4 + raw.readInt32LE(at) + 12;
    default:
      throw new Error(`unknown BSON element type 0x${type.toString(16)} at byte ${at}`);
  }
}
