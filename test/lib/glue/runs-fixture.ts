import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Decimal128, type Document, Int32, ObjectId } from 'mongodb';
import type { KeysManifest } from '../../../lambdas/shared/job-reports.ts';
import { idText } from '../../../lambdas/shared/row-mapper.ts';
import { stagingLayout } from '../../../lib/contracts/index.ts';
import { FsObjectStore } from '../../../lib/local/fs-object-store.ts';
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
const [CASH, PAYABLE] = BRIEF.accounts as [Document, Document];
const JE1002 = { _id: new ObjectId('68ca9aca193e5d257e046f23'), entry_id: 'JE1002', date: at('01') };
const entry = (id: string, entryId: string, lines: unknown[]) => ({
  _id: new ObjectId(id),
  entry_id: entryId,
  date: at('15'),
  description: `${entryId} as posted`,
  lines,
  updatedAt: at('15'),
});

export interface Run {
  readonly runId: string;
  /** When the run read the source (its plan time and every row's ingest_ts). */
  readonly ingestTs: string;
  readonly docs: Record<string, Document[]>;
  /** Collections whose `_id`s the run listed (delete reconciliation): every `_id` still in the source. */
  readonly keys?: Record<string, Document['_id'][]>;
}

const hour = (n: number) => new Date(Date.UTC(2025, 6, 1, n)).toISOString();

/**
 * Five pipeline runs, each planned after the previous one committed:
 * 1. the brief's rows;
 * 2. JE1001 corrected; two versions of JE1002 and of T2 in one batch (only
 *    the later may reach silver); journal keys listed, nothing deleted;
 * 3. a line of JE1002 removed; T1 blocked; T2 dated 2099 (a future watermark);
 *    two documents sharing entry_id JE1003, unbalanced 100/90 and 90/100; an
 *    entry without lines; one dated 2024-02-30 (quarantined); one with an
 *    unknown account and negative amounts;
 * 4. T1 complete; the chart reloaded with account 2000 renamed; journal keys
 *    listed without JE1001 (deleted in the source);
 * 5. nothing new.
 */
export const RUNS: readonly Run[] = [
  { runId: 'run-1', ingestTs: hour(1), docs: BRIEF },
  {
    runId: 'run-2',
    ingestTs: hour(2),
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
    keys: { journal_entries: [JE1001._id, JE1002._id] },
  },
  {
    runId: 'run-3',
    ingestTs: hour(3),
    docs: {
      journal_entries: [
        {
          ...JE1002,
          description: 'Accrual',
          lines: [line(1000, '12.3456', '0'), line(2000, '0', '12.3456')],
          updatedAt: at('04'),
        },
        entry('68ca9aca193e5d257e046f31', 'JE1003', [line(1000, '100', '0'), line(2000, '0', '90')]),
        entry('68ca9aca193e5d257e046f32', 'JE1003', [line(1000, '90', '0'), line(2000, '0', '100')]),
        entry('68ca9aca193e5d257e046f33', 'JE1004', []),
        { ...entry('68ca9aca193e5d257e046f34', 'JE1005', [line(1000, '1', '0')]), date: '2024-02-30' },
        entry('68ca9aca193e5d257e046f35', 'JE1006', [line(9999, '-5', '0'), line(1000, '0', '-5')]),
      ],
      close_tasks: [
        { ...T1, status: 'Blocked', updatedAt: at('05') },
        { ...T2, status: 'Complete', updatedAt: new Date('2099-01-01T00:00:00Z') },
      ],
    },
  },
  {
    runId: 'run-4',
    ingestTs: hour(4),
    docs: {
      close_tasks: [{ ...T1, status: 'Complete', updatedAt: at('06') }],
      accounts: [
        { ...CASH, updatedAt: at('06') },
        { ...PAYABLE, account_name: 'Trade Payables', updatedAt: at('06') },
      ],
    },
    keys: {
      journal_entries: [
        JE1002._id,
        ...['31', '32', '33', '34', '35'].map((n) => new ObjectId(`68ca9aca193e5d257e046f${n}`)),
      ],
    },
  },
  { runId: 'run-5', ingestTs: hour(5), docs: {} },
];

/**
 * Stages every run under `<root>/staging/...` exactly where the pipeline puts
 * it: the rows, the key listings (Parquet, then their manifest), and a plan
 * whose curateSince is the previous run's ingest time.
 */
export async function stageRuns(root: string): Promise<void> {
  let previous: string | undefined;
  for (const { runId, ingestTs, docs, keys } of RUNS) {
    const micros = BigInt(Date.parse(ingestTs)) * 1000n;
    for (const [collection, documents] of Object.entries(docs)) {
      const file = join(root, stagingLayout.dataFile(model.app, collection, runId, 0, 0));
      await mkdir(dirname(file), { recursive: true });
      await stageDocuments(collection, documents, file, runId, dirname(file), micros);
    }
    for (const [collection, ids] of Object.entries(keys ?? {})) {
      await writeKeyListing(root, { runId, collection, ingestTs, ids });
    }
    await new FsObjectStore(root).putJson(stagingLayout.plan(model.app, runId), {
      runId,
      app: model.app,
      plannedAt: ingestTs,
      collections: [],
      chunkCount: 0,
      ...(previous === undefined ? {} : { curateSince: previous }),
    });
    previous = ingestTs;
  }
}

/** Writes a run's key listing of a collection as the key-listing chunk does: Parquet, then its manifest. */
export async function writeKeyListing(
  root: string,
  listing: {
    readonly runId: string;
    readonly collection: string;
    readonly ingestTs: string;
    readonly ids: readonly Document['_id'][];
  },
): Promise<void> {
  const { runId, collection, ingestTs, ids } = listing;
  const key = stagingLayout.keysFile(model.app, collection, runId, 0);
  await mkdir(dirname(join(root, key)), { recursive: true });
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    const values =
      ids.length === 0
        ? 'SELECT NULL::VARCHAR AS _id WHERE false'
        : `SELECT * FROM (VALUES ${ids.map((id) => `('${idText(id)}')`).join(', ')}) listed(_id)`;
    await connection.run(`COPY (${values}) TO '${join(root, key)}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
  }
  const manifest: KeysManifest = {
    runId,
    collection,
    ingestTs,
    keys: ids.length,
    files: [{ key, rows: ids.length, bytes: 0 }],
    seconds: 0,
  };
  await new FsObjectStore(root).putJson(stagingLayout.keysManifest(model.app, runId, collection), manifest);
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
