import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { icebergRead } from 'icebird';
import { Decimal128, type Document, Int32, Long, ObjectId } from 'mongodb';
import { resolveConfig } from '../../../../lib/config/index.ts';
import { curate, type EngineContext, openTable, rawAppend } from '../../../../lib/local/engine/index.ts';
import { currentSchema } from '../../../../lib/local/iceberg/table-ops.ts';
import { recordedSchemaHistory } from '../../../../lib/model/build.ts';
import { MODEL_DEFINITION, type ModelDefinition } from '../../../../lib/model/definition.ts';
import { buildTableModel, column, SOURCE_FIELDS, t } from '../../../../lib/model/index.ts';
import {
  flattenFields,
  flattenSchemaJson,
  SchemaChangeRefused,
} from '../../../../lib/model/schema-history.ts';
import type { ColumnSpec } from '../../../../lib/model/types.ts';
import { withLocalFetch } from '../../../support/local-fetch.ts';
import { runPythonJson } from '../../../support/venv-python.ts';
import { BRIEF } from '../../curate/brief-fixture.ts';
import { engineIn, query, stageRun } from './engine-fixture.ts';

const config = resolveConfig();
const money = (text: string) => Decimal128.fromString(text);
const HOUR = 3_600_000_000n;
const INGEST_2 = 1_758_646_012_534_674n + HOUR;

/** The previous model: the checked-in one with a required entry_id, an int revision and a decimal(10, 2) quantity per line. */
const PREVIOUS_JOURNAL: ColumnSpec[] = [
  column('entry_id', t.string(), 'Business key', { required: true }),
  column('date', t.date(), 'Accounting date'),
  column('description', t.string(), 'Narrative'),
  column('revision', t.int(), 'Edit counter of the source application'),
  column(
    'lines',
    t.list(
      t.struct([
        column('account_id', t.string(), 'Account code'),
        column('debit', t.decimal(18, 4), 'Debit amount'),
        column('credit', t.decimal(18, 4), 'Credit amount'),
        column('quantity', t.decimal(10, 2), 'Units'),
      ]),
    ),
    'Journal lines',
  ),
  column('updated_at', t.timestamptz(), 'Last change', { sourceField: 'updatedAt' }),
];

/**
 * The next model: every supported change at once. entry_id made optional,
 * revision widened to long, quantity to decimal(12, 2), a top-level currency
 * between date and description, a memo inside each line between account_id
 * and debit, and a period for close tasks.
 */
const NEXT_JOURNAL: ColumnSpec[] = [
  column('entry_id', t.string(), 'Business key'),
  column('date', t.date(), 'Accounting date'),
  column('currency', t.string(), 'ISO 4217 code of the entry'),
  column('description', t.string(), 'Narrative'),
  column('revision', t.long(), 'Edit counter of the source application'),
  column(
    'lines',
    t.list(
      t.struct([
        column('account_id', t.string(), 'Account code'),
        column('memo', t.string(), 'Line memo'),
        column('debit', t.decimal(18, 4), 'Debit amount'),
        column('credit', t.decimal(18, 4), 'Credit amount'),
        column('quantity', t.decimal(12, 2), 'Units'),
      ]),
    ),
    'Journal lines',
  ),
  column('updated_at', t.timestamptz(), 'Last change', { sourceField: 'updatedAt' }),
];

const definition = (journal: ColumnSpec[], closeTasks: readonly ColumnSpec[]): ModelDefinition => ({
  ...MODEL_DEFINITION,
  sourceFields: { ...SOURCE_FIELDS, journal_entries: journal, close_tasks: closeTasks },
});
const CLOSE_TASKS = SOURCE_FIELDS.close_tasks ?? [];
const unrecorded = definition(PREVIOUS_JOURNAL, CLOSE_TASKS);
/** The previous model as it was deployed: its schema history recorded. */
export const PREVIOUS: ModelDefinition = {
  ...unrecorded,
  history: recordedSchemaHistory(config, { ...unrecorded, history: { tables: {} } }),
};
/** The next model over the previous one's history, as before `npm run gen` records it. */
export const NEXT: ModelDefinition = {
  ...definition(NEXT_JOURNAL, [
    ...CLOSE_TASKS.slice(0, -1),
    column('period', t.string(), 'Fiscal period, e.g. 2025-06'),
    ...CLOSE_TASKS.slice(-1),
  ]),
  history: PREVIOUS.history,
};

const JE1001 = BRIEF.journal_entries?.[0] as Document;
const RUN_1 = {
  ...BRIEF,
  journal_entries: [
    {
      ...JE1001,
      revision: new Int32(1),
      lines: [
        { account_id: new Int32(1000), debit: money('500'), credit: money('0'), quantity: money('2.5') },
        { account_id: new Int32(2000), debit: money('0'), credit: money('500') },
      ],
    },
  ],
};
const JE2001 = {
  _id: new ObjectId('68ca9aca193e5d257e046f30'),
  entry_id: 'JE2001',
  date: new Date('2025-06-30T00:00:00Z'),
  currency: 'EUR',
  description: 'Accrual',
  revision: Long.fromString('1099511627776'),
  lines: [
    {
      account_id: new Int32(1000),
      memo: 'June',
      debit: money('75.5'),
      credit: money('0'),
      quantity: money('1234567890.12'),
    },
    { account_id: new Int32(2000), memo: null, debit: money('0'), credit: money('75.5') },
  ],
};
/** A document without entry_id: quarantined under the previous model, an entry with a null key under the next. */
const NO_KEY = {
  _id: new ObjectId('68ca9aca193e5d257e046f31'),
  date: new Date('2025-06-30T00:00:00Z'),
  lines: [],
};

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
    assert.deepEqual(rows, [
      {
        entry_id: 'JE1001',
        currency: null,
        revision: '1',
        memos: [null, null],
        quantities: ['2.50', null],
        clean: true,
      },
      {
        entry_id: 'JE2001',
        currency: 'EUR',
        revision: '1099511627776',
        memos: ['June', null],
        quantities: ['1234567890.12', null],
        clean: true,
      },
      { entry_id: null, currency: null, revision: null, memos: [], quantities: [], clean: true },
    ]);
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
    const seen = await runPythonJson<{
      currency: (string | null)[];
      memo: (string | null)[][];
      revision: (number | null)[];
    }>(
      `
import json, os, sys
from pyiceberg.table import StaticTable
hint = open(os.path.join(sys.argv[1], "metadata", "version-hint.text")).read().strip()
rows = StaticTable.from_metadata(os.path.join(sys.argv[1], "metadata", f"v{hint}.metadata.json")).scan().to_arrow().sort_by("_id").to_pylist()
print(json.dumps({
  "currency": [r["currency"] for r in rows],
  "memo": [[l["memo"] for l in r["lines"]] for r in rows],
  "revision": [r["revision"] for r in rows],
}))
`,
      [location],
    );
    assert.deepEqual(seen, {
      currency: [null, 'EUR', null],
      memo: [[null, null], ['June', null], []],
      revision: [1, 1099511627776, null],
    });
    const read = (await withLocalFetch(() => icebergRead({ tableUrl: location }))) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(read.map((r) => r.currency ?? null).sort(), ['EUR', null, null]);
  });

  it('refuses a further change it cannot follow before writing anything, naming table, columns and types', async () => {
    const narrowed: ModelDefinition = {
      ...definition(
        NEXT_JOURNAL.filter((c) => c.name !== 'currency').map((c) =>
          c.name === 'revision' ? column('revision', t.int(), 'Edit counter') : c,
        ),
        NEXT.sourceFields.close_tasks ?? [],
      ),
      history: { tables: {} },
    };
    const refused = { ...next, model: buildTableModel(config, narrowed) };
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
      assert.match(
        error.message,
        /table journal_entries: column 'currency' \(string\) is in the table but no longer in the model/,
      );
      assert.match(
        error.message,
        /table journal_entries: column 'revision' is long in the table but int in the model/,
      );
      return true;
    });
    assert.equal(await metadataFiles(), before, 'no table changed');
  });
});
