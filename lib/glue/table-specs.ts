import type { Field, FieldType, Table } from '../model/index.ts';
import { flattenFields } from '../model/schema-history.ts';
import type { PyValue } from './python.ts';
import { createTableTemplate, sparkType, writeOrder } from './spark-ddl.ts';

/**
 * What a script needs to create a table: its DDL template, write order,
 * model location and table properties (set again on a table that lacks them). Raw tables keep the model's required columns (appends
 * carry the table schema); tables maintained with MERGE cannot have any on
 * Iceberg 1.0.0 (see CreateTableOptions).
 */
export function tableSpec(table: Table): PyValue {
  return {
    name: table.name,
    location: table.location,
    write_order: writeOrder(table) ?? null,
    create: createTableTemplate(table),
    properties: { ...table.properties },
    fields: schemaFields(table),
  };
}

/**
 * The model's schema by field path, in order, for the jobs' schema evolution
 * (ledgerlake_glue.schema): the Iceberg type and nullability it compares
 * with the table's, and for a field it adds, the Spark DDL type, comment and
 * place (`after` a sibling, or first when null).
 */
function schemaFields(table: Table): PyValue {
  const extra = new Map<string, { ddl: string; comment: string; after: string | null }>();
  const visit = (fields: readonly Field[], prefix: string) => {
    fields.forEach((f, i) => {
      extra.set(prefix + f.name, {
        ddl: sparkType(f.type),
        comment: f.doc,
        after: fields[i - 1]?.name ?? null,
      });
      visitType(f.type, `${prefix}${f.name}.`);
    });
  };
  const visitType = (type: FieldType, prefix: string) => {
    if (type.kind === 'list') {
      extra.set(`${prefix}element`, { ddl: sparkType(type.element), comment: '', after: null });
      visitType(type.element, `${prefix}element.`);
    }
    if (type.kind === 'struct') visit(type.fields, prefix);
  };
  visit(table.fields, '');
  return [...flattenFields(table.fields)].map(([path, f]) => ({
    path,
    type: f.type,
    required: f.required,
    ...(extra.get(path) as { ddl: string; comment: string; after: string | null }),
  }));
}

/** `raw` or `curated`: which namespace argument a table lives in. */
export const namespaceRole = (table: Table) => (table.layer === 'raw' ? 'raw' : 'curated');
