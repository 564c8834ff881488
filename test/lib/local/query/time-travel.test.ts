import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SqlSyntaxError } from '../../../../lib/local/query/sql-tokens.ts';
import { findTimeTravel, replaceClauses } from '../../../../lib/local/query/time-travel.ts';

/** The query with every clause replaced by `<name parts joined by |>@<point>`. */
function rewritten(sql: string): string {
  const clauses = findTimeTravel(sql);
  const names = clauses.map((c) => {
    const p = c.point;
    const at =
      p.kind === 'version'
        ? String(p.snapshotId)
        : p.kind === 'ref'
          ? `ref:${p.name}`
          : p.kind === 'timestamp'
            ? `ts:${p.literal}`
            : `expr:${p.sql}`;
    return `<${c.table.join('|')}@${at}>`;
  });
  return replaceClauses(sql, clauses, names);
}

describe('time-travel rewriter', () => {
  it('replaces FOR VERSION AS OF after bare, qualified and quoted table names', () => {
    assert.equal(
      rewritten('SELECT * FROM journal_entries_gold FOR VERSION AS OF 123 g WHERE g.is_balanced'),
      'SELECT * FROM <journal_entries_gold@123> g WHERE g.is_balanced',
    );
    assert.equal(
      rewritten('select * from fq_app_curated.journal_entries_silver for version as of 9223372036854775807'),
      'select * from <fq_app_curated|journal_entries_silver@9223372036854775807>',
    );
    assert.equal(
      rewritten('SELECT * FROM "gold" . "journal ""entries""" FOR SYSTEM_VERSION AS OF -5 AS x'),
      'SELECT * FROM <gold|journal "entries"@-5> AS x',
    );
  });

  it('reads FOR TIMESTAMP AS OF a string, a TIMESTAMP literal or an expression in parentheses', () => {
    assert.equal(
      rewritten("FROM t FOR TIMESTAMP AS OF '2025-07-01T12:00:00Z' JOIN u FOR SYSTEM_TIME AS OF 'it''s'"),
      "FROM <t@ts:2025-07-01T12:00:00Z> JOIN <u@ts:it's>",
    );
    assert.equal(
      rewritten("FROM t FOR TIMESTAMP AS OF TIMESTAMP '2025-07-01 12:00' LIMIT 1"),
      "FROM <t@expr:TIMESTAMP '2025-07-01 12:00'> LIMIT 1",
    );
    assert.equal(
      rewritten("FROM t FOR TIMESTAMP AS OF (current_timestamp - interval '1' day) WHERE (a = 1)"),
      "FROM <t@expr:(current_timestamp - interval '1' day)> WHERE (a = 1)",
    );
  });

  it("reads Spark's forms without FOR, and a branch or tag name in quotes", () => {
    assert.equal(
      rewritten("SELECT * FROM t VERSION AS OF 7, u TIMESTAMP AS OF '2025-01-01', v VERSION AS OF 'main'"),
      'SELECT * FROM <t@7>, <u@ts:2025-01-01>, <v@ref:main>',
    );
  });

  it("leaves 'FOR VERSION AS OF' inside string literals, quoted names and comments alone", () => {
    const sql = [
      "SELECT 'x FOR VERSION AS OF 1' AS a, E'y\\' FOR VERSION AS OF 2' AS b, $$z FOR TIMESTAMP AS OF '1'$$ AS c,",
      '  "t FOR VERSION AS OF 3" AS d -- t FOR VERSION AS OF 4',
      '/* t FOR VERSION AS OF 5 /* nested */ t FOR VERSION AS OF 6 */ FROM t',
    ].join('\n');
    assert.deepEqual(findTimeTravel(sql), []);
    assert.equal(rewritten(sql), sql);
    assert.equal(
      rewritten("SELECT 'FOR VERSION AS OF 1' FROM t FOR VERSION AS OF 2"),
      "SELECT 'FOR VERSION AS OF 1' FROM <t@2>",
    );
  });

  it('leaves columns called version and casts to TIMESTAMP alone', () => {
    for (const sql of [
      'SELECT version AS of FROM t',
      'SELECT CAST(x AS TIMESTAMP) AS of FROM t',
      'SELECT x::TIMESTAMP AS of FROM t',
    ]) {
      assert.equal(rewritten(sql), sql);
    }
  });

  it('fails naming the clause when FOR VERSION AS OF is not followed by a snapshot id', () => {
    assert.throws(
      () => findTimeTravel('SELECT * FROM t FOR VERSION AS OF now()'),
      (error: Error) =>
        error instanceof SqlSyntaxError &&
        /VERSION AS OF expects a snapshot id \(an integer\).*got "now\(\)"/.test(error.message),
    );
    assert.throws(
      () => findTimeTravel('SELECT * FROM t FOR TIMESTAMP AS OF current_timestamp'),
      /TIMESTAMP AS OF expects a timestamp in quotes .* got "current_timestamp"/,
    );
    assert.throws(() => findTimeTravel('SELECT * FROM t FOR VERSION AS OF'), /got the end of the query/);
  });

  it('fails when the alias comes before the clause, and on an unterminated string', () => {
    assert.throws(
      () => findTimeTravel('SELECT * FROM t AS x FOR VERSION AS OF 1'),
      /put the table alias after the time-travel clause/,
    );
    assert.throws(
      () => findTimeTravel("SELECT 'oops FROM t"),
      /unterminated string literal starting at character 8/,
    );
  });
});
