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
