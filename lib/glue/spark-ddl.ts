import type { Field, FieldType, PartitionField, Table } from '../model/index.ts';

/**
 * Spark SQL (3.3, Iceberg 1.0) DDL for a model table. The text keeps two
 * Python format fields, `{table}` and `{location}`, that the job fills at run
 * time (namespace and placement are job arguments); every other brace is
 * doubled so `str.format` leaves it alone.
 */
export function createTableTemplate(table: Table): string {
  const columns = table.fields.map((f) => `  ${columnDefinition(f)}`);
  const partitioning =
    table.partitionFields.length === 0
      ? []
      : [`PARTITIONED BY (${table.partitionFields.map((p) => partitionTerm(table, p)).join(', ')})`];
  const properties = Object.entries(table.properties).map(([k, v]) => `  ${literal(k)} = ${literal(v)}`);
  return formatSafe(
    [
      'CREATE TABLE IF NOT EXISTS \u0000table\u0001 (',
      columns.join(',\n'),
      ')',
      'USING iceberg',
      ...partitioning,
      `COMMENT ${literal(table.doc)}`,
      '\u0000location\u0001TBLPROPERTIES (',
      properties.join(',\n'),
      ')',
    ].join('\n'),
  );
}

/** `ALTER TABLE ... WRITE ORDERED BY` terms, or undefined when the table has no sort order. */
export function writeOrder(table: Table): string | undefined {
  if (table.sortBy.length === 0) return undefined;
  return table.sortBy.map((s) => `${ident(s.column)} ${s.direction.toUpperCase()}`).join(', ');
}

export function sparkType(type: FieldType): string {
  switch (type.kind) {
    case 'primitive':
      return primitiveType(type.name);
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'list':
      if (type.elementRequired) {
        throw new Error('Spark DDL cannot declare required list elements (array<...> elements are nullable)');
      }
      return `array<${sparkType(type.element)}>`;
    case 'struct':
      return `struct<${type.fields.map(structField).join(', ')}>`;
  }
}

function primitiveType(name: Extract<FieldType, { kind: 'primitive' }>['name']): string {
  switch (name) {
    case 'long':
      return 'bigint';
    case 'timestamptz':
      // Spark's TIMESTAMP is an instant: Iceberg maps it to timestamptz.
      return 'timestamp';
    case 'timestamp':
      throw new Error(
        'Iceberg timestamp without zone has no Spark 3.3 DDL type that Iceberg 1.0 accepts; use timestamptz',
      );
    default:
      return name;
  }
}

function columnDefinition(field: Field): string {
  const notNull = field.required ? ' NOT NULL' : '';
  return `${ident(field.name)} ${sparkType(field.type)}${notNull} COMMENT ${literal(field.doc)}`;
}

function structField(field: Field): string {
  const notNull = field.required ? ' NOT NULL' : '';
  return `${ident(field.name)}: ${sparkType(field.type)}${notNull} COMMENT ${literal(field.doc)}`;
}

function partitionTerm(table: Table, partition: PartitionField): string {
  const source = table.fields.find((f) => f.id === partition.sourceId);
  if (source === undefined)
    throw new Error(`${table.name}: partition source id ${partition.sourceId} unknown`);
  const column = ident(source.name);
  return partition.transform === 'identity' ? column : `${partition.transform}s(${column})`;
}

export const ident = (name: string) => `\`${name.replaceAll('`', '``')}\``;

/** A Spark SQL string literal: Spark reads backslash escapes inside quotes. */
export const literal = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** Doubles braces for Python's str.format, then turns the \0name\1 markers into format fields. */
export function formatSafe(text: string): string {
  return text.replaceAll('{', '{{').replaceAll('}', '}}').replaceAll('\u0000', '{').replaceAll('\u0001', '}');
}
