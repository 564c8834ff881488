import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Decimal128, type Document, Int32, ObjectId } from 'mongodb';
import { ParquetStager } from '../../../lambdas/shared/parquet-stager.ts';
import { RowMapper } from '../../../lambdas/shared/row-mapper.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { buildTableModel, type TableModel } from '../../../lib/model/index.ts';

export const model = buildTableModel(resolveConfig());
export const INGEST = 1_758_646_012_534_674n; // 2025-09-23 16:46:52.534674 UTC, as in the brief
const money = (text: string) => Decimal128.fromString(text);

/** The brief's sample documents. */
export const BRIEF: Record<string, Document[]> = {
  accounts: [
    {
      _id: new ObjectId('68ca9966d436ba184c8fb201'),
      account_id: new Int32(1000),
      account_name: 'Cash',
      account_type: 'Asset',
    },
    {
      _id: new ObjectId('68ca9966d436ba184c8fb202'),
      account_id: new Int32(2000),
      account_name: 'Accounts Payable',
      account_type: 'Liability',
    },
  ],
  journal_entries: [
    {
      _id: new ObjectId('68ca9aca193e5d257e046f22'),
      entry_id: 'JE1001',
      date: new Date('2025-05-31T00:00:00Z'),
      lines: [
        { account_id: new Int32(1000), debit: money('500'), credit: money('0') },
        { account_id: new Int32(2000), debit: money('0'), credit: money('500') },
      ],
      description: 'Vendor payment',
    },
  ],
  close_tasks: [
    {
      _id: new ObjectId('68ca9b35193e5d257e046f25'),
      task_id: 'T1',
      name: 'Reconcile Cash',
      assigned_to: 'Alice',
      status: 'Complete',
      due_date: new Date('2025-06-05T00:00:00Z'),
    },
    {
      _id: new ObjectId('68ca9b35193e5d257e046f26'),
      task_id: 'T2',
      name: 'Review AP',
      assigned_to: 'Bob',
      status: 'In Progress',
      due_date: new Date('2025-06-06T00:00:00Z'),
    },
  ],
};

/** Stages documents of one collection into `file` exactly as extraction does. */
export async function stageDocuments(
  collection: string,
  docs: readonly Document[],
  file: string,
  runId: string,
  dir: string,
  ingestTsMicros: bigint = INGEST,
  tables: TableModel = model,
): Promise<void> {
  const table = tables.rawTableFor(collection);
  const mapper = new RowMapper(table);
  const stager = new ParquetStager({
    table,
    workDir: dir,
    keyFor: () => file,
    upload: (path) => copyFile(path, file),
    fileRows: 1000,
  });
  for (const doc of docs) await stager.add(mapper.map(doc, { runId, ingestTsMicros }).row);
  await stager.finish();
}

/** Stages the brief's sample rows of every collection into `<dir>/<collection>.parquet` for run `run-1`. */
export async function stageBrief(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const [collection, docs] of Object.entries(BRIEF)) {
    files[collection] = join(dir, `${collection}.parquet`);
    await stageDocuments(collection, docs, files[collection] as string, 'run-1', dir);
  }
  return files;
}

const ENTRY = {
  _id: '68ca9aca193e5d257e046f22',
  entry_id: 'JE1001',
  entry_date: '2025-05-31',
  description: 'Vendor payment',
};

/** The brief's silver and gold tables, values as text so decimals compare exactly. */
export const BRIEF_EXPECTED = {
  journalEntriesSilver: [
    {
      ...ENTRY,
      account_id: '1000',
      account_name: 'Cash',
      account_type: 'Asset',
      debit: '500.0000',
      credit: '0.0000',
      line_no: 1,
    },
    {
      ...ENTRY,
      account_id: '2000',
      account_name: 'Accounts Payable',
      account_type: 'Liability',
      debit: '0.0000',
      credit: '500.0000',
      line_no: 2,
    },
  ],
  closeTasksSilver: [
    {
      _id: '68ca9b35193e5d257e046f25',
      task_id: 'T1',
      name: 'Reconcile Cash',
      assigned_to: 'Alice',
      status: 'Complete',
      due_date: '2025-06-05',
      period: '2025-05-01',
    },
    {
      _id: '68ca9b35193e5d257e046f26',
      task_id: 'T2',
      name: 'Review AP',
      assigned_to: 'Bob',
      status: 'In Progress',
      due_date: '2025-06-06',
      period: '2025-05-01',
    },
  ],
  journalEntriesGold: [
    {
      entry_id: 'JE1001',
      entry_date: '2025-05-31',
      total_credit: '500.0000',
      total_debit: '500.0000',
      is_balanced: true,
    },
  ],
};
