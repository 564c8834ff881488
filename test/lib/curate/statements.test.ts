import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { Decimal128, Int32, ObjectId } from 'mongodb';
import { duckdb, spark } from '../../../lib/curate/dialect.ts';
import { type CurateRelations, curateStatements } from '../../../lib/curate/statements.ts';
import { createTableSql } from '../../../lib/local/iceberg/duckdb-types.ts';
import { BRIEF, BRIEF_EXPECTED, model, stageBrief, stageDocuments } from './brief-fixture.ts';

const relations: CurateRelations = {
  runJournalEntries: 'run_journal_entries',
  runCloseTasks: 'run_close_tasks',
  rawAccounts: 'raw_accounts',
  journalEntriesSilver: 'journal_entries_silver',
  closeTasksSilver: 'close_tasks_silver',
  journalEntriesGold: 'journal_entries_gold',
};
const money = (text: string) => Decimal128.fromString(text);

describe('curate MERGE statements, DuckDB rendering', () => {
  let dir: string;
  let connection: DuckDBConnection;
  const rows = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJS();
  const useRun = async (files: Record<string, string>) => {
    await connection.run(
      `CREATE OR REPLACE VIEW run_journal_entries AS SELECT * FROM read_parquet('${files.journal_entries}')`,
    );
    await connection.run(
      `CREATE OR REPLACE VIEW run_close_tasks AS SELECT * FROM read_parquet('${files.close_tasks}')`,
    );
    if (files.accounts !== undefined)
      await connection.run(`INSERT INTO raw_accounts SELECT * FROM read_parquet('${files.accounts}')`);
  };
  const curate = async () => {
    for (const statement of curateStatements(duckdb, relations)) await connection.run(statement.sql);
  };
  const silverLines = () =>
    rows(`SELECT entry_id, line_no, account_id, account_name, CAST(debit AS VARCHAR) AS debit, CAST(credit AS VARCHAR) AS credit
      FROM journal_entries_silver ORDER BY entry_id, line_no`);
  const gold = () =>
    rows(`SELECT entry_id, CAST(entry_date AS VARCHAR) AS entry_date, CAST(total_credit AS VARCHAR) AS total_credit,
      CAST(total_debit AS VARCHAR) AS total_debit, is_balanced FROM journal_entries_gold ORDER BY entry_id`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'statements-'));
    connection = await (await DuckDBInstance.create(':memory:')).connect();
    for (const name of ['journal_entries_silver', 'close_tasks_silver', 'journal_entries_gold']) {
      await connection.run(createTableSql(name, model.table(name)));
    }
    await connection.run(createTableSql('raw_accounts', model.table('accounts')));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('orders silver before gold and renders the same statements for Spark', () => {
    const tables = (d: typeof duckdb) => curateStatements(d, relations).map((s) => s.table);
    assert.deepEqual(tables(duckdb), [
      'close_tasks_silver',
      'journal_entries_silver',
      'journal_entries_silver',
      'journal_entries_gold',
    ]);
    assert.deepEqual(tables(spark), tables(duckdb));
    for (const statement of curateStatements(spark, relations)) {
      assert.match(statement.sql, /^MERGE INTO \S+ AS t\nUSING \(/);
      assert.doesNotMatch(statement.sql, /"/, 'Spark SQL quotes identifiers with backticks');
    }
  });

  it('a first run merges the brief rows into empty tables: exactly the brief silver and gold', async () => {
    await useRun(await stageBrief(join(dir)));
    await curate();
    assert.deepEqual(
      await rows(
        `SELECT _id, task_id, name, assigned_to, status, CAST(due_date AS VARCHAR) AS due_date FROM close_tasks_silver ORDER BY task_id`,
      ),
      BRIEF_EXPECTED.closeTasksSilver,
    );
    assert.deepEqual(
      (await silverLines()).map((r) => r.account_name),
      BRIEF_EXPECTED.journalEntriesSilver.map((r) => r.account_name),
    );
    assert.deepEqual(await gold(), BRIEF_EXPECTED.journalEntriesGold);
  });

  it('a second run with updates, inserts, duplicates and a removed line leaves only the latest state', async () => {
    const je1001 = BRIEF.journal_entries?.[0] as Record<string, unknown>;
    const je1002 = {
      _id: new ObjectId('68ca9aca193e5d257e046f30'),
      entry_id: 'JE1002',
      date: new Date('2025-06-30T00:00:00Z'),
      description: 'Accrual',
      lines: [
        { account_id: new Int32(2000), debit: money('12.3400'), credit: money('0') },
        { account_id: new Int32(1000), debit: money('0'), credit: money('12.34') },
      ],
    };
    const files = {
      journal_entries: join(dir, 'run2-je.parquet'),
      close_tasks: join(dir, 'run2-ct.parquet'),
    };
    await stageDocuments(
      'journal_entries',
      [
        // JE1001 corrected down to one line: the second silver line must go.
        {
          ...je1001,
          lines: [{ account_id: new Int32(1000), debit: money('450.5'), credit: money('0') }],
          updatedAt: new Date('2025-07-01T00:00:00Z'),
        },
        // JE1002 twice in one batch: the later version wins, inserted once.
        { ...je1002, description: 'draft', updatedAt: new Date('2025-07-01T00:00:00Z') },
        { ...je1002, updatedAt: new Date('2025-07-02T00:00:00Z') },
      ],
      files.journal_entries,
      'run-2',
      dir,
    );
    const t2 = BRIEF.close_tasks?.[1] as Record<string, unknown>;
    await stageDocuments(
      'close_tasks',
      [{ ...t2, status: 'Complete', updatedAt: new Date('2025-07-01T00:00:00Z') }],
      files.close_tasks,
      'run-2',
      dir,
    );
    await useRun(files);
    await curate();

    assert.deepEqual(await silverLines(), [
      {
        entry_id: 'JE1001',
        line_no: 1,
        account_id: '1000',
        account_name: 'Cash',
        debit: '450.5000',
        credit: '0.0000',
      },
      {
        entry_id: 'JE1002',
        line_no: 1,
        account_id: '2000',
        account_name: 'Accounts Payable',
        debit: '12.3400',
        credit: '0.0000',
      },
      {
        entry_id: 'JE1002',
        line_no: 2,
        account_id: '1000',
        account_name: 'Cash',
        debit: '0.0000',
        credit: '12.3400',
      },
    ]);
    assert.deepEqual(
      await rows(`SELECT DISTINCT description FROM journal_entries_silver WHERE entry_id = 'JE1002'`),
      [{ description: 'Accrual' }],
    );
    assert.deepEqual(await gold(), [
      {
        entry_id: 'JE1001',
        entry_date: '2025-05-31',
        total_credit: '0.0000',
        total_debit: '450.5000',
        is_balanced: false,
      },
      {
        entry_id: 'JE1002',
        entry_date: '2025-06-30',
        total_credit: '12.3400',
        total_debit: '12.3400',
        is_balanced: true,
      },
    ]);
    assert.deepEqual(await rows(`SELECT task_id, status FROM close_tasks_silver ORDER BY task_id`), [
      { task_id: 'T1', status: 'Complete' },
      { task_id: 'T2', status: 'Complete' },
    ]);
  });

  it('a run that renames an account updates the account name on every silver line that posts to it', async () => {
    // Run 2's entries and tasks again (merging them twice changes nothing), plus a renamed account.
    const files = {
      journal_entries: join(dir, 'run2-je.parquet'),
      close_tasks: join(dir, 'run2-ct.parquet'),
      accounts: join(dir, 'run3-ac.parquet'),
    };
    const [cash, payable] = BRIEF.accounts as [Record<string, unknown>, Record<string, unknown>];
    await stageDocuments(
      'accounts',
      [cash, { ...payable, account_name: 'Trade Payables', updatedAt: new Date('2025-07-05T00:00:00Z') }],
      files.accounts,
      'run-3',
      dir,
    );
    await useRun(files);
    await curate();
    assert.deepEqual(
      await rows(
        `SELECT entry_id, line_no, account_id, account_name FROM journal_entries_silver ORDER BY entry_id, line_no`,
      ),
      [
        { entry_id: 'JE1001', line_no: 1, account_id: '1000', account_name: 'Cash' },
        { entry_id: 'JE1002', line_no: 1, account_id: '2000', account_name: 'Trade Payables' },
        { entry_id: 'JE1002', line_no: 2, account_id: '1000', account_name: 'Cash' },
      ],
    );
    assert.equal((await gold()).length, 2, 'gold unchanged by the rerun');
  });
});
