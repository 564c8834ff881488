import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Field, PartitionField, Table } from '../../model/index.ts';
import { serializeBound, truncateLower, truncateUpper } from './bounds.ts';
import { fieldIdsOption } from './field-ids-sql.ts';
import { type DataFile, FileContent, type ManifestEntry, POSITION_DELETE_FIELD_IDS } from './manifests.ts';
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
  await copyToParquet(connection, table, select, path);
  return describeDataFile(connection, table, path);
}

async function copyToParquet(connection: DuckDBConnection, table: Table, select: string, path: string) {
  await connection.run(
    `COPY (${select}) TO ${quoteString(path)} (FORMAT PARQUET, COMPRESSION 'snappy', FIELD_IDS ${fieldIdsOption(table)})`,
  );
}

/** What a manifest needs of the Parquet data file at `path`, read from the file. */
export async function describeDataFile(
  connection: DuckDBConnection,
  table: Table,
  path: string,
): Promise<DataFile> {
  // No hive partitioning: staged files live under `run=<id>/` folders, which are not columns.
  const source = `read_parquet(${quoteString(path)}, hive_partitioning = false)`;
  return describeRows(
    connection,
    table,
    source,
    path,
    await partitionValues(connection, table, source, path),
  );
}

/**
 * What a manifest needs of the data file at `path` holding the rows of
 * `source` (the file itself, or the relation it was just written from, which
 * is cheaper to read than Parquet): record count, size, per-column counts and bounds.
 */
async function describeRows(
  connection: DuckDBConnection,
  table: Table,
  source: string,
  path: string,
  partition: Record<string, unknown>,
): Promise<DataFile> {
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
 *
 * The rows are sorted once, by partition then sort order, into a scratch
 * table; each file is then a range of its row ids, read in insertion order
 * (DuckDB's `preserve_insertion_order`, on by default), so no file is sorted
 * again and no row is scanned for a file it is not in.
 */
export async function writePartitionedFiles(
  connection: DuckDBConnection,
  table: Table,
  select: string,
  pathFor: (partitionPath: string) => string,
  maxRowsPerFile = DEFAULT_MAX_ROWS_PER_FILE,
): Promise<DataFile[]> {
  await assertInsertionOrderPreserved(connection);
  if (table.fields.some((f) => f.name.toLowerCase() === 'rowid')) {
    throw new Error(
      `table ${table.name} has a column named rowid, which hides the row ids data files are cut by`,
    );
  }
  const scratch = `__ll_write_${randomUUID().replaceAll('-', '')}`;
  const keys = table.partitionFields.map((p, i) => ({ partition: p, column: `__ll_p${i}` }));
  const keyColumns = keys.map((k) => `${partitionExpression(table, k.partition)} AS ${k.column}`);
  const order = [
    ...keys.map((k) => k.column),
    ...table.sortBy.map((s) => `${quoteIdent(s.column)} ${s.direction.toUpperCase()}`),
  ].join(', ');
  await connection.run(
    `CREATE TEMP TABLE ${scratch} AS SELECT *${keyColumns.map((c) => `, ${c}`).join('')}
     FROM (${select}) source_rows${order === '' ? '' : ` ORDER BY ${order}`}`,
  );
  const exclude = keys.length === 0 ? '*' : `* EXCLUDE (${keys.map((k) => k.column).join(', ')})`;
  try {
    const files: DataFile[] = [];
    for (const partition of await partitionRanges(connection, table, scratch, keys)) {
      for (let from = partition.first; from <= partition.last; from += maxRowsPerFile) {
        const to = Math.min(from + maxRowsPerFile - 1, partition.last);
        const range = `(SELECT ${exclude} FROM ${scratch} WHERE rowid BETWEEN ${from} AND ${to})`;
        const path = pathFor(partitionPath(table, partition.values));
        await mkdir(dirname(path), { recursive: true });
        await copyToParquet(connection, table, range, path);
        files.push(await describeRows(connection, table, range, path, partition.values));
      }
    }
    return files;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${scratch}`);
  }
}

/** Each partition's values and the row ids its rows span in the sorted `scratch`, checked to be contiguous. */
async function partitionRanges(
  connection: DuckDBConnection,
  table: Table,
  scratch: string,
  keys: readonly { readonly partition: PartitionField; readonly column: string }[],
): Promise<{ values: Record<string, unknown>; first: number; last: number }[]> {
  const groupBy = keys.length === 0 ? '' : ` GROUP BY ${keys.map((k) => k.column).join(', ')}`;
  const rows = (
    await connection.runAndReadAll(
      `SELECT ${keys.map((k) => `${k.column}, `).join('')}min(rowid) AS first, max(rowid) AS last, count(*) AS n
       FROM ${scratch}${groupBy} ORDER BY first`,
    )
  ).getRowObjects();
  return rows
    .filter((row) => Number(row.n) > 0)
    .map((row) => {
      const [first, last, n] = [Number(row.first), Number(row.last), Number(row.n)];
      const values = Object.fromEntries(keys.map((k) => [k.partition.name, row[k.column]]));
      if (last - first + 1 !== n) {
        throw new Error(
          `writing ${table.name}: the ${n} sorted rows of partition ${partitionPath(table, values)} are not contiguous (row ids ${first} to ${last})`,
        );
      }
      return { values, first, last };
    });
}

/** Files are written in the scratch table's row order, which DuckDB keeps only with this setting on. */
async function assertInsertionOrderPreserved(connection: DuckDBConnection): Promise<void> {
  const [value] = (
    await connection.runAndReadAll(`SELECT current_setting('preserve_insertion_order')`)
  ).getRows()[0] as [boolean];
  if (value !== true) {
    throw new Error(
      `writing data files needs DuckDB's preserve_insertion_order on (files are cut from sorted row ranges), got ${String(value)}`,
    );
  }
}

/**
 * Writes position delete files (merge-on-read) for the rows `positions`
 * names: a relation of `__ll_file` (a live data file's local path) and
 * `__ll_pos` (a row position in it). One file per data file, next to it and
 * in its partition, rows sorted by position as the spec requires, with equal
 * `file_path` bounds so readers (and a later commit removing the data file)
 * know the one file it applies to. Returns what the manifests need.
 */
export async function writePositionDeletes(
  connection: DuckDBConnection,
  positions: string,
  dataFiles: readonly ManifestEntry[],
): Promise<DataFile[]> {
  const byPath = new Map(dataFiles.map((e) => [e.dataFile.path, e.dataFile]));
  const groups = (
    await connection.runAndReadAll(
      `SELECT __ll_file, count(*), min(__ll_pos), max(__ll_pos) FROM ${positions} GROUP BY __ll_file ORDER BY __ll_file`,
    )
  ).getRows() as [string, bigint, bigint, bigint][];
  const ids = POSITION_DELETE_FIELD_IDS;
  const files: DataFile[] = [];
  for (const [file, count, min, max] of groups) {
    const target = byPath.get(file);
    if (target === undefined) throw new Error(`position deletes name ${file}, which is not a live data file`);
    const location = target.location ?? target.path;
    const path = join(dirname(target.path), `${randomUUID()}-deletes.parquet`);
    await connection.run(
      `COPY (SELECT ${quoteString(location)} AS file_path, __ll_pos AS pos FROM ${positions}
             WHERE __ll_file = ${quoteString(file)} ORDER BY pos)
       TO ${quoteString(path)} (FORMAT PARQUET, COMPRESSION 'snappy', FIELD_IDS {file_path: ${ids.filePath}, pos: ${ids.pos}})`,
    );
    const both = (value: bigint) =>
      new Map([
        [ids.filePath, value],
        [ids.pos, value],
      ]);
    const pathBound = serializeBound({ kind: 'primitive', name: 'string' }, location);
    files.push({
      path,
      content: FileContent.PositionDeletes,
      recordCount: count,
      fileSizeInBytes: BigInt((await stat(path)).size),
      partition: target.partition,
      valueCounts: both(count),
      nullValueCounts: both(0n),
      lowerBounds: new Map([
        [ids.filePath, pathBound],
        [ids.pos, serializeBound({ kind: 'primitive', name: 'long' }, min)],
      ]),
      upperBounds: new Map([
        [ids.filePath, pathBound],
        [ids.pos, serializeBound({ kind: 'primitive', name: 'long' }, max)],
      ]),
    });
  }
  return files;
}
