import type { Table } from '../model/index.ts';
import type { PyValue } from './python.ts';
import { createTableTemplate, writeOrder } from './spark-ddl.ts';

/**
 * What a script needs to create a table: its DDL template, write order and
 * model location. Raw tables keep the model's required columns (appends
 * carry the table schema); tables maintained with MERGE cannot have any on
 * Iceberg 1.0.0 (see CreateTableOptions).
 */
export function tableSpec(table: Table): PyValue {
  return {
    name: table.name,
    location: table.location,
    write_order: writeOrder(table) ?? null,
    create: createTableTemplate(table),
  };
}

/** `raw` or `curated`: which namespace argument a table lives in. */
export const namespaceRole = (table: Table) => (table.layer === 'raw' ? 'raw' : 'curated');
