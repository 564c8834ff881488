import { BSON, type Document, Long } from 'mongodb';

/**
 * Builds cursor replies around documents kept as raw BSON, so stored
 * documents are returned byte for byte (types included) without being
 * deserialized and serialized again, and copied once, into the reply.
 */
export function cursorReply(
  id: bigint,
  ns: string,
  batchName: 'firstBatch' | 'nextBatch',
  docs: readonly Buffer[],
): Buffer {
  const nsBytes = Buffer.from(ns, 'utf8');
  let arrayBytes = 4 + 1;
  for (const [i, doc] of docs.entries()) arrayBytes += headerBytes(String(i)) + doc.length;
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
  const offset = elementOffset(raw, name);
  return offset < 0 ? undefined : elementValue(raw, offset);
}

/** The time of a top-level Date field, without making a Date; undefined when missing or not a Date. */
export function topLevelTime(raw: Buffer, name: string): number | undefined {
  const offset = elementOffset(raw, name);
  return offset < 0 || raw[offset] !== DATE ? undefined : dateAt(raw, raw.indexOf(0, offset + 1) + 1);
}

/** Where the top-level element `name` starts (its type byte); -1 when missing. */
function elementOffset(raw: Buffer, name: string): number {
  let wanted = FIELD_NAMES.get(name);
  if (wanted === undefined) {
    wanted = Buffer.from(name, 'utf8');
    FIELD_NAMES.set(name, wanted);
  }
  let offset = 4;
  while (offset < raw.length - 1) {
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
function valueSize(raw: Buffer, type: number, at: number): number {
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
