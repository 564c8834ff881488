import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { changesTo, latestTouchedVersions, versionOrder } from '../../../lib/curate/transforms.ts';
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

/** test/fixtures/latest-versions.json: raw versions and the latest one of each touched document, which glue/tests/test_curate.py runs on Spark. */
interface LatestVersionsFixture {
  readonly touched: readonly string[];
  readonly rows: readonly (Record<string, string | null> & { readonly latest?: boolean })[];
}
const LATEST_VERSIONS = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'latest-versions.json'), 'utf8'),
) as LatestVersionsFixture;

describe('the latest raw version of each touched document', () => {
  it('is the newest by ingest time, a tombstone first, then the watermark, then the document text: the fixture Spark runs too', async () => {
    const step = curateSteps(duckdb, relations, watermarks, model).find(
      (s) => s.name === 'latest_close_tasks',
    );
    assert.ok(step !== undefined, 'a latest_close_tasks step');
    const literal = (value: string | null | undefined) =>
      value === null || value === undefined ? 'NULL' : `'${value.replaceAll("'", "''")}'`;
    // The fixture's columns, and NULL for the raw table's others.
    const columns = model.rawTableFor('close_tasks').fields.map((f) => f.name);
    const typeOf = (column: string) =>
      column === 'ingest_ts' || column === 'updated_at' ? 'TIMESTAMP' : 'VARCHAR';
    const rows = LATEST_VERSIONS.rows.map(
      (row) => `(${columns.map((c) => `CAST(${literal(row[c])} AS ${typeOf(c)})`).join(', ')})`,
    );
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      await connection.run(
        `CREATE TABLE raw_close_tasks AS SELECT * FROM (VALUES ${rows.join(',\n')}) t(${columns.map((c) => `"${c}"`).join(', ')})`,
      );
      const touched = LATEST_VERSIONS.touched.map(literal).join(', ');
      // Every version of a touched document is a change here, and `before` holds the rest of raw.
      await connection.run(
        `CREATE TABLE changed_close_tasks AS SELECT * FROM raw_close_tasks WHERE _id IN (${touched})`,
      );
      await connection.run(
        `CREATE TABLE before_close_tasks AS SELECT * FROM raw_close_tasks WHERE _id NOT IN (${touched})`,
      );
      const picked = (
        await connection.runAndReadAll(`SELECT _id, task_id FROM (${step.sql}) l ORDER BY _id`)
      ).getRowObjectsJS();
      assert.deepEqual(picked, fixtureLatest());
      // Split at a time instead, as the engines split raw at the last committed run: `one` and
      // the oldest version of `newer` and `tie` are then from before it, and `untouched` a change
      // that is not touched. Those with changes are ranked from them alone, the others from before.
      const since = `TIMESTAMP '2025-06-01 12:00:00'`;
      await connection.run(
        `CREATE OR REPLACE TABLE changed_close_tasks AS SELECT * FROM raw_close_tasks WHERE ingest_ts > ${since}`,
      );
      await connection.run(
        `CREATE OR REPLACE TABLE before_close_tasks AS SELECT * FROM raw_close_tasks WHERE ingest_ts <= ${since}`,
      );
      await connection.run(
        `CREATE TABLE touched AS SELECT * FROM (VALUES ${LATEST_VERSIONS.touched.map((id) => `(${literal(id)})`).join(', ')}) t(_id)`,
      );
      const latest = latestTouchedVersions(
        duckdb,
        { before: 'before_close_tasks', changed: 'changed_close_tasks', touched: 'touched' },
        columns,
      );
      const split = (
        await connection.runAndReadAll(`SELECT _id, task_id FROM (${latest}) l ORDER BY _id`)
      ).getRowObjectsJS();
      assert.deepEqual(split, fixtureLatest());
    } finally {
      connection.closeSync();
    }
  });
});

/** The fixture's latest version of each touched document, by `_id`. */
function fixtureLatest(): { _id: string | null | undefined; task_id: string | null | undefined }[] {
  return LATEST_VERSIONS.rows
    .filter((row) => row.latest === true)
    .map((row) => ({ _id: row._id, task_id: row.task_id }))
    .sort((a, b) => (String(a._id) < String(b._id) ? -1 : 1));
}

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
