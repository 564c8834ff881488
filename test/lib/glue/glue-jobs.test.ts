import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { curate, openTable, rawAppend } from '../../../lib/local/engine/index.ts';
import { icebergPartitionSpecJson, icebergSchemaJson } from '../../../lib/model/index.ts';
import { runSpark } from '../../support/spark.ts';
import { BRIEF_EXPECTED, model } from '../curate/brief-fixture.ts';
import { engineIn, query } from '../local/engine/engine-fixture.ts';
import { orderBy, stageRuns, textColumns } from './runs-fixture.ts';

type Row = Record<string, unknown>;
type Snapshot = { run_id: string | null; operation: string };

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const script = (name: string) => join(repoRoot, 'glue-scripts', name);
// The Hadoop catalog places namespace a.b's table t in <warehouse>/a/b/t: the brief's raw/<app>/<table>.
const RAW_NS = `raw.${model.app}`;
const CURATED_NS = `curated.${model.app}`;
const RAW = model.tables.filter((t) => t.layer === 'raw');
// The tables curate writes (trial_balance_closed_gold is the close job's).
const CURATED = model.tables.filter((t) => t.layer !== 'raw' && t.name !== 'trial_balance_closed_gold');
const qualified = (name: string) => `${model.table(name).layer === 'raw' ? RAW_NS : CURATED_NS}.${name}`;
// Beyond every retention age, so only retain_last decides what stays.
const EXPIRE_AS_OF = '2030-01-01T00:00:00Z';

interface SparkResult {
  afterRun1Twice: Record<string, Snapshot[]>;
  rawRowsRun1: Record<string, number>;
  run1: { journal: Row[]; tasks: Row[]; gold: Row[] };
  curatedAfterRerun: Record<string, Snapshot[]>;
  afterRun4: Record<string, Snapshot[]>;
  deleteFilesAfterRun4: Record<string, { deleteFiles: number; dataFilesNamed: number }>;
  deleteFilesAfterMaintenance: Record<string, { deleteFiles: number; dataFilesNamed: number }>;
  afterReplays: Record<string, Snapshot[]>;
  afterNoop: Record<string, Snapshot[]>;
  tombstones: Row[];
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
raw_ns, curated_ns, root = opts["rawNamespace"], opts["curatedNamespace"], opts["stagingRoot"]

def raw_append(run_id):
    run_job(opts["scripts"]["raw_append"], ["--run_id", run_id, "--staging_root", root, "--raw_namespace", raw_ns])

def curate(run_id):
    run_job(opts["scripts"]["curate"], ["--run_id", run_id, "--staging_root", root, "--raw_namespace", raw_ns, "--curated_namespace", curated_ns])

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
    "tasks": rows(f"SELECT _id, task_id, name, assigned_to, status, due_date, period FROM {curated_ns}.close_tasks_silver ORDER BY task_id"),
    "gold": rows(f"SELECT entry_id, entry_date, total_credit, total_debit, is_balanced FROM {curated_ns}.journal_entries_gold"),
}
curate("run-1")
result["curatedAfterRerun"] = snapshots(opts["curated"])
for run_id in ["run-2", "run-3", "run-4"]:
    raw_append(run_id)
    curate(run_id)
result["afterRun4"] = snapshots(opts["curated"])
def delete_files():
    """Per curated table: live position delete files, and the live data files they name rows of."""
    out = {}
    for t in opts["curated"]:
        paths = [r["file_path"] for r in spark.sql(f"SELECT file_path FROM {t}.files WHERE content = 1").collect()]
        named = {r["file_path"] for r in spark.read.parquet(*paths).select("file_path").distinct().collect()} if paths else set()
        live = {r["file_path"] for r in spark.sql(f"SELECT file_path FROM {t}.files WHERE content = 0").collect()}
        out[t] = {"deleteFiles": len(paths), "dataFilesNamed": len(named & live)}
    return out
result["deleteFilesAfterRun4"] = delete_files()
for run_id in opts["replays"]:
    raw_append(run_id)
    curate(run_id)
result["afterReplays"] = snapshots(opts["curated"])
raw_append("run-5")
curate("run-5")
result["afterNoop"] = snapshots(opts["curated"])
result["tombstones"] = rows(f"SELECT _id, _run_id, _doc_ejson, entry_id FROM {raw_ns}.journal_entries WHERE _op = 'delete'")
result["final"] = contents(opts["curatedText"])
result["snapshotsBefore"] = snapshots(opts["raw"] + opts["curated"])
result["rowsBefore"] = contents(opts["everything"])
run_job(opts["scripts"]["maintenance"], ["--raw_namespace", raw_ns, "--curated_namespace", curated_ns, "--catalog", "local", "--expire_as_of", opts["expireAsOf"]])
result["snapshotsAfter"] = snapshots(opts["raw"] + opts["curated"])
result["deleteFilesAfterMaintenance"] = delete_files()
result["rowsAfter"] = contents(opts["everything"])
emit(result)
`;

const JE = (n: string) => `68ca9aca193e5d257e046f${n}`;
const silverLine =
  (id: string, entryId: string, date: string, description: string) =>
  (line_no: number, account_id: string, account: [string, string] | null, debit: string, credit: string) => ({
    _id: JE(id),
    entry_id: entryId,
    entry_date: date,
    description,
    account_id,
    account_name: account?.[0] ?? null,
    account_type: account?.[1] ?? null,
    debit,
    credit,
    line_no,
  });
const CASH: [string, string] = ['Cash', 'Asset'];
const PAYABLES: [string, string] = ['Trade Payables', 'Liability'];
const gold = (
  id: string,
  entryId: string,
  date: string,
  credit: string,
  debit: string,
  balanced: boolean,
  lines: number,
) => ({
  _id: JE(id),
  entry_id: entryId,
  entry_date: date,
  total_credit: credit,
  total_debit: debit,
  is_balanced: balanced,
  line_count: lines,
});
const je1002 = silverLine('23', 'JE1002', '2025-06-01', 'Accrual');
const je1003a = silverLine('31', 'JE1003', '2025-06-15', 'JE1003 as posted');
const je1003b = silverLine('32', 'JE1003', '2025-06-15', 'JE1003 as posted');
const je1006 = silverLine('35', 'JE1006', '2025-06-15', 'JE1006 as posted');

/** The scenario's curated tables, worked out by hand from the documents of runs-fixture.ts (ingest times aside). */
const EXPECTED_FINAL: Record<string, Row[]> = {
  journal_entries_silver: [
    je1002(1, '1000', CASH, '12.3456', '0.0000'),
    je1002(2, '2000', PAYABLES, '0.0000', '12.3456'),
    je1003a(1, '1000', CASH, '100.0000', '0.0000'),
    je1003a(2, '2000', PAYABLES, '0.0000', '90.0000'),
    je1003b(1, '1000', CASH, '90.0000', '0.0000'),
    je1003b(2, '2000', PAYABLES, '0.0000', '100.0000'),
    je1006(1, '9999', null, '-5.0000', '0.0000'),
    je1006(2, '1000', CASH, '0.0000', '-5.0000'),
  ],
  close_tasks_silver: BRIEF_EXPECTED.closeTasksSilver.map((t) => ({ ...t, status: 'Complete' })),
  journal_entries_gold: [
    gold('23', 'JE1002', '2025-06-01', '12.3456', '12.3456', true, 2),
    gold('31', 'JE1003', '2025-06-15', '90.0000', '100.0000', false, 2),
    gold('32', 'JE1003', '2025-06-15', '100.0000', '90.0000', false, 2),
    gold('33', 'JE1004', '2025-06-15', '0.0000', '0.0000', true, 0),
    gold('35', 'JE1006', '2025-06-15', '-5.0000', '-5.0000', true, 2),
  ],
};

const EXPECTED_ISSUES = [
  'close_tasks 68ca9b35193e5d257e046f26 future_watermark',
  `journal_entries ${JE('31')} duplicate_entry_id`,
  `journal_entries ${JE('31')} unbalanced_entry`,
  `journal_entries ${JE('32')} duplicate_entry_id`,
  `journal_entries ${JE('32')} unbalanced_entry`,
  `journal_entries ${JE('33')} no_lines`,
  `journal_entries ${JE('34')} invalid_date`,
  `journal_entries ${JE('34')} mapping_error`,
  `journal_entries ${JE('35')} negative_amount`,
  `journal_entries ${JE('35')} unknown_account`,
];

/** Replays after run 4: old runs' jobs again, out of order, as a redrive or a manual rerun would. */
const REPLAYS = ['run-3', 'run-2', 'run-1', 'run-4'];

describe('generated Glue scripts on local Spark 3.3 + Iceberg 1.0.0', { timeout: 300_000 }, () => {
  let dir: string;
  let warehouse: string;
  let result: SparkResult;
  const orphan = () =>
    join(warehouse, 'raw', model.app, 'close_tasks', 'data', 'orphan-from-a-failed-write.parquet');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'glue-jobs-'));
    warehouse = join(dir, 'warehouse');
    await stageRuns(join(dir, 'bucket'));
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
      replays: REPLAYS,
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

    it('makes no snapshot for a collection with nothing staged and nothing deleted', () => {
      const runs = (name: string) => result.snapshotsBefore[qualified(name)]?.map((s) => s.run_id);
      assert.deepEqual(runs('accounts'), ['run-1', 'run-4']);
      // Run 4 staged no journal entries, but its key listing lacked JE1001: a snapshot of one tombstone.
      assert.deepEqual(runs('journal_entries'), ['run-1', 'run-2', 'run-3', 'run-4']);
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
      assert.deepEqual(
        result.run1.gold,
        BRIEF_EXPECTED.journalEntriesGold.map(
          ({ entry_id, entry_date, total_credit, total_debit, is_balanced }) => ({
            entry_id,
            entry_date,
            total_credit,
            total_debit,
            is_balanced,
          }),
        ),
      );
    });

    it('MERGEs merge-on-read: corrections leave position delete files naming rows of live data files', () => {
      const silver = result.deleteFilesAfterRun4[qualified('journal_entries_silver')];
      assert.ok((silver?.deleteFiles ?? 0) > 0 && (silver?.dataFilesNamed ?? 0) > 0, JSON.stringify(silver));
      const gold = result.deleteFilesAfterRun4[qualified('journal_entries_gold')];
      assert.ok((gold?.dataFilesNamed ?? 0) > 0, JSON.stringify(gold));
    });

    it('tags each MERGE commit with the run id, and a rerun of the run commits nothing', () => {
      for (const t of CURATED) {
        assert.deepEqual(
          result.curatedAfterRerun[qualified(t.name)]?.map((s) => s.run_id),
          ['run-1'],
          t.name,
        );
      }
    });

    it('replaying old runs in another order, and a run with nothing new, commit nothing', () => {
      assert.deepEqual(result.afterReplays, result.afterRun4);
      assert.deepEqual(result.afterNoop, result.afterRun4);
    });

    it('appends a tombstone for the entry the source deleted, in the run that listed the keys without it', () => {
      assert.deepEqual(result.tombstones, [
        { _id: '68ca9aca193e5d257e046f22', _run_id: 'run-4', _doc_ejson: '{}', entry_id: null },
      ]);
    });

    it('leaves silver and gold as the source is now: latest versions, a deleted entry gone, a renamed account, one gold row per document', () => {
      const withoutIngestTs = (rows: Row[] | undefined) =>
        (rows ?? []).map(({ ingest_ts: _, ...rest }) => rest);
      for (const [table, expected] of Object.entries(EXPECTED_FINAL)) {
        assert.deepEqual(withoutIngestTs(result.final[table]), expected, table);
      }
    });

    it('lists every open data-quality issue of the scenario, and only those', () => {
      const issues = (result.final.data_quality_issues ?? []).map(
        (r) => `${r.source_collection} ${r._id} ${r.code}`,
      );
      assert.deepEqual(issues, EXPECTED_ISSUES);
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

    it('applies the position deletes of the merge-on-read MERGEs: no live data file has a deleted row left', () => {
      for (const [table, files] of Object.entries(result.deleteFilesAfterMaintenance)) {
        // Iceberg 1.0's rewrite_data_files keeps the delete files of the data files it replaced (dangling).
        assert.equal(
          files.dataFilesNamed,
          0,
          `${table}: ${files.deleteFiles} delete files left, naming no live file`,
        );
      }
    });

    it('removes files no snapshot references', () => {
      assert.equal(existsSync(orphan()), false);
    });
  });

  it('two engines, one answer: the local engine runs the same jobs on the same staged runs and gives the same curated tables and commits', async () => {
    const engine = await engineIn(join(dir, 'engine'), join(dir, 'bucket'));
    const run = async (runId: string) => {
      await rawAppend({ runId }, engine);
      await curate({ runId }, engine);
    };
    const snapshots = async () => {
      const counts: Record<string, number> = {};
      for (const t of CURATED) counts[t.name] = (await (await openTable(engine, t)).history()).length;
      return counts;
    };
    await run('run-1');
    for (const runId of ['run-2', 'run-3', 'run-4']) await run(runId);
    const afterRun4 = await snapshots();
    for (const runId of REPLAYS) await run(runId);
    await run('run-5');
    assert.deepEqual(await snapshots(), afterRun4, 'replays and a no-op run commit nothing locally either');
    assert.deepEqual(
      afterRun4,
      Object.fromEntries(CURATED.map((t) => [t.name, result.afterRun4[qualified(t.name)]?.length])),
      'the same number of commits per table as on Spark',
    );
    for (const t of CURATED) {
      const rows = await query(
        engine,
        `SELECT ${textColumns(t, 'duckdb')} FROM ${await (await openTable(engine, t)).scanSql()} ORDER BY ${orderBy(t).replaceAll('`', '"')}`,
      );
      assert.deepEqual(rows, result.final[t.name], t.name);
    }
  });
});
