import type { Field, FieldType, Table } from '../../model/index.ts';
import { quoteString } from './partition-sql.ts';

/**
 * The FIELD_IDS option of DuckDB's Parquet COPY for a table, so data files
 * carry the Iceberg field id of every column, nested ones included:
 * `{'_id': 1, 'lines': {'__duckdb_field_id': 5, 'element': {'__duckdb_field_id': 11, 'account_id': 12}}}`.
 */
export function fieldIdsOption(table: Table): string {
  return `{${table.fields.map(fieldEntry).join(', ')}}`;
}

function fieldEntry(field: Field): string {
  return `${quoteString(field.name)}: ${typeIds(field.id, field.type)}`;
}

function typeIds(id: number, type: FieldType): string {
  switch (type.kind) {
    case 'primitive':
    case 'decimal':
      return String(id);
    case 'list':
      return `{'__duckdb_field_id': ${id}, 'element': ${typeIds(type.elementId, type.element)}}`;
    case 'struct':
      return `{'__duckdb_field_id': ${id}, ${type.fields.map(fieldEntry).join(', ')}}`;
  }
}
