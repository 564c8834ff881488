import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import { resolveConfig } from '../../../../lib/config/index.ts';
import { curate, type EngineContext, openTable, rawAppend } from '../../../../lib/local/engine/index.ts';
import { currentSchema } from '../../../../lib/local/iceberg/table-ops.ts';
import { buildTableModel } from '../../../../lib/model/index.ts';
import {
  flattenFields,
  flattenSchemaJson,
  SchemaChangeRefused,
} from '../../../../lib/model/schema-history.ts';
import {
  EVOLVED_JOURNAL_ROWS,
  HOUR,
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
} from '../../schema-change-fixture.ts';
import { engineIn, query, stageRun } from './engine-fixture.ts';

const config = resolveConfig();

describe('changing the model on an existing warehouse: the local engine follows every supported change', () => {
  let dir: string;
  let previous: EngineContext;
  let next: EngineContext;
  let firstSnapshot: string;
  const journal = () => openTable(next, next.model.table('journal_entries'));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'schema-evolution-'));
    previous = await engineIn(dir, undefined, PREVIOUS);
    await stageRun(previous, 'run-1', RUN_1);
    await rawAppend({ runId: 'run-1' }, previous);
    await curate({ runId: 'run-1' }, previous);
    firstSnapshot = String(
      (await (await openTable(previous, previous.model.table('journal_entries'))).load()).metadata[
        'current-snapshot-id'
      ],
    );
    next = { ...(await engineIn(dir, undefined, NEXT)), connection: previous.connection };
    await stageRun(next, 'run-2', { journal_entries: [JE2001, NO_KEY], close_tasks: [] }, INGEST_2);
    await rawAppend({ runId: 'run-2', collections: ['journal_entries', 'close_tasks'] }, next);
    await curate({ runId: 'run-2' }, next);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps every field id, adds the new fields where the model puts them with new ids, widens and relaxes in place', async () => {
    const { metadata } = await (await journal()).load();
    const before = flattenFields(previous.model.table('journal_entries').fields);
    const after = flattenSchemaJson(currentSchema(metadata));
    for (const [path, field] of before) assert.equal(after.get(path)?.id, field.id, `${path} keeps its id`);
    const last = PREVIOUS.history.tables.journal_entries?.lastColumnId as number;
    for (const path of ['currency', 'lines.element.memo'])
      assert.ok((after.get(path)?.id ?? 0) > last, `${path} gets a new id`);
    assert.equal(after.get('revision')?.type, 'long');
    assert.equal(after.get('rate')?.type, 'double');
    assert.equal(after.get('lines.element.quantity')?.type, 'decimal(12, 2)');
    assert.equal(after.get('entry_id')?.required, false);
    const names = currentSchema(metadata).fields.map((f) => f.name);
    assert.deepEqual(names.slice(0, 5), ['_id', 'entry_id', 'date', 'currency', 'description']);
    const lines = currentSchema(metadata).fields.find((f) => f.name === 'lines')?.type as {
      element: { fields: { name: string }[] };
    };
    assert.deepEqual(
      lines.element.fields.map((f) => f.name),
      ['account_id', 'memo', 'debit', 'credit', 'quantity'],
    );
    assert.equal(metadata['current-schema-id'], 1, 'one schema change for all of it');
    const tasks = flattenSchemaJson(
      currentSchema((await (await openTable(next, next.model.table('close_tasks'))).load()).metadata),
    );
    assert.equal(tasks.get('period')?.type, 'string');
  });

  it('old rows read the new fields as NULL and keep their values; new rows carry theirs, exactly', async () => {
    const rows = await query(
      next,
      `SELECT entry_id, currency, CAST(revision AS VARCHAR) AS revision,
         list_transform(lines, l -> l.memo) AS memos, list_transform(lines, l -> CAST(l.quantity AS VARCHAR)) AS quantities,
         _mapping_errors IS NULL AS clean
       FROM ${await (await journal()).scanSql()} ORDER BY _id`,
    );
    assert.deepEqual(rows, EVOLVED_JOURNAL_ROWS);
  });

  it("a float widened to double keeps the old rows' values and takes doubles", async () => {
    const rows = await query(
      next,
      `SELECT entry_id, rate FROM ${await (await journal()).scanSql()} ORDER BY _id`,
    );
    assert.deepEqual(
      rows.map((r) => r.rate),
      [1.25, 0.1, null],
    );
  });

  it('time travel to the snapshot before the change reads the rows as they were', async () => {
    const rows = await query(
      next,
      `SELECT entry_id, currency FROM ${await (await journal()).scanSql({ snapshotId: BigInt(firstSnapshot) })}`,
    );
    assert.deepEqual(rows, [{ entry_id: 'JE1001', currency: null }]);
  });

  it('curates the new entries after the change', async () => {
    const silver = await openTable(next, next.model.table('journal_entries_silver'));
    const rows = await query(
      next,
      `SELECT entry_id, CAST(debit AS VARCHAR) AS debit FROM ${await silver.scanSql()} ORDER BY entry_id, line_no`,
    );
    assert.deepEqual(
      rows.map((r) => `${r.entry_id} ${r.debit}`),
      ['JE1001 500.0000', 'JE1001 0.0000', 'JE2001 75.5000', 'JE2001 0.0000'],
    );
  });

  it('pyiceberg and icebird read old and new rows of the evolved table', async () => {
    const location = next.catalog.locationOf(next.model.table('journal_entries'));
    assert.deepEqual(await readByOtherReaders(location), OTHER_READERS_EXPECTED);
  });

  it('refuses a further change it cannot follow before writing anything, naming table, columns and types', async () => {
    const refused = { ...next, model: buildTableModel(config, NARROWED) };
    const metadataFiles = async () =>
      (
        await Promise.all(
          refused.model.tables.map(async (table) =>
            readdir(join(refused.catalog.locationOf(table), 'metadata')).catch(() => []),
          ),
        )
      ).flat().length;
    const before = await metadataFiles();
    await stageRun(
      refused,
      'run-3',
      { accounts: [], journal_entries: [JE2001], close_tasks: [] },
      INGEST_2 + HOUR,
    );
    await assert.rejects(rawAppend({ runId: 'run-3' }, refused), (error: Error) => {
      assert.ok(error instanceof SchemaChangeRefused, String(error));
      for (const reason of NARROWED_REFUSAL) assert.match(error.message, reason);
      return true;
    });
    assert.equal(await metadataFiles(), before, 'no table changed');
  });
});

describe('a table that numbers its fields otherwise than the model (made by another engine or model)', () => {
  let dir: string;
  after(() => rm(dir, { recursive: true, force: true }));

  it('is written with its own field ids: staged files are rewritten, and every value reads back under its name', async () => {
    dir = await mkdtemp(join(tmpdir(), 'schema-ids-'));
    // The next model numbered as a new table (no history), as Spark's CREATE TABLE would number it.
    const fresh = await engineIn(dir, undefined, { ...NEXT, history: { tables: {} } });
    await stageRun(fresh, 'run-1', { accounts: [], journal_entries: [JE2001], close_tasks: [] });
    await rawAppend({ runId: 'run-1' }, fresh);
    const next = { ...(await engineIn(dir, undefined, NEXT)), connection: fresh.connection };
    const ids = (context: EngineContext) => flattenFields(context.model.table('journal_entries').fields);
    assert.notEqual(
      ids(fresh).get('currency')?.id,
      ids(next).get('currency')?.id,
      'the two numberings differ',
    );
    await stageRun(
      next,
      'run-2',
      {
        accounts: [],
        journal_entries: [
          NO_KEY,
          { ...JE2001, _id: new ObjectId('68ca9aca193e5d257e046f32'), entry_id: 'JE2002' },
        ],
        close_tasks: [],
      },
      INGEST_2,
    );
    await rawAppend({ runId: 'run-2' }, next);
    const table = await openTable(next, next.model.table('journal_entries'));
    const stored = flattenSchemaJson(currentSchema((await table.load()).metadata));
    assert.equal(stored.get('currency')?.id, ids(fresh).get('currency')?.id, 'the table keeps its own ids');
    const rows = await query(
      next,
      `SELECT entry_id, currency, list_transform(lines, l -> l.memo) AS memos FROM ${await table.scanSql()} ORDER BY _run_id, entry_id NULLS LAST`,
    );
    assert.deepEqual(rows, [
      { entry_id: 'JE2001', currency: 'EUR', memos: ['June', null] },
      { entry_id: 'JE2002', currency: 'EUR', memos: ['June', null] },
      { entry_id: null, currency: null, memos: [] },
    ]);
  });
});
