import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { resolveConfig } from '../../../lib/config/index.ts';
import { duckdb, spark } from '../../../lib/curate/dialect.ts';
import {
  curateRelations,
  curateSteps,
  DELETE_FLAG,
  watermarkColumns,
} from '../../../lib/curate/statements.ts';
import { changesTo, versionOrder } from '../../../lib/curate/transforms.ts';
import { model } from './brief-fixture.ts';

const relations = curateRelations(
  (table) => table,
  (table) => `target_${table}`,
);
const watermarks = watermarkColumns(resolveConfig(), model);

describe('curate steps', () => {
  it('merges silver, then gold, the balances and statements read from the merged silver, then the data-quality issues (which count duplicates over the merged gold)', () => {
    const merges = curateSteps(duckdb, relations, watermarks, model).flatMap((s) =>
      s.kind === 'merge' ? [s.table] : [],
    );
    assert.deepEqual(merges, [
      'accounts_silver',
      'close_tasks_silver',
      'journal_entries_silver',
      'journal_entries_gold',
      'trial_balance_gold',
      'income_statement_gold',
      'balance_sheet_gold',
      'close_progress_gold',
      'data_quality_issues',
    ]);
  });

  it('computes every relation before the MERGE that reads it, and MERGEs from the materialized changes', () => {
    const steps = curateSteps(duckdb, relations, watermarks, model);
    const made = new Set<string>();
    for (const step of steps) {
      for (const other of steps) {
        if (other.name !== step.name && new RegExp(`\\b${other.name}\\b`).test(step.sql)) {
          assert.ok(made.has(other.name), `${step.name} reads ${other.name} before it exists`);
        }
      }
      made.add(step.name);
      if (step.kind === 'merge') {
        assert.match(
          step.merge,
          new RegExp(`^MERGE INTO target_${step.table} AS t\\nUSING \\(SELECT \\* FROM ${step.name}\\) AS s`),
        );
      }
    }
  });

  it('renders the same steps for Spark, quoted with backticks', () => {
    const duck = curateSteps(duckdb, relations, watermarks, model);
    const sparkSteps = curateSteps(spark, relations, watermarks, model);
    assert.deepEqual(
      sparkSteps.map((s) => [s.kind, s.name]),
      duck.map((s) => [s.kind, s.name]),
    );
    for (const step of sparkSteps) assert.doesNotMatch(step.sql, /"/, step.name);
  });

  it('orders versions by ingest time first, a tombstone before a read of the same run, then the source watermark', () => {
    assert.equal(
      versionOrder(duckdb, 'r'),
      `r."ingest_ts" DESC, CASE WHEN r."_op" = 'delete' THEN 0 ELSE 1 END, r."updated_at" DESC NULLS LAST, r."_doc_ejson" DESC`,
    );
  });
});

describe('changes of a table', () => {
  const target = {
    table: 'issues',
    keys: ['collection', '_id', 'code'],
    columns: ['collection', '_id', 'code', 'detail', 'ingest_ts'],
    ignored: ['ingest_ts'],
  };

  it('holds new and different rows, and deletes only rows of touched documents, whatever the touched predicate', async () => {
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      await connection.run(`CREATE TABLE issues AS SELECT * FROM (VALUES
        ('a', '1', 'x', 'same', 1), ('a', '1', 'y', 'old', 1), ('a', '2', 'x', 'gone', 1), ('b', '9', 'x', 'untouched', 1)
      ) t(collection, _id, code, detail, ingest_ts)`);
      await connection.run(`CREATE TABLE desired AS SELECT * FROM (VALUES
        ('a', '1', 'x', 'same', 2), ('a', '1', 'y', 'new', 2), ('a', '3', 'z', 'added', 2)
      ) t(collection, _id, code, detail, ingest_ts)`);
      // An OR of per-collection predicates: its precedence must not leak into the delete condition.
      const touched = `(t.collection = 'a' AND t._id IN ('1', '2', '3')) OR (t.collection = 'b' AND t._id IN ('8'))`;
      const rows = (
        await connection.runAndReadAll(
          `SELECT collection, _id, code, detail, "${DELETE_FLAG}" AS del FROM (${changesTo(duckdb, target, 'desired', touched, DELETE_FLAG)}) c ORDER BY ALL`,
        )
      ).getRowObjectsJS();
      assert.deepEqual(rows, [
        { collection: 'a', _id: '1', code: 'y', detail: 'new', del: false },
        { collection: 'a', _id: '2', code: 'x', detail: 'gone', del: true },
        { collection: 'a', _id: '3', code: 'z', detail: 'added', del: false },
      ]);
    } finally {
      connection.closeSync();
    }
  });
});
