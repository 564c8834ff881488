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
  // No hive partitioning: staged files live under `run=<id>/` folders, which are not columns.
  const source = `read_parquet(${quoteString(path)}, hive_partitioning = false)`;
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
 * Rows per data file at most. Files are cut along the table's sort order, so a
 * copy-on-write MERGE of changes that cluster (recent entry dates) rewrites
 * few files instead of a whole partition.
 */
export const DEFAULT_MAX_ROWS_PER_FILE = 250_000;

/**
 * Writes the rows of `select` as data files: grouped by the table's partition
 * spec, in its sort order, at most `maxRowsPerFile` rows each; `pathFor`
 * places a file given its partition path (`entry_date_year=2025`). Returns
 * what the manifests need.
 */
export async function writePartitionedFiles(
  connection: DuckDBConnection,
  table: Table,
  select: string,
  pathFor: (partitionPath: string) => string,
  maxRowsPerFile = DEFAULT_MAX_ROWS_PER_FILE,
): Promise<DataFile[]> {
  const scratch = `__ll_write_${randomUUID().replaceAll('-', '')}`;
  const keys = table.partitionFields.map((p, i) => ({ partition: p, column: `__ll_p${i}` }));
  const keyColumns = keys.map((k) => `${partitionExpression(table, k.partition)} AS ${k.column}`);
  const order = table.sortBy.map((s) => `${quoteIdent(s.column)} ${s.direction.toUpperCase()}`).join(', ');
  const partitionBy = keys.length === 0 ? '' : `PARTITION BY ${keys.map((k) => k.column).join(', ')} `;
  await connection.run(
    `CREATE TEMP TABLE ${scratch} AS SELECT *, (row_number() OVER (${partitionBy}${order === '' ? '' : `ORDER BY ${order}`}) - 1) // ${maxRowsPerFile} AS __ll_file
     FROM (SELECT *${keyColumns.map((c) => `, ${c}`).join('')} FROM (${select}) source_rows) keyed`,
  );
  try {
    const groupColumns = [...keys.map((k) => k.column), '__ll_file'];
    const groups = (
      await connection.runAndReadAll(
        `SELECT DISTINCT ${groupColumns.join(', ')} FROM ${scratch} ORDER BY ALL`,
      )
    ).getRowObjects();
    const files: DataFile[] = [];
    for (const group of groups) {
      const where = groupColumns.map((c) => `${c} IS NOT DISTINCT FROM ${sqlValue(group[c])}`).join(' AND ');
      const path = pathFor(
        partitionPath(table, Object.fromEntries(keys.map((k) => [k.partition.name, group[k.column]]))),
      );
      await mkdir(dirname(path), { recursive: true });
      files.push(
        await writeDataFile(
          connection,
          table,
          `SELECT * EXCLUDE (${groupColumns.join(', ')}) FROM ${scratch} WHERE ${where}${order === '' ? '' : ` ORDER BY ${order}`}`,
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
