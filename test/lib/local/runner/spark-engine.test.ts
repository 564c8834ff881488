import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { logger } from '../../../../lambdas/shared/logger.ts';
import { resolveConfig } from '../../../../lib/config/index.ts';
import { FsCatalog } from '../../../../lib/local/iceberg/catalog.ts';
import { IcebergTable } from '../../../../lib/local/iceberg/table-ops.ts';
import { type LocalRunSummary, runLocalPipeline } from '../../../../lib/local/runner/run-pipeline.ts';
import { buildTableModel } from '../../../../lib/model/index.ts';

logger.setLogLevel('WARN');
const model = buildTableModel(resolveConfig());

/** Every row of a curated table as text, ingest times left out (each run stamps its own). */
async function curatedRows(dir: string, table: string): Promise<string[]> {
  const catalog = new FsCatalog(join(dir, 'warehouse'));
  const relation = await new IcebergTable(catalog, catalog.locationOf(model.table(table))).scanSql();
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  const columns = model.table(table).fields.some((f) => f.name === 'ingest_ts')
    ? '* EXCLUDE (ingest_ts)'
    : '*';
  try {
    const reader = await connection.runAndReadAll(`SELECT ${columns} FROM ${relation}`);
    return reader
      .getRows()
      .map((row) => row.map((v) => (v === null ? 'NULL' : String(v))).join('|'))
      .sort();
  } finally {
    connection.closeSync();
  }
}

describe('npm run local -- --engine spark: the generated Glue scripts run the Glue tasks on PySpark', () => {
  let sparkDir: string;
  let duckDir: string;
  let spark: LocalRunSummary;
  let duck: LocalRunSummary;
  before(async () => {
    sparkDir = await mkdtemp(join(tmpdir(), 'ledgerlake-spark-run-'));
    duckDir = await mkdtemp(join(tmpdir(), 'ledgerlake-duck-run-'));
    spark = await runLocalPipeline({ dir: sparkDir, scale: 200, engine: 'spark' });
    duck = await runLocalPipeline({ dir: duckDir, scale: 200 });
  });
  after(async () => {
    await rm(sparkDir, { recursive: true, force: true });
    await rm(duckDir, { recursive: true, force: true });
  });

  it('gives the same silver and gold as the local engine from the same source', async () => {
    assert.equal(spark.engine, 'spark');
    assert.equal(spark.status, 'SUCCEEDED');
    for (const table of ['journal_entries_silver', 'close_tasks_silver', 'journal_entries_gold']) {
      const fromSpark = await curatedRows(sparkDir, table);
      assert.ok(fromSpark.length > 0, table);
      assert.deepEqual(fromSpark, await curatedRows(duckDir, table), table);
    }
    for (const [name, counts] of Object.entries(duck.tables)) {
      assert.equal(spark.tables[name]?.rows, counts.rows, name);
    }
  });
});
