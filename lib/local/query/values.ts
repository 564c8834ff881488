import {
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
  type DuckDBValueConverter,
  type Json,
  JsonDuckDBValueConverter,
} from '@duckdb/node-api';

/** A JSON-ready value whose 64- and 128-bit integers stay bigints, to be written exactly. */
export type ExactJson = Json | bigint | ExactJson[] | { [key: string]: ExactJson };

const WIDE_INTEGERS = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT,
]);

const NUMERIC = new Set<DuckDBTypeId>([
  ...WIDE_INTEGERS,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.FLOAT,
  DuckDBTypeId.DOUBLE,
  DuckDBTypeId.DECIMAL,
]);

/**
 * DuckDB's JSON conversion (decimals as exact strings such as "500.0000",
 * dates and timestamps as text), except that BIGINT and HUGEINT values stay
 * bigints so they can be written as exact JSON numbers rather than strings.
 */
export const exactJsonConverter: DuckDBValueConverter<ExactJson> = (value, type, converter) => {
  if (value === null) return null;
  if (WIDE_INTEGERS.has(type.typeId)) return value as bigint;
  return (JsonDuckDBValueConverter as unknown as DuckDBValueConverter<ExactJson>)(value, type, converter);
};

/** A cell as a person reads it: DuckDB's own rendering (exact decimals), NULL for null. */
export function cellText(value: DuckDBValue): string {
  if (value === null) return 'NULL';
  return String(value).replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
}

export function isNumericType(type: DuckDBType): boolean {
  return NUMERIC.has(type.typeId);
}
