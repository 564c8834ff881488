import { type Field, type FieldType, icebergSchemaJson, type Table } from '../../model/index.ts';
import {
  type FlatSchema,
  flattenFields,
  flattenSchemaJson,
  schemaChanges,
} from '../../model/schema-history.ts';
import type { FsCatalog, LoadedTable } from './catalog.ts';
import { nextMetadataLog } from './metadata.ts';
import type { SchemaJson } from './schema-json.ts';
import { currentSchema } from './table-ops.ts';

/**
 * Refuses, before anything is written, a model that changes the table in a
 * way Iceberg cannot follow in place (SchemaChangeRefused names the table,
 * column, types and what to do instead). Columns are matched by name path.
 */
export function checkSchema(loaded: LoadedTable, table: Table): void {
  schemaChanges(table.name, flattenSchemaJson(currentSchema(loaded.metadata)), flattenFields(table.fields));
}

/**
 * Brings the table's schema to the model's, as Iceberg's schema update does:
 * new fields (top-level or nested, where the model puts them) with new ids,
 * older files reading them as NULL; widened types; fields made optional. The
 * returned table is the model's with the table's own field ids, which is what
 * data files must carry (equal to the model's for tables this pipeline made).
 */
export async function evolveSchema(
  catalog: FsCatalog,
  loaded: LoadedTable,
  table: Table,
): Promise<{ loaded: LoadedTable; table: Table }> {
  const changes = (metadata: LoadedTable['metadata']) =>
    schemaChanges(table.name, flattenSchemaJson(currentSchema(metadata)), flattenFields(table.fields));
  if (changes(loaded.metadata).length === 0) return { loaded, table: boundTo(table, loaded) };
  const evolved = await catalog.update(loaded.location, async (base) => {
    if (changes(base.metadata).length === 0) return base.metadata;
    const bound = boundTo(table, base);
    const schemaId = Math.max(...(base.metadata.schemas as SchemaJson[]).map((s) => s['schema-id'])) + 1;
    const next = { ...(icebergSchemaJson(bound, schemaId) as SchemaJson), 'schema-id': schemaId };
    return {
      ...base.metadata,
      'last-updated-ms': Date.now(),
      'last-column-id': bound.lastColumnId,
      schemas: [...base.metadata.schemas, next],
      'current-schema-id': schemaId,
      'metadata-log': nextMetadataLog(base.metadata, base.metadataFile),
    };
  });
  return { loaded: evolved, table: boundTo(table, evolved) };
}

/**
 * The model's table with the field ids the Iceberg table uses for the same
 * paths; a path the table lacks keeps the model's id unless the table has
 * used it, else gets the table's next one.
 */
function boundTo(table: Table, loaded: LoadedTable): Table {
  const existing: FlatSchema = flattenSchemaJson(currentSchema(loaded.metadata));
  const used = new Set([...existing.values()].map((f) => f.id));
  let last = Math.max(loaded.metadata['last-column-id'], ...used);
  const idFor = (path: string, modelId: number) => {
    const found = existing.get(path);
    if (found !== undefined) return found.id;
    const id = modelId > loaded.metadata['last-column-id'] && !used.has(modelId) ? modelId : last + 1;
    used.add(id);
    last = Math.max(last, id);
    return id;
  };
  const bindType = (type: FieldType, prefix: string): FieldType => {
    if (type.kind === 'list')
      return {
        ...type,
        elementId: idFor(`${prefix}element`, type.elementId),
        element: bindType(type.element, `${prefix}element.`),
      };
    if (type.kind === 'struct') return { kind: 'struct', fields: bindFields(type.fields, prefix) };
    return type;
  };
  const bindFields = (fields: readonly Field[], prefix: string): Field[] =>
    fields.map((f) => ({
      ...f,
      id: idFor(prefix + f.name, f.id),
      type: bindType(f.type, `${prefix}${f.name}.`),
    }));
  const fields = bindFields(table.fields, '');
  const partitionFields = table.partitionFields.map((p) => ({
    ...p,
    sourceId: fields[table.fields.findIndex((f) => f.id === p.sourceId)]?.id ?? p.sourceId,
  }));
  return { ...table, fields, partitionFields, lastColumnId: last };
}

/** Whether two versions of a table give every path the same field id (data files of one fit the other). */
export function sameFieldIds(a: Table, b: Table): boolean {
  const ids = (t: Table) => JSON.stringify([...flattenFields(t.fields)].map(([path, f]) => [path, f.id]));
  return ids(a) === ids(b);
}
