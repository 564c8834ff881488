import type { RetentionConfig } from '../config/index.ts';
import type { ColumnSpec, DecimalType, PrimitiveType } from './types.ts';

export type Layer = 'raw' | 'silver' | 'gold';

export type PartitionTransform = 'identity' | 'year' | 'month' | 'day';

export interface PartitionFieldSpec {
  readonly column: string;
  readonly transform: PartitionTransform;
}

export interface SortFieldSpec {
  readonly column: string;
  readonly direction: 'asc' | 'desc';
}

/** A table as declared in lib/model. */
export interface TableSpec {
  readonly name: string;
  readonly layer: Layer;
  readonly doc: string;
  readonly columns: readonly ColumnSpec[];
  readonly partitionBy: readonly PartitionFieldSpec[];
  readonly sortBy: readonly SortFieldSpec[];
  /** Columns that identify a row: MERGE INTO matches on them (silver, gold). */
  readonly keyColumns: readonly string[];
  /** Raw tables: the MongoDB collection they are loaded from. */
  readonly sourceCollection?: string;
}

/** A type with Iceberg field ids assigned. */
export type FieldType =
  | PrimitiveType
  | DecimalType
  | {
      readonly kind: 'list';
      readonly elementId: number;
      readonly element: FieldType;
      readonly elementRequired: boolean;
    }
  | { readonly kind: 'struct'; readonly fields: readonly Field[] };

export interface Field {
  readonly id: number;
  readonly name: string;
  readonly type: FieldType;
  readonly required: boolean;
  readonly doc: string;
  readonly sourceField?: string;
  /** The raw value a silver column copies (see ColumnSpec.from). */
  readonly from?: string;
}

export interface PartitionField {
  readonly sourceId: number;
  readonly fieldId: number;
  readonly name: string;
  readonly transform: PartitionTransform;
}

/** A table ready for generators: ids assigned, placement and properties resolved. */
export interface Table {
  readonly name: string;
  readonly layer: Layer;
  readonly doc: string;
  /** Glue database (Iceberg namespace). */
  readonly database: string;
  /** Warehouse-relative location, e.g. `raw/fq_app/journal_entries`. */
  readonly location: string;
  readonly fields: readonly Field[];
  readonly lastColumnId: number;
  readonly partitionFields: readonly PartitionField[];
  readonly sortBy: readonly SortFieldSpec[];
  readonly keyColumns: readonly string[];
  readonly properties: Readonly<Record<string, string>>;
  readonly retention: RetentionConfig;
  readonly sourceCollection?: string;
}
