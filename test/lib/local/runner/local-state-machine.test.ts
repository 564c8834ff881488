import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsObjectStore } from '../../../../lib/local/fs-object-store.ts';
import { LocalStateMachine } from '../../../../lib/local/runner/local-state-machine.ts';
import { PAYLOAD_LIMIT_BYTES, payloadBytes } from '../../../../lib/local/runner/service-limits.ts';
import type { AslDefinition, AslState } from '../../../../lib/stacks/ingest-definition.ts';

type Handler = (input: unknown) => Promise<unknown>;

const BUCKET = 'warehouse-bucket';
const caught = { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' };

/** `first` → `Done`, with a Catch on `first` that goes to `Caught`. */
function machine(first: string, state: AslState): AslDefinition {
  const { End: _end, ...rest } = state;
  return {
    StartAt: first,
    States: {
      [first]: { ...rest, Type: state.Type, Catch: [caught], Next: 'Done' },
      Caught: { Type: 'Pass', End: true },
      Done: { Type: 'Succeed' },
    },
  };
}

function task(name: string, fields: Record<string, unknown> = {}): AslDefinition {
  return {
    StartAt: name,
    States: {
      [name]: {
        Type: 'Task',
        Resource: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
        End: true,
        ...fields,
      },
    },
  };
}

function distributedMap(fields: Record<string, unknown>, processor: AslDefinition): AslState {
  return {
    Type: 'Map',
    ItemReader: {
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { Bucket: BUCKET, 'Key.$': '$.itemsKey' },
    },
    ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, ...processor },
    ...fields,
  };
}

/** Runs `definition` to its end: the output or the error, and the names of the states entered at the top level. */
async function run(
  store: FsObjectStore,
  definition: AslDefinition,
  input: unknown,
  handlers: Record<string, Handler>,
): Promise<{ output?: unknown; error?: Error; entered: string[]; nested: number }> {
  const execution = new LocalStateMachine(definition, { store }).run(input, {
    overrides: { taskResourceLocalHandlers: handlers as never },
  });
  const entered: string[] = [];
  let nested = 0;
  const events = (async () => {
    for await (const event of execution.eventLogs) {
      const e = event as { type: string; index?: number; state?: { name: string } };
      if (e.type !== 'StateEntered' || e.state === undefined) continue;
      if (e.index === undefined) entered.push(e.state.name);
      else nested++;
    }
  })();
  try {
    return { output: await execution.result, entered, nested };
  } catch (error) {
    return { error: (error as Error & { cause: Error }).cause, entered, nested };
  } finally {
    await events;
  }
}

describe('the local state machine: the service’s payload quota and Map states', () => {
  let dir: string;
  let store: FsObjectStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-sfn-'));
    store = new FsObjectStore(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a distributed Map reads its items from the store, runs MaxConcurrency children at once and writes its results as the service does', async () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ n: i }));
    await store.putJson('runs/r1/items.json', items);
    let inFlight = 0;
    let peak = 0;
    const double: Handler = async (input) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      const { value, index } = input as { value: { n: number }; index: number };
      return { doubled: value.n * 2, index };
    };
    const definition = machine(
      'Fan',
      distributedMap(
        {
          MaxConcurrency: 3,
          ItemSelector: { 'value.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
          ResultWriter: {
            Resource: 'arn:aws:states:::s3:putObject',
            Parameters: { Bucket: BUCKET, 'Prefix.$': '$.resultsPrefix' },
          },
          ResultSelector: { 'manifest.$': '$.ResultWriterDetails.Key' },
          ResultPath: '$.results',
        },
        task('Double'),
      ),
    );

    const result = await run(
      store,
      definition,
      { itemsKey: 'runs/r1/items.json', resultsPrefix: 'runs/r1/results' },
      { Double: double },
    );

    assert.equal(result.error, undefined, String(result.error));
    assert.deepEqual(result.entered, ['Fan', 'Done']);
    assert.equal(result.nested, 12, 'one child execution per item, their events passed on');
    assert.equal(peak, 3);
    const manifestKey = (result.output as { results: { manifest: string } }).results.manifest;
    assert.match(manifestKey, /^runs\/r1\/results\/[0-9a-f-]{36}\/manifest\.json$/);
    const manifest = (await store.getJson(manifestKey)) as {
      DestinationBucket: string;
      MapRunArn: string;
      ResultFiles: Record<string, { Key: string; Size: number }[]>;
    };
    assert.equal(manifest.DestinationBucket, BUCKET);
    assert.match(manifest.MapRunArn, /^arn:aws:states:[^:]+:\d+:mapRun:[^/]+\/Fan:[0-9a-f-]{36}$/);
    assert.deepEqual(manifest.ResultFiles.FAILED, []);
    assert.deepEqual(manifest.ResultFiles.PENDING, []);
    const [file] = manifest.ResultFiles.SUCCEEDED ?? [];
    assert.ok(file !== undefined);
    assert.equal(file.Key, manifestKey.replace('manifest.json', 'SUCCEEDED_0.json'));
    const records = (await store.getJson(file.Key)) as Record<string, unknown>[];
    assert.equal(file.Size, payloadBytes(records));
    assert.equal(records.length, 12);
    const third = records.find((r) => JSON.parse(String(r.Input)).index === 2);
    assert.deepEqual(JSON.parse(String(third?.Input)), { value: { n: 2 }, index: 2 });
    assert.deepEqual(JSON.parse(String(third?.Output)), { doubled: 4, index: 2 });
    assert.equal(third?.Status, 'SUCCEEDED');
    assert.match(String(third?.ExecutionArn), /:execution:[^/]+\/Fan:[0-9a-f-]{36}$/);
  });

  it('a failed child fails the Map Run with States.ExceedToleratedFailureThreshold, which the Map’s Catch takes', async () => {
    await store.putJson('runs/r2/items.json', [1, 2, 3, 4]);
    const failOnThree: Handler = async (input) => {
      if (input === 3) throw Object.assign(new Error('three is bad'), { name: 'BadItem' });
      return input;
    };
    const strict = await run(
      store,
      machine('Fan', distributedMap({ MaxConcurrency: 1 }, task('Check'))),
      { itemsKey: 'runs/r2/items.json' },
      { Check: failOnThree },
    );
    assert.deepEqual(strict.entered, ['Fan', 'Caught']);
    const error = (strict.output as { error: { Error: string; Cause: string } }).error;
    assert.equal(error.Error, 'States.ExceedToleratedFailureThreshold');
    assert.match(error.Cause, /1 of 4 items failed.*BadItem: three is bad/);
    assert.equal(strict.nested, 3, 'no child is started after the threshold is exceeded');

    const tolerant = await run(
      store,
      machine('Fan', distributedMap({ ToleratedFailureCount: 1 }, task('Check'))),
      { itemsKey: 'runs/r2/items.json' },
      { Check: failOnThree },
    );
    assert.deepEqual(tolerant.entered, ['Fan', 'Done']);
    const outputs = tolerant.output as unknown[];
    assert.deepEqual([outputs[0], outputs[1], outputs[3]], [1, 2, 4]);
    assert.equal((outputs[2] as { Status: string; Error: string }).Status, 'FAILED');
    assert.equal((outputs[2] as { Error: string }).Error, 'BadItem');
  });

  it('an inline Map fails with its failed iteration’s own error, which the Map’s Catch takes', async () => {
    const result = await run(
      store,
      machine('Each', {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: 1,
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...task('Check') },
      }),
      { items: [1, 2, 3, 4] },
      {
        Check: async (input) => {
          if (input === 2) throw Object.assign(new Error('two is bad'), { name: 'BadItem' });
          return input;
        },
      },
    );
    assert.deepEqual(result.entered, ['Each', 'Caught']);
    assert.deepEqual((result.output as { error: unknown }).error, { Error: 'BadItem', Cause: 'two is bad' });
    assert.equal(result.nested, 2, 'no iteration starts after the failure');
  });

  it('an ItemReader object that does not exist is States.ItemReaderFailed, which the Catch takes', async () => {
    const result = await run(
      store,
      machine('Fan', distributedMap({}, task('Check'))),
      { itemsKey: 'runs/none/items.json' },
      { Check: async (input) => input },
    );
    assert.deepEqual(result.entered, ['Fan', 'Caught']);
    assert.equal((result.output as { error: { Error: string } }).error.Error, 'States.ItemReaderFailed');
  });

  it('a Map whose gathered result is over 256 KiB fails with States.DataLimitExceeded, past its Catch, though ResultPath discards it', async () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ i, padding: 'x'.repeat(1000) }));
    await store.putJson('runs/r3/items.json', items);
    assert.ok(payloadBytes(items) > PAYLOAD_LIMIT_BYTES);
    // Each child outputs its item and a result: about 2.5 KB, so 200 of them are over the quota.
    const echo: Handler = async (input) => ({ done: (input as { i: number }).i, note: 'y'.repeat(1500) });
    for (const [mode, state] of [
      ['distributed', distributedMap({ ResultPath: null }, task('Echo', { ResultPath: '$.result' }))],
      [
        'inline',
        {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...task('Echo', { ResultPath: '$.result' }) },
          ResultPath: null,
        },
      ],
    ] as const) {
      const input = mode === 'inline' ? { items: items.slice(0, 200) } : { itemsKey: 'runs/r3/items.json' };
      const result = await run(store, machine('Fan', state), input, { Echo: echo });
      assert.equal(result.error?.name, 'States.DataLimitExceeded', `${mode}: ${String(result.error)}`);
      assert.match(result.error?.message ?? '', /the result of Fan is [\d,]+ bytes/);
      assert.deepEqual(result.entered, ['Fan'], `${mode}: the Catch is not taken`);

      const quiet = await run(
        store,
        machine('Fan', {
          ...state,
          ItemProcessor: {
            ...(state.ItemProcessor as object),
            ...task('Echo', { ResultPath: '$.result', OutputPath: null }),
          },
        }),
        input,
        { Echo: echo },
      );
      assert.deepEqual(
        quiet.entered,
        ['Fan', 'Done'],
        `${mode}: children that output {} gather a small result`,
      );
    }
  });

  it('starts at another state when asked (a redrive), the definition still validated as written', async () => {
    const definition = machine('Work', task('Work').States.Work as AslState);
    const execution = new LocalStateMachine(definition, { store }, { startAt: 'Caught' }).run({
      from: 'redrive',
    });
    assert.deepEqual(await execution.result, { from: 'redrive' });
    assert.throws(() => new LocalStateMachine({ ...definition, StartAt: 'Nowhere' }, { store }), /invalid/);
  });

  it('a task result, a state output or an execution input over 256 KiB fails the execution with States.DataLimitExceeded, past any Catch', async () => {
    const big = 'x'.repeat(PAYLOAD_LIMIT_BYTES);
    const bigResult = await run(
      store,
      machine('Work', task('Work').States.Work as AslState),
      {},
      {
        Work: async () => ({ big }),
      },
    );
    assert.equal(bigResult.error?.name, 'States.DataLimitExceeded');
    assert.match(bigResult.error?.message ?? '', /the result of Work/);
    assert.deepEqual(bigResult.entered, ['Work']);

    // Each piece is under the quota; the output ResultPath builds from them is not.
    const half = 'x'.repeat(PAYLOAD_LIMIT_BYTES / 2);
    const bigOutput = await run(
      store,
      machine('Work', { ...(task('Work').States.Work as AslState), ResultPath: '$.result' }),
      { half },
      { Work: async () => ({ half }) },
    );
    assert.equal(bigOutput.error?.name, 'States.DataLimitExceeded');
    assert.match(bigOutput.error?.message ?? '', /the output of Work/);
    assert.deepEqual(bigOutput.entered, ['Work']);

    const bigInput = await run(
      store,
      machine('Work', task('Work').States.Work as AslState),
      { big },
      {
        Work: async () => ({}),
      },
    );
    assert.equal(bigInput.error?.name, 'States.DataLimitExceeded');
    assert.match(bigInput.error?.message ?? '', /the input of Work/);

    const atTheLimit = { s: 'x'.repeat(PAYLOAD_LIMIT_BYTES - payloadBytes({ s: '' })) };
    assert.equal(payloadBytes(atTheLimit), PAYLOAD_LIMIT_BYTES);
    const fits = await run(
      store,
      machine('Work', task('Work').States.Work as AslState),
      {},
      {
        Work: async () => atTheLimit,
      },
    );
    assert.deepEqual(fits.entered, ['Work', 'Done'], 'exactly 256 KiB is allowed');
  });
});
