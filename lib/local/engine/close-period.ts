import {
  assertClosePeriod,
  assertRunId,
  closeTag,
  PeriodCloseRefused,
  RUN_ID_SUMMARY_KEY,
} from '../../contracts/index.ts';
import { TRIAL_BALANCE_CLOSED_GOLD, TRIAL_BALANCE_GOLD } from '../../model/tables/curated.ts';
import { writePartitionedFiles } from '../iceberg/data-files.ts';
import { quoteString } from '../iceberg/partition-sql.ts';
import type { IcebergTable } from '../iceberg/table-ops.ts';
import { type EngineContext, openTable, openTables } from './context.ts';

export interface ClosePeriodResult {
  readonly period: string;
  readonly tag: string;
  readonly closeNumber: number;
  /** `closed`: this call recorded the close; `already-closed`: this run had recorded it (a retry), tags made sure of. */
  readonly status: 'closed' | 'already-closed';
  /** The snapshot of every curated table the tag names (ids as decimal text: task results travel as JSON). */
  readonly snapshots: readonly { readonly table: string; readonly snapshotId: string }[];
  /** Accounts in the closed trial balance. */
  readonly accounts: number;
}

/**
 * The close job, the Glue close_period job's local twin: after a run has
 * curated, closes the month `period`. It appends the month's trial balance
 * to trial_balance_closed_gold with the close's number, time, run and the
 * snapshot of every curated table, then tags each of those snapshots
 * `close-YYYY-MM` (moving the tag on a reopening). A month closed by another
 * run is refused unless `reopen`; a month never closed is refused with
 * `reopen`. Running it again for the same run only makes sure of the tags.
 */
export async function closePeriod(
  input: { readonly runId: unknown; readonly period: unknown; readonly reopen?: unknown },
  context: EngineContext,
): Promise<ClosePeriodResult> {
  const runId = assertRunId(input.runId);
  const period = assertClosePeriod(input.period);
  const reopen = input.reopen === true;
  const tag = closeTag(period);
  const { connection, model } = context;
  const closedTable = model.table(TRIAL_BALANCE_CLOSED_GOLD.name);
  const curated = model.tables.filter((t) => t.layer !== 'raw' && t.name !== closedTable.name);
  const opened = await openTables(context, [...curated, closedTable]);
  const closed = opened.at(-1) as (typeof opened)[number];
  const month = `DATE '${period}-01'`;

  const prior = (
    await connection.runAndReadAll(
      `SELECT close_number, run_id, CAST(closed_at AS VARCHAR) AS closed_at FROM ${await closed.iceberg.scanSql()}
       WHERE period = ${month} GROUP BY ALL ORDER BY close_number`,
    )
  ).getRowObjectsJS() as { close_number: number; run_id: string; closed_at: string }[];
  const mine = prior.find((p) => p.run_id === runId);
  const last = prior.at(-1);
  if (mine === undefined && last !== undefined && !reopen)
    throw new PeriodCloseRefused(
      `${period} is closed (close ${last.close_number}, by run ${last.run_id} at ${last.closed_at}); to close it again, start a run with {"closePeriod": "${period}", "reopen": true}`,
    );
  if (mine === undefined && last === undefined && reopen)
    throw new PeriodCloseRefused(
      `${period} has not been closed, so it cannot be reopened: close it with {"closePeriod": "${period}"}`,
    );

  // The current snapshot of every curated table that has one: what the tag will name.
  const snapshots: { table: string; iceberg: IcebergTable; snapshotId: bigint }[] = [];
  for (const { table, iceberg } of opened.slice(0, -1)) {
    const current = await iceberg.snapshot();
    if (current !== undefined)
      snapshots.push({ table: table.name, iceberg, snapshotId: current['snapshot-id'] });
  }
  const balanceRows = await (
    opened.find((o) => o.table.name === TRIAL_BALANCE_GOLD.name) as (typeof opened)[number]
  ).iceberg.scanSql();
  const [months] = (
    await connection.runAndReadAll(
      `SELECT count(*) FILTER (WHERE period = ${month}), CAST(min(period) AS VARCHAR), CAST(max(period) AS VARCHAR) FROM ${balanceRows}`,
    )
  ).getRows() as [bigint, string | null, string | null][];
  const [accounts, first, latest] = months ?? [0n, null, null];
  if (accounts === 0n)
    throw new PeriodCloseRefused(
      `${period} has no trial balance to close: ${first === null ? 'trial_balance_gold is empty' : `trial_balance_gold holds ${first.slice(0, 7)} to ${(latest ?? '').slice(0, 7)}`}`,
    );

  const closeNumber = mine?.close_number ?? (last?.close_number ?? 0) + 1;
  if (mine === undefined) {
    const rawEntries = await openTable(context, model.rawTableFor('journal_entries'));
    const booksAsOf = `(SELECT max(ingest_ts) FROM ${await rawEntries.scanSql()})`;
    const list = snapshots
      .map((s) => `{'table_name': ${quoteString(s.table)}, 'snapshot_id': ${s.snapshotId}::BIGINT}`)
      .join(', ');
    const files = await writePartitionedFiles(
      connection,
      closed.table,
      `SELECT *, ${closeNumber}::INT AS close_number, ${closeNumber > 1} AS reopened, now() AS closed_at,
         ${booksAsOf} AS books_as_of, ${quoteString(runId)} AS run_id, [${list}] AS snapshots
       FROM ${balanceRows} WHERE period = ${month}`,
      (p) => closed.iceberg.dataFilePath(p),
    );
    await closed.iceberg.commit({
      operation: 'append',
      added: files,
      properties: { [RUN_ID_SUMMARY_KEY]: runId },
    });
  }
  for (const { iceberg, snapshotId } of snapshots) await iceberg.tag(tag, snapshotId);
  return {
    period,
    tag,
    closeNumber,
    status: mine === undefined ? 'closed' : 'already-closed',
    snapshots: snapshots.map((s) => ({ table: s.table, snapshotId: String(s.snapshotId) })),
    accounts: Number(accounts),
  };
}
