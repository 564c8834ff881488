import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logger } from '../../../../lambdas/shared/logger.ts';
import { type LedgerlakeConfig, resolveConfig } from '../../../../lib/config/index.ts';
import { INGEST_STATES, stagingLayout } from '../../../../lib/contracts/index.ts';
import { FsObjectStore } from '../../../../lib/local/fs-object-store.ts';
import { FsRunStateStore } from '../../../../lib/local/fs-run-state.ts';
import { ingestDefinitionFor } from '../../../../lib/local/runner/definition.ts';
import { LocalStateMachine } from '../../../../lib/local/runner/local-state-machine.ts';
import {
  LocalRunFailed,
  type RunEvent,
  runLocalPipeline,
  type TaskHandler,
} from '../../../../lib/local/runner/run-pipeline.ts';
import { PAYLOAD_LIMIT_BYTES } from '../../../../lib/local/runner/service-limits.ts';
import type { AslDefinition, AslState } from '../../../../lib/stacks/ingest-definition.ts';

logger.setLogLevel('ERROR');

const S = INGEST_STATES;
const SCALE = 700;
const validated = resolveConfig({
  collections: [
    { name: 'accounts', mode: 'full', watermarkField: 'updatedAt', chunkDocs: 100 },
    { name: 'journal_entries', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 100 },
    { name: 'close_tasks', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 100 },
  ],
});
/**
 * Chunks of one document, below the validated minimum of 100: the chunk list
 * of a few hundred documents is then as long as that of ~70,000 documents in
 * chunks of 100, over 256 KiB, at a fraction of the run time.
 */
const config: LedgerlakeConfig = {
  ...validated,
  collections: validated.collections.map((c) => ({ ...c, chunkDocs: 1 })),
};

/** Records the events of a run and what one task returned. */
function recorder(stateName: string) {
  const events: RunEvent[] = [];
  let result: unknown;
  return {
    events,
    result: () => result,
    onEvent: (event: RunEvent) => events.push(event),
    wrapTask: (state: string, handler: TaskHandler): TaskHandler =>
      state !== stateName
        ? handler
        : async (input) => {
            result = await handler(input);
            return result;
          },
  };
}

const entered = (events: readonly RunEvent[], state: string, nested: boolean) =>
  events.filter((e) => e.type === 'state-entered' && e.state === state && (e.index !== undefined) === nested)
    .length;

describe('the large-load path runs locally under the service’s 256 KiB payload quota', () => {
  let dir: string;
  let chunksKey: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-large-load-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a chunk list over 256 KiB goes through the distributed Map, read from the store, and commits every row', async (t) => {
    const run = recorder(S.plan);
    const started = performance.now();

    const summary = await runLocalPipeline({ dir, scale: SCALE, config, ...run });

    const plan = run.result() as { chunks?: unknown; chunksKey: string; chunkCount: number };
    chunksKey = plan.chunksKey;
    assert.equal(plan.chunks, undefined, 'the plan passed no chunks between states');
    const listBytes = (await readFile(join(dir, 'warehouse', chunksKey))).byteLength;
    assert.equal(chunksKey, stagingLayout.chunkList(config.app, summary.runId));
    assert.ok(listBytes > PAYLOAD_LIMIT_BYTES, `the chunk list is ${listBytes} bytes`);
    assert.equal(entered(run.events, S.extractFromList, false), 1);
    assert.equal(entered(run.events, S.extractInline, false), 0);
    assert.equal(entered(run.events, S.extractListedChunk, true), plan.chunkCount, 'a child per chunk');
    assert.equal(summary.status, 'SUCCEEDED');
    assert.equal(summary.reconciled, true);
    assert.equal(summary.collections.journal_entries?.read, SCALE);
    for (const [collection, counts] of Object.entries(summary.collections)) {
      assert.equal(summary.tables[`fq_app_raw.${collection}`]?.rows, counts.staged, collection);
    }
    t.diagnostic(
      `chunk list ${listBytes.toLocaleString('en-US')} bytes, ${plan.chunkCount} chunks; run ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  it('children that output their chunk item gather the chunk list back: States.DataLimitExceeded, past the Catch', async () => {
    const synthesized = (await ingestDefinitionFor(config)).definition;
    const map = synthesized.States[S.extractFromList] as AslState & { ItemProcessor: AslDefinition };
    const { OutputPath: _discard, ...echoing } = map.ItemProcessor.States[S.extractListedChunk] as AslState;
    const withChild = (child: AslState): AslDefinition => ({
      StartAt: S.extractFromList,
      States: {
        [S.extractFromList]: {
          ...map,
          ItemProcessor: { ...map.ItemProcessor, States: { [S.extractListedChunk]: child } },
        },
        [S.releaseLease]: { Type: 'Pass', End: true },
        [S.rawAppend]: { Type: 'Succeed' },
      },
    });
    const extracted = async () => ({ documents: 1 });
    const runMap = async (definition: AslDefinition): Promise<{ states: string[]; error?: Error }> => {
      const execution = new LocalStateMachine(definition, {
        store: new FsObjectStore(join(dir, 'warehouse')),
      }).run(
        { plan: { chunksKey } },
        { overrides: { taskResourceLocalHandlers: { [S.extractListedChunk]: extracted } } },
      );
      const states: string[] = [];
      for await (const event of execution.eventLogs) {
        const e = event as { type: string; index?: number; state?: { name: string } };
        if (e.type === 'StateEntered' && e.index === undefined && e.state) states.push(e.state.name);
      }
      return execution.result.then(
        () => ({ states }),
        (error: Error) => ({ states, error: error.cause as Error }),
      );
    };

    const echoed = await runMap(withChild(echoing));
    assert.equal(echoed.error?.name, 'States.DataLimitExceeded', String(echoed.error));
    assert.match(
      echoed.error?.message ?? '',
      new RegExp(`the result of ${S.extractFromList} is [\\d,]+ bytes`),
    );
    assert.deepEqual(echoed.states, [S.extractFromList], 'ReleaseLease is not entered');

    const synthesizedChild = map.ItemProcessor.States[S.extractListedChunk] as AslState;
    assert.deepEqual(
      (await runMap(withChild(synthesizedChild))).states,
      [S.extractFromList, S.rawAppend],
      'as synthesized (children output {}), the same chunk list passes',
    );
  });

  it('a task result over 256 KiB fails the execution with States.DataLimitExceeded: no catch path, the lease stays until it expires', async () => {
    const events: RunEvent[] = [];
    const failed = await runLocalPipeline({
      dir,
      scale: SCALE,
      config,
      onEvent: (event) => events.push(event),
      wrapTask: (state, handler) =>
        state !== S.plan
          ? handler
          : async (input) => ({
              ...((await handler(input)) as object),
              notes: 'x'.repeat(PAYLOAD_LIMIT_BYTES),
            }),
    }).then(
      () => assert.fail('the run should have failed'),
      (error: unknown) => error,
    );

    assert.ok(failed instanceof LocalRunFailed, String(failed));
    assert.match(failed.message, /States\.DataLimitExceeded: the result of Plan is [\d,]+ bytes/);
    assert.deepEqual(
      events.filter((e) => e.type === 'state-failed').map((e) => [e.state, e.error]),
      [[S.plan, 'States.DataLimitExceeded']],
    );
    assert.equal(entered(events, S.releaseLease, false), 0, 'States.ALL does not catch it');
    const lease = await new FsRunStateStore(join(dir, 'state')).acquireLease(
      'another-run',
      new Date(),
      config.extraction.leaseMinutes,
    );
    assert.deepEqual([lease.acquired, (lease as { heldBy?: string }).heldBy], [false, failed.runId]);
  });
});
