/**
 * Where DuckDB (the local engine) and Spark SQL (Glue) differ. The silver and
 * gold logic is written once against this interface; nothing else in the
 * curate SQL may be engine-specific.
 */
export interface SqlDialect {
  readonly name: 'duckdb' | 'spark';
  /** `SELECT <columns>, <element alias>, <position alias> FROM <source>` with one row per array element, positions from 1. */
  explode(source: string, columns: string, array: string, element: string, position: string): string;
  /** Number of elements of an array expression; 0 when the array is null. */
  arrayLength(array: string): string;
  /** True when two values differ, nulls compared as values. */
  distinct(a: string, b: string): string;
  /** A date literal. */
  date(isoDate: string): string;
  /** A timestamp-with-time-zone literal from an ISO 8601 instant (`2025-06-01T12:00:00.000Z`). */
  timestamp(iso: string): string;
  /** Aggregate: the distinct non-null values of a string expression, sorted, joined with ', '. */
  sortedDistinctList(expression: string): string;
  /** The first day of the month of a DATE expression, as a DATE. */
  monthStart(date: string): string;
  /** The first day of the year of a DATE expression, as a DATE. */
  yearStart(date: string): string;
  /** A DATE expression moved by a whole number of months (an integer literal or expression). */
  addMonths(date: string, months: string): string;
  /** The UTC calendar day of a timestamp-with-time-zone expression, as a DATE. */
  utcDate(timestamp: string): string;
  /**
   * `SELECT <columns>, <alias> FROM <source>` with one row per month from the
   * DATE `from` to the DATE `to` (both first days of months, inclusive); none when `from` > `to`.
   */
  eachMonth(source: string, columns: string, from: string, to: string, alias: string): string;
  /** True when a string expression matches a regular expression as a whole (no anchors needed). */
  fullMatch(text: string, pattern: string): string;
  /**
   * Upsert `source` into `target` on `keys`, updating or inserting every
   * listed column. With `deleteFlag`, source rows whose boolean column of that
   * name is true delete the matching target row instead (and are never inserted).
   */
  merge(
    target: string,
    source: string,
    keys: readonly string[],
    columns: readonly string[],
    deleteFlag?: string,
  ): string;
  /** Quoted identifier. */
  ident(name: string): string;
}

/** `2025-06-01T12:00:00.000Z` → `2025-06-01 12:00:00.000+00:00`, which both engines parse; refuses anything else. */
function sqlInstant(iso: string): string {
  const ms = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(iso) || Number.isNaN(ms)) {
    throw new Error(
      `expected an ISO 8601 UTC instant like 2025-06-01T12:00:00.000Z, got ${JSON.stringify(iso)}`,
    );
  }
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}+00:00`;
}

const backtick = (name: string) => `\`${name.replaceAll('`', '``')}\``;
const doubleQuote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** MERGE INTO as both engines accept it: conditional WHEN clauses, no NOT MATCHED BY SOURCE (Spark 3.3 has none). */
function mergeStatement(
  ident: (name: string) => string,
  target: string,
  source: string,
  keys: readonly string[],
  columns: readonly string[],
  deleteFlag: string | undefined,
): string {
  const on = keys.map((k) => `t.${ident(k)} = s.${ident(k)}`).join(' AND ');
  const set = columns.map((c) => `${ident(c)} = s.${ident(c)}`).join(', ');
  const names = columns.map(ident).join(', ');
  const values = columns.map((c) => `s.${ident(c)}`).join(', ');
  const flag = deleteFlag === undefined ? undefined : `s.${ident(deleteFlag)}`;
  return [
    `MERGE INTO ${target} AS t`,
    `USING (${source}) AS s`,
    `ON ${on}`,
    ...(flag === undefined ? [] : [`WHEN MATCHED AND ${flag} THEN DELETE`]),
    `WHEN MATCHED THEN UPDATE SET ${set}`,
    `WHEN NOT MATCHED${flag === undefined ? '' : ` AND NOT ${flag}`} THEN INSERT (${names}) VALUES (${values})`,
  ].join('\n');
}

export const duckdb: SqlDialect = {
  name: 'duckdb',
  // Two set-returning functions in one select list advance together: element i with subscript i.
  explode: (source, columns, array, element, position) =>
    `SELECT ${columns}, unnest(${array}) AS ${element}, generate_subscripts(${array}, 1) AS ${position} FROM ${source}`,
  arrayLength: (array) => `coalesce(len(${array}), 0)`,
  distinct: (a, b) => `${a} IS DISTINCT FROM ${b}`,
  date: (isoDate) => `DATE '${isoDate}'`,
  timestamp: (iso) => `CAST('${sqlInstant(iso)}' AS TIMESTAMPTZ)`,
  sortedDistinctList: (expression) => `array_to_string(list_sort(list_distinct(list(${expression}))), ', ')`,
  monthStart: (date) => `CAST(date_trunc('month', ${date}) AS DATE)`,
  yearStart: (date) => `CAST(date_trunc('year', ${date}) AS DATE)`,
  addMonths: (date, months) => `CAST(${date} + to_months(${months}) AS DATE)`,
  // timezone('UTC', …) gives the UTC wall time whatever the session's time zone.
  utcDate: (timestamp) => `CAST(timezone('UTC', ${timestamp}) AS DATE)`,
  eachMonth: (source, columns, from, to, alias) =>
    `SELECT ${columns}, CAST(each_month.m AS DATE) AS ${alias} FROM ${source}, unnest(generate_series(${from}, ${to}, INTERVAL 1 MONTH)) each_month(m)`,
  fullMatch: (text, pattern) => `regexp_full_match(${text}, '${pattern}')`,
  merge: (target, source, keys, columns, deleteFlag) =>
    mergeStatement(doubleQuote, target, source, keys, columns, deleteFlag),
  ident: doubleQuote,
};

export const spark: SqlDialect = {
  name: 'spark',
  explode: (source, columns, array, element, position) =>
    `SELECT ${columns}, ${element}, ${position}_0 + 1 AS ${position} FROM ${source} LATERAL VIEW posexplode(${array}) exploded AS ${position}_0, ${element}`,
  // size(NULL) is -1 in Spark 3.3 unless ANSI mode is on.
  arrayLength: (array) => `CASE WHEN ${array} IS NULL THEN 0 ELSE size(${array}) END`,
  distinct: (a, b) => `NOT (${a} <=> ${b})`,
  date: (isoDate) => `DATE '${isoDate}'`,
  // Spark's TIMESTAMP is an instant (shown in the session time zone), as Iceberg's timestamptz.
  timestamp: (iso) => `TIMESTAMP '${sqlInstant(iso)}'`,
  sortedDistinctList: (expression) => `concat_ws(', ', array_sort(collect_set(${expression})))`,
  monthStart: (date) => `trunc(${date}, 'MM')`,
  yearStart: (date) => `trunc(${date}, 'YEAR')`,
  addMonths: (date, months) => `add_months(${date}, ${months})`,
  // The Glue jobs' session time zone is UTC (ledgerlake_glue.common).
  utcDate: (timestamp) => `to_date(${timestamp})`,
  // sequence() fails when from > to with a positive step, so the span is filtered first.
  eachMonth: (source, columns, from, to, alias) =>
    `SELECT ${columns}, ${alias} FROM (SELECT * FROM ${source} WHERE ${from} <= ${to}) each_source LATERAL VIEW explode(sequence(${from}, ${to}, INTERVAL 1 MONTH)) each_month AS ${alias}`,
  fullMatch: (text, pattern) => `(${text} RLIKE '^(?:${pattern})$')`,
  merge: (target, source, keys, columns, deleteFlag) =>
    mergeStatement(backtick, target, source, keys, columns, deleteFlag),
  ident: backtick,
};
