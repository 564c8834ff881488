import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import avro from 'avsc';

/**
 * Avro object container files, as Iceberg's manifests and manifest lists use
 * them. avsc encodes and decodes the records; the container is written here so
 * that the schema in the header is exactly the JSON given, with Iceberg's
 * `field-id` and `element-id` attributes that readers resolve columns by
 * (avsc's own schema export would drop them).
 */

/**
 * Avro long as bigint: Iceberg longs such as snapshot ids use the whole 64-bit
 * range, which avsc's default number-backed long refuses or rounds.
 */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(value);
    return buffer;
  },
  fromJSON: (value: number | string | bigint) => BigInt(value),
  toJSON: (value: bigint) => Number(value),
  isValid: (value: unknown) => typeof value === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

export type AvroSchema = Record<string, unknown>;

/** Compiled types by schema text: a commit reads and writes manifests of a few schemas, many times. */
const compiledTypes = new Map<string, avro.Type>();
/** Beyond this many schemas (tables × partition specs × format versions) the cache starts again. */
const COMPILED_TYPES_KEPT = 256;

/**
 * An avsc type for `schema` whose longs are bigints. Compiling one (it
 * generates its reader and writer) costs a few milliseconds, which every
 * manifest read or written paid, so types are kept by their schema's text.
 */
export function avroType(schema: AvroSchema): avro.Type {
  const text = JSON.stringify(schema);
  let type = compiledTypes.get(text);
  if (type === undefined) {
    if (compiledTypes.size >= COMPILED_TYPES_KEPT) compiledTypes.clear();
    type = avro.Type.forSchema(schema as avro.Schema, { registry: { long: bigintLong } });
    compiledTypes.set(text, type);
  }
  return type;
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1
const metadataType = avro.Type.forSchema({ type: 'map', values: 'bytes' });
const SYNC_BYTES = 16;
/** Records per block: blocks stay small enough to encode and compress in one go. */
const BLOCK_RECORDS = 1000;

/** Encodes `records` as an Avro container file, deflate-compressed, with `metadata` in the header. */
export function encodeAvroFile(
  schema: AvroSchema,
  records: readonly unknown[],
  metadata: Readonly<Record<string, string>>,
): Buffer {
  const type = avroType(schema);
  const sync = randomBytes(SYNC_BYTES);
  const header = metadataType.toBuffer({
    ...Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v)])),
    'avro.schema': Buffer.from(JSON.stringify(schema)),
    'avro.codec': Buffer.from('deflate'),
  });
  const parts: Buffer[] = [MAGIC, header, sync];
  for (let start = 0; start < records.length; start += BLOCK_RECORDS) {
    const block = records.slice(start, start + BLOCK_RECORDS);
    const data = deflateRawSync(Buffer.concat(block.map((record) => type.toBuffer(record))));
    parts.push(encodeLong(BigInt(block.length)), encodeLong(BigInt(data.length)), data, sync);
  }
  return Buffer.concat(parts);
}

export interface AvroFile {
  readonly schema: AvroSchema;
  readonly metadata: ReadonlyMap<string, string>;
  readonly records: unknown[];
}

/** Decodes an Avro container file written by any writer (codecs null and deflate). */
export function decodeAvroFile(buffer: Buffer, name = 'Avro file'): AvroFile {
  if (!buffer.subarray(0, 4).equals(MAGIC)) throw new Error(`${name} is not an Avro container file`);
  const { value: rawMetadata, offset } = metadataType.decode(buffer, 4) as {
    value: Record<string, Buffer>;
    offset: number;
  };
  const metadata = new Map(Object.entries(rawMetadata).map(([k, v]) => [k, v.toString('utf8')]));
  const schema = JSON.parse(metadata.get('avro.schema') ?? 'null') as AvroSchema;
  if (schema === null) throw new Error(`${name} has no avro.schema in its header`);
  const codec = metadata.get('avro.codec') ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') {
    throw new Error(`${name} uses the Avro codec '${codec}'; only null and deflate are supported`);
  }
  const type = avroType(schema);
  const records: unknown[] = [];
  let position = offset + SYNC_BYTES;
  while (position < buffer.length) {
    const count = decodeLong(buffer, position);
    const size = decodeLong(buffer, count.next);
    const start = size.next;
    const raw = buffer.subarray(start, start + Number(size.value));
    const data = codec === 'deflate' ? inflateRawSync(raw) : raw;
    let at = 0;
    for (let i = 0n; i < count.value; i++) {
      const decoded = type.decode(data, at) as { value: unknown; offset: number };
      if (decoded.offset < 0) throw new Error(`${name}: truncated block at byte ${start}`);
      records.push(decoded.value);
      at = decoded.offset;
    }
    position = start + Number(size.value) + SYNC_BYTES;
  }
  return { schema, metadata, records };
}

/** Zig-zag variable-length long, as Avro encodes block counts and sizes. */
function encodeLong(value: bigint): Buffer {
  let n = (value << 1n) ^ (value >> 63n);
  const bytes: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0n);
  return Buffer.from(bytes);
}

function decodeLong(buffer: Buffer, position: number): { value: bigint; next: number } {
  let n = 0n;
  let shift = 0n;
  let at = position;
  for (;;) {
    const byte = buffer[at++];
    if (byte === undefined) throw new Error('truncated Avro long');
    n |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7n;
  }
  return { value: (n >> 1n) ^ -(n & 1n), next: at };
}
