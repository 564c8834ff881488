import type { DuckDBResult } from '@duckdb/node-api';
import { stringifyWithLongs } from '../iceberg/json-long.ts';
import { cellText, type ExactJson, exactJsonConverter, isNumericType } from './values.ts';

/** Where output goes: stdout in the CLI, a buffer in tests. Resolves when the text may be followed by more. */
export type Write = (text: string) => Promise<void>;

export interface TextOptions {
  /** Rows printed before the rest are only counted. */
  readonly maxRows: number;
  /** Longer cells are cut with an ellipsis (JSON output is never cut). */
  readonly maxCellWidth: number;
}

export const DEFAULT_TEXT_OPTIONS: TextOptions = { maxRows: 1000, maxCellWidth: 80 };

/**
 * A result as an aligned table, as psql prints one: numbers right-aligned,
 * decimals exactly as stored, NULL for null. Rows past `maxRows` are counted,
 * not held.
 */
export async function writeText(
  result: DuckDBResult,
  write: Write,
  options: TextOptions = DEFAULT_TEXT_OPTIONS,
): Promise<void> {
  const headers = result.columnNames();
  if (headers.length === 0) return;
  const numeric = result.columnTypes().map(isNumericType);
  const rows: string[][] = [];
  let total = 0;
  let cut = false;
  for await (const chunk of result) {
    const wanted = Math.max(0, Math.min(chunk.rowCount, options.maxRows - total));
    for (const row of chunk.getRows().slice(0, wanted)) {
      rows.push(
        row.map((value) => {
          const text = cellText(value);
          if (text.length <= options.maxCellWidth) return text;
          cut = true;
          return `${text.slice(0, options.maxCellWidth - 1)}…`;
        }),
      );
    }
    total += chunk.rowCount;
  }
  const footer = [
    `(${total} ${total === 1 ? 'row' : 'rows'}${total > rows.length ? `, first ${rows.length} shown: add LIMIT, or --max-rows N, or use --json` : ''})`,
  ];
  if (cut) footer.push(`(values over ${options.maxCellWidth} characters are cut; --json prints them whole)`);
  await write(`${textTable(headers, rows, numeric)}\n${footer.join('\n')}\n`);
}

/** A result as a JSON array of row objects, streamed: decimals as exact strings, BIGINTs as exact numbers. */
export async function writeJson(result: DuckDBResult, write: Write): Promise<void> {
  let first = true;
  await write('[');
  for await (const rows of result.yieldConvertedRowObjects(exactJsonConverter)) {
    if (rows.length === 0) continue;
    const text = rows.map((row) => stringifyWithLongs(row)).join(',\n');
    await write(`${first ? '\n' : ',\n'}${text}`);
    first = false;
  }
  await write(first ? ']\n' : '\n]\n');
}

/**
 * A result as CSV (RFC 4180) for spreadsheets, streamed: a header row,
 * decimals exactly as stored (500.0000, never 500 or 5e2), dates as
 * YYYY-MM-DD, an empty field for null; fields holding a comma, quote or line
 * break are quoted.
 */
export async function writeCsv(result: DuckDBResult, write: Write): Promise<void> {
  const field = (value: ExactJson): string => {
    if (value === null) return '';
    const text = typeof value === 'object' ? stringifyWithLongs(value) : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  await write(`${result.columnNames().map(field).join(',')}\r\n`);
  for await (const rows of result.yieldConvertedRows(exactJsonConverter)) {
    if (rows.length === 0) continue;
    await write(rows.map((row) => `${row.map(field).join(',')}\r\n`).join(''));
  }
}

/** Rows of plain values (listings) as an aligned table. */
export function listingText(listing: readonly object[], columns: readonly string[]): string {
  const rows = listing as readonly Record<string, unknown>[];
  const cells = rows.map((row) =>
    columns.map((c) => {
      const value = row[c];
      if (value === null || value === undefined) return 'NULL';
      return String(value);
    }),
  );
  const numeric = columns.map((c) => rows.some((r) => typeof r[c] === 'number' || typeof r[c] === 'bigint'));
  return textTable(columns, cells, numeric);
}

export function textTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  rightAlign: readonly boolean[],
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], align: (i: number) => boolean) =>
    ` ${cells
      .map((cell, i) => (align(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join(' | ')}`.trimEnd();
  return [
    line(headers, () => false),
    widths.map((w) => '-'.repeat(w + 2)).join('+'),
    ...rows.map((r) => line(r, (i) => rightAlign[i] === true)),
  ].join('\n');
}
