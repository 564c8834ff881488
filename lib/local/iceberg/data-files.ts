import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Field, Table } from '../../model/index.ts';
import { serializeBound, truncateLower, truncateUpper } from './bounds.ts';
import { fieldIdsOption } from './field-ids-sql.ts';
import type { DataFile } from './manifests.ts';
import { partitionExpression, partitionPath, quoteIdent, quoteString } from './partition-sql.ts';

/**
 * Writes the rows of `select` (one partition's worth) to a Parquet data file
 * carrying Iceberg field ids, then reads back what a manifest needs: record
 * count, size, partition values and per-column counts and bounds.
 */
export async function writeDataFile(
  connection: DuckDBConnection,
  table: Table,
  select: string,
  path: string,
): Promise<DataFile> {
  await connection.run(
    `COPY (${select}) TO ${quoteString(path)} (FORMAT PARQUET, COMPRESSION 'snappy', FIELD_IDS ${fieldIdsOption(table)})`,
  );
  return describeDataFile(connection, table, path);
}

export async function describeDataFile(
  connection: DuckDBConnection,
  table: Table,
  path: string,
): Promise<DataFile> {
  const source = `read_parquet(${quoteString(path)})`;
  const partition = await partitionValues(connection, table, source, path);
  const primitives = table.fields.filter((f) => f.type.kind === 'primitive' || f.type.kind === 'decimal');
  const measures = primitives.flatMap((f) => [
    `count(${quoteIdent(f.name)})`,
    `min(${quoteIdent(f.name)})`,
    `max(${quoteIdent(f.name)})`,
  ]);
  const reader = await connection.runAndReadAll(
    `SELECT count(*)${measures.map((m) => `, ${m}`).join('')} FROM ${source}`,
  );
  const row = reader.getRows()[0] ?? [];
  const recordCount = BigInt(row[0] as bigint | number);
  const valueCounts = new Map<number, bigint>();
  const nullValueCounts = new Map<number, bigint>();
  const lowerBounds = new Map<number, Uint8Array>();
  const upperBounds = new Map<number, Uint8Array>();
  primitives.forEach((field: Field, i) => {
    const nonNull = BigInt(row[1 + i * 3] as bigint | number);
    valueCounts.set(field.id, recordCount);
    nullValueCounts.set(field.id, recordCount - nonNull);
    const type = field.type as Parameters<typeof serializeBound>[0];
    let min = row[2 + i * 3];
    let max = row[3 + i * 3];
    if (typeof min === 'string') min = truncateLower(min);
    if (typeof max === 'string') max = truncateUpper(max);
    if (min !== null && min !== undefined) lowerBounds.set(field.id, serializeBound(type, min));
    if (max !== null && max !== undefined) upperBounds.set(field.id, serializeBound(type, max));
  });
  return {
    path,
    recordCount,
    fileSizeInBytes: BigInt((await stat(path)).size),
    partition,
    valueCounts,
    nullValueCounts,
    lowerBounds,
    upperBounds,
  };
}

async function partitionValues(
  connection: DuckDBConnection,
  table: Table,
  source: string,
  path: string,
): Promise<Record<string, unknown>> {
  if (table.partitionFields.length === 0) return {};
  const expressions = table.partitionFields.map(
    (p) => `${partitionExpression(table, p)} AS ${quoteIdent(p.name)}`,
  );
  const reader = await connection.runAndReadAll(`SELECT DISTINCT ${expressions.join(', ')} FROM ${source}`);
  const rows = reader.getRowObjects();
  if (rows.length > 1) {
    throw new Error(
      `data file ${path} spans ${rows.length} partitions of ${table.name}; write one file per partition`,
    );
  }
  return rows[0] ?? Object.fromEntries(table.partitionFields.map((p) => [p.name, null]));
}

/**
 * Writes the rows of `select` as data files, one per partition of the table's
 * spec, rows in the table's sort order; `pathFor` places a file given its
 * partition path (`entry_date_year=2025`). Returns what the manifests need.
 */
export async function writePartitionedFiles(
  connection: DuckDBConnection,
  table: Table,
  select: string,
  pathFor: (partitionPath: string) => string,
): Promise<DataFile[]> {
  const scratch = `__ll_write_${randomUUID().replaceAll('-', '')}`;
  const keys = table.partitionFields.map((p, i) => ({ partition: p, column: `__ll_p${i}` }));
  const keyColumns = keys.map((k) => `${partitionExpression(table, k.partition)} AS ${k.column}`);
  await connection.run(
    `CREATE TEMP TABLE ${scratch} AS SELECT *${keyColumns.map((c) => `, ${c}`).join('')} FROM (${select}) rows`,
  );
  try {
    const exclude = keys.length === 0 ? '' : ` EXCLUDE (${keys.map((k) => k.column).join(', ')})`;
    const order =
      table.sortBy.length === 0
        ? ''
        : ` ORDER BY ${table.sortBy.map((s) => `${quoteIdent(s.column)} ${s.direction.toUpperCase()}`).join(', ')}`;
    const groups = (
      await connection.runAndReadAll(
        keys.length === 0
          ? `SELECT count(*) AS n FROM ${scratch}`
          : `SELECT DISTINCT ${keys.map((k) => k.column).join(', ')} FROM ${scratch}`,
      )
    ).getRowObjects();
    if (keys.length === 0 && Number(groups[0]?.n ?? 0) === 0) return [];
    const files: DataFile[] = [];
    for (const group of keys.length === 0 ? [{}] : groups) {
      const where = keys
        .map((k) => `${k.column} IS NOT DISTINCT FROM ${sqlValue(group[k.column as keyof typeof group])}`)
        .join(' AND ');
      const path = pathFor(
        partitionPath(
          table,
          Object.fromEntries(keys.map((k) => [k.partition.name, group[k.column as keyof typeof group]])),
        ),
      );
      await mkdir(dirname(path), { recursive: true });
      files.push(
        await writeDataFile(
          connection,
          table,
          `SELECT *${exclude} FROM ${scratch}${where === '' ? '' : ` WHERE ${where}`}${order}`,
          path,
        ),
      );
    }
    return files;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${scratch}`);
  }
}

function sqlValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return quoteString(String(value));
}
