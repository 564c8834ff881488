import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Field, Table } from '../../model/index.ts';
import { fieldIdsOption } from './field-ids-sql.ts';
import { partitionExpression, quoteIdent, quoteString } from './partition-sql.ts';

/** A data file as a manifest describes it: counts and bounds are keyed by field id. */
export interface DataFileInfo {
  readonly path: string;
  readonly recordCount: bigint;
  readonly fileSizeInBytes: bigint;
  /** Partition values by partition field name, in spec order. */
  readonly partition: Readonly<Record<string, unknown>>;
  readonly valueCounts: ReadonlyMap<number, bigint>;
  readonly nullValueCounts: ReadonlyMap<number, bigint>;
  /** Lower and upper bounds of top-level primitive columns, as DuckDB returns them (typed values). */
  readonly lowerBounds: ReadonlyMap<number, unknown>;
  readonly upperBounds: ReadonlyMap<number, unknown>;
}

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
): Promise<DataFileInfo> {
  await connection.run(
    `COPY (${select}) TO ${quoteString(path)} (FORMAT PARQUET, COMPRESSION 'snappy', FIELD_IDS ${fieldIdsOption(table)})`,
  );
  return describeDataFile(connection, table, path);
}

export async function describeDataFile(
  connection: DuckDBConnection,
  table: Table,
  path: string,
): Promise<DataFileInfo> {
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
  const lowerBounds = new Map<number, unknown>();
  const upperBounds = new Map<number, unknown>();
  primitives.forEach((field: Field, i) => {
    const nonNull = BigInt(row[1 + i * 3] as bigint | number);
    valueCounts.set(field.id, recordCount);
    nullValueCounts.set(field.id, recordCount - nonNull);
    const min = row[2 + i * 3];
    const max = row[3 + i * 3];
    if (min !== null && min !== undefined) lowerBounds.set(field.id, min);
    if (max !== null && max !== undefined) upperBounds.set(field.id, max);
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
