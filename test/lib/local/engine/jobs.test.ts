import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Decimal128, type Document, Int32, ObjectId } from 'mongodb';
import { stagingLayout } from '../../../../lib/contracts/index.ts';
import { stagingStore } from '../../../../lib/local/engine/context.ts';
import {
  type CurateResult,
  curate,
  type EngineContext,
  maintain,
  openTable,
  rawAppend,
} from '../../../../lib/local/engine/index.ts';
import { BRIEF, BRIEF_EXPECTED, INGEST } from '../../curate/brief-fixture.ts';
import { writeKeyListing } from '../../glue/runs-fixture.ts';
import { engineIn, query, stageRun } from './engine-fixture.ts';

const money = (text: string) => Decimal128.fromString(text);
/** The ingest time of the n-th run: an hour after the brief's for each run. */
const later = (run: number) => INGEST + BigInt(run - 1) * 3_600_000_000n;

describe('local engine jobs: raw append, curate, maintenance', () => {
  let dir: string;
  let engine: EngineContext;
  const scan = async (name: string, selector = {}) =>
    (await openTable(engine, engine.model.table(name))).scanSql(selector);
  const silverText = async (selector = {}) =>
    query(
      engine,
      `SELECT _id, entry_id, CAST(entry_date AS VARCHAR) AS entry_date, description, account_id, account_name, account_type,
        CAST(debit AS VARCHAR) AS debit, CAST(credit AS VARCHAR) AS credit, line_no
       FROM ${await scan('journal_entries_silver', selector)} ORDER BY entry_id, line_no`,
    );
  const goldText = async () =>
    query(
      engine,
      `SELECT entry_id, CAST(entry_date AS VARCHAR) AS entry_date, CAST(total_credit AS VARCHAR) AS total_credit,
        CAST(total_debit AS VARCHAR) AS total_debit, is_balanced FROM ${await scan('journal_entries_gold')} ORDER BY entry_id, _id`,
    );

  /**
   * The journal's LiveKeys file is of raw as it is now, and its count is raw's: the documents whose
   * newest version is not a tombstone, counted here over the whole table (the raw append counts
   * from the previous file and the keys it stages when that file is of the snapshot it appends to).
   */
  const assertLiveKeysAreRaw = async (runId: string) => {
    const journal = await openTable(engine, engine.model.table('journal_entries'));
    const { metadata } = await journal.load();
    const [expected] = await query(
      engine,
      `SELECT count(*)::INT AS n FROM (
         SELECT _id, arg_max(_op, ingest_ts) AS newest FROM ${await journal.scanSql()} GROUP BY _id
       ) WHERE newest = 'upsert'`,
    );
    const file = await stagingStore(engine).getJson(
      stagingLayout.liveKeys(engine.config.app, 'journal_entries'),
    );
    assert.deepEqual(
      file,
      { runId, liveKeys: expected?.n, snapshotId: String(metadata['current-snapshot-id']) },
      `live keys after ${runId}`,
    );
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engine-'));
    engine = await engineIn(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('raw append: one snapshot per table tagged with the run id; a rerun appends nothing', async () => {
    await stageRun(engine, 'run-1', BRIEF);
    const first = await rawAppend({ runId: 'run-1' }, engine);
    assert.deepEqual(
      first.map((r) => [r.table, r.status, r.rows]),
      [
        ['fq_app_raw.accounts', 'appended', 2],
        ['fq_app_raw.journal_entries', 'appended', 1],
        ['fq_app_raw.close_tasks', 'appended', 2],
      ],
    );
    const again = await rawAppend({ runId: 'run-1' }, engine);
    assert.deepEqual(
      again.map((r) => r.status),
      ['already-appended', 'already-appended', 'already-appended'],
    );
    const journal = await openTable(engine, engine.model.table('journal_entries'));
    const { metadata } = await journal.load();
    assert.equal(metadata.snapshots.length, 1);
    assert.equal(metadata.snapshots[0]?.summary['ledgerlake.run-id'], 'run-1');
    assert.deepEqual(await query(engine, `SELECT count(*)::INT AS n FROM ${await journal.scanSql()}`), [
      { n: 1 },
    ]);
    // A rerun recounts raw's live documents only when the count is missing (a job failed before writing it).
    const store = stagingStore(engine);
    const liveKeys = stagingLayout.liveKeys(engine.config.app, 'journal_entries');
    const snapshotId = String(metadata['current-snapshot-id']);
    assert.deepEqual(await store.getJson(liveKeys), { runId: 'run-1', liveKeys: 1, snapshotId });
    await store.putJson(liveKeys, { runId: 'kept', liveKeys: 7 });
    await rawAppend({ runId: 'run-1', collections: ['journal_entries'] }, engine);
    assert.deepEqual(await store.getJson(liveKeys), { runId: 'kept', liveKeys: 7 }, 'not scanned again');
    await store.deleteKeys([liveKeys]);
    await rawAppend({ runId: 'run-1', collections: ['journal_entries'] }, engine);
    assert.deepEqual(
      await store.getJson(liveKeys),
      { runId: 'run-1', liveKeys: 1, snapshotId },
      'counted again',
    );
  });

  it('curate: the brief silver and gold tables, exactly', async () => {
    const results = await curate({ runId: 'run-1' }, engine);
    assert.deepEqual(
      results.map((r) => [r.table, r.status, r.upserted]),
      [
        ['fq_app_curated.accounts_silver', 'merged', 2],
        ['fq_app_curated.close_tasks_silver', 'merged', 2],
        ['fq_app_curated.journal_entries_silver', 'merged', 2],
        ['fq_app_curated.journal_entries_gold', 'merged', 1],
        // May 2025 for accounts 1000 and 2000; one month of statements; the two tasks close May.
        ['fq_app_curated.trial_balance_gold', 'merged', 2],
        ['fq_app_curated.income_statement_gold', 'merged', 1],
        ['fq_app_curated.balance_sheet_gold', 'merged', 1],
        ['fq_app_curated.close_progress_gold', 'merged', 1],
        // The brief's documents carry no updatedAt: each is listed as missing its watermark.
        ['fq_app_curated.data_quality_issues', 'merged', 5],
      ],
    );
    assert.deepEqual(await silverText(), BRIEF_EXPECTED.journalEntriesSilver);
    assert.deepEqual(await goldText(), BRIEF_EXPECTED.journalEntriesGold);
  });

  it('a second run MERGEs updates, inserts and duplicates merge-on-read: a position delete file for each file it touches, none rewritten', async () => {
    const je1001 = BRIEF.journal_entries?.[0] as Record<string, unknown>;
    const je2001 = {
      _id: new ObjectId('68ca9aca193e5d257e046f40'),
      entry_id: 'JE2001',
      date: new Date('2024-12-31T00:00:00Z'),
      description: 'Year-end accrual',
      lines: [
        { account_id: new Int32(1000), debit: money('10.01'), credit: money('0') },
        { account_id: new Int32(2000), debit: money('0'), credit: money('10.01') },
      ],
    };
    await stageRun(
      engine,
      'run-2',
      {
        journal_entries: [
          { ...je2001, description: 'draft', updatedAt: new Date('2025-07-01T00:00:00Z') },
          { ...je2001, updatedAt: new Date('2025-07-02T00:00:00Z') },
        ],
        close_tasks: [],
      },
      later(2),
    );
    await rawAppend({ runId: 'run-2', collections: ['journal_entries'] }, engine);
    await assertLiveKeysAreRaw('run-2');
    const inserted = await curate({ runId: 'run-2' }, engine);
    const files = (results: readonly CurateResult[]) =>
      results.map((r) => [r.status, r.filesRewritten, r.deleteFilesWritten]);
    assert.deepEqual(
      files(inserted),
      [
        ['unchanged', 0, 0],
        ['unchanged', 0, 0],
        ['merged', 0, 0],
        ['merged', 0, 0],
        // December 2024 opens both accounts earlier, so their May balances and May's balance sheet move.
        ['merged', 0, 1],
        ['merged', 0, 0],
        ['merged', 0, 1],
        ['unchanged', 0, 0],
        ['unchanged', 0, 0],
      ],
      'a new entry in another year touches no existing silver or gold file; the balances from its month on move',
    );
    await stageRun(
      engine,
      'run-3',
      {
        journal_entries: [
          {
            ...je1001,
            lines: [
              { account_id: new Int32(1000), debit: money('500'), credit: money('0') },
              { account_id: new Int32(2000), debit: money('0'), credit: money('499.9999') },
            ],
            updatedAt: new Date('2025-07-03T00:00:00Z'),
          },
        ],
      },
      later(3),
    );
    await rawAppend({ runId: 'run-3', collections: ['journal_entries'] }, engine);
    await assertLiveKeysAreRaw('run-3');
    const updated = await curate({ runId: 'run-3' }, engine);
    assert.deepEqual(
      files(updated),
      [
        ['unchanged', 0, 0],
        ['unchanged', 0, 0],
        ['merged', 0, 1],
        ['merged', 0, 1],
        ['merged', 0, 1],
        // No revenue or expense moved; May's liabilities did.
        ['unchanged', 0, 0],
        ['merged', 0, 1],
        ['unchanged', 0, 0],
        ['merged', 0, 1],
      ],
      'deletes name rows of the 2025 silver file, the gold file and the issues file holding JE1001 (it gained an updatedAt and lost its balance); no file is rewritten',
    );
    const silverTable = await openTable(engine, engine.model.table('journal_entries_silver'));
    assert.deepEqual(
      (await silverTable.history()).at(-1)?.summary,
      {
        ...(await silverTable.history()).at(-1)?.summary,
        operation: 'overwrite',
        'added-position-delete-files': '1',
        'added-position-deletes': '1',
        'total-delete-files': '1',
        'total-position-deletes': '1',
        'added-records': '1',
        'total-records': '5',
      },
      'one line of JE1001 changed: one position delete and its new version (five rows in the data files, four live)',
    );
    const silver = await silverText();
    assert.deepEqual(
      silver.map((r) => [r.entry_id, r.line_no, r.debit, r.credit, r.description]),
      [
        ['JE1001', 1, '500.0000', '0.0000', 'Vendor payment'],
        ['JE1001', 2, '0.0000', '499.9999', 'Vendor payment'],
        ['JE2001', 1, '10.0100', '0.0000', 'Year-end accrual'],
        ['JE2001', 2, '0.0000', '10.0100', 'Year-end accrual'],
      ],
    );
    assert.deepEqual(
      (await goldText()).map((r) => [r.entry_id, r.total_debit, r.total_credit, r.is_balanced]),
      [
        ['JE1001', '500.0000', '499.9999', false],
        ['JE2001', '10.0100', '10.0100', true],
      ],
    );
  });

  it('a run that renames an account updates its name on the silver lines that post to it', async () => {
    const [cash, payable] = BRIEF.accounts as [Record<string, unknown>, Record<string, unknown>];
    await stageRun(
      engine,
      'run-4',
      {
        accounts: [
          cash,
          { ...payable, account_name: 'Trade Payables', updatedAt: new Date('2025-07-05T00:00:00Z') },
        ],
      },
      later(4),
    );
    await rawAppend({ runId: 'run-4', collections: ['accounts'] }, engine);
    const results = await curate({ runId: 'run-4' }, engine);
    assert.deepEqual(
      results.map((r) => [r.table, r.status]),
      [
        ['fq_app_curated.accounts_silver', 'merged'],
        ['fq_app_curated.close_tasks_silver', 'unchanged'],
        ['fq_app_curated.journal_entries_silver', 'merged'],
        ['fq_app_curated.journal_entries_gold', 'unchanged'],
        // The renamed account's name on its balances; no amount moved.
        ['fq_app_curated.trial_balance_gold', 'merged'],
        ['fq_app_curated.income_statement_gold', 'unchanged'],
        ['fq_app_curated.balance_sheet_gold', 'unchanged'],
        ['fq_app_curated.close_progress_gold', 'unchanged'],
        // Account 2000 now has an updatedAt.
        ['fq_app_curated.data_quality_issues', 'merged'],
      ],
    );
    const again = await curate({ runId: 'run-4' }, engine);
    assert.deepEqual(
      again.map((r) => r.status),
      Array(9).fill('unchanged'),
      'the rename is not seen again by later runs',
    );
    assert.deepEqual(
      (await silverText()).map((r) => [r.entry_id, r.line_no, r.account_name]),
      [
        ['JE1001', 1, 'Cash'],
        ['JE1001', 2, 'Trade Payables'],
        ['JE2001', 1, 'Cash'],
        ['JE2001', 2, 'Trade Payables'],
      ],
    );
  });

  it('raw append reconciles the key listing: a tombstone for a document gone from the source, a count of listed keys never read, a report for Commit', async () => {
    const je2001 = new ObjectId('68ca9aca193e5d257e046f40');
    const neverRead = new ObjectId('68ca9aca193e5d257e046f99');
    const ingestTs = new Date(Number(later(5) / 1000n)).toISOString();
    // JE1001 is gone from the listing; a document the listing has was never extracted.
    await writeKeyListing(engine.stagingRoot, {
      runId: 'run-5',
      collection: 'journal_entries',
      ingestTs,
      ids: [je2001, neverRead],
    });
    const [journal] = await rawAppend({ runId: 'run-5', collections: ['journal_entries'] }, engine);
    assert.deepEqual(
      [journal?.status, journal?.rows, journal?.deletes, journal?.keysListed, journal?.sourceKeysNotInRaw],
      ['appended', 0, 1, true, 1],
    );
    const report = JSON.parse(
      await readFile(
        join(engine.stagingRoot, stagingLayout.jobReport(engine.config.app, 'run-5', 'raw-append')),
        'utf8',
      ),
    );
    assert.deepEqual(report.collections.journal_entries, {
      status: 'appended',
      rows: 0,
      deletes: 1,
      keysListed: true,
      sourceKeysNotInRaw: 1,
      liveKeys: 1,
    });
    const raw = await openTable(engine, engine.model.table('journal_entries'));
    assert.deepEqual(
      await query(
        engine,
        `SELECT _id, _op, _doc_ejson, entry_id FROM ${await raw.scanSql()} WHERE _run_id = 'run-5'`,
      ),
      [{ _id: '68ca9aca193e5d257e046f22', _op: 'delete', _doc_ejson: '{}', entry_id: null }],
    );
    const again = await rawAppend({ runId: 'run-5', collections: ['journal_entries'] }, engine);
    assert.deepEqual(
      again.map((r) => [r.status, r.deletes]),
      [['already-appended', 1]],
      'a rerun appends no second tombstone',
    );
    const curated = await curate({ runId: 'run-5' }, engine);
    assert.deepEqual(
      curated.map((r) => [r.table.split('.')[1], r.deleted]),
      [
        ['accounts_silver', 0],
        ['close_tasks_silver', 0],
        ['journal_entries_silver', 2],
        ['journal_entries_gold', 1],
        // The ledger now ends in December 2024 (JE2001): January to May 2025 go, for both accounts.
        ['trial_balance_gold', 10],
        ['income_statement_gold', 5],
        ['balance_sheet_gold', 5],
        ['close_progress_gold', 0],
        ['data_quality_issues', 1],
      ],
    );
    assert.deepEqual(
      (await goldText()).map((r) => r.entry_id),
      ['JE2001'],
    );
    // Time travel below reads the silver of run 1; put JE1001 back as the source would.
    await stageRun(engine, 'run-6', { journal_entries: [BRIEF.journal_entries?.[0] as Document] }, later(6));
    await rawAppend({ runId: 'run-6', collections: ['journal_entries'] }, engine);
    // JE1001 back after its tombstone (run 5): live again.
    await assertLiveKeysAreRaw('run-6');
    await curate({ runId: 'run-6' }, engine);
    assert.deepEqual(
      (await goldText()).map((r) => r.entry_id),
      ['JE1001', 'JE2001'],
    );
  });

  it('time travel: the silver table as it was before the update, by snapshot id and by timestamp', async () => {
    const silver = await openTable(engine, engine.model.table('journal_entries_silver'));
    const { metadata } = await silver.load();
    const [first] = metadata.snapshots;
    const bySnapshot = await silverText({ snapshotId: first?.['snapshot-id'] });
    assert.deepEqual(bySnapshot, BRIEF_EXPECTED.journalEntriesSilver);
    const byTime = await silverText({ asOfMs: first?.['timestamp-ms'] });
    assert.deepEqual(byTime, BRIEF_EXPECTED.journalEntriesSilver);
    await assert.rejects(silver.scanSql({ snapshotId: 42n }), /snapshot 42 is not in the table/);
  });

  it('maintenance: compaction, manifest rewrite, expiry and orphan removal keep the current rows identical', async () => {
    const before = await silverText();
    const beforeGold = await goldText();
    const rawJournal = await openTable(engine, engine.model.table('journal_entries'));
    const rawBefore = await query(
      engine,
      `SELECT _id, _run_id FROM ${await rawJournal.scanSql()} ORDER BY ALL`,
    );
    // 40 days later: every snapshot is past the 30-day age, so only the last 3 of each table remain.
    const results = await maintain(engine, { nowMs: Date.now() + 40 * 86_400_000 });
    const byTable = Object.fromEntries(results.map((r) => [r.table, r]));
    const raw = byTable['fq_app_raw.journal_entries'];
    assert.equal(raw?.filesCompacted, 5, 'five small raw files of one ingest day (runs 1, 2, 3, 5 and 6)');
    assert.equal(raw?.filesAfterCompaction, 1);
    assert.equal(raw?.dataFiles, 1);
    assert.ok((raw?.expiredSnapshots ?? 0) >= 2);
    assert.equal(raw?.snapshots, 3);
    const silver = byTable['fq_app_curated.journal_entries_silver'];
    assert.equal(silver?.deleteFiles, 0, "compaction applied silver's position deletes");
    assert.ok((silver?.filesCompacted ?? 0) >= 1);
    assert.deepEqual(await silverText(), before);
    assert.deepEqual(await goldText(), beforeGold);
    assert.deepEqual(
      await query(engine, `SELECT _id, _run_id FROM ${await rawJournal.scanSql()} ORDER BY ALL`),
      rawBefore,
    );
    // Every retained snapshot still reads, with the same rows: appends of run 3, then compaction and manifest rewrite.
    const history = await rawJournal.history();
    assert.deepEqual(
      history.map((h) => [h.operation, h.summary['ledgerlake.run-id'], h.current]),
      [
        ['append', 'run-6', false],
        ['replace', undefined, false],
        ['replace', undefined, true],
      ],
    );
    for (const snapshot of history) {
      const rows = await query(
        engine,
        `SELECT _id, _run_id FROM ${await rawJournal.scanSql({ snapshotId: snapshot.snapshotId })} ORDER BY ALL`,
      );
      assert.deepEqual(rows, rawBefore);
    }
  });
});
