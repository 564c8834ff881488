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
import { BRIEF_EXPECTED, stageBrief } from './brief-fixture.ts';

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
      runJournalEntries: 'raw_journal_entries',
      rawAccounts: 'raw_accounts',
      runCloseTasks: 'raw_close_tasks',
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
    assert.deepEqual(result.journal, BRIEF_EXPECTED.journalEntriesSilver);
    assert.deepEqual(result.tasks, BRIEF_EXPECTED.closeTasksSilver);
    assert.deepEqual(result.gold, BRIEF_EXPECTED.journalEntriesGold);
  });
});
