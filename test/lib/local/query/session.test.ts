import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listSnapshots, listTables } from '../../../../lib/local/query/inspect.ts';
import { QuerySession } from '../../../../lib/local/query/session.ts';
import { exactJsonConverter } from '../../../../lib/local/query/values.ts';
import { Warehouse } from '../../../../lib/local/query/warehouse.ts';
import { type BriefWarehouse, briefWarehouse } from './query-fixture.ts';

const GOLD_COLUMNS =
  'entry_id, CAST(entry_date AS VARCHAR) AS entry_date, total_debit, total_credit, is_balanced';

describe('query session over a local warehouse', () => {
  let built: BriefWarehouse;
  let session: QuerySession;
  const rows = async (sql: string) => (await session.stream(sql)).convertRowObjects(exactJsonConverter);

  before(async () => {
    built = await briefWarehouse();
    session = await QuerySession.open(built.dir);
  });
  after(async () => {
    session.close();
    await rm(built.dir, { recursive: true, force: true });
  });

  it('resolves bare, database and layer names to the same current rows', async () => {
    const expected = await rows('SELECT * FROM fq_app_curated.journal_entries_silver ORDER BY line_no');
    assert.equal(expected.length, 2);
    assert.deepEqual(await rows('SELECT * FROM silver.journal_entries_silver ORDER BY line_no'), expected);
    assert.deepEqual(await rows('SELECT * FROM Journal_Entries_Silver ORDER BY line_no'), expected);
    assert.deepEqual(await rows('SELECT count(*) AS n FROM raw.journal_entries'), [{ n: 2n }]);
    assert.deepEqual(await rows('SELECT count(*) AS n FROM fq_app_raw.close_tasks'), [{ n: 2n }]);
  });

  it('returns the current gold row with exact decimals', async () => {
    assert.deepEqual(await rows(`SELECT ${GOLD_COLUMNS} FROM gold.journal_entries_gold`), [
      {
        entry_id: 'JE1001',
        entry_date: '2025-05-31',
        total_debit: '500.0000',
        total_credit: '499.9999',
        is_balanced: false,
      },
    ]);
  });

  it("returns the brief's gold row as of its snapshot, by id and by timestamp", async () => {
    const brief = [
      {
        entry_id: 'JE1001',
        entry_date: '2025-05-31',
        total_debit: '500.0000',
        total_credit: '500.0000',
        is_balanced: true,
      },
    ];
    const { snapshotId, committedAtMs } = built.goldBrief;
    assert.deepEqual(
      await rows(`SELECT ${GOLD_COLUMNS} FROM journal_entries_gold FOR VERSION AS OF ${snapshotId}`),
      brief,
    );
    const at = new Date(committedAtMs).toISOString();
    assert.deepEqual(
      await rows(
        `SELECT ${GOLD_COLUMNS} FROM fq_app_curated.journal_entries_gold FOR TIMESTAMP AS OF '${at}'`,
      ),
      brief,
    );
    assert.deepEqual(
      await rows(
        `SELECT ${GOLD_COLUMNS} FROM gold.journal_entries_gold FOR TIMESTAMP AS OF (TIMESTAMPTZ '${at}' + INTERVAL 0 SECOND)`,
      ),
      brief,
    );
  });

  it('compares two snapshots in one query, with column references through the table name', async () => {
    const diff = await rows(
      `SELECT journal_entries_silver.line_no, before.credit AS before, journal_entries_silver.credit AS now
       FROM silver.journal_entries_silver FOR VERSION AS OF ${built.silverBriefSnapshotId} AS before
       JOIN silver.journal_entries_silver USING (entry_id, line_no)
       WHERE before.credit <> journal_entries_silver.credit`,
    );
    assert.deepEqual(diff, [{ line_no: 2, before: '500.0000', now: '499.9999' }]);
  });

  it('fails on an unknown table naming the tables that exist', async () => {
    await assert.rejects(
      rows('SELECT * FROM gold.journal_entries'),
      (error: Error) =>
        /Table with name journal_entries does not exist/.test(error.message) &&
        /known tables: .*fq_app_curated\.journal_entries_gold \(gold\.journal_entries_gold\)/.test(
          error.message,
        ) &&
        !/pg_/.test(error.message),
    );
    await assert.rejects(
      rows('SELECT * FROM gold.ledger FOR VERSION AS OF 1'),
      /in "gold\.ledger FOR VERSION AS OF 1": unknown table gold\.ledger; known tables: fq_app_raw\.accounts/,
    );
  });

  it('fails on an unknown snapshot or a time before the history, naming the table and how to list snapshots', async () => {
    await assert.rejects(
      rows('SELECT * FROM journal_entries_gold FOR VERSION AS OF 42'),
      /fq_app_curated\.journal_entries_gold: snapshot 42 is not in the table .*--snapshots fq_app_curated\.journal_entries_gold/,
    );
    await assert.rejects(
      rows("SELECT * FROM journal_entries_gold FOR TIMESTAMP AS OF '2001-01-01'"),
      /no snapshot as of 2001-01-01T00:00:00\.000Z/,
    );
    await assert.rejects(
      rows("SELECT * FROM journal_entries_gold FOR TIMESTAMP AS OF 'last week'"),
      /not a point in time .*write it as '2025-07-01T12:00:00Z'/,
    );
  });

  it('lists tables and snapshots with run ids and record counts', async () => {
    const warehouse = await Warehouse.open(built.dir);
    const gold = (await listTables(warehouse)).find((t) => t.table === 'fq_app_curated.journal_entries_gold');
    assert.deepEqual(
      gold && {
        rows: gold.rows,
        files: gold.files,
        deleteFiles: gold.deleteFiles,
        snapshots: gold.snapshots,
      },
      // The second run replaced the entry's gold row merge-on-read: its first file and a delete file naming the row.
      { rows: 1n, files: 2, deleteFiles: 1, snapshots: 2 },
    );
    const snapshots = await listSnapshots(warehouse, 'gold.journal_entries_gold');
    assert.deepEqual(
      snapshots.map((s) => [s.runId, s.operation, s.addedRecords, s.totalRecords, s.current]),
      [
        ['run-1', 'append', 1n, 1n, false],
        // Iceberg's total-records counts the rows of the data files, the one a delete file names included.
        ['run-2', 'overwrite', 1n, 2n, true],
      ],
    );
    assert.equal(snapshots[0]?.snapshotId, built.goldBrief.snapshotId);
  });

  it('says to run npm run local when the directory holds no warehouse', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'query-empty-'));
    try {
      await assert.rejects(Warehouse.open(empty), /no warehouse at .*warehouse: run `npm run local` first/);
      await mkdir(join(empty, 'warehouse'));
      await assert.rejects(Warehouse.open(empty), /no Iceberg tables under .*: run `npm run local` first/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
