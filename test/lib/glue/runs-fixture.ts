import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Decimal128, type Document, Int32, ObjectId } from 'mongodb';
import { stagingLayout } from '../../../lambdas/shared/staging-layout.ts';
import type { Table } from '../../../lib/model/index.ts';
import { BRIEF, model, stageDocuments } from '../curate/brief-fixture.ts';

const money = (text: string) => Decimal128.fromString(text);
const line = (account: number, debit: string, credit: string) => ({
  account_id: new Int32(account),
  debit: money(debit),
  credit: money(credit),
});
const at = (day: string) => new Date(`2025-06-${day}T00:00:00Z`);

const JE1001 = BRIEF.journal_entries?.[0] as Document;
const [T1, T2] = BRIEF.close_tasks as [Document, Document];
const JE1002 = { _id: new ObjectId('68ca9aca193e5d257e046f23'), entry_id: 'JE1002', date: at('01') };

/**
 * Four pipeline runs: the brief's rows, then corrections. Run 2 has two
 * versions of JE1002 and of T2 (only the latest may reach silver), run 3
 * drops a line of JE1002, and runs 3 and 4 stage close tasks only, so raw
 * and silver close tasks get more snapshots than retention keeps.
 */
export const RUNS: readonly { readonly runId: string; readonly docs: Record<string, Document[]> }[] = [
  { runId: 'run-1', docs: BRIEF },
  {
    runId: 'run-2',
    docs: {
      journal_entries: [
        {
          ...JE1001,
          description: 'Vendor payment, corrected',
          lines: [line(1000, '750.2500', '0'), line(2000, '0', '750.2500')],
          updatedAt: at('02'),
        },
        {
          ...JE1002,
          description: 'Accrual, first draft',
          lines: [line(1000, '10', '0'), line(2000, '0', '5'), line(2000, '0', '5')],
          updatedAt: at('01'),
        },
        {
          ...JE1002,
          description: 'Accrual',
          lines: [line(1000, '12.3456', '0'), line(2000, '0', '6.1728'), line(2000, '0', '6.1728')],
          updatedAt: at('03'),
        },
      ],
      close_tasks: [
        { ...T2, status: 'Complete', updatedAt: at('04') },
        { ...T2, status: 'Blocked', updatedAt: at('02') },
      ],
    },
  },
  {
    runId: 'run-3',
    docs: {
      journal_entries: [
        {
          ...JE1002,
          description: 'Accrual',
          lines: [line(1000, '12.3456', '0'), line(2000, '0', '12.3456')],
          updatedAt: at('04'),
        },
      ],
      close_tasks: [{ ...T1, status: 'Blocked', updatedAt: at('05') }],
    },
  },
  { runId: 'run-4', docs: { close_tasks: [{ ...T1, status: 'Complete', updatedAt: at('06') }] } },
];

/** Stages every run under `<root>/staging/...` exactly where extraction puts it; returns the files by run and collection. */
export async function stageRuns(root: string): Promise<Record<string, Record<string, string>>> {
  const files: Record<string, Record<string, string>> = {};
  for (const { runId, docs } of RUNS) {
    const staged: Record<string, string> = {};
    for (const [collection, documents] of Object.entries(docs)) {
      const file = join(root, stagingLayout.dataFile(model.app, collection, runId, 0, 0));
      await mkdir(dirname(file), { recursive: true });
      await stageDocuments(collection, documents, file, runId, dirname(file));
      staged[collection] = file;
    }
    files[runId] = staged;
  }
  return files;
}

/** ORDER BY that lists a table's rows deterministically. */
export function orderBy(table: Table): string {
  return table.layer === 'raw'
    ? '`_run_id`, `_id`, `updated_at`'
    : table.keyColumns.map((k) => `\`${k}\``).join(', ');
}

/**
 * A SELECT list giving every column of a curated table as JSON-comparable
 * text in either engine: decimals with their scale, dates as ISO dates,
 * timestamps in UTC to the microsecond.
 */
export function textColumns(table: Table, engine: 'spark' | 'duckdb'): string {
  return table.fields
    .map((f) => {
      const c = engine === 'spark' ? `\`${f.name}\`` : `"${f.name}"`;
      if (f.type.kind === 'decimal' || (f.type.kind === 'primitive' && f.type.name === 'date')) {
        return `CAST(${c} AS ${engine === 'spark' ? 'STRING' : 'VARCHAR'}) AS ${c}`;
      }
      if (f.type.kind === 'primitive' && f.type.name === 'timestamptz') {
        return engine === 'spark'
          ? `date_format(${c}, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS ${c}`
          : `strftime(${c} AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') AS ${c}`;
      }
      return c;
    })
    .join(', ');
}
