import {
  excerpt,
  identifierValue,
  SqlSyntaxError,
  significant,
  stringValue,
  type Token,
  tokenize,
} from './sql-tokens.ts';

/**
 * What a time-travel clause reads as of: a snapshot id (or a branch or tag
 * name), or a point in time given as a string literal or a SQL expression.
 */
export type TravelPoint =
  | { readonly kind: 'version'; readonly snapshotId: bigint }
  | { readonly kind: 'ref'; readonly name: string }
  | { readonly kind: 'timestamp'; readonly literal: string }
  | { readonly kind: 'timestamp-expression'; readonly sql: string };

/** `<table> FOR VERSION AS OF <id>` or `<table> FOR TIMESTAMP AS OF <time>`, found in a query. */
export interface TimeTravelClause {
  /** Offsets in the query of the whole clause, table name included. */
  readonly start: number;
  readonly end: number;
  /** The table name's parts as written, quotes removed (`fq_app_curated`, `journal_entries_silver`). */
  readonly table: readonly string[];
  readonly point: TravelPoint;
  /** The clause as written, for error messages. */
  readonly text: string;
}

const VERSION_WORDS = new Set(['VERSION', 'SYSTEM_VERSION']);
const TIME_WORDS = new Set(['TIMESTAMP', 'SYSTEM_TIME']);

/**
 * Finds the time-travel clauses of Athena (Trino) and Spark in a query:
 * `FOR VERSION AS OF`, `FOR TIMESTAMP AS OF`, `FOR SYSTEM_VERSION AS OF`,
 * `FOR SYSTEM_TIME AS OF`, and Spark's `VERSION AS OF` / `TIMESTAMP AS OF`
 * without FOR. DuckDB parses none of them, so they are replaced before the
 * query runs. Text inside string literals, quoted identifiers and comments
 * is never matched.
 */
export function findTimeTravel(sql: string): TimeTravelClause[] {
  const tokens = significant(tokenize(sql));
  const clauses: TimeTravelClause[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const found = clauseKeywordAt(tokens, i);
    if (found === undefined) continue;
    const clause = found.explicit
      ? clauseAt(tokens, i, found.keywordAt, sql)
      : sparkClauseAt(tokens, i, found.keywordAt, sql);
    if (clause === undefined) continue;
    clauses.push(clause.clause);
    i = clause.last;
  }
  return clauses;
}

function clauseAt(
  tokens: readonly Token[],
  i: number,
  keywordAt: number,
  sql: string,
): { clause: TimeTravelClause; last: number } {
  const tableStart = tableNameStart(tokens, i - 1, sql);
  const { point, last } = travelPoint(tokens, keywordAt, sql);
  const start = (tokens[tableStart] as Token).start;
  const end = (tokens[last] as Token).end;
  const table = tokens.slice(tableStart, i).filter((t) => t.text !== '.');
  return {
    clause: { start, end, table: table.map(identifierValue), point, text: sql.slice(start, end) },
    last,
  };
}

/** Without FOR the words are common ones (`SELECT version AS of`), so only a well-formed clause counts. */
function sparkClauseAt(
  tokens: readonly Token[],
  i: number,
  keywordAt: number,
  sql: string,
): { clause: TimeTravelClause; last: number } | undefined {
  try {
    return clauseAt(tokens, i, keywordAt, sql);
  } catch (error) {
    if (error instanceof SqlSyntaxError) return undefined;
    throw error;
  }
}

/** The query with each clause replaced by the relation name given for it. */
export function replaceClauses(
  sql: string,
  clauses: readonly TimeTravelClause[],
  replacements: readonly string[],
): string {
  let out = '';
  let from = 0;
  clauses.forEach((clause, index) => {
    out += sql.slice(from, clause.start) + (replacements[index] as string);
    from = clause.end;
  });
  return out + sql.slice(from);
}

/** If a clause starts at `i`: the index of its VERSION/TIMESTAMP word, and whether it began with FOR. */
function clauseKeywordAt(
  tokens: readonly Token[],
  i: number,
): { keywordAt: number; explicit: boolean } | undefined {
  const word = (at: number) => (tokens[at]?.kind === 'word' ? tokens[at].text.toUpperCase() : undefined);
  const isAsOf = (at: number) => word(at) === 'AS' && word(at + 1) === 'OF';
  const first = word(i);
  if (first === 'FOR') {
    const kind = word(i + 1);
    return kind !== undefined && (VERSION_WORDS.has(kind) || TIME_WORDS.has(kind)) && isAsOf(i + 2)
      ? { keywordAt: i + 1, explicit: true }
      : undefined;
  }
  if (first !== 'VERSION' && first !== 'TIMESTAMP') return undefined;
  if (!isAsOf(i + 1) || word(i - 1) === 'FOR') return undefined;
  // Spark's form without FOR: only after a table name (not after `::`, `AS` or `(`, as in a cast).
  const before = tokens[i - 1];
  const isName = before !== undefined && (before.kind === 'quoted' || before.kind === 'word');
  return isName && word(i - 1) !== 'AS' && tokens[i - 2]?.text !== ':'
    ? { keywordAt: i, explicit: false }
    : undefined;
}

/** Walks back over `name(.name)*` ending at `last`; returns the index of its first part. */
function tableNameStart(tokens: readonly Token[], last: number, sql: string): number {
  const isPart = (t: Token | undefined) => t !== undefined && (t.kind === 'word' || t.kind === 'quoted');
  const clause = tokens[last + 1] as Token;
  if (!isPart(tokens[last]) || tokens[last]?.text.toUpperCase() === 'AS') {
    throw new SqlSyntaxError(
      `${excerpt(sql, clause.start)}: a time-travel clause must follow a table name, as in journal_entries_silver FOR VERSION AS OF 123`,
    );
  }
  let first = last;
  while (tokens[first - 1]?.text === '.' && isPart(tokens[first - 2])) first -= 2;
  if (tokens[first - 1]?.kind === 'word' && tokens[first - 1]?.text.toUpperCase() === 'AS') {
    throw new SqlSyntaxError(
      `${excerpt(sql, (tokens[first - 1] as Token).start)}: put the table alias after the time-travel clause, as in journal_entries_silver FOR VERSION AS OF 123 AS s`,
    );
  }
  return first;
}

/** Reads the value after `AS OF`; `keywordAt` is the VERSION/TIMESTAMP word. */
function travelPoint(
  tokens: readonly Token[],
  keywordAt: number,
  sql: string,
): { point: TravelPoint; last: number } {
  const keyword = (tokens[keywordAt] as Token).text.toUpperCase();
  const at = keywordAt + 3;
  const value = tokens[at];
  const clause = `${keyword} AS OF`;
  if (VERSION_WORDS.has(keyword)) {
    const negative = value?.text === '-' && tokens[at + 1]?.kind === 'number';
    const numberToken = negative ? tokens[at + 1] : value;
    if (numberToken?.kind === 'number' && /^\d+$/.test(numberToken.text)) {
      const snapshotId = BigInt(`${negative ? '-' : ''}${numberToken.text}`);
      return { point: { kind: 'version', snapshotId }, last: negative ? at + 1 : at };
    }
    if (value?.kind === 'string') {
      const text = stringValue(value);
      const point: TravelPoint = /^-?\d+$/.test(text)
        ? { kind: 'version', snapshotId: BigInt(text) }
        : { kind: 'ref', name: text };
      return { point, last: at };
    }
    throw new SqlSyntaxError(
      `${clause} expects a snapshot id (an integer) or a branch or tag name in quotes, got ${describe(value, sql)}`,
    );
  }
  if (value?.kind === 'string')
    return { point: { kind: 'timestamp', literal: stringValue(value) }, last: at };
  const typed = value?.kind === 'word' && /^TIMESTAMP(?:TZ)?$/i.test(value.text) && tokens[at + 1];
  if (typed && typed.kind === 'string') {
    return {
      point: { kind: 'timestamp-expression', sql: sql.slice((value as Token).start, typed.end) },
      last: at + 1,
    };
  }
  if (value?.text === '(') {
    const close = matchingParen(tokens, at);
    if (close !== undefined) {
      const expression = sql.slice(value.start, (tokens[close] as Token).end);
      return { point: { kind: 'timestamp-expression', sql: expression }, last: close };
    }
  }
  throw new SqlSyntaxError(
    `${clause} expects a timestamp in quotes ('2025-07-01T12:00:00Z'), TIMESTAMP '…' or an expression in parentheses, got ${describe(value, sql)}`,
  );
}

function matchingParen(tokens: readonly Token[], open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const text = (tokens[i] as Token).text;
    if (text === '(') depth++;
    else if (text === ')' && --depth === 0) return i;
  }
  return undefined;
}

function describe(token: Token | undefined, sql: string): string {
  return token === undefined ? 'the end of the query' : `"${excerpt(sql, token.start)}"`;
}
