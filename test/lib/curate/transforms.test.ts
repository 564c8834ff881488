import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ObjectId } from 'mongodb';
import { duckdb } from '../../../lib/curate/dialect.ts';
import {
  closeTasksSilverSource,
  journalEntriesGoldSource,
  journalEntriesSilverSource,
} from '../../../lib/curate/transforms.ts';
import { BRIEF_EXPECTED, stageBrief, stageDocuments } from './brief-fixture.ts';

describe('silver and gold transforms, DuckDB rendering, on the brief sample rows', () => {
  let dir: string;
  let connection: DuckDBConnection;
  const inputs = {
    runJournalEntries: 'raw_journal_entries',
    rawAccounts: 'raw_accounts',
    runCloseTasks: 'raw_close_tasks',
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'curate-'));
    connection = await (await DuckDBInstance.create(':memory:')).connect();
    for (const [collection, file] of Object.entries(await stageBrief(dir))) {
      await connection.run(`CREATE VIEW raw_${collection} AS SELECT * FROM read_parquet('${file}')`);
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const rows = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJS();

  it('journal_entries_silver: one row per line joined to its account, exactly the brief rows', async () => {
    const silver = await rows(
      `SELECT _id, entry_id, CAST(entry_date AS VARCHAR) AS entry_date, description, account_id, account_name, account_type,
         CAST(debit AS VARCHAR) AS debit, CAST(credit AS VARCHAR) AS credit, strftime(ingest_ts AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') AS ingest_ts, line_no
       FROM (${journalEntriesSilverSource(duckdb, inputs)}) ORDER BY line_no`,
    );
    assert.deepEqual(
      silver,
      BRIEF_EXPECTED.journalEntriesSilver.map((row) => ({ ...row, ingest_ts: '2025-09-23 16:46:52.534674' })),
    );
  });

  it('close_tasks_silver: exactly the brief rows', async () => {
    const silver = await rows(
      `SELECT _id, task_id, name, assigned_to, status, CAST(due_date AS VARCHAR) AS due_date FROM (${closeTasksSilverSource(duckdb, inputs)}) ORDER BY task_id`,
    );
    assert.deepEqual(silver, BRIEF_EXPECTED.closeTasksSilver);
  });

  it('journal_entries_gold: totals per entry, exactly the brief row', async () => {
    await connection.run(`CREATE TABLE silver AS ${journalEntriesSilverSource(duckdb, inputs)}`);
    const gold = await rows(
      `SELECT entry_id, CAST(entry_date AS VARCHAR) AS entry_date, CAST(total_credit AS VARCHAR) AS total_credit, CAST(total_debit AS VARCHAR) AS total_debit, is_balanced
       FROM (${journalEntriesGoldSource('silver', '(SELECT entry_id FROM silver)')})`,
    );
    assert.deepEqual(gold, BRIEF_EXPECTED.journalEntriesGold);
  });

  it('keeps only the latest version of a document appended twice in one run, and skips quarantined rows', async () => {
    const file = join(dir, 'versions.parquet');
    const id = new ObjectId('68ca9b35193e5d257e046f27');
    const base = { _id: id, task_id: 'T3', name: 'Accruals', assigned_to: 'Carol' };
    await stageDocuments(
      'close_tasks',
      [
        { ...base, status: 'Not Started', updatedAt: new Date('2025-06-01T00:00:00Z') },
        { ...base, status: 'Complete', updatedAt: new Date('2025-06-03T00:00:00Z') },
        { ...base, status: 'In Progress', updatedAt: new Date('2025-06-02T00:00:00Z') },
        { _id: new ObjectId('68ca9b35193e5d257e046f28'), task_id: 'T4', due_date: 'soon' },
      ],
      file,
      'run-2',
      dir,
    );
    const latest = await rows(
      `SELECT task_id, status FROM (${closeTasksSilverSource(duckdb, { ...inputs, runCloseTasks: `read_parquet('${file}')` })})`,
    );
    assert.deepEqual(latest, [{ task_id: 'T3', status: 'Complete' }]);
  });
});
