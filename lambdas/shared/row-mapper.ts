import { Binary, BSON, type Decimal128, type Document, ObjectId } from 'mongodb';

const { EJSON } = BSON;

import { NAMING_A_CALENDAR_DATE } from '../../lib/curate/data-quality.ts';
import {
  DOC_EJSON_COLUMN,
  type Field,
  type FieldType,
  OP_COLUMN,
  RAW_ID,
  RAW_METADATA,
  RAW_OP,
  type Table,
} from '../../lib/model/index.ts';
import { type DecimalResult, decimal128ToUnscaled, toUnscaled } from './decimal.ts';
import { canonicalExtendedJson } from './raw-ejson.ts';

/** A raw row: values already in the physical form the Parquet writer stores. */
export type RawRow = Record<string, unknown>;

export interface MappedDocument {
  readonly row: RawRow;
  /** Why declared fields could not be mapped; empty when the row is clean. */
  readonly errors: readonly string[];
}

export interface RunStamp {
  readonly runId: string;
  /** Microseconds since the epoch (UTC). */
  readonly ingestTsMicros: bigint;
}

const MS_PER_DAY = 86_400_000;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const RAW_METADATA_COLUMNS = new Set([RAW_ID.name, ...RAW_METADATA.map((c) => c.name)]);

export interface RowMapperOptions {
  /**
   * The collection's watermark field, mapped leniently: anything but a Date
   * (missing, a string, a Timestamp, MaxKey, ...) becomes null without a
   * mapping error. Such documents are read apart and counted by reason
   * (irregular watermarks), not quarantined. @default - none; every field is strict
   */
  readonly watermarkField?: string;
}

const isDate = (value: unknown): boolean => value instanceof Date && !Number.isNaN(value.getTime());

/**
 * Maps one BSON document (read with `promoteValues: false`, so Int32, Long,
 * Double and Decimal128 keep their types) to the raw table's row shape.
 * A field that cannot be mapped becomes null and its reason is recorded:
 * the row is still written, with the whole document in `_doc_ejson`.
 */
export class RowMapper {
  private readonly sourceFields: readonly Field[];
  private readonly declared: Set<string>;
  /** Undeclared field paths seen so far (schema drift), e.g. `memo`, `lines[].memo`. */
  readonly undeclaredFields = new Set<string>();

  private readonly watermarkField: string | undefined;

  constructor(table: Table, options: RowMapperOptions = {}) {
    this.sourceFields = table.fields.filter((f) => !RAW_METADATA_COLUMNS.has(f.name));
    this.declared = new Set(['_id', ...this.sourceFields.map(sourceName)]);
    this.watermarkField = options.watermarkField;
  }

  /**
   * `raw`, when given, is the BSON `doc` was decoded from: `_doc_ejson` is then
   * written from the bytes, which is several times faster than from the objects.
   */
  map(doc: Document, stamp: RunStamp, raw?: Uint8Array): MappedDocument {
    const errors: string[] = [];
    const row: RawRow = {
      _id: idText(doc._id),
      ingest_ts: stamp.ingestTsMicros,
      _run_id: stamp.runId,
      [DOC_EJSON_COLUMN]:
        (raw === undefined ? undefined : canonicalExtendedJson(raw)) ??
        EJSON.stringify(doc, { relaxed: false }),
      [OP_COLUMN]: RAW_OP.upsert,
    };
    for (const field of this.sourceFields) {
      const value = doc[sourceName(field)];
      if (sourceName(field) === this.watermarkField && !isDate(value)) {
        row[field.name] = null;
        continue;
      }
      row[field.name] = convert(
        value,
        field.type,
        sourceName(field),
        field.required,
        errors,
        this.undeclaredFields,
      );
    }
    for (const key of Object.keys(doc)) {
      if (!this.declared.has(key)) this.undeclaredFields.add(key);
    }
    row._mapping_errors = errors.length === 0 ? null : errors.join('; ');
    return { row, errors };
  }
}

function sourceName(field: Field): string {
  return field.sourceField ?? field.name;
}

/** ObjectId as its 24-char hex (as the brief shows it); any other _id as canonical Extended JSON. */
export function idText(id: unknown): string {
  if (id instanceof ObjectId) return id.toHexString();
  return EJSON.stringify({ v: id }, { relaxed: false }).slice(5, -1);
}

/** A value of the wrong type; a class so the common, matching case allocates nothing. */
class Mismatch {
  constructor(readonly expected: string) {}
}

function mismatch(errors: string[], path: string, expected: string, value: unknown): null {
  errors.push(`field '${path}': expected ${expected}, got ${describe(value)}`);
  return null;
}

function bsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'Date';
  if (typeof value === 'object') {
    const tag = (value as { _bsontype?: string })._bsontype;
    return tag ?? 'document';
  }
  return typeof value;
}

function describe(value: unknown): string {
  const type = bsonType(value);
  const text = EJSON.stringify({ v: value as never }, { relaxed: true }).slice(5, -1);
  return `${type} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}

function convert(
  value: unknown,
  type: FieldType,
  path: string,
  required: boolean,
  errors: string[],
  undeclared: Set<string>,
): unknown {
  if (value === undefined || value === null) {
    if (required) errors.push(`field '${path}' is required but missing`);
    return null;
  }
  switch (type.kind) {
    case 'primitive': {
      const converted = convertPrimitive(value, type.name);
      return converted instanceof Mismatch ? mismatch(errors, path, converted.expected, value) : converted;
    }
    case 'decimal': {
      const result =
        bsonType(value) === 'Decimal128'
          ? decimal128ToUnscaled((value as Decimal128).bytes, type.precision, type.scale, () => String(value))
          : decimalFromNumber(value, type.precision, type.scale);
      if (result === undefined)
        return mismatch(errors, path, `decimal(${type.precision}, ${type.scale})`, value);
      if (!result.ok) {
        errors.push(`field '${path}': ${result.reason}`);
        return null;
      }
      return result.unscaled;
    }
    case 'list': {
      if (!Array.isArray(value)) return mismatch(errors, path, 'an array', value);
      return value.map((element, i) =>
        convert(element, type.element, `${path}[${i}]`, type.elementRequired, errors, undeclared),
      );
    }
    case 'struct': {
      if (bsonType(value) !== 'document') return mismatch(errors, path, 'a document', value);
      const doc = value as Document;
      const out: Record<string, unknown> = {};
      for (const child of type.fields) {
        const name = sourceName(child);
        out[child.name] = convert(
          doc[name],
          child.type,
          `${path}.${name}`,
          child.required,
          errors,
          undeclared,
        );
      }
      const names = new Set(type.fields.map(sourceName));
      const genericPath = path.replace(/\[\d+\]/g, '[]');
      for (const key of Object.keys(doc)) {
        if (!names.has(key)) undeclared.add(`${genericPath}.${key}`);
      }
      return out;
    }
  }
}

/** Exact conversion of an integer or double to a decimal; undefined when the value is not a number. */
function decimalFromNumber(value: unknown, precision: number, scale: number): DecimalResult | undefined {
  switch (bsonType(value)) {
    case 'Long':
    case 'Int32':
      return toUnscaled(String(value), precision, scale);
    case 'Double': {
      // The shortest text that round-trips is what the application wrote (500.1, not 500.1000000000000227).
      const n = (value as { value: number }).value;
      return Number.isFinite(n) ? toUnscaled(String(n), precision, scale) : undefined;
    }
    case 'number':
      return Number.isFinite(value as number) ? toUnscaled(String(value), precision, scale) : undefined;
    default:
      return undefined;
  }
}

function convertPrimitive(value: unknown, name: string): unknown {
  const type = bsonType(value);
  switch (name) {
    case 'string':
      if (type === 'string') return value;
      if (type === 'ObjectId') return (value as ObjectId).toHexString();
      // Integer codes (account 1000) become their exact decimal text.
      if (type === 'Int32' || type === 'Long') return String(value);
      return new Mismatch('a string');
    case 'boolean':
      return type === 'boolean' ? value : new Mismatch('a boolean');
    case 'int': {
      const n = integerValue(value);
      return n !== undefined && n >= BigInt(INT32_MIN) && n <= BigInt(INT32_MAX)
        ? Number(n)
        : new Mismatch('a 32-bit integer');
    }
    case 'long': {
      const n = integerValue(value);
      return n !== undefined && n >= -(2n ** 63n) && n < 2n ** 63n ? n : new Mismatch('a 64-bit integer');
    }
    case 'float': {
      // A float column holds what a 32-bit float can: the nearest float, or a mismatch beyond its range.
      const n = type === 'Double' || type === 'Int32' ? Number((value as { value: number }).value) : value;
      if (typeof n !== 'number') return new Mismatch('a number');
      const f = Math.fround(n);
      return Number.isFinite(f) || !Number.isFinite(n)
        ? f
        : new Mismatch('a number within the range of a 32-bit float');
    }
    case 'double': {
      if (type === 'Double' || type === 'Int32') return Number((value as { value: number }).value);
      if (type === 'number') return value;
      return new Mismatch('a number');
    }
    case 'date': {
      if (value instanceof Date && !Number.isNaN(value.getTime()))
        return Math.floor(value.getTime() / MS_PER_DAY);
      if (type === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value as string)) {
        const ms = Date.parse(`${value as string}T00:00:00Z`);
        // Date.parse rolls '2024-02-30' over to March 1st: only a date that reads back the same is one.
        if (!Number.isNaN(ms) && new Date(ms).toISOString().startsWith(value as string))
          return ms / MS_PER_DAY;
        return new Mismatch(`a Date or a 'YYYY-MM-DD' string ${NAMING_A_CALENDAR_DATE}`);
      }
      return new Mismatch("a Date or a 'YYYY-MM-DD' string");
    }
    case 'timestamp':
    case 'timestamptz':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return BigInt(value.getTime()) * 1000n;
      return new Mismatch('a Date');
    case 'binary':
      if (value instanceof Binary) return value.value();
      return new Mismatch('binary data');
    default:
      return new Mismatch(name);
  }
}

function integerValue(value: unknown): bigint | undefined {
  switch (bsonType(value)) {
    case 'Int32':
      return BigInt((value as { value: number }).value);
    case 'Long':
      return BigInt(String(value));
    case 'Double':
    case 'number': {
      const n = typeof value === 'number' ? value : (value as { value: number }).value;
      return Number.isSafeInteger(n) ? BigInt(n) : undefined;
    }
    default:
      return undefined;
  }
}
