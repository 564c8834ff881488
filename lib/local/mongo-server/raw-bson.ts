import { BSON, type Document, Long } from 'mongodb';

/**
 * Builds cursor replies around documents kept as raw BSON, so stored
 * documents are returned byte for byte (types included) without being
 * deserialized and serialized again.
 */
export function cursorReply(
  id: bigint,
  ns: string,
  batchName: 'firstBatch' | 'nextBatch',
  docs: readonly Buffer[],
): Buffer {
  const cursor = concatDocument([
    arrayElement(batchName, docs),
    element(0x12, 'id', int64(id)),
    element(0x02, 'ns', bsonString(ns)),
  ]);
  return concatDocument([element(0x03, 'cursor', cursor), element(0x01, 'ok', double(1))]);
}

export function serialize(doc: Document): Buffer {
  return Buffer.from(BSON.serialize(doc));
}

export function longId(id: bigint): Long {
  return Long.fromBigInt(id);
}

function arrayElement(name: string, docs: readonly Buffer[]): Buffer {
  return element(0x04, name, concatDocument(docs.map((doc, i) => element(0x03, String(i), doc))));
}

function element(type: number, name: string, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(`${name}\0`, 'utf8'), value]);
}

function concatDocument(elements: readonly Buffer[]): Buffer {
  const body = Buffer.concat(elements);
  const out = Buffer.alloc(body.length + 5);
  out.writeInt32LE(body.length + 5, 0);
  body.copy(out, 4);
  out.writeUInt8(0, body.length + 4);
  return out;
}

function int64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(value);
  return out;
}

function double(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeDoubleLE(value);
  return out;
}

function bsonString(value: string): Buffer {
  const bytes = Buffer.from(`${value}\0`, 'utf8');
  const out = Buffer.alloc(4);
  out.writeInt32LE(bytes.length);
  return Buffer.concat([out, bytes]);
}

/**
 * A top-level field of a stored document, with exact BSON types (as
 * `promoteValues: false` reads it); undefined when missing. Finds the field
 * by walking the element headers: reading one key field of a million
 * documents should not decode them.
 */
export function topLevelField(raw: Buffer, name: string): unknown {
  let wanted = FIELD_NAMES.get(name);
  if (wanted === undefined) {
    wanted = Buffer.from(name, 'utf8');
    FIELD_NAMES.set(name, wanted);
  }
  let offset = 4;
  while (offset < raw.length - 1) {
    const type = raw[offset] as number;
    const nameEnd = raw.indexOf(0, offset + 1);
    const valueAt = nameEnd + 1;
    const size = valueSize(raw, type, valueAt);
    if (
      nameEnd - offset - 1 === wanted.length &&
      raw.compare(wanted, 0, wanted.length, offset + 1, nameEnd) === 0
    )
      return elementValue(raw, type, offset, valueAt, size);
    offset = valueAt + size;
  }
  return undefined;
}

/** Field names as bytes, as they are looked up again and again. */
const FIELD_NAMES = new Map<string, Buffer>();
const DATE = 0x09;
const NULL = 0x0a;

function elementValue(raw: Buffer, type: number, offset: number, valueAt: number, size: number): unknown {
  if (type === DATE) return new Date(raw.readInt32LE(valueAt + 4) * 2 ** 32 + raw.readUInt32LE(valueAt));
  if (type === NULL) return null;
  const element = raw.subarray(offset, valueAt + size);
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
