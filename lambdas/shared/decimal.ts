/**
 * Exact decimal conversion for money. Values are parsed from their decimal
 * text (Decimal128's string, an integer, or a double's shortest round-trip
 * form) and returned as the unscaled integer Parquet stores — never through
 * floating point arithmetic.
 */
const DECIMAL_TEXT = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export type DecimalResult = { ok: true; unscaled: bigint } | { ok: false; reason: string };

/** `toUnscaled('500.5', 18, 4)` → 5005000n; more than `scale` decimals or too many digits is an error, never rounded. */
export function toUnscaled(text: string, precision: number, scale: number): DecimalResult {
  const match = DECIMAL_TEXT.exec(text.trim());
  if (match === null) return { ok: false, reason: `not a finite decimal number (${text})` };
  const [, sign, intPart = '', fracPart = '', exponentText] = match;
  const exponent = Number(exponentText ?? 0) - fracPart.length;
  return scaleExactly(sign === '-', BigInt(intPart + fracPart), exponent, precision, scale, () => text);
}

/**
 * The same conversion straight from a Decimal128's 16 bytes (IEEE 754-2008
 * BID layout), without formatting it as text first: extraction converts
 * every amount of every line, and Decimal128.toString is the slow part.
 */
export function decimal128ToUnscaled(
  bytes: Uint8Array,
  precision: number,
  scale: number,
  text: () => string,
): DecimalResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const low = view.getBigUint64(0, true);
  const high = view.getBigUint64(8, true);
  // Combination bits 11: NaN, infinity or a non-canonical huge coefficient; the text path reports them.
  if (((high >> 61n) & 3n) === 3n) return toUnscaled(text(), precision, scale);
  const exponent = Number((high >> 49n) & 0x3fffn) - 6176;
  const coefficient = ((high & 0x1ffffffffffffn) << 64n) | low;
  return scaleExactly(high >> 63n === 1n, coefficient, exponent, precision, scale, text);
}

/** digits × 10^exponent as an unscaled integer at `scale`, refusing anything that would need rounding. */
function scaleExactly(
  negative: boolean,
  digits: bigint,
  exponent: number,
  precision: number,
  scale: number,
  text: () => string,
): DecimalResult {
  let unscaled = digits;
  const shift = exponent + scale;
  if (shift >= 0) {
    unscaled *= 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    if (unscaled % divisor !== 0n)
      return { ok: false, reason: `more than ${scale} decimal places (${text()})` };
    unscaled /= divisor;
  }
  if (unscaled >= 10n ** BigInt(precision)) {
    return { ok: false, reason: `too large for decimal(${precision}, ${scale}) (${text()})` };
  }
  return { ok: true, unscaled: negative ? -unscaled : unscaled };
}
