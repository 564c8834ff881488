import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { releaseRun } from '../../../lambdas/commit/release-run.ts';
import { FsRunStateStore } from '../../../lib/local/fs-run-state.ts';

describe('release after a failed run', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'release-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('gives the lease back so the next run can take it', async () => {
    const runState = new FsRunStateStore(join(dir, 'a'));
    const now = new Date('2024-01-01T00:00:00Z');
    assert.deepEqual(await runState.acquireLease('run-1', now, 120), { acquired: true });
    assert.deepEqual(await releaseRun({ runId: 'run-1' }, { runState }), { runId: 'run-1', released: true });
    assert.deepEqual(await runState.acquireLease('run-2', now, 120), { acquired: true });
  });

  it("leaves another run's lease alone and says so", async () => {
    const runState = new FsRunStateStore(join(dir, 'b'));
    await runState.acquireLease('run-other', new Date(), 120);
    assert.deepEqual(await releaseRun({ runId: 'run-failed' }, { runState }), {
      runId: 'run-failed',
      released: false,
    });
    const retry = await runState.acquireLease('run-next', new Date(), 120);
    assert.equal(retry.acquired, false, 'the other run still holds the lease');
  });

  it('is harmless when no lease is held (a run that failed before planning)', async () => {
    const runState = new FsRunStateStore(join(dir, 'c'));
    assert.deepEqual(await releaseRun({ runId: 'run-3' }, { runState }), { runId: 'run-3', released: true });
  });

  it('refuses a malformed run id', async () => {
    const runState = new FsRunStateStore(join(dir, 'd'));
    await assert.rejects(releaseRun({ runId: 'a b' }, { runState }), /runId must be 1-80 characters/);
  });
});
