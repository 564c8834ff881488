import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { LedgerlakeConfig } from '../../lib/config/index.ts';
import { FsCatalog } from '../../lib/local/iceberg/catalog.ts';
import { IcebergTable } from '../../lib/local/iceberg/table-ops.ts';
import { buildTableModel, type Field } from '../../lib/model/index.ts';
import {
  COMPARED_COLUMNS,
  CURATED_TABLE_NAMES,
  type CuratedTableName,
  type CuratedTables,
  type Row,
  TABLE_KEYS,
} from './oracle.ts';

/**
 * The curated tables of a local warehouse as the oracle shows them: the
 * compared columns only, dates and decimals as text (DuckDB's exact text of a
 * decimal has its scale's digits: 500.0000), read through the engine's table
 * reader from the current snapshots.
 */
export async function readCuratedTables(dir: string, config: LedgerlakeConfig): Promise<CuratedTables> {
  const model = buildTableModel(config);
  const catalog = new FsCatalog(join(dir, 'warehouse'));
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    const out: Partial<Record<CuratedTableName, readonly Row[]>> = {};
    for (const name of CURATED_TABLE_NAMES) {
      const table = model.table(name);
      const location = catalog.locationOf(table);
      if ((await catalog.load(location)) === undefined) {
        out[name] = [];
        continue;
      }
      const relation = await new IcebergTable(catalog, location).scanSql();
      const columns = COMPARED_COLUMNS[name].map((column) => selectText(table.fields, column));
      const reader = await connection.runAndReadAll(`SELECT ${columns.join(', ')} FROM ${relation}`);
      out[name] = reader.getRowObjectsJS() as Row[];
    }
    return out as CuratedTables;
  } finally {
    connection.closeSync();
  }
}

function selectText(fields: readonly Field[], column: string): string {
  const field = fields.find((f) => f.name === column);
  if (field === undefined) throw new Error(`the model has no column ${column}`);
  const kind = field.type.kind === 'primitive' ? field.type.name : field.type.kind;
  const quoted = `"${column}"`;
  return kind === 'date' || kind === 'decimal' ? `CAST(${quoted} AS VARCHAR) AS ${quoted}` : quoted;
}

/** Snapshots kept and the current snapshot of each curated table (none: the table does not exist yet). */
export async function curatedSnapshots(
  dir: string,
  config: LedgerlakeConfig,
): Promise<Record<CuratedTableName, { snapshots: number; current: string | null }>> {
  const model = buildTableModel(config);
  const catalog = new FsCatalog(join(dir, 'warehouse'));
  const out: Partial<Record<CuratedTableName, { snapshots: number; current: string | null }>> = {};
  for (const name of CURATED_TABLE_NAMES) {
    const location = catalog.locationOf(model.table(name));
    if ((await catalog.load(location)) === undefined) {
      out[name] = { snapshots: 0, current: null };
      continue;
    }
    const stats = await new IcebergTable(catalog, location).stats();
    out[name] = {
      snapshots: stats.snapshots,
      current: stats.currentSnapshotId === null ? null : String(stats.currentSnapshotId),
    };
  }
  return out as Record<CuratedTableName, { snapshots: number; current: string | null }>;
}

const SHOWN_PER_KIND = 6;

/**
 * What differs between two sets of curated tables, one line per problem
 * (empty when equal): duplicate keys in `actual`, rows missing, rows extra,
 * rows whose compared columns differ. Rows are matched by the table's key.
 */
export function diffTables(expected: CuratedTables, actual: CuratedTables, actualName = 'actual'): string[] {
  const problems: string[] = [];
  for (const name of CURATED_TABLE_NAMES) {
    problems.push(...diffTable(name, expected[name], actual[name], actualName));
  }
  return problems;
}

/** Keys held by more than one row (silver and gold must never hold one twice). */
export function duplicateKeys(name: CuratedTableName, rows: readonly Row[]): string[] {
  const seen = new Map<string, number>();
  for (const row of rows) seen.set(keyOf(name, row), (seen.get(keyOf(name, row)) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`);
}

function diffTable(
  name: CuratedTableName,
  expected: readonly Row[],
  actual: readonly Row[],
  actualName: string,
): string[] {
  const problems: string[] = [];
  const report = (kind: string, items: readonly string[]) => {
    if (items.length === 0) return;
    const shown = items.slice(0, SHOWN_PER_KIND).map((item) => `\n      ${item}`);
    const more = items.length > SHOWN_PER_KIND ? `\n      ... and ${items.length - SHOWN_PER_KIND} more` : '';
    problems.push(`${name}: ${items.length} ${kind}${shown.join('')}${more}`);
  };
  report(`duplicate keys in ${actualName}`, duplicateKeys(name, actual));
  const expectedByKey = new Map(expected.map((row) => [keyOf(name, row), row]));
  const actualByKey = new Map(actual.map((row) => [keyOf(name, row), row]));
  const missing: string[] = [];
  const differing: string[] = [];
  for (const [key, row] of expectedByKey) {
    const found = actualByKey.get(key);
    if (found === undefined) {
      missing.push(show(row));
      continue;
    }
    const columns = COMPARED_COLUMNS[name].filter((c) => (row[c] ?? null) !== (found[c] ?? null));
    if (columns.length > 0) {
      differing.push(
        `${key}: ${columns.map((c) => `${c} expected ${JSON.stringify(row[c])}, ${actualName} ${JSON.stringify(found[c])}`).join('; ')}`,
      );
    }
  }
  const extra = [...actualByKey].filter(([key]) => !expectedByKey.has(key)).map(([, row]) => show(row));
  report(`rows missing from ${actualName}`, missing);
  report(`rows in ${actualName} not expected`, extra);
  report('rows that differ', differing);
  return problems;
}

function keyOf(name: CuratedTableName, row: Row): string {
  return TABLE_KEYS[name].map((column) => String(row[column])).join(' | ');
}

function show(row: Row): string {
  return JSON.stringify(row);
}

/** Row counts per table, for short progress notes. */
export function rowCounts(tables: CuratedTables): Record<CuratedTableName, number> {
  return Object.fromEntries(CURATED_TABLE_NAMES.map((name) => [name, tables[name].length])) as Record<
    CuratedTableName,
    number
  >;
}
