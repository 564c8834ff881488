import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Document } from 'mongodb';
import { resolveConfig } from '../../../../lib/config/index.ts';
import { PeriodCloseRefused } from '../../../../lib/contracts/index.ts';
import {
  closePeriod,
  curate,
  type EngineContext,
  maintain,
  openTable,
  rawAppend,
} from '../../../../lib/local/engine/index.ts';
import { buildTableModel } from '../../../../lib/model/index.ts';
import { writeKeyListing } from '../../glue/runs-fixture.ts';
import { accountDoc, entryDoc, oid } from '../ledger-docs.ts';
import { engineIn, query, stageRun } from './engine-fixture.ts';

/**
 * Closing June 2025 on a two-account ledger, then changing an entry dated
 * June and one dated July: the books as closed stay readable (the tag and
 * trial_balance_closed_gold), the trial balance moves, a second close is
 * refused unless reopened, and maintenance with no retention keeps the
 * tagged snapshots.
 */
const T0 = 1_750_000_000_000_000n;
const MINUTE = 60_000_000n;
const account = (n: number, id: number, name: string, type: string) =>
  accountDoc(n, id, name, type, '2025-01-01');
/** A cash sale: cash debited, sales credited. */
const sale = (n: number, date: string, amount: string) =>
  entryDoc(n, date, [
    [1000, amount, '0'],
    [4000, '0', amount],
  ]);

describe('period close on the local engine', () => {
  let dir: string;
  let engine: EngineContext;
  const cashIn = async (table: string, period: string, snapshotId?: bigint) => {
    const iceberg = await openTable(engine, engine.model.table(table));
    const rows = await query(
      engine,
      `SELECT CAST(closing_balance AS VARCHAR) AS closing FROM ${await iceberg.scanSql(snapshotId === undefined ? {} : { snapshotId })}
       WHERE account_id = '1000' AND period = DATE '${period}-01'`,
    );
    return rows.map((r) => r.closing);
  };
  const lateEntries = async () => {
    const issues = await openTable(engine, engine.model.table('data_quality_issues'));
    return query(
      engine,
      `SELECT business_key, detail FROM ${await issues.scanSql()} WHERE code = 'posted_after_close' ORDER BY business_key`,
    );
  };
  const refs = async (table: string) =>
    (await (await openTable(engine, engine.model.table(table))).load()).metadata.refs;
  const run = async (runId: string, docs: Record<string, Document[]>, ingest: bigint) => {
    await stageRun(engine, runId, docs, ingest);
    await rawAppend({ runId }, engine);
    await curate({ runId }, engine);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'period-close-'));
    engine = await engineIn(dir);
    await run(
      'run-1',
      {
        accounts: [account(1, 1000, 'Cash', 'Asset'), account(2, 4000, 'Sales', 'Revenue')],
        journal_entries: [
          sale(1, '2025-06-10', '100'),
          sale(2, '2025-07-05', '40'),
          sale(4, '2025-06-25', '10'),
        ],
      },
      T0,
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('closes 2025-06: the month’s trial balance is recorded and every curated table is tagged close-2025-06 at its snapshot', async () => {
    const result = await closePeriod({ runId: 'run-1', period: '2025-06' }, engine);
    assert.deepEqual([result.status, result.closeNumber, result.accounts], ['closed', 1, 2]);
    const tagged = result.snapshots.map((s) => s.table).sort();
    assert.ok(tagged.includes('trial_balance_gold') && tagged.includes('journal_entries_silver'));
    assert.ok(!tagged.includes('trial_balance_closed_gold'), 'the record of closes is not itself tagged');
    for (const { table, snapshotId } of result.snapshots) {
      const iceberg = await openTable(engine, engine.model.table(table));
      assert.equal(String((await refs(table))['close-2025-06']?.['snapshot-id']), snapshotId, table);
      assert.equal(
        String((await iceberg.snapshot())?.['snapshot-id']),
        snapshotId,
        `${table}: the current snapshot`,
      );
    }
    const closed = await openTable(engine, engine.model.table('trial_balance_closed_gold'));
    assert.deepEqual(
      await query(
        engine,
        `SELECT account_id, CAST(closing_balance AS VARCHAR) AS closing, close_number, reopened, run_id,
           len(snapshots) AS tables FROM ${await closed.scanSql()} ORDER BY account_id`,
      ),
      [
        {
          account_id: '1000',
          closing: '110.0000',
          close_number: 1,
          reopened: false,
          run_id: 'run-1',
          tables: BigInt(tagged.length),
        },
        {
          account_id: '4000',
          closing: '110.0000',
          close_number: 1,
          reopened: false,
          run_id: 'run-1',
          tables: BigInt(tagged.length),
        },
      ],
    );
    const again = await closePeriod({ runId: 'run-1', period: '2025-06' }, engine);
    assert.equal(
      again.status,
      'already-closed',
      'the same run closing again (a retry) records nothing twice',
    );
    assert.deepEqual(await query(engine, `SELECT count(*)::INT AS n FROM ${await closed.scanSql()}`), [
      { n: 2 },
    ]);
  });

  it('after June and July entries change: the tag still reads June as closed, the closed table is unchanged, the trial balance moved', async () => {
    const tagBefore = (await refs('trial_balance_gold'))['close-2025-06']?.['snapshot-id'];
    // E1 (June) and E2 (July) changed, E3 (June) created, E4 (June) deleted: all after the close.
    const ingest = T0 + MINUTE;
    await writeKeyListing(engine.stagingRoot, {
      runId: 'run-2',
      collection: 'journal_entries',
      ingestTs: new Date(Number(ingest / 1000n)).toISOString(),
      ids: [oid(0x101), oid(0x102), oid(0x103)],
    });
    await run(
      'run-2',
      {
        journal_entries: [
          sale(1, '2025-06-10', '120'),
          sale(2, '2025-07-05', '50'),
          sale(3, '2025-06-28', '5'),
        ],
      },
      ingest,
    );
    assert.deepEqual(await cashIn('trial_balance_gold', '2025-06'), ['125.0000']);
    assert.deepEqual(await cashIn('trial_balance_gold', '2025-07'), ['175.0000']);
    assert.deepEqual(await cashIn('trial_balance_gold', '2025-06', tagBefore), ['110.0000']);
    assert.deepEqual(await cashIn('trial_balance_closed_gold', '2025-06'), ['110.0000']);
  });

  it('posted_after_close lists the June entries created, changed or deleted after the close, not the July one', async () => {
    const detail = 'dated in closed month 2025-06: created, changed or deleted after the close';
    assert.deepEqual(await lateEntries(), [
      { business_key: 'E1', detail },
      { business_key: 'E3', detail },
      { business_key: 'E4', detail },
    ]);
  });

  it('maintenance with the least retention there is (keep the last one, expire after a day) keeps the tagged snapshots and what they read', async () => {
    const tagged = (await refs('trial_balance_gold'))['close-2025-06']?.['snapshot-id'] as bigint;
    const least = { keepLastSnapshots: 1, maxSnapshotAgeDays: 1 };
    const config = resolveConfig({ retention: { raw: least, silver: least, gold: least } });
    const strict = { ...engine, config, model: buildTableModel(config) };
    const results = await maintain(strict, { nowMs: Date.now() + 2 * 86_400_000 });
    const balances = results.find((r) => r.table.endsWith('.trial_balance_gold'));
    assert.ok((balances?.expiredSnapshots ?? 0) > 0, 'older untagged snapshots were expired');
    assert.deepEqual(await cashIn('trial_balance_gold', '2025-06', tagged), ['110.0000']);
    for (const name of ['journal_entries_silver', 'balance_sheet_gold']) {
      const id = (await refs(name))['close-2025-06']?.['snapshot-id'] as bigint;
      const iceberg = await openTable(engine, engine.model.table(name));
      assert.ok(await iceberg.snapshot({ snapshotId: id }), `${name}: the tagged snapshot is kept`);
    }
  });

  it('a second close of 2025-06 is refused, naming the first and the way to reopen; reopen closes it again and records it', async () => {
    await assert.rejects(
      closePeriod({ runId: 'run-2', period: '2025-06' }, engine),
      (error: Error) =>
        error instanceof PeriodCloseRefused &&
        /2025-06 is closed \(close 1, by run run-1 at .*\); to close it again, start a run with \{"closePeriod": "2025-06", "reopen": true\}/.test(
          error.message,
        ),
    );
    await assert.rejects(
      closePeriod({ runId: 'run-2', period: '2025-05', reopen: true }, engine),
      /2025-05 has not been closed, so it cannot be reopened/,
    );
    const reclosed = await closePeriod({ runId: 'run-2', period: '2025-06', reopen: true }, engine);
    assert.deepEqual([reclosed.status, reclosed.closeNumber], ['closed', 2]);
    const moved = (await refs('trial_balance_gold'))['close-2025-06']?.['snapshot-id'];
    assert.equal(
      moved,
      (await (await openTable(engine, engine.model.table('trial_balance_gold'))).snapshot())?.['snapshot-id'],
    );
    const closed = await openTable(engine, engine.model.table('trial_balance_closed_gold'));
    assert.deepEqual(
      await query(
        engine,
        `SELECT close_number, reopened, CAST(closing_balance AS VARCHAR) AS closing FROM ${await closed.scanSql()}
         WHERE account_id = '1000' ORDER BY close_number`,
      ),
      [
        { close_number: 1, reopened: false, closing: '110.0000' },
        { close_number: 2, reopened: true, closing: '125.0000' },
      ],
    );
    // The changes are part of the month as closed again: the next run no longer lists them.
    await run('run-3', {}, T0 + 2n * MINUTE);
    assert.deepEqual(await lateEntries(), []);
  });

  it('refuses a month that is not YYYY-MM, and a month without a trial balance', async () => {
    await assert.rejects(
      closePeriod({ runId: 'run-2', period: '2025-6' }, engine),
      /closePeriod must be a month as YYYY-MM \(e\.g\. "2025-06"\), got "2025-6"/,
    );
    await assert.rejects(
      closePeriod({ runId: 'run-2', period: '2024-01' }, engine),
      /2024-01 has no trial balance to close: trial_balance_gold holds 2025-06 to 2025-07/,
    );
  });
});
