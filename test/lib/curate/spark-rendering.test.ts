import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spark } from '../../../lib/curate/dialect.ts';
import {
  closeTasksSilverSource,
  journalEntriesGoldSource,
  journalEntriesSilverSource,
} from '../../../lib/curate/transforms.ts';
import { runSpark } from '../../support/spark.ts';
import { stageBrief } from './brief-fixture.ts';

type Row = Record<string, unknown>;

describe('silver and gold transforms, Spark SQL rendering, on the same staged brief rows', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'curate-spark-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('Spark gives the brief silver and gold tables, exact decimals included', async () => {
    const files = await stageBrief(dir);
    const inputs = {
      rawJournalEntries: 'raw_journal_entries',
      rawAccounts: 'raw_accounts',
      rawCloseTasks: 'raw_close_tasks',
      runId: 'run-1',
    };
    const result = await runSpark<{ journal: Row[]; tasks: Row[]; gold: Row[] }>(
      `
for name, path in zip(["journal_entries", "accounts", "close_tasks"], args[0:3]):
    spark.read.parquet(path).createOrReplaceTempView("raw_" + name)
spark.sql(args[3]).createOrReplaceTempView("silver")
emit({
  "journal": rows("SELECT _id, entry_id, entry_date, description, account_id, account_name, account_type, debit, credit, line_no FROM silver ORDER BY line_no"),
  "tasks": rows(args[4] + " ORDER BY task_id"),
  "gold": rows(args[5]),
})
`,
      {
        warehouse: join(dir, 'warehouse'),
        args: [
          files.journal_entries as string,
          files.accounts as string,
          files.close_tasks as string,
          journalEntriesSilverSource(spark, inputs),
          `SELECT _id, task_id, name, assigned_to, status, due_date FROM (${closeTasksSilverSource(spark, inputs)})`,
          journalEntriesGoldSource('silver', '(SELECT entry_id FROM silver)'),
        ],
      },
    );
    const common = {
      _id: '68ca9aca193e5d257e046f22',
      entry_id: 'JE1001',
      entry_date: '2025-05-31',
      description: 'Vendor payment',
    };
    assert.deepEqual(result.journal, [
      {
        ...common,
        account_id: '1000',
        account_name: 'Cash',
        account_type: 'Asset',
        debit: '500.0000',
        credit: '0.0000',
        line_no: 1,
      },
      {
        ...common,
        account_id: '2000',
        account_name: 'Accounts Payable',
        account_type: 'Liability',
        debit: '0.0000',
        credit: '500.0000',
        line_no: 2,
      },
    ]);
    assert.deepEqual(result.tasks, [
      {
        _id: '68ca9b35193e5d257e046f25',
        task_id: 'T1',
        name: 'Reconcile Cash',
        assigned_to: 'Alice',
        status: 'Complete',
        due_date: '2025-06-05',
      },
      {
        _id: '68ca9b35193e5d257e046f26',
        task_id: 'T2',
        name: 'Review AP',
        assigned_to: 'Bob',
        status: 'In Progress',
        due_date: '2025-06-06',
      },
    ]);
    assert.deepEqual(result.gold, [
      {
        entry_id: 'JE1001',
        entry_date: '2025-05-31',
        total_credit: '500.0000',
        total_debit: '500.0000',
        is_balanced: true,
      },
    ]);
  });
});
