import { AMOUNT } from '../money.ts';
import type { TableSpec } from '../table.ts';
import { type ColumnSpec, column, t } from '../types.ts';

/**
 * Columns every raw table carries besides the declared source fields. The
 * whole document is kept as canonical Extended JSON so nothing the model does
 * not declare is lost (DESIGN contract 3).
 */
export const RAW_ID = column(
  '_id',
  t.string(),
  'Document _id: ObjectId as 24-char hex, other types as canonical Extended JSON',
  { required: true },
);
/** The raw column holding the whole source document as canonical Extended JSON. */
export const DOC_EJSON_COLUMN = '_doc_ejson';
/** The raw column saying what a row records: a version of a document read from the source, or its deletion. */
export const OP_COLUMN = '_op';
/** Values of `_op`. A tombstone (`delete`) has only `_id`, the metadata columns and `{}` as its document. */
export const RAW_OP = { upsert: 'upsert', delete: 'delete' } as const;
export const RAW_METADATA: readonly ColumnSpec[] = [
  column('ingest_ts', t.timestamptz(), 'When the extraction run read the document (UTC)', { required: true }),
  column('_run_id', t.string(), 'Pipeline run that appended the row', { required: true }),
  column(DOC_EJSON_COLUMN, t.string(), 'The whole source document as canonical Extended JSON', {
    required: true,
  }),
  column(
    '_mapping_errors',
    t.string(),
    'Why declared fields could not be mapped (null when the row is clean); such rows are quarantined',
  ),
  column(
    OP_COLUMN,
    t.string(),
    "'upsert': a version of the document read from the source; 'delete': the document is gone from the source (a tombstone)",
    { required: true },
  ),
];

/** Source fields of each collection, in the order they become columns. */
export const SOURCE_FIELDS: Readonly<Record<string, readonly ColumnSpec[]>> = {
  accounts: [
    // Account codes are identifiers, not quantities: kept as text so codes such as '1000-01' fit later.
    column('account_id', t.string(), 'Account code from the chart of accounts'),
    column('account_name', t.string(), 'Account name'),
    column('account_type', t.string(), 'Asset, Liability, Equity, Revenue or Expense'),
    column('is_active', t.boolean(), 'Whether the account accepts postings'),
    column('updated_at', t.timestamptz(), 'Last change in the source application', {
      sourceField: 'updatedAt',
    }),
  ],
  journal_entries: [
    column('entry_id', t.string(), 'Business key of the journal entry, e.g. JE1001'),
    column('date', t.date(), 'Accounting date of the entry'),
    column('description', t.string(), 'Narrative of the entry'),
    column(
      'lines',
      t.list(
        t.struct([
          column('account_id', t.string(), 'Account code the line posts to'),
          column('debit', AMOUNT, 'Debit amount'),
          column('credit', AMOUNT, 'Credit amount'),
        ]),
      ),
      'Journal lines',
    ),
    column('updated_at', t.timestamptz(), 'Last change in the source application', {
      sourceField: 'updatedAt',
    }),
  ],
  close_tasks: [
    column('task_id', t.string(), 'Business key of the close task, e.g. T1'),
    column('name', t.string(), 'What has to be done'),
    column('assigned_to', t.string(), 'Owner of the task'),
    column('status', t.string(), 'Not Started, In Progress, Complete or Blocked'),
    column('due_date', t.date(), 'When the task is due'),
    column('updated_at', t.timestamptz(), 'Last change in the source application', {
      sourceField: 'updatedAt',
    }),
  ],
};

export function rawTableSpec(
  collection: string,
  sourceFields: Readonly<Record<string, readonly ColumnSpec[]>> = SOURCE_FIELDS,
): TableSpec {
  const fields = sourceFields[collection];
  if (fields === undefined) {
    throw new Error(
      `collection '${collection}' has no source fields declared in lib/model/tables/raw.ts (declared: ${Object.keys(sourceFields).join(', ')})`,
    );
  }
  return {
    name: collection,
    layer: 'raw',
    doc: `Append-only copy of the MongoDB collection ${collection}, one row per extracted document version`,
    columns: [RAW_ID, ...fields, ...RAW_METADATA],
    partitionBy: [{ column: 'ingest_ts', transform: 'day' }],
    sortBy: [{ column: '_id', direction: 'asc' }],
    keyColumns: ['_id'],
    sourceCollection: collection,
  };
}
