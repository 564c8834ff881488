import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Decimal128, Int32 } from 'mongodb';
import { curate, openTable, rawAppend } from '../../../../lib/local/engine/index.ts';
import { BRIEF } from '../../curate/brief-fixture.ts';
import { engineIn, stageRun } from '../engine/engine-fixture.ts';

export interface BriefWarehouse {
  /** State directory: the tables are under `<dir>/warehouse`. */
  readonly dir: string;
  /** The gold table's snapshot after the brief's run, and when it was committed. */
  readonly goldBrief: { readonly snapshotId: bigint; readonly committedAtMs: number };
  /** The silver table's snapshot after the brief's run. */
  readonly silverBriefSnapshotId: bigint;
}

/**
 * A warehouse built by the engine: run-1 loads the brief's documents, run-2
 * edits JE1001 so its second line credits 499.9999 (gold: unbalanced).
 */
export async function briefWarehouse(): Promise<BriefWarehouse> {
  const dir = await mkdtemp(join(tmpdir(), 'query-'));
  const engine = await engineIn(dir);
  await stageRun(engine, 'run-1', BRIEF);
  await rawAppend({ runId: 'run-1' }, engine);
  await curate({ runId: 'run-1' }, engine);
  const snapshotOf = async (name: string) => {
    const snapshot = await (await openTable(engine, engine.model.table(name))).snapshot();
    if (snapshot === undefined) throw new Error(`${name} has no snapshot after run-1`);
    return snapshot;
  };
  const gold = await snapshotOf('journal_entries_gold');
  const silver = await snapshotOf('journal_entries_silver');
  // Later commits must not share the brief snapshots' millisecond, or time travel by timestamp is ambiguous.
  await sleep(5);
  const je1001 = BRIEF.journal_entries?.[0] as Record<string, unknown>;
  await stageRun(engine, 'run-2', {
    journal_entries: [
      {
        ...je1001,
        lines: [
          {
            account_id: new Int32(1000),
            debit: Decimal128.fromString('500'),
            credit: Decimal128.fromString('0'),
          },
          {
            account_id: new Int32(2000),
            debit: Decimal128.fromString('0'),
            credit: Decimal128.fromString('499.9999'),
          },
        ],
        updatedAt: new Date('2025-07-03T00:00:00Z'),
      },
    ],
  });
  await rawAppend({ runId: 'run-2', collections: ['journal_entries'] }, engine);
  await curate({ runId: 'run-2' }, engine);
  engine.connection.closeSync();
  return {
    dir,
    goldBrief: { snapshotId: gold['snapshot-id'], committedAtMs: gold['timestamp-ms'] },
    silverBriefSnapshotId: silver['snapshot-id'],
  };
}
