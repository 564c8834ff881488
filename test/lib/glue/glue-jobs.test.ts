import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdb } from '../../../lib/curate/dialect.ts';
import { curateStatements } from '../../../lib/curate/statements.ts';
import { createTableSql } from '../../../lib/local/iceberg/duckdb-types.ts';
import { icebergPartitionSpecJson, icebergSchemaJson } from '../../../lib/model/index.ts';
import { runSpark } from '../../support/spark.ts';
import { BRIEF_EXPECTED, model } from '../curate/brief-fixture.ts';
import { orderBy, RUNS, stageRuns, textColumns } from './runs-fixture.ts';

type Row = Record<string, unknown>;
type Snapshot = { run_id: string | null; operation: string };

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const script = (name: string) => join(repoRoot, 'glue-scripts', name);
// The Hadoop catalog places namespace a.b's table t in <warehouse>/a/b/t: the brief's raw/<app>/<table>.
const RAW_NS = `raw.${model.app}`;
const CURATED_NS = `curated.${model.app}`;
const RAW = model.tables.filter((t) => t.layer === 'raw');
const CURATED = model.tables.filter((t) => t.layer !== 'raw');
const qualified = (name: string) => `${model.table(name).layer === 'raw' ? RAW_NS : CURATED_NS}.${name}`;
// Beyond every retention age, so only retain_last decides what stays.
const EXPIRE_AS_OF = '2030-01-01T00:00:00Z';

interface SparkResult {
  afterRun1Twice: Record<string, Snapshot[]>;
  rawRowsRun1: Record<string, number>;
  run1: { journal: Row[]; tasks: Row[]; gold: Row[] };
  curatedAfterRerun: Record<string, Snapshot[]>;
  final: Record<string, Row[]>;
  snapshotsBefore: Record<string, Snapshot[]>;
  snapshotsAfter: Record<string, Snapshot[]>;
  rowsBefore: Record<string, Row[]>;
  rowsAfter: Record<string, Row[]>;
}

// One Spark session runs the checked-in scripts through every scenario, as
// Glue would run them one job at a time: starting Spark costs seconds.
const DRIVER = `
import json
opts = json.loads(args[0])
raw_ns, curated_ns = opts["rawNamespace"], opts["curatedNamespace"]

def raw_append(run_id):
    run_job(opts["scripts"]["raw_append"], ["--run_id", run_id, "--staging_root", opts["stagingRoot"], "--raw_namespace", raw_ns])

def curate(run_id):
    run_job(opts["scripts"]["curate"], ["--run_id", run_id, "--raw_namespace", raw_ns, "--curated_namespace", curated_ns])

def snapshots(tables):
    return {t: rows(f"SELECT summary['ledgerlake.run-id'] AS run_id, operation FROM {t}.snapshots ORDER BY committed_at") for t in tables}

def contents(selects):
    return {t: rows(sql) for t, sql in selects.items()}

raw_append("run-1")
raw_append("run-1")
result = {"afterRun1Twice": snapshots(opts["raw"]), "rawRowsRun1": {t: spark.table(t).count() for t in opts["raw"]}}
curate("run-1")
result["run1"] = {
    "journal": rows(f"SELECT _id, entry_id, entry_date, description, account_id, account_name, account_type, debit, credit, line_no FROM {curated_ns}.journal_entries_silver ORDER BY line_no"),
    "tasks": rows(f"SELECT _id, task_id, name, assigned_to, status, due_date FROM {curated_ns}.close_tasks_silver ORDER BY task_id"),
    "gold": rows(f"SELECT entry_id, entry_date, total_credit, total_debit, is_balanced FROM {curated_ns}.journal_entries_gold"),
}
curate("run-1")
result["curatedAfterRerun"] = snapshots(opts["curated"])
for run_id in opts["laterRuns"]:
    raw_append(run_id)
    curate(run_id)
result["final"] = contents(opts["curatedText"])
result["snapshotsBefore"] = snapshots(opts["raw"] + opts["curated"])
result["rowsBefore"] = contents(opts["everything"])
run_job(opts["scripts"]["maintenance"], ["--raw_namespace", raw_ns, "--curated_namespace", curated_ns, "--catalog", "local", "--expire_as_of", opts["expireAsOf"]])
result["snapshotsAfter"] = snapshots(opts["raw"] + opts["curated"])
result["rowsAfter"] = contents(opts["everything"])
emit(result)
`;

describe('generated Glue scripts on local Spark 3.3 + Iceberg 1.0.0', { timeout: 300_000 }, () => {
  let dir: string;
  let warehouse: string;
  let files: Awaited<ReturnType<typeof stageRuns>>;
  let result: SparkResult;
  const orphan = () =>
    join(warehouse, 'raw', model.app, 'close_tasks', 'data', 'orphan-from-a-failed-write.parquet');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'glue-jobs-'));
    warehouse = join(dir, 'warehouse');
    files = await stageRuns(join(dir, 'bucket'));
    // A file no snapshot references, as a crashed writer leaves behind, older than the orphan age.
    await mkdir(join(orphan(), '..'), { recursive: true });
    await writeFile(orphan(), 'not referenced by any snapshot');
    const longAgo = new Date('2025-01-01T00:00:00Z');
    await utimes(orphan(), longAgo, longAgo);
    const everything = Object.fromEntries(
      model.tables.map((t) => [
        qualified(t.name),
        `SELECT * FROM ${qualified(t.name)} ORDER BY ${orderBy(t)}`,
      ]),
    );
    const curatedText = Object.fromEntries(
      CURATED.map((t) => [
        t.name,
        `SELECT ${textColumns(t, 'spark')} FROM ${qualified(t.name)} ORDER BY ${orderBy(t)}`,
      ]),
    );
    const options = {
      scripts: {
        raw_append: script('raw_append.py'),
        curate: script('curate.py'),
        maintenance: script('maintenance.py'),
      },
      stagingRoot: join(dir, 'bucket'),
      rawNamespace: RAW_NS,
      curatedNamespace: CURATED_NS,
      raw: RAW.map((t) => qualified(t.name)),
      curated: CURATED.map((t) => qualified(t.name)),
      laterRuns: RUNS.slice(1).map((r) => r.runId),
      curatedText,
      everything,
      expireAsOf: EXPIRE_AS_OF,
    };
    result = await runSpark<SparkResult>(DRIVER, {
      warehouse,
      args: [JSON.stringify(options)],
      conf: { 'spark.sql.defaultCatalog': 'local' },
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('raw_append.py', () => {
    it('appends each staged collection in one snapshot tagged with the run id, and a rerun appends nothing', () => {
      for (const t of RAW) {
        assert.deepEqual(result.afterRun1Twice[qualified(t.name)], [
          { run_id: 'run-1', operation: 'append' },
        ]);
      }
      assert.deepEqual(result.rawRowsRun1, {
        [qualified('accounts')]: 2,
        [qualified('journal_entries')]: 1,
        [qualified('close_tasks')]: 2,
      });
    });

    it('makes no snapshot for a collection with nothing staged', () => {
      const runs = (name: string) => result.snapshotsBefore[qualified(name)]?.map((s) => s.run_id);
      assert.deepEqual(runs('accounts'), ['run-1']);
      assert.deepEqual(runs('journal_entries'), ['run-1', 'run-2', 'run-3']);
      assert.deepEqual(runs('close_tasks'), ['run-1', 'run-2', 'run-3', 'run-4']);
    });

    it("creates raw tables whose Iceberg schema and partition spec are the model's, field ids included", async () => {
      for (const t of RAW) {
        const dir = join(warehouse, t.location, 'metadata');
        const version = (await readFile(join(dir, 'version-hint.text'), 'utf8')).trim();
        const metadata = JSON.parse(await readFile(join(dir, `v${version}.metadata.json`), 'utf8'));
        const schema = metadata.schemas.find(
          (s: { 'schema-id': number }) => s['schema-id'] === metadata['current-schema-id'],
        );
        assert.deepEqual(schema.fields, icebergSchemaJson(t).fields, t.name);
        assert.deepEqual(metadata['partition-specs'][0].fields, icebergPartitionSpecJson(t).fields, t.name);
      }
    });

    it('lays tables out as the brief does: <warehouse>/raw/<app>/<table>, <warehouse>/curated/<app>/<table>', () => {
      for (const t of model.tables)
        assert.ok(existsSync(join(warehouse, t.location, 'metadata')), t.location);
    });
  });

  describe('curate.py', () => {
    it('merges the brief rows into exactly the brief silver and gold tables', () => {
      assert.deepEqual(result.run1.journal, BRIEF_EXPECTED.journalEntriesSilver);
      assert.deepEqual(result.run1.tasks, BRIEF_EXPECTED.closeTasksSilver);
      assert.deepEqual(result.run1.gold, BRIEF_EXPECTED.journalEntriesGold);
    });

    it('tags each MERGE commit with the run id, and a rerun of the run merges nothing again', () => {
      for (const t of CURATED) {
        assert.deepEqual(
          result.curatedAfterRerun[qualified(t.name)]?.map((s) => s.run_id),
          ['run-1'],
          t.name,
        );
      }
    });

    it('updates silver and gold from a corrected document, keeps only the latest of duplicates in one run, drops removed lines', () => {
      const journal = result.final.journal_entries_silver ?? [];
      const pick = (rows: Row[], ...keys: string[]) =>
        rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]])));
      assert.deepEqual(
        pick(journal, 'entry_id', 'line_no', 'description', 'debit', 'credit', 'account_name'),
        [
          {
            entry_id: 'JE1001',
            line_no: 1,
            description: 'Vendor payment, corrected',
            debit: '750.2500',
            credit: '0.0000',
            account_name: 'Cash',
          },
          {
            entry_id: 'JE1001',
            line_no: 2,
            description: 'Vendor payment, corrected',
            debit: '0.0000',
            credit: '750.2500',
            account_name: 'Accounts Payable',
          },
          {
            entry_id: 'JE1002',
            line_no: 1,
            description: 'Accrual',
            debit: '12.3456',
            credit: '0.0000',
            account_name: 'Cash',
          },
          {
            entry_id: 'JE1002',
            line_no: 2,
            description: 'Accrual',
            debit: '0.0000',
            credit: '12.3456',
            account_name: 'Accounts Payable',
          },
        ],
      );
      assert.deepEqual(pick(result.final.close_tasks_silver ?? [], 'task_id', 'status'), [
        { task_id: 'T1', status: 'Complete' },
        { task_id: 'T2', status: 'Complete' },
      ]);
      assert.deepEqual(result.final.journal_entries_gold, [
        {
          entry_id: 'JE1001',
          entry_date: '2025-05-31',
          total_credit: '750.2500',
          total_debit: '750.2500',
          is_balanced: true,
        },
        {
          entry_id: 'JE1002',
          entry_date: '2025-06-01',
          total_credit: '12.3456',
          total_debit: '12.3456',
          is_balanced: true,
        },
      ]);
    });
  });

  describe('maintenance.py', () => {
    it("expires snapshots beyond each table's retain_last once they are older than its retention", () => {
      for (const t of model.tables) {
        const before = result.snapshotsBefore[qualified(t.name)] ?? [];
        const after = result.snapshotsAfter[qualified(t.name)] ?? [];
        const keep = t.retention.keepLastSnapshots;
        assert.ok(after.length <= keep, `${t.name} keeps ${after.length} snapshots`);
        if (before.length >= keep) assert.equal(after.length, keep, t.name);
      }
      assert.ok(
        (result.snapshotsBefore[qualified('close_tasks')]?.length ?? 0) > 3,
        'the scenario gives close_tasks more snapshots than it keeps',
      );
      assert.equal(result.snapshotsAfter[qualified('close_tasks')]?.length, 3);
    });

    it('leaves every table with the same rows', () => {
      assert.deepEqual(result.rowsAfter, result.rowsBefore);
    });

    it('removes files no snapshot references', () => {
      assert.equal(existsSync(orphan()), false);
    });
  });

  it('two engines, one answer: the DuckDB rendering of the same statements on the same staged files gives the same silver and gold', async () => {
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      for (const t of [...RAW, ...CURATED]) await connection.run(createTableSql(t.name, t));
      const relations = {
        runJournalEntries: 'run_journal_entries',
        runCloseTasks: 'run_close_tasks',
        rawAccounts: 'accounts',
        journalEntriesSilver: 'journal_entries_silver',
        closeTasksSilver: 'close_tasks_silver',
        journalEntriesGold: 'journal_entries_gold',
      };
      for (const { runId } of RUNS) {
        for (const [collection, file] of Object.entries(files[runId] ?? {})) {
          await connection.run(
            `INSERT INTO ${collection} BY NAME SELECT * FROM read_parquet('${file}', hive_partitioning = false)`,
          );
        }
        for (const collection of ['journal_entries', 'close_tasks']) {
          await connection.run(
            `CREATE OR REPLACE VIEW run_${collection} AS SELECT * FROM ${collection} WHERE _run_id = '${runId}'`,
          );
        }
        for (const statement of curateStatements(duckdb, relations)) await connection.run(statement.sql);
      }
      for (const t of CURATED) {
        const rows = (
          await connection.runAndReadAll(
            `SELECT ${textColumns(t, 'duckdb')} FROM ${t.name} ORDER BY ${orderBy(t).replaceAll('`', '"')}`,
          )
        ).getRowObjectsJS();
        assert.deepEqual(rows, result.final[t.name], t.name);
      }
    } finally {
      connection.closeSync();
    }
  });
});
