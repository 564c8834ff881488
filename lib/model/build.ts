import type { LedgerlakeConfig } from '../config/index.ts';
import { WAREHOUSE_PREFIXES } from '../contracts/index.ts';
import { declaredTables, MODEL_DEFINITION, type ModelDefinition } from './definition.ts';
import {
  assignFieldIds,
  flattenFields,
  historySchema,
  nextSchemaHistory,
  type SchemaChange,
  type SchemaHistory,
  schemaChanges,
  type TableHistory,
} from './schema-history.ts';
import type { Field, PartitionField, Table, TableSpec } from './table.ts';
import { rawTableSpec } from './tables/raw.ts';

/**
 * Table properties from the brief. Its `write.target-file-size` is not an
 * Iceberg property; the real name is `write.target-file-size-bytes`.
 * `delete-after-commit` makes `previous-versions-max` actually remove old
 * metadata files.
 */
export const TABLE_PROPERTIES: Readonly<Record<string, string>> = {
  'format-version': '2',
  'write.format.default': 'parquet',
  'write.parquet.compression-codec': 'snappy',
  'write.target-file-size-bytes': '536870912',
  'write.metadata.previous-versions-max': '5',
  'write.metadata.delete-after-commit.enabled': 'true',
  'read.split.target-size': '134217728',
};

/**
 * Curated tables take their MERGEs merge-on-read: a run that corrects rows
 * spread over every period writes position delete files for the rows it
 * replaces instead of rewriting every data file holding one (copy-on-write).
 * Maintenance's compaction applies the deletes. Raw tables only append.
 */
export const CURATED_TABLE_PROPERTIES: Readonly<Record<string, string>> = {
  ...TABLE_PROPERTIES,
  'write.delete.mode': 'merge-on-read',
  'write.update.mode': 'merge-on-read',
  'write.merge.mode': 'merge-on-read',
};

/** First id of partition fields, as the Iceberg spec reserves them. */
const PARTITION_FIELD_ID_START = 1000;

export interface TableModel {
  readonly app: string;
  /** Glue databases (Iceberg namespaces) by role. */
  readonly databases: { readonly raw: string; readonly curated: string };
  readonly tables: readonly Table[];
  /** The table called `name`; throws naming the known tables otherwise. */
  table(name: string): Table;
  /** The raw table loaded from `collection`. */
  rawTableFor(collection: string): Table;
  /** The definition the tables were built from. */
  readonly definition: ModelDefinition;
  /**
   * What the model changes against its schema history, per table: new fields,
   * widened types, fields made optional. Not empty means `npm run gen` has not
   * recorded them (and the Glue scripts are likely stale too).
   */
  readonly unrecorded: readonly UnrecordedChange[];
}

/** A change of the model its schema history does not record yet. */
export interface UnrecordedChange {
  readonly table: string;
  readonly change: SchemaChange | { readonly kind: 'new-table' };
}

/**
 * Builds every table of the pipeline from the validated configuration. A
 * model that changes a table in a way no table can follow in place (see
 * schemaChanges) throws SchemaChangeRefused here, before anything runs or deploys.
 */
export function buildTableModel(
  config: LedgerlakeConfig,
  definition: ModelDefinition = MODEL_DEFINITION,
): TableModel {
  const databases = databaseNames(config);
  const specs = [
    ...config.collections.map((c) => rawTableSpec(c.name, definition.sourceFields)),
    ...definition.curatedTables,
  ];
  const tables = specs.map((spec) => tableFromSpec(spec, config, definition.history.tables[spec.name]));
  const byName = new Map(tables.map((table) => [table.name, table]));
  const unrecorded = tables.flatMap((table): UnrecordedChange[] => {
    const history = definition.history.tables[table.name];
    if (history === undefined) return [{ table: table.name, change: { kind: 'new-table' } }];
    return schemaChanges(table.name, historySchema(history), flattenFields(table.fields)).map((change) => ({
      table: table.name,
      change,
    }));
  });
  return {
    app: config.app,
    databases,
    tables,
    definition,
    unrecorded,
    table(name) {
      const table = byName.get(name);
      if (table === undefined) {
        throw new Error(`unknown table '${name}' (known: ${[...byName.keys()].join(', ')})`);
      }
      return table;
    },
    rawTableFor(collection) {
      const table = tables.find((t) => t.layer === 'raw' && t.sourceCollection === collection);
      if (table === undefined) {
        throw new Error(
          `collection '${collection}' is not configured (configured: ${config.collections.map((c) => c.name).join(', ')})`,
        );
      }
      return table;
    },
  };
}

/**
 * Resolves one declared table: field ids (kept from `history`, the table's
 * schema history, new ones after its last id), database, location,
 * properties and retention.
 */
export function tableFromSpec(spec: TableSpec, config: LedgerlakeConfig, history?: TableHistory): Table {
  const databases = databaseNames(config);
  const required = spec.columns.filter((c) => c.required).map((c) => c.name);
  if (spec.layer !== 'raw' && required.length > 0) {
    throw new Error(
      `table ${spec.name} declares required columns (${required.join(', ')}); ${spec.layer} tables are maintained with MERGE INTO, which Iceberg 1.0.0 on Glue 4.0 cannot do on required columns: make them optional`,
    );
  }
  const copies = spec.columns.filter((c) => c.from !== undefined).map((c) => c.name);
  if (spec.layer !== 'silver' && copies.length > 0) {
    throw new Error(
      `table ${spec.name} declares columns copied from raw (${copies.join(', ')}); only silver tables copy raw values: compute ${spec.layer} columns in lib/curate`,
    );
  }
  const { fields, lastColumnId } = assignFieldIds(spec.columns, history);
  // Under the warehouse prefix the Glue jobs' grants and the Glue databases cover.
  const zone = spec.layer === 'raw' ? WAREHOUSE_PREFIXES.raw : WAREHOUSE_PREFIXES.curated;
  return {
    name: spec.name,
    layer: spec.layer,
    doc: spec.doc,
    database: spec.layer === 'raw' ? databases.raw : databases.curated,
    location: `${zone(config.app)}${spec.name}`,
    fields,
    lastColumnId,
    partitionFields: spec.partitionBy.map((p, i) => ({
      sourceId: topLevelField(fields, p.column, spec.name).id,
      fieldId: PARTITION_FIELD_ID_START + i,
      name: p.transform === 'identity' ? p.column : `${p.column}_${p.transform}`,
      transform: p.transform,
    })) satisfies PartitionField[],
    sortBy: spec.sortBy.map((s) => {
      topLevelField(fields, s.column, spec.name);
      return s;
    }),
    keyColumns: spec.keyColumns.map((k) => topLevelField(fields, k, spec.name).name),
    properties: spec.layer === 'raw' ? TABLE_PROPERTIES : CURATED_TABLE_PROPERTIES,
    retention: config.retention[spec.layer],
    ...(spec.sourceCollection === undefined ? {} : { sourceCollection: spec.sourceCollection }),
  };
}

/**
 * The schema history after the definition's tables, configured or not (what
 * `npm run gen` writes to lib/model/schema-history.json): every field path
 * ever declared, with its id and latest type.
 */
export function recordedSchemaHistory(
  config: LedgerlakeConfig,
  definition: ModelDefinition = MODEL_DEFINITION,
): SchemaHistory {
  const tables = declaredTables(definition).map((spec) =>
    tableFromSpec(spec, config, definition.history.tables[spec.name]),
  );
  return nextSchemaHistory(definition.history, tables);
}

/** The schema history as checked in: one line per field, so a model change reads as a few added lines. */
export function schemaHistoryText(history: SchemaHistory): string {
  const tables = Object.entries(history.tables).map(([name, table]) => {
    const fields = Object.entries(table.fields).map(
      ([path, f]) =>
        `        ${JSON.stringify(path)}: { "id": ${f.id}, "type": ${JSON.stringify(f.type)}, "required": ${f.required} }`,
    );
    return `    ${JSON.stringify(name)}: {\n      "lastColumnId": ${table.lastColumnId},\n      "fields": {\n${fields.join(',\n')}\n      }\n    }`;
  });
  return `{\n  "tables": {\n${tables.join(',\n')}\n  }\n}\n`;
}

function databaseNames(config: LedgerlakeConfig) {
  return { raw: `${config.app}_raw`, curated: `${config.app}_curated` };
}

function topLevelField(fields: readonly Field[], name: string, table: string): Field {
  const field = fields.find((f) => f.name === name);
  if (field === undefined) {
    throw new Error(`table ${table} refers to column '${name}', which it does not declare`);
  }
  return field;
}
