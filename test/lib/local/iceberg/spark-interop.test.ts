import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../../../lib/config/index.ts';
import { FsCatalog, type LoadedTable } from '../../../../lib/local/iceberg/catalog.ts';
import { buildTableModel } from '../../../../lib/model/index.ts';
import { runSpark } from '../../../support/spark.ts';

const model = buildTableModel(resolveConfig());

describe('catalog interoperability with Spark 3.3 + Iceberg 1.0 (Hadoop catalog)', () => {
  let warehouse: string;
  before(async () => {
    warehouse = await mkdtemp(join(tmpdir(), 'interop-'));
  });
  after(() => rm(warehouse, { recursive: true, force: true }));

  it('Spark reads a table the engine created, writes to it, and the engine reads Spark’s commit exactly', async () => {
    const catalog = new FsCatalog(warehouse);
    const created = await catalog.createIfAbsent(model.table('close_tasks_silver'));
    const spark = await runSpark<{
      columns: string[][];
      partitioning: string;
      props: string;
      count: number;
      snapshot: string;
    }>(
      `
table = "local.curated.fq_app.close_tasks_silver"
columns = [[r["col_name"], r["data_type"]] for r in rows(f"DESCRIBE TABLE {table}") if r["col_name"] and not r["col_name"].startswith("#")]
props = dict((r["key"], r["value"]) for r in rows(f"SHOW TBLPROPERTIES {table}"))
spark.sql(f"INSERT INTO {table} VALUES ('68ca9b35193e5d257e046f25', 'T1', 'Reconcile Cash', 'Alice', 'Complete', DATE '2025-06-05', TIMESTAMP '2025-09-25 17:45:13.052109', DATE '2025-05-01')")
emit({
  "columns": columns[:7],
  "partitioning": str([r for r in rows(f"DESCRIBE TABLE {table}") if r["col_name"] == "Part 0"]),
  "props": props.get("write.target-file-size-bytes"),
  "count": rows(f"SELECT count(*) AS n FROM {table}")[0]["n"],
  "snapshot": rows(f"SELECT CAST(snapshot_id AS STRING) AS id FROM {table}.snapshots")[0]["id"],
})
`,
      { warehouse },
    );
    assert.deepEqual(spark.columns, [
      ['_id', 'string'],
      ['task_id', 'string'],
      ['name', 'string'],
      ['assigned_to', 'string'],
      ['status', 'string'],
      ['due_date', 'date'],
      ['ingest_ts', 'timestamp'],
    ]);
    assert.match(spark.partitioning, /years\(due_date\)/);
    assert.equal(spark.props, '536870912');
    assert.equal(spark.count, 1);
    const afterSpark = (await catalog.load(created.location)) as LoadedTable;
    assert.equal(afterSpark.version, 2);
    assert.equal(
      afterSpark.metadata['current-snapshot-id'],
      BigInt(spark.snapshot),
      'a 64-bit snapshot id survives exactly',
    );
    assert.equal(afterSpark.metadata.snapshots[0]?.summary['added-records'], '1');
  });
});
