import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRunStateStore, type RunStateStore } from '../../../lambdas/shared/run-state.ts';
import { FsRunStateStore } from '../../../lib/local/fs-run-state.ts';
import { createRunStateTable } from '../../support/run-state-table.ts';
import { motoClientConfig, motoEndpoint, uniqueName } from '../../support/services.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const implementations: { name: string; create(): Promise<RunStateStore> }[] = [
  {
    name: 'DynamoDB (moto)',
    async create() {
      const dynamo = new DynamoDBClient(motoClientConfig(await motoEndpoint()));
      cleanups.push(async () => dynamo.destroy());
      const table = uniqueName('run-state');
      await createRunStateTable(dynamo, table);
      return new DynamoRunStateStore(dynamo, table, 'fq_app');
    },
  },
  {
    name: 'local files',
    async create() {
      const folder = await mkdtemp(join(tmpdir(), 'run-state-'));
      cleanups.push(() => rm(folder, { recursive: true, force: true }));
      return new FsRunStateStore(folder);
    },
  },
];

const now = new Date('2025-06-01T00:00:00Z');
const later = (minutes: number) => new Date(now.getTime() + minutes * 60_000);

for (const implementation of implementations) {
  describe(`run state in ${implementation.name}`, () => {
    it('gives the lease to one run at a time and says who holds it', async () => {
      const store = await implementation.create();
      assert.deepEqual(await store.acquireLease('run-1', now, 60), { acquired: true });
      assert.deepEqual(await store.acquireLease('run-2', later(1), 60), {
        acquired: false,
        heldBy: 'run-1',
        since: now.toISOString(),
      });
      assert.deepEqual(
        await store.acquireLease('run-1', later(2), 60),
        { acquired: true },
        'a redrive retakes its lease',
      );
      await store.releaseLease('run-1');
      await store.releaseLease('run-1');
      assert.deepEqual(await store.acquireLease('run-2', later(3), 60), { acquired: true });
    });

    it('lets a run take over a lease that expired', async () => {
      const store = await implementation.create();
      await store.acquireLease('crashed', now, 60);
      assert.deepEqual(await store.acquireLease('next', later(61), 60), { acquired: true });
      await assert.rejects(
        store.releaseLease('crashed'),
        /run crashed cannot release the lease: another run holds it/,
      );
    });

    it('records the last planned and the last committed run', async () => {
      const store = await implementation.create();
      assert.equal(await store.readLastPlannedRun(), null);
      assert.equal(await store.readLastCommittedRun(), null);
      await store.recordPlannedRun({ runId: 'run-1', plannedAt: now.toISOString() });
      await store.recordPlannedRun({ runId: 'run-2', plannedAt: later(60).toISOString() });
      await store.recordCommittedRun({ runId: 'run-1', ingestTs: now.toISOString() });
      assert.deepEqual(await store.readLastPlannedRun(), {
        runId: 'run-2',
        plannedAt: later(60).toISOString(),
      });
      assert.deepEqual(await store.readLastCommittedRun(), { runId: 'run-1', ingestTs: now.toISOString() });
    });

    it('moves a watermark only from where the plan found it', async () => {
      const store = await implementation.create();
      assert.deepEqual(await store.readWatermark('journal_entries'), { bound: null, runId: null });
      await store.advanceWatermark('journal_entries', { from: null, to: '[1]', runId: 'run-1' });
      await store.advanceWatermark('journal_entries', { from: null, to: '[1]', runId: 'run-1' });
      assert.deepEqual(await store.readWatermark('journal_entries'), { bound: '[1]', runId: 'run-1' });
      await assert.rejects(
        store.advanceWatermark('journal_entries', { from: null, to: '[2]', runId: 'run-2' }),
        /watermark of journal_entries moved since run run-2 was planned; refusing to overwrite it/,
      );
      await store.advanceWatermark('journal_entries', { from: '[1]', to: '[2]', runId: 'run-2' });
      assert.deepEqual(await store.readWatermark('journal_entries'), { bound: '[2]', runId: 'run-2' });
      assert.deepEqual(await store.readWatermark('close_tasks'), { bound: null, runId: null });
    });
  });
}

describe('run state in local files: the lease of a process that died', () => {
  it('is taken over at once when its process on this host no longer exists, and not while it lives', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'run-state-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--eval',
        `import { FsRunStateStore } from ${JSON.stringify(join(repoRoot, 'lib/local/fs-run-state.ts'))};
         const lease = await new FsRunStateStore(${JSON.stringify(folder)}).acquireLease('crashed', new Date(), 60);
         console.log(JSON.stringify(lease));
         setInterval(() => {}, 1000);`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(holder, 'exit');
    try {
      const [line] = (await once(holder.stdout, 'data')) as [Buffer];
      assert.deepEqual(JSON.parse(line.toString()), { acquired: true });
      const store = new FsRunStateStore(folder);
      const busy = await store.acquireLease('next', new Date(), 60);
      assert.equal(busy.acquired, false, 'the holder is alive: its lease stands');
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
    const store = new FsRunStateStore(folder);
    assert.deepEqual(await store.acquireLease('next', new Date(), 60), { acquired: true });
    await store.releaseLease('next');
  });
});
