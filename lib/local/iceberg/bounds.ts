import type { FieldType } from '../../model/index.ts';

/**
 * Iceberg's single-value binary serialization, used for column bounds in
 * manifests and partition summaries in manifest lists: little-endian ints,
 * longs, doubles, dates (days) and timestamps (microseconds); UTF-8 strings;
 * decimals as big-endian two's-complement unscaled values in the fewest bytes.
 */

/** Iceberg's default metrics mode, truncate(16): long strings keep a 16-character prefix. */
export const STRING_BOUND_LENGTH = 16;

type Primitive = Extract<FieldType, { kind: 'primitive' | 'decimal' }>;

/** Serializes a value as DuckDB returns it (DuckDB value objects for dates, timestamps, decimals, blobs). */
export function serializeBound(type: Primitive, value: unknown): Buffer {
  if (type.kind === 'decimal') return serializeUnscaled(unscaledOf(value));
  switch (type.name) {
    case 'boolean':
      return Buffer.from([value ? 1 : 0]);
    case 'int':
      return int32(Number(value));
    case 'date':
      return int32(numberField(value, 'days'));
    case 'long':
      return int64(BigInt(value as bigint | number));
    case 'timestamp':
    case 'timestamptz':
      return int64(bigintField(value, 'micros'));
    case 'float': {
      const buffer = Buffer.alloc(4);
      buffer.writeFloatLE(Number(value));
      return buffer;
    }
    case 'double': {
      const buffer = Buffer.alloc(8);
      buffer.writeDoubleLE(Number(value));
      return buffer;
    }
    case 'string':
      return Buffer.from(String(value), 'utf8');
    case 'binary':
      return Buffer.from((value as { bytes: Uint8Array }).bytes);
  }
}

/** Lower bound of a string column: its first 16 characters. */
export function truncateLower(value: string): string {
  const chars = [...value];
  return chars.length <= STRING_BOUND_LENGTH ? value : chars.slice(0, STRING_BOUND_LENGTH).join('');
}

/**
 * Upper bound of a string column: the 16-character prefix with its last
 * character incremented, so it still sorts after the value; undefined when no
 * character can be incremented (no upper bound is then written).
 */
export function truncateUpper(value: string): string | undefined {
  const chars = [...value];
  if (chars.length <= STRING_BOUND_LENGTH) return value;
  const prefix = chars.slice(0, STRING_BOUND_LENGTH);
  for (let i = prefix.length - 1; i >= 0; i--) {
    const next = (prefix[i] as string).codePointAt(0) as number;
    if (next < 0x10ffff && !(next + 1 >= 0xd800 && next + 1 <= 0xdfff)) {
      return [...prefix.slice(0, i), String.fromCodePoint(next + 1)].join('');
    }
  }
  return undefined;
}

/** A bound of a string column back as text (bounds are compared for file pruning). */
export function deserializeStringBound(buffer: Uint8Array): string {
  return Buffer.from(buffer).toString('utf8');
}

/** An int bound (partition values of day/month/year transforms, int and date columns). */
export function deserializeIntBound(buffer: Uint8Array): number {
  return Buffer.from(buffer).readInt32LE(0);
}

export function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32LE(value);
  return buffer;
}

function int64(value: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64LE(value);
  return buffer;
}

function serializeUnscaled(unscaled: bigint): Buffer {
  let length = 1;
  while (unscaled >= 1n << BigInt(8 * length - 1) || unscaled < -(1n << BigInt(8 * length - 1))) length++;
  const bytes = Buffer.alloc(length);
  let rest = BigInt.asUintN(8 * length, unscaled);
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}

function unscaledOf(value: unknown): bigint {
  return bigintField(value, 'value');
}

function numberField(value: unknown, field: string): number {
  const inner = (value as Record<string, unknown>)[field];
  if (typeof inner !== 'number')
    throw new Error(`expected a DuckDB value with ${field}, got ${String(value)}`);
  return inner;
}

function bigintField(value: unknown, field: string): bigint {
  const inner = (value as Record<string, unknown>)[field];
  if (typeof inner !== 'bigint')
    throw new Error(`expected a DuckDB value with ${field}, got ${String(value)}`);
  return inner;
}
