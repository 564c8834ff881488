import { t } from './types.ts';

/**
 * Amounts are decimal(18, 4): 18 digits keep the unscaled value inside a
 * 64-bit integer, so Parquet stores it as INT64 (fast in Spark, Athena and
 * DuckDB) while covering ±99,999,999,999,999.9999 — beyond any single ledger
 * line. Scale 4 holds every ISO 4217 currency (at most 3 minor digits) plus
 * one digit for allocations. A source value that needs more digits is not
 * rounded: the document is quarantined with the reason.
 */
export const AMOUNT = t.decimal(18, 4);

/** Sums of amounts: Spark's sum(decimal(18,4)) is decimal(28,4), so totals use that. */
export const AMOUNT_TOTAL = t.decimal(28, 4);
