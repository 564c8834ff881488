import { quoteIdent, quoteString } from './partition-sql.ts';

/**
 * Reading table metadata's own schemas and partition specs (whoever wrote
 * them), rather than the model, so tables written by Spark read the same.
 */
export type SchemaTypeJson =
  | string
  | { type: 'list'; 'element-id': number; element: SchemaTypeJson; 'element-required': boolean }
  | { type: 'struct'; fields: SchemaFieldJson[] }
  | { type: 'map'; key: SchemaTypeJson; value: SchemaTypeJson };

export interface SchemaFieldJson {
  id: number;
  name: string;
  required: boolean;
  type: SchemaTypeJson;
  doc?: string;
}

export interface SchemaJson {
  type: 'struct';
  'schema-id': number;
  fields: SchemaFieldJson[];
}

export interface PartitionSpecJson {
  'spec-id': number;
  fields: { name: string; transform: string; 'source-id': number; 'field-id': number }[];
}

const PRIMITIVES: Record<string, string> = {
  boolean: 'BOOLEAN',
  int: 'INTEGER',
  long: 'BIGINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  date: 'DATE',
  time: 'TIME',
  timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMPTZ',
  string: 'VARCHAR',
  uuid: 'UUID',
  binary: 'BLOB',
};

/** The DuckDB type of an Iceberg type as schema JSON writes it. */
export function duckdbTypeOfJson(type: SchemaTypeJson): string {
  if (typeof type === 'string') {
    const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
    if (decimal !== null) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
    if (/^fixed\[\d+\]$/.test(type)) return 'BLOB';
    const primitive = PRIMITIVES[type];
    if (primitive === undefined) throw new Error(`unsupported Iceberg type '${type}'`);
    return primitive;
  }
  switch (type.type) {
    case 'list':
      return `${duckdbTypeOfJson(type.element)}[]`;
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${duckdbTypeOfJson(f.type)}`).join(', ')})`;
    case 'map':
      return `MAP(${duckdbTypeOfJson(type.key)}, ${duckdbTypeOfJson(type.value)})`;
  }
}

/**
 * DuckDB's `read_parquet(..., schema = MAP {...})` argument for a schema: data
 * file columns are found by Iceberg field id, named and typed as the schema
 * says now; columns a file lacks (added later) read as NULL.
 */
export function parquetSchemaArgument(schema: SchemaJson): string {
  const entries = schema.fields.map(
    (f) =>
      `${f.id}: {name: ${quoteString(f.name)}, type: ${quoteString(duckdbTypeOfJson(f.type))}, default_value: NULL}`,
  );
  return `MAP {${entries.join(', ')}}`;
}

/** A relation with the schema's columns and no rows (an empty table or snapshot). */
export function emptyRelation(schema: SchemaJson): string {
  const columns = schema.fields.map(
    (f) => `CAST(NULL AS ${duckdbTypeOfJson(f.type)}) AS ${quoteIdent(f.name)}`,
  );
  return `(SELECT ${columns.join(', ')} WHERE false)`;
}

/** Avro type of a partition value: int for year/month/day (and bucket), the source type for identity. */
export function partitionAvroType(transform: string, source: SchemaTypeJson): string {
  if (transform !== 'identity') {
    if (/^(year|month|day|bucket\[\d+\])$/.test(transform)) return 'int';
    if (transform === 'hour') return 'int';
    throw new Error(`unsupported partition transform '${transform}'`);
  }
  switch (source) {
    case 'boolean':
    case 'int':
    case 'long':
    case 'double':
    case 'string':
      return source;
    case 'date':
      return 'int';
    case 'timestamp':
    case 'timestamptz':
      return 'long';
    default:
      throw new Error(`unsupported identity partition on type ${JSON.stringify(source)}`);
  }
}
