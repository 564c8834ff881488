export {
  buildTableModel,
  CURATED_TABLE_PROPERTIES,
  TABLE_PROPERTIES,
  type TableModel,
  tableFromSpec,
} from './build.ts';
export { icebergPartitionSpecJson, icebergSchemaJson } from './iceberg-schema.ts';
export { AMOUNT, AMOUNT_TOTAL } from './money.ts';
export { parquetSchema } from './parquet-schema.ts';
export type { Field, FieldType, Layer, PartitionField, Table, TableSpec } from './table.ts';
export { DOC_EJSON_COLUMN, OP_COLUMN, RAW_ID, RAW_METADATA, RAW_OP, SOURCE_FIELDS } from './tables/raw.ts';
export { column, type IcebergType, t } from './types.ts';
