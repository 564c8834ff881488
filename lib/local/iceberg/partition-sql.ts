import type { Field, PartitionField, Table } from '../../model/index.ts';

/**
 * DuckDB expressions for Iceberg partition transforms, giving the values the
 * spec stores in manifests: day → days since 1970-01-01 (UTC), month → months
 * since 1970-01, year → years since 1970, identity → the value.
 */
export function partitionExpression(table: Table, partition: PartitionField): string {
  const source = table.fields.find((f) => f.id === partition.sourceId) as Field;
  const column = quoteIdent(source.name);
  const isDate = source.type.kind === 'primitive' && source.type.name === 'date';
  const asDate = isDate ? column : `CAST(${column} AT TIME ZONE 'UTC' AS DATE)`;
  switch (partition.transform) {
    case 'identity':
      return column;
    case 'day':
      return `CAST(${asDate} - DATE '1970-01-01' AS INTEGER)`;
    case 'month':
      return `CAST((year(${asDate}) - 1970) * 12 + month(${asDate}) - 1 AS INTEGER)`;
    case 'year':
      return `CAST(year(${asDate}) - 1970 AS INTEGER)`;
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The folder of a partition's data files as Iceberg names it: `ingest_ts_day=2025-09-23/`, `entry_date_year=2025`. */
export function partitionPath(table: Table, values: Readonly<Record<string, unknown>>): string {
  return table.partitionFields
    .map((p) => `${p.name}=${partitionText(p.transform, values[p.name])}`)
    .join('/');
}

function partitionText(transform: string, value: unknown): string {
  if (value === null || value === undefined) return 'null';
  const n = Number(value);
  switch (transform) {
    case 'day':
      return new Date(n * 86_400_000).toISOString().slice(0, 10);
    case 'year':
      return String(1970 + n);
    case 'month':
      return `${1970 + Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, '0')}`;
    default:
      return encodeURIComponent(String(value));
  }
}
