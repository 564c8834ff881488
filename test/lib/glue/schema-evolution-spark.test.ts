import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeGlueScripts } from '../../../lib/glue/generate.ts';
import type { ModelDefinition } from '../../../lib/model/definition.ts';
import { buildTableModel } from '../../../lib/model/index.ts';
import { flattenFields, flattenSchemaJson, type SchemaJsonLike } from '../../../lib/model/schema-history.ts';
import { runSpark } from '../../support/spark.ts';
import { engineIn, stageRun } from '../local/engine/engine-fixture.ts';
import {
  config,
  EVOLVED_JOURNAL_ROWS,
  INGEST_2,
  JE2001,
  NARROWED,
  NARROWED_REFUSAL,
  NEXT,
  NO_KEY,
  OTHER_READERS_EXPECTED,
  PREVIOUS,
  RUN_1,
  readByOtherReaders,
} from '../schema-change-fixture.ts';

type Row = Record<string, unknown>;

interface SparkResult {
  firstSnapshot: string;
  journal: Row[];
  journalThen: Row[];
  silver: Row[];
  taskColumns: string[];
  rates: (number | null)[];
  refusal: string;
  versionBeforeRefusal: string;
  versionAfterRefusal: string;
}

// The generated scripts of the previous model build the warehouse; the next model's scripts run
// on it (as after `npm run gen` and a deploy), then the narrowed model's, which must refuse.
const DRIVER = `
import json
opts = json.loads(args[0])
raw_ns, curated_ns, root = "raw.fq_app", "curated.fq_app", opts["stagingRoot"]

def run(scripts, run_id, collections):
    run_job(scripts["raw_append"], ["--run_id", run_id, "--staging_root", root, "--raw_namespace", raw_ns, "--collections", collections])
    run_job(scripts["curate"], ["--run_id", run_id, "--staging_root", root, "--raw_namespace", raw_ns, "--curated_namespace", curated_ns])

journal = f"{raw_ns}.journal_entries"
run(opts["previous"], "run-1", "accounts,journal_entries,close_tasks")
first = rows(f"SELECT CAST(snapshot_id AS STRING) AS id FROM {journal}.snapshots ORDER BY committed_at")[0]["id"]
run(opts["next"], "run-2", "journal_entries,close_tasks")
select = "SELECT entry_id, currency, CAST(revision AS STRING) AS revision, transform(lines, l -> l.memo) AS memos, transform(lines, l -> CAST(l.quantity AS STRING)) AS quantities, _mapping_errors IS NULL AS clean FROM "
result = {
    "firstSnapshot": str(first),
    "journal": rows(select + journal + " ORDER BY _id"),
    "journalThen": rows(f"SELECT entry_id FROM {journal} VERSION AS OF {first}"),
    "silver": rows(f"SELECT entry_id, CAST(debit AS STRING) AS debit FROM {curated_ns}.journal_entries_silver ORDER BY entry_id, line_no"),
    "rates": [r["rate"] for r in rows(f"SELECT rate FROM {journal} ORDER BY _id")],
    "taskColumns": [f.name for f in spark.table(f"{raw_ns}.close_tasks").schema.fields],
}
hint = lambda: open(opts["versionHint"]).read()
result["versionBeforeRefusal"] = hint()
try:
    run(opts["narrowed"], "run-3", "journal_entries")
    result["refusal"] = ""
except Exception as error:
    result["refusal"] = str(error)
result["versionAfterRefusal"] = hint()
emit(result)
`;

describe('changing the model on an existing warehouse: the generated Glue scripts on Spark 3.3 + Iceberg 1.0', () => {
  let dir: string;
  let result: SparkResult;
  const journalLocation = () => join(dir, 'warehouse', 'raw', 'fq_app', 'journal_entries');
  const versionHint = () => readFile(join(journalLocation(), 'metadata', 'version-hint.text'), 'utf8');

  const scriptsOf = async (name: string, definition: ModelDefinition) => {
    const written = await writeGlueScripts(config, join(dir, `scripts-${name}`), definition);
    return Object.fromEntries([...written].map(([file, path]) => [file.replace(/\.py$/, ''), path]));
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'schema-evolution-spark-'));
    const stagingRoot = join(dir, 'store');
    await stageRun(await engineIn(dir, stagingRoot, PREVIOUS), 'run-1', RUN_1);
    await stageRun(
      await engineIn(dir, stagingRoot, NEXT),
      'run-2',
      { journal_entries: [JE2001, NO_KEY] },
      INGEST_2,
    );
    await stageRun(
      await engineIn(dir, stagingRoot, NARROWED),
      'run-3',
      { journal_entries: [JE2001] },
      INGEST_2,
    );
    const options = {
      stagingRoot,
      previous: await scriptsOf('previous', PREVIOUS),
      next: await scriptsOf('next', NEXT),
      narrowed: await scriptsOf('narrowed', NARROWED),
      versionHint: join(journalLocation(), 'metadata', 'version-hint.text'),
    };
    result = await runSpark<SparkResult>(DRIVER, {
      warehouse: join(dir, 'warehouse'),
      args: [JSON.stringify(options)],
      conf: { 'spark.sql.defaultCatalog': 'local' },
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps every field id and adds the new fields with new ids, widened and relaxed in place', async () => {
    const hint = (await versionHint()).trim();
    const metadata = JSON.parse(
      await readFile(join(journalLocation(), 'metadata', `v${hint}.metadata.json`), 'utf8'),
    );
    const schema = metadata.schemas.find(
      (s: { 'schema-id': number }) => s['schema-id'] === metadata['current-schema-id'],
    );
    const after = flattenSchemaJson(schema as SchemaJsonLike);
    // Spark numbered the table when it created it, as Iceberg numbers a new table: the model's ids.
    const before = flattenFields(buildTableModel(config, PREVIOUS).table('journal_entries').fields);
    for (const [path, field] of before) assert.equal(after.get(path)?.id, field.id, `${path} keeps its id`);
    const last = PREVIOUS.history.tables.journal_entries?.lastColumnId as number;
    for (const path of ['currency', 'lines.element.memo'])
      assert.ok((after.get(path)?.id ?? 0) > last, `${path} gets a new id`);
    assert.equal(after.get('revision')?.type, 'long');
    assert.equal(after.get('rate')?.type, 'double');
    assert.deepEqual(
      result.rates,
      [1.25, 0.1, null],
      'a float widened to double: old values kept, doubles taken',
    );
    assert.equal(after.get('lines.element.quantity')?.type, 'decimal(12, 2)');
    assert.equal(after.get('entry_id')?.required, false);
    assert.deepEqual(
      schema.fields.slice(0, 5).map((f: { name: string }) => f.name),
      ['_id', 'entry_id', 'date', 'currency', 'description'],
    );
    assert.ok(result.taskColumns.includes('period'), 'close_tasks gained period');
  });

  it('old rows read the new fields as NULL and keep their values; new rows carry theirs, exactly', () => {
    assert.deepEqual(result.journal, EVOLVED_JOURNAL_ROWS);
  });

  it('time travel to the snapshot before the change reads the rows as they were', () => {
    assert.deepEqual(result.journalThen, [{ entry_id: 'JE1001' }]);
  });

  it('curates the new entries after the change', () => {
    assert.deepEqual(
      result.silver.map((r) => `${r.entry_id} ${r.debit}`),
      ['JE1001 500.0000', 'JE1001 0.0000', 'JE2001 75.5000', 'JE2001 0.0000'],
    );
  });

  it('pyiceberg and icebird read old and new rows of the table Spark evolved', async () => {
    assert.deepEqual(await readByOtherReaders(journalLocation()), OTHER_READERS_EXPECTED);
  });

  it('refuses a further change it cannot follow before writing anything, naming table, columns and types', () => {
    for (const reason of NARROWED_REFUSAL) assert.match(result.refusal, reason);
    assert.equal(result.versionAfterRefusal, result.versionBeforeRefusal, 'the table was not changed');
  });
});
