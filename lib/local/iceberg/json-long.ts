/**
 * JSON with 64-bit integers. Iceberg metadata holds snapshot ids that other
 * writers (Spark, Java) draw from the whole long range; JSON.parse would round
 * anything above 2^53. Integers of 16 or more digits are read as bigint, and
 * bigints are written as plain JSON numbers.
 */
const MARK = '\u0000long:';

export function parseJsonWithLongs<T>(text: string): T {
  // Only integer literals outside strings: a quote-aware scan, not a regex over the whole text.
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j] as string)) j++;
      const literal = text.slice(i, j);
      // Written as the \u0000 escape, which JSON.parse turns back into MARK.
      out += /^-?\d{16,}$/.test(literal) ? `"\\u0000long:${literal}"` : literal;
      i = j;
      continue;
    }
    out += ch;
    i++;
  }
  return JSON.parse(out, (_key, value) =>
    typeof value === 'string' && value.startsWith(MARK) ? BigInt(value.slice(MARK.length)) : value,
  ) as T;
}

export function stringifyWithLongs(value: unknown, indent?: number): string {
  const text = JSON.stringify(
    value,
    (_key, v) => (typeof v === 'bigint' ? `${MARK}${v.toString()}` : v),
    indent,
  );
  // JSON.stringify escapes MARK's NUL as \u0000.
  return text.replace(/"\\u0000long:(-?\d+)"/g, '$1');
}

function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') i += 2;
    else if (ch === '"') return i + 1;
    else i++;
  }
  throw new Error(`unterminated string in JSON at ${start}`);
}
