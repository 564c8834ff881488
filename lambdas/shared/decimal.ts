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
  let digits = BigInt(intPart + fracPart);
  // value = digits × 10^exponent
  const exponent = Number(exponentText ?? 0) - fracPart.length;
  const shift = exponent + scale;
  if (shift >= 0) {
    digits *= 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    if (digits % divisor !== 0n) {
      return { ok: false, reason: `more than ${scale} decimal places (${text})` };
    }
    digits /= divisor;
  }
  if (digits >= 10n ** BigInt(precision)) {
    return { ok: false, reason: `too large for decimal(${precision}, ${scale}) (${text})` };
  }
  return { ok: true, unscaled: sign === '-' ? -digits : digits };
}

/** The text of an unscaled decimal: `formatUnscaled(5005000n, 4)` → '500.5000'. */
export function formatUnscaled(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const whole = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${whole}` : whole;
}
