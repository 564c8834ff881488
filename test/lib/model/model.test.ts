import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../../../lib/config/index.ts';
import {
  buildTableModel,
  column,
  icebergPartitionSpecJson,
  icebergSchemaJson,
  parquetSchema,
  type Table,
  t,
  tableFromSpec,
} from '../../../lib/model/index.ts';
import { JOURNAL_ENTRIES_GOLD } from '../../../lib/model/tables/curated.ts';

const model = buildTableModel(resolveConfig());
const names = (table: Table) => table.fields.map((f) => f.name);

describe('table model', () => {
  it('declares every table of the brief in its layer and database', () => {
    assert.deepEqual(
      model.tables.map((t) => `${t.database}.${t.name} (${t.layer})`),
      [
        'fq_app_raw.accounts (raw)',
        'fq_app_raw.journal_entries (raw)',
        'fq_app_raw.close_tasks (raw)',
        'fq_app_curated.accounts_silver (silver)',
        'fq_app_curated.journal_entries_silver (silver)',
        'fq_app_curated.close_tasks_silver (silver)',
        'fq_app_curated.journal_entries_gold (gold)',
        'fq_app_curated.trial_balance_gold (gold)',
        'fq_app_curated.income_statement_gold (gold)',
        'fq_app_curated.balance_sheet_gold (gold)',
        'fq_app_curated.close_progress_gold (gold)',
        'fq_app_curated.data_quality_issues (gold)',
        'fq_app_curated.trial_balance_closed_gold (gold)',
      ],
    );
    assert.equal(model.table('journal_entries').location, 'raw/fq_app/journal_entries');
    assert.equal(model.table('close_tasks_silver').location, 'curated/fq_app/close_tasks_silver');
  });

  it('raw tables carry the source fields, _id, the whole document, ingest time, run id and operation', () => {
    assert.deepEqual(names(model.table('journal_entries')), [
      '_id',
      'entry_id',
      'date',
      'description',
      'lines',
      'updated_at',
      'ingest_ts',
      '_run_id',
      '_doc_ejson',
      '_mapping_errors',
      '_op',
    ]);
    assert.deepEqual(names(model.table('close_tasks')).slice(0, 7), [
      '_id',
      'task_id',
      'name',
      'assigned_to',
      'status',
      'due_date',
      'updated_at',
    ]);
  });

  it('silver and gold keep the brief columns in the brief order', () => {
    assert.deepEqual(names(model.table('journal_entries_silver')).slice(0, 10), [
      '_id',
      'entry_id',
      'entry_date',
      'description',
      'account_id',
      'account_name',
      'account_type',
      'debit',
      'credit',
      'ingest_ts',
    ]);
    assert.deepEqual(names(model.table('close_tasks_silver')), [
      '_id',
      'task_id',
      'name',
      'assigned_to',
      'status',
      'due_date',
      'ingest_ts',
      'period',
    ]);
    // Gold is keyed by the source document: its _id comes first, then the brief's columns.
    assert.deepEqual(names(model.table('journal_entries_gold')).slice(0, 5), [
      '_id',
      'entry_id',
      'entry_date',
      'total_credit',
      'total_debit',
    ]);
  });

  it('assigns field ids as Iceberg does for a new table: each struct level first, then nested types', () => {
    const schema = icebergSchemaJson(model.table('journal_entries'));
    const lines = schema.fields.find((f) => f.name === 'lines');
    assert.deepEqual(
      schema.fields.map((f) => f.id),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
    assert.deepEqual(lines?.type, {
      type: 'list',
      'element-id': 12,
      'element-required': false,
      element: {
        type: 'struct',
        fields: [
          {
            id: 13,
            name: 'account_id',
            required: false,
            type: 'string',
            doc: 'Account code the line posts to',
          },
          { id: 14, name: 'debit', required: false, type: 'decimal(18, 4)', doc: 'Debit amount' },
          { id: 15, name: 'credit', required: false, type: 'decimal(18, 4)', doc: 'Credit amount' },
        ],
      },
    });
    assert.equal(model.table('journal_entries').lastColumnId, 15);
  });

  it('stores money as decimals, never as floating point', () => {
    const floating = model.tables.flatMap((t) =>
      JSON.stringify(icebergSchemaJson(t)).includes('"double"') ? [t.name] : [],
    );
    assert.deepEqual(floating, []);
    const gold = icebergSchemaJson(model.table('journal_entries_gold'));
    assert.equal(gold.fields.find((f) => f.name === 'total_debit')?.type, 'decimal(28, 4)');
  });

  it('partitions raw by day of ingest and silver by year of the business date', () => {
    assert.deepEqual(icebergPartitionSpecJson(model.table('journal_entries')).fields, [
      { name: 'ingest_ts_day', transform: 'day', 'source-id': 7, 'field-id': 1000 },
    ]);
    assert.deepEqual(icebergPartitionSpecJson(model.table('journal_entries_silver')).fields, [
      { name: 'entry_date_year', transform: 'year', 'source-id': 3, 'field-id': 1000 },
    ]);
  });

  it('applies the brief table properties and per-layer retention', () => {
    for (const table of model.tables) {
      assert.equal(table.properties['format-version'], '2');
      assert.equal(table.properties['write.target-file-size-bytes'], '536870912');
      assert.equal(table.properties['write.metadata.previous-versions-max'], '5');
      assert.equal(table.properties['read.split.target-size'], '134217728');
    }
    assert.equal(model.table('accounts').retention.maxSnapshotAgeDays, 30);
    assert.equal(model.table('close_tasks_silver').retention.keepLastSnapshots, 3);
    assert.equal(model.table('journal_entries_gold').retention.maxSnapshotAgeDays, 90);
  });

  it('gives every Parquet field of staged files its Iceberg field id', () => {
    const schema = parquetSchema(model.table('journal_entries'));
    const ids = schema.filter((e) => e.field_id !== undefined).map((e) => `${e.name}:${e.field_id}`);
    assert.deepEqual(ids, [
      '_id:1',
      'entry_id:2',
      'date:3',
      'description:4',
      'lines:5',
      'element:12',
      'account_id:13',
      'debit:14',
      'credit:15',
      'updated_at:6',
      'ingest_ts:7',
      '_run_id:8',
      '_doc_ejson:9',
      '_mapping_errors:10',
      '_op:11',
    ]);
    const debit = schema.find((e) => e.name === 'debit');
    assert.equal(debit?.type, 'INT64');
    assert.deepEqual([debit?.precision, debit?.scale], [18, 4]);
  });

  it('fails with the known names when a table or collection is unknown', () => {
    assert.throws(() => model.table('ledger'), /unknown table 'ledger' \(known: accounts, journal_entries,/);
    assert.throws(
      () =>
        buildTableModel(
          resolveConfig({
            collections: [{ name: 'invoices', mode: 'full', watermarkField: '_id', chunkDocs: 1000 }],
          }),
        ),
      /collection 'invoices' has no source fields declared in lib\/model\/tables\/raw.ts \(declared: accounts, journal_entries, close_tasks\)/,
    );
  });

  it('refuses required columns in tables maintained with MERGE, which Iceberg 1.0.0 cannot merge into', () => {
    assert.ok(
      model.tables
        .filter((table) => table.layer !== 'raw')
        .every((table) => table.fields.every((f) => !f.required)),
    );
    assert.throws(
      () =>
        tableFromSpec(
          { ...JOURNAL_ENTRIES_GOLD, columns: [column('entry_id', t.string(), 'key', { required: true })] },
          resolveConfig(),
        ),
      /table journal_entries_gold declares required columns \(entry_id\); gold tables are maintained with MERGE INTO/,
    );
  });
});
