import { icebergSchemaJson, type Table } from '../../model/index.ts';
import type { FsCatalog, LoadedTable } from './catalog.ts';
import { nextMetadataLog } from './metadata.ts';
import type { SchemaJson } from './schema-json.ts';
import { currentSchema } from './table-ops.ts';

/**
 * Adds the columns the model declares and the table lacks, as a new schema
 * (Iceberg's add-column: new field ids, older files read the column as NULL).
 * Columns are only ever added at the end, so existing ids never move; a model
 * that changed an existing column's id or type is refused rather than guessed at.
 */
export async function evolveSchema(
  catalog: FsCatalog,
  loaded: LoadedTable,
  table: Table,
): Promise<LoadedTable> {
  const wanted = icebergSchemaJson(table) as SchemaJson;
  const missing = (schema: SchemaJson) =>
    wanted.fields.filter((f) => !schema.fields.some((g) => g.id === f.id));
  refuseChangedColumns(currentSchema(loaded.metadata), wanted, table.name);
  if (missing(currentSchema(loaded.metadata)).length === 0) return loaded;
  return catalog.update(loaded.location, async (base) => {
    const current = currentSchema(base.metadata);
    refuseChangedColumns(current, wanted, table.name);
    const schemaId = Math.max(...(base.metadata.schemas as SchemaJson[]).map((s) => s['schema-id'])) + 1;
    const next: SchemaJson = {
      type: 'struct',
      'schema-id': schemaId,
      fields: [...current.fields, ...missing(current)],
    };
    return {
      ...base.metadata,
      'last-updated-ms': Date.now(),
      'last-column-id': Math.max(base.metadata['last-column-id'], table.lastColumnId),
      schemas: [...base.metadata.schemas, next],
      'current-schema-id': schemaId,
      'metadata-log': nextMetadataLog(base.metadata, base.metadataFile),
    };
  });
}

function refuseChangedColumns(current: SchemaJson, wanted: SchemaJson, name: string): void {
  for (const field of current.fields) {
    const declared = wanted.fields.find((f) => f.id === field.id);
    if (
      declared !== undefined &&
      (declared.name !== field.name || JSON.stringify(declared.type) !== JSON.stringify(field.type))
    ) {
      throw new Error(
        `table ${name}: column ${field.id} is '${field.name}' ${JSON.stringify(field.type)} in the table but '${declared.name}' ${JSON.stringify(declared.type)} in the model; only new columns at the end can be added`,
      );
    }
  }
}
