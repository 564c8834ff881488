/**
 * Iceberg types as the table model declares them. The model is the single
 * source for Glue scripts, DDL, the local engine and staged Parquet schemas,
 * so types are plain data that every generator can walk.
 */
export type PrimitiveTypeName =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'binary';

export interface PrimitiveType {
  readonly kind: 'primitive';
  readonly name: PrimitiveTypeName;
}

export interface DecimalType {
  readonly kind: 'decimal';
  readonly precision: number;
  readonly scale: number;
}

export interface ListType {
  readonly kind: 'list';
  readonly element: IcebergType;
  readonly elementRequired: boolean;
}

export interface StructType {
  readonly kind: 'struct';
  readonly fields: readonly ColumnSpec[];
}

export type IcebergType = PrimitiveType | DecimalType | ListType | StructType;

/** A column as declared; field ids are assigned when a table is built. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: IcebergType;
  readonly required: boolean;
  readonly doc: string;
  /** Field name in the MongoDB document, when it differs from `name` (raw layer only). */
  readonly sourceField?: string;
  /**
   * Silver layer only: the raw value this column copies, so a field added to
   * a raw table reaches silver by declaring it: `line.<field>` (a field of
   * the journal line) or `<column>` (a column of the raw table the silver
   * table is built from). Columns without it are computed by lib/curate.
   */
  readonly from?: string;
}

const primitive = (name: PrimitiveTypeName): PrimitiveType => ({ kind: 'primitive', name });

/** Type constructors: `t.decimal(18, 4)`, `t.list(t.struct([...]))`. */
export const t = {
  boolean: () => primitive('boolean'),
  int: () => primitive('int'),
  long: () => primitive('long'),
  float: () => primitive('float'),
  double: () => primitive('double'),
  date: () => primitive('date'),
  timestamp: () => primitive('timestamp'),
  timestamptz: () => primitive('timestamptz'),
  string: () => primitive('string'),
  binary: () => primitive('binary'),
  decimal: (precision: number, scale: number): DecimalType => {
    if (!Number.isInteger(precision) || precision < 1 || precision > 38) {
      throw new Error(`decimal precision must be an integer from 1 to 38, got ${precision}`);
    }
    if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new Error(`decimal scale must be an integer from 0 to precision (${precision}), got ${scale}`);
    }
    return { kind: 'decimal', precision, scale };
  },
  list: (element: IcebergType, elementRequired = false): ListType => ({
    kind: 'list',
    element,
    elementRequired,
  }),
  struct: (fields: readonly ColumnSpec[]): StructType => ({ kind: 'struct', fields }),
};

interface ColumnOptions {
  readonly required?: boolean;
  readonly sourceField?: string;
  readonly from?: string;
}

/** Declares a column; optional unless `required: true`. */
export function column(
  name: string,
  type: IcebergType,
  doc: string,
  options: ColumnOptions = {},
): ColumnSpec {
  return {
    name,
    type,
    doc,
    required: options.required ?? false,
    ...(options.sourceField === undefined ? {} : { sourceField: options.sourceField }),
    ...(options.from === undefined ? {} : { from: options.from }),
  };
}
