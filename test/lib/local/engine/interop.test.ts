import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { icebergRead } from 'icebird';
import { Decimal128, Int32 } from 'mongodb';
import { curate, type EngineContext, openTable, rawAppend } from '../../../../lib/local/engine/index.ts';
import { IcebergTable } from '../../../../lib/local/iceberg/table-ops.ts';
import { withLocalFetch } from '../../../support/local-fetch.ts';
import { runSpark } from '../../../support/spark.ts';
import { runPythonJson } from '../../../support/venv-python.ts';
import { BRIEF, BRIEF_EXPECTED } from '../../curate/brief-fixture.ts';
import { engineIn, query, stageRun } from './engine-fixture.ts';

type Row = Record<string, unknown>;
const TABLES = [
  'accounts',
  'journal_entries',
  'close_tasks',
  'journal_entries_silver',
  'close_tasks_silver',
  'journal_entries_gold',
  'data_quality_issues',
];

describe('tables the engine writes, read by Spark 3.3 + Iceberg 1.0, pyiceberg and icebird (and back)', () => {
  let dir: string;
  let engine: EngineContext;
  const location = (name: string) => engine.catalog.locationOf(engine.model.table(name));
  const sparkName = (name: string) =>
    `local.${engine.model.table(name).location.split('/').slice(0, -1).join('.')}.${name}`;
  let firstSilverSnapshot: string;
  let silverDeleteFiles: () => Promise<number>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'interop-engine-'));
    engine = await engineIn(dir);
    await stageRun(engine, 'run-1', BRIEF);
    await rawAppend({ runId: 'run-1' }, engine);
    await curate({ runId: 'run-1' }, engine);
    const silver = await openTable(engine, engine.model.table('journal_entries_silver'));
    firstSilverSnapshot = String((await silver.load()).metadata['current-snapshot-id']);
    silverDeleteFiles = async () => (await silver.stats()).deleteFiles;
    const je1001 = BRIEF.journal_entries?.[0] as Record<string, unknown>;
    await stageRun(engine, 'run-2', {
      journal_entries: [
        {
          ...je1001,
          lines: [
            {
              account_id: new Int32(1000),
              debit: Decimal128.fromString('75.5'),
              credit: Decimal128.fromString('0'),
            },
          ],
          updatedAt: new Date('2025-07-01T00:00:00Z'),
        },
      ],
    });
    await rawAppend({ runId: 'run-2', collections: ['journal_entries'] }, engine);
    await curate({ runId: 'run-2' }, engine);
    // Run 2 replaced JE1001's line merge-on-read: every reader below must apply the engine's position delete.
    assert.equal(await silverDeleteFiles(), 1);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('Spark reads every table with the same rows, time travel included, and its writes read back in the engine', async () => {
    const counts = Object.fromEntries(
      await Promise.all(
        TABLES.map(async (name) => [
          name,
          (
            await query(
              engine,
              `SELECT count(*)::INT AS n FROM ${await (await openTable(engine, engine.model.table(name))).scanSql()}`,
            )
          )[0]?.n,
        ]),
      ),
    );
    const spark = await runSpark<{
      counts: Row;
      silverNow: Row[];
      silverThen: Row[];
      gold: Row[];
      runIds: Row[];
    }>(
      `
import json
names = json.loads(args[0])
counts = {short: rows(f"SELECT count(*) AS n FROM {full}")[0]["n"] for short, full in names.items()}
silver = names["journal_entries_silver"]
cols = "_id, entry_id, entry_date, description, account_id, account_name, account_type, debit, credit, line_no"
emit({
  "counts": counts,
  "silverNow": rows(f"SELECT {cols} FROM {silver} ORDER BY line_no"),
  "silverThen": rows(f"SELECT {cols} FROM {silver} VERSION AS OF {args[1]} ORDER BY line_no"),
  "gold": rows(f"SELECT * FROM {names['journal_entries_gold']}"),
  "runIds": rows(f"SELECT summary['ledgerlake.run-id'] AS run FROM {names['journal_entries']}.snapshots ORDER BY committed_at"),
})
spark.sql("CREATE TABLE local.spark_made.ledger (id BIGINT, amount DECIMAL(18,4), posted DATE, memo STRING) USING iceberg PARTITIONED BY (days(posted)) TBLPROPERTIES ('format-version' = '2', 'write.delete.mode' = 'merge-on-read')")
spark.sql("INSERT INTO local.spark_made.ledger SELECT /*+ COALESCE(1) */ * FROM VALUES (9007199254740993, 12.3400, DATE '2025-05-31', 'a'), (2, -0.0001, DATE '2025-05-31', NULL)")
spark.sql("DELETE FROM local.spark_made.ledger WHERE id = 2")
spark.sql(f"INSERT INTO {names['close_tasks_silver']} VALUES ('68ca9b35193e5d257e046f99', 'T9', 'Accruals', 'Dana', 'Not Started', DATE '2025-06-30', TIMESTAMP '2025-09-25 17:45:13.052109', DATE '2025-05-01')")
`,
      {
        warehouse: join(dir, 'warehouse'),
        args: [JSON.stringify(Object.fromEntries(TABLES.map((t) => [t, sparkName(t)]))), firstSilverSnapshot],
      },
    );
    assert.deepEqual(spark.counts, counts);
    assert.deepEqual(spark.silverThen, BRIEF_EXPECTED.journalEntriesSilver);
    assert.deepEqual(
      spark.silverNow.map((r) => [r.line_no, r.debit, r.credit]),
      [[1, '75.5000', '0.0000']],
    );
    assert.deepEqual(spark.gold, [
      {
        _id: '68ca9aca193e5d257e046f22',
        entry_id: 'JE1001',
        entry_date: '2025-05-31',
        total_credit: '0.0000',
        total_debit: '75.5000',
        is_balanced: false,
        line_count: 1,
      },
    ]);
    assert.deepEqual(spark.runIds, [{ run: 'run-1' }, { run: 'run-2' }]);
    // Spark's commit (its own Avro manifests, file: URIs) reads back in the engine, and the engine commits on top of it.
    const tasks = await openTable(engine, engine.model.table('close_tasks_silver'));
    assert.deepEqual(await query(engine, `SELECT task_id FROM ${await tasks.scanSql()} ORDER BY task_id`), [
      { task_id: 'T1' },
      { task_id: 'T2' },
      { task_id: 'T9' },
    ]);
    // A table Spark created and changed (a merge-on-read DELETE: Spark's position delete file, `file:` URIs in
    // it): the engine reads its current and first snapshots.
    const sparkMade = new IcebergTable(engine.catalog, join(dir, 'warehouse', 'spark_made', 'ledger'));
    const history = await sparkMade.history();
    assert.deepEqual(
      history.map((h) => h.operation),
      ['append', 'overwrite'],
    );
    assert.equal((await sparkMade.stats()).deleteFiles, 1);
    const text = async (relation: string) =>
      query(
        engine,
        `SELECT CAST(id AS VARCHAR) AS id, CAST(amount AS VARCHAR) AS amount, CAST(posted AS VARCHAR) AS posted, memo
         FROM ${relation} ORDER BY id`,
      );
    assert.deepEqual(await text(await sparkMade.scanSql()), [
      { id: '9007199254740993', amount: '12.3400', posted: '2025-05-31', memo: 'a' },
    ]);
    assert.deepEqual(
      (await text(await sparkMade.scanSql({ snapshotId: history[0]?.snapshotId }))).map((r) => r.amount),
      ['-0.0001', '12.3400'],
      'time travel to the snapshot before the delete',
    );
  });

  it('pyiceberg reads every table, and the first silver snapshot by id', async () => {
    const seen = await runPythonJson<{ counts: Record<string, number>; then: number; debit: string[] }>(
      `
import json, sys
from pyiceberg.table import StaticTable
paths = json.loads(sys.argv[1])
def table(name):
    import os
    hint = open(os.path.join(paths[name], "metadata", "version-hint.text")).read().strip()
    return StaticTable.from_metadata(os.path.join(paths[name], "metadata", f"v{hint}.metadata.json"))
counts = {name: table(name).scan().to_arrow().num_rows for name in paths}
silver = table("journal_entries_silver")
then = silver.scan(snapshot_id=int(sys.argv[2])).to_arrow().num_rows
debit = [str(d) for d in silver.scan().to_arrow().column("debit").to_pylist()]
print(json.dumps({"counts": counts, "then": then, "debit": debit}))
`,
      [JSON.stringify(Object.fromEntries(TABLES.map((t) => [t, location(t)]))), firstSilverSnapshot],
    );
    assert.equal(seen.counts.journal_entries, 2);
    assert.equal(seen.counts.journal_entries_silver, 1);
    assert.equal(seen.counts.close_tasks_silver, 3, 'includes the row Spark inserted');
    assert.equal(seen.then, 2);
    assert.deepEqual(seen.debit, ['75.5000']);
  });

  it('icebird reads every table the engine wrote', async () => {
    const read = (name: string) => withLocalFetch(() => icebergRead({ tableUrl: location(name) }));
    const silver = (await read('journal_entries_silver')) as Row[];
    assert.deepEqual(
      silver.map((r) => [r._id, r.entry_id, r.account_name, r.line_no]),
      [['68ca9aca193e5d257e046f22', 'JE1001', 'Cash', 1]],
    );
    const raw = (await read('journal_entries')) as Row[];
    assert.deepEqual(raw.map((r) => r._run_id).sort(), ['run-1', 'run-2']);
    const gold = (await read('journal_entries_gold')) as Row[];
    assert.equal(gold[0]?.entry_id, 'JE1001');
    assert.equal(gold[0]?.is_balanced, false);
    // icebird turns decimals into JavaScript numbers; the exact text is checked through Spark and DuckDB above.
    assert.equal(Number(gold[0]?.total_debit), 75.5);
  });
});
