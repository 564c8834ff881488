/**
 * A lexer for DuckDB's SQL, just enough to find time-travel clauses: it knows
 * where string literals ('', E'', $tag$ $tag$), quoted identifiers and
 * comments (line and nested block) start and end, so words inside them are
 * never mistaken for SQL.
 */
export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct' | 'space' | 'comment';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

export class SqlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlSyntaxError';
  }
}

const WORD_START = /[\p{L}_]/u;
const WORD_PART = /[\p{L}\p{N}_$]/u;
const DIGIT = /[0-9]/;
const SPACE = /\s/;

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const [kind, end] = scanToken(sql, i);
    tokens.push({ kind, text: sql.slice(i, end), start: i, end });
    i = end;
  }
  return tokens;
}

/** Tokens that carry meaning: no whitespace, no comments. */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
}

/** The value of a string token: quotes removed, doubled quotes (and E'' escapes) undone. */
export function stringValue(token: Token): string {
  const { text } = token;
  if (text.startsWith('$')) {
    const tagEnd = text.indexOf('$', 1) + 1;
    return text.slice(tagEnd, text.length - tagEnd);
  }
  if (/^[eE]'/.test(text)) return text.slice(2, -1).replace(/\\(.)|''/g, (_match, c) => (c ?? "'") as string);
  return text.slice(1, -1).replaceAll("''", "'");
}

/** The name an identifier token stands for: unquoted words as written, quoted ones without quotes. */
export function identifierValue(token: Token): string {
  return token.kind === 'quoted' ? token.text.slice(1, -1).replaceAll('""', '"') : token.text;
}

function scanToken(sql: string, i: number): [TokenKind, number] {
  const ch = sql[i] as string;
  const next = sql[i + 1];
  if (SPACE.test(ch)) return ['space', skipWhile(sql, i, (c) => SPACE.test(c))];
  if (ch === '-' && next === '-') {
    const eol = sql.indexOf('\n', i);
    return ['comment', eol === -1 ? sql.length : eol];
  }
  if (ch === '/' && next === '*') return ['comment', blockCommentEnd(sql, i)];
  if (ch === "'") return ['string', quotedEnd(sql, i, "'", false)];
  if ((ch === 'e' || ch === 'E') && next === "'") return ['string', quotedEnd(sql, i + 1, "'", true)];
  if (ch === '"') return ['quoted', quotedEnd(sql, i, '"', false)];
  if (ch === '$') {
    const tag = /^\$(?:[\p{L}_][\p{L}\p{N}_]*)?\$/u.exec(sql.slice(i));
    if (tag !== null) return ['string', dollarQuotedEnd(sql, i, tag[0])];
  }
  if (DIGIT.test(ch) || (ch === '.' && next !== undefined && DIGIT.test(next))) {
    const literal = /^(?:\d[\d_]*)?(?:\.\d*)?(?:[eE][+-]?\d+)?/.exec(sql.slice(i));
    return ['number', i + Math.max(1, literal?.[0].length ?? 1)];
  }
  if (WORD_START.test(ch)) return ['word', skipWhile(sql, i, (c) => WORD_PART.test(c))];
  return ['punct', i + 1];
}

function skipWhile(sql: string, i: number, test: (ch: string) => boolean): number {
  let j = i;
  while (j < sql.length && test(sql[j] as string)) j++;
  return j;
}

/** End of a quoted run starting at `start` (the opening quote); a doubled quote is an escaped one. */
function quotedEnd(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const ch = sql[i];
    if (backslashEscapes && ch === '\\') i += 2;
    else if (ch === quote && sql[i + 1] === quote) i += 2;
    else if (ch === quote) return i + 1;
    else i++;
  }
  const what = quote === "'" ? 'string literal' : 'quoted identifier';
  throw new SqlSyntaxError(`unterminated ${what} starting at character ${start + 1}: ${excerpt(sql, start)}`);
}

function dollarQuotedEnd(sql: string, start: number, tag: string): number {
  const close = sql.indexOf(tag, start + tag.length);
  if (close === -1)
    throw new SqlSyntaxError(
      `unterminated ${tag}-quoted string starting at character ${start + 1}: ${excerpt(sql, start)}`,
    );
  return close + tag.length;
}

/** Block comments nest, as in PostgreSQL, whose grammar DuckDB's parser follows. */
function blockCommentEnd(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  throw new SqlSyntaxError(`unterminated /* comment starting at character ${start + 1}`);
}

export function excerpt(sql: string, start: number): string {
  const text = sql.slice(start, start + 40).replace(/\s+/g, ' ');
  return start + 40 < sql.length ? `${text}…` : text;
}
