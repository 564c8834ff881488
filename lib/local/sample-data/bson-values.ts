import { Decimal128 } from 'mongodb';

export const MS_PER_DAY = 86_400_000;

/** IEEE 754-2008 decimal128, BID encoding: biased exponent 6176 - 2, shifted into the top word. */
const EXPONENT_MINUS_2_HIGH_BYTES = [0x3c, 0x30] as const;
const MAX_CENTS = Number.MAX_SAFE_INTEGER;

/**
 * Money with exactly two decimal places (`12345` → 123.45) as Decimal128.
 * Amounts are carried as integer cents, which a double holds exactly up to
 * 2^53; the Decimal128 is built from its bytes (coefficient = cents,
 * exponent = -2), the same value `Decimal128.fromString('123.45')` gives,
 * without parsing text for every line of millions of entries.
 */
export function moneyFromCents(cents: number): Decimal128 {
  if (!Number.isSafeInteger(cents) || cents < 0 || cents > MAX_CENTS) {
    throw new Error(`cents must be a non-negative safe integer, got ${cents}`);
  }
  // A Buffer, as the driver's own Decimal128 values carry in Node.
  const bytes = Buffer.alloc(16);
  let rest = cents;
  for (let i = 0; i < 7 && rest > 0; i++) {
    bytes[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  bytes[14] = EXPONENT_MINUS_2_HIGH_BYTES[0];
  bytes[15] = EXPONENT_MINUS_2_HIGH_BYTES[1];
  return new Decimal128(bytes);
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` text already validated. */
export function dayNumber(isoDate: string): number {
  return Date.parse(`${isoDate}T00:00:00.000Z`) / MS_PER_DAY;
}

export function utcMidnight(day: number): Date {
  return new Date(day * MS_PER_DAY);
}

/** Day number of the first day of `day`'s month, moved by `monthOffset` months. */
export function firstOfMonth(day: number, monthOffset = 0): number {
  const date = utcMidnight(day);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + monthOffset, 1) / MS_PER_DAY;
}

export function lastOfMonth(day: number): number {
  return firstOfMonth(day, 1) - 1;
}
