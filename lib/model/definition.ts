import SCHEMA_HISTORY from './schema-history.json' with { type: 'json' };
import type { SchemaHistory } from './schema-history.ts';
import type { TableSpec } from './table.ts';
import { CURATED_TABLES } from './tables/curated.ts';
import { rawTableSpec, SOURCE_FIELDS } from './tables/raw.ts';
import type { ColumnSpec } from './types.ts';

/**
 * What the pipeline's tables are made of: the fields declared for each source
 * collection (raw tables), the curated tables, and the schema history that
 * keeps every table's field ids where they were. The checked-in definition is
 * MODEL_DEFINITION; tests build variants of it to change the model on an
 * existing warehouse.
 */
export interface ModelDefinition {
  /** Source fields of each collection, in the order they become raw columns (lib/model/tables/raw.ts). */
  readonly sourceFields: Readonly<Record<string, readonly ColumnSpec[]>>;
  /** lib/model/tables/curated.ts */
  readonly curatedTables: readonly TableSpec[];
  /** lib/model/schema-history.json, written by `npm run gen`. */
  readonly history: SchemaHistory;
}

export const MODEL_DEFINITION: ModelDefinition = {
  sourceFields: SOURCE_FIELDS,
  curatedTables: CURATED_TABLES,
  history: SCHEMA_HISTORY as SchemaHistory,
};

/** Every table the definition declares, configured or not: the schema history covers them all. */
export function declaredTables(definition: ModelDefinition): TableSpec[] {
  return [
    ...Object.keys(definition.sourceFields).map((c) => rawTableSpec(c, definition.sourceFields)),
    ...definition.curatedTables,
  ];
}
