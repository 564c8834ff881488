import type { Field, FieldType, Table } from '../../model/index.ts';
import { quoteIdent } from './partition-sql.ts';

const PRIMITIVES = {
  boolean: 'BOOLEAN',
  int: 'INTEGER',
  long: 'BIGINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMPTZ',
  string: 'VARCHAR',
  binary: 'BLOB',
} as const;

/** The DuckDB type of an Iceberg type from the model. */
export function duckdbType(type: FieldType): string {
  switch (type.kind) {
    case 'primitive':
      return PRIMITIVES[type.name];
    case 'decimal':
      return `DECIMAL(${type.precision}, ${type.scale})`;
    case 'list':
      return `${duckdbType(type.element)}[]`;
    case 'struct':
      return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
  }
}

/** Column definitions of a table, for CREATE TABLE. */
export function duckdbColumns(fields: readonly Field[]): string {
  return fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ');
}

/** `CREATE TABLE <name> (...)` with the table's columns and no rows. */
export function createTableSql(name: string, table: Table, temporary = false): string {
  return `CREATE ${temporary ? 'TEMP ' : ''}TABLE ${name} (${duckdbColumns(table.fields)})`;
}
