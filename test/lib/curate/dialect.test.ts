import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdb, spark } from '../../../lib/curate/dialect.ts';

describe('SQL dialects', () => {
  it('renders array explosion with 1-based positions for each engine', () => {
    assert.equal(
      duckdb.explode('latest', 'entry_id', 'lines', 'line', 'line_no'),
      'SELECT entry_id, unnest(lines) AS line, generate_subscripts(lines, 1) AS line_no FROM latest',
    );
    assert.equal(
      spark.explode('latest', 'entry_id', 'lines', 'line', 'line_no'),
      'SELECT entry_id, line, line_no_0 + 1 AS line_no FROM latest LATERAL VIEW posexplode(lines) exploded AS line_no_0, line',
    );
  });

  it('renders MERGE with each engine’s identifier quoting', () => {
    const expected = (q: (s: string) => string) =>
      [
        'MERGE INTO silver AS t',
        'USING (SELECT 1) AS s',
        `ON t.${q('_id')} = s.${q('_id')} AND t.${q('line_no')} = s.${q('line_no')}`,
        `WHEN MATCHED THEN UPDATE SET ${q('debit')} = s.${q('debit')}`,
        `WHEN NOT MATCHED THEN INSERT (${q('debit')}) VALUES (s.${q('debit')})`,
      ].join('\n');
    assert.equal(
      duckdb.merge('silver', 'SELECT 1', ['_id', 'line_no'], ['debit']),
      expected((s) => `"${s}"`),
    );
    assert.equal(
      spark.merge('silver', 'SELECT 1', ['_id', 'line_no'], ['debit']),
      expected((s) => `\`${s}\``),
    );
  });

  it('the DuckDB rendering runs: explosion keeps element order and MERGE updates and inserts', async () => {
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    await connection.run(
      `CREATE TABLE latest AS SELECT 'JE1001' AS entry_id, [{'account_id': '1000', 'debit': 500.00::DECIMAL(18,4)}, {'account_id': '2000', 'debit': 0::DECIMAL(18,4)}] AS lines`,
    );
    const exploded = await connection.runAndReadAll(
      `SELECT entry_id, line.account_id AS account_id, line_no FROM (${duckdb.explode('latest', 'entry_id', 'lines', 'line', 'line_no')}) ORDER BY line_no`,
    );
    assert.deepEqual(exploded.getRowObjectsJS(), [
      { entry_id: 'JE1001', account_id: '1000', line_no: 1n },
      { entry_id: 'JE1001', account_id: '2000', line_no: 2n },
    ]);
    await connection.run(`CREATE TABLE silver ("_id" VARCHAR, "line_no" BIGINT, "debit" DECIMAL(18,4))`);
    await connection.run(`INSERT INTO silver VALUES ('a', 1, 1.0), ('a', 2, 2.0)`);
    await connection.run(
      duckdb.merge(
        'silver',
        `SELECT * FROM (VALUES ('a', 2, 20.0::DECIMAL(18,4)), ('b', 1, 5.0::DECIMAL(18,4))) v("_id", "line_no", "debit")`,
        ['_id', 'line_no'],
        ['_id', 'line_no', 'debit'],
      ),
    );
    const rows = await connection.runAndReadAll(
      `SELECT "_id", "line_no", CAST("debit" AS VARCHAR) AS debit FROM silver ORDER BY 1, 2`,
    );
    assert.deepEqual(rows.getRowObjectsJS(), [
      { _id: 'a', line_no: 1n, debit: '1.0000' },
      { _id: 'a', line_no: 2n, debit: '20.0000' },
      { _id: 'b', line_no: 1n, debit: '5.0000' },
    ]);
  });
});
