import { randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { ObjectStore } from '../../../lambdas/shared/object-store.ts';
import type { AslState } from '../../stacks/ingest-definition.ts';
import { StatesError } from './service-limits.ts';

/**
 * A Map state run as Step Functions runs it, inline or distributed, for a
 * runner that executes the ItemProcessor itself (see LocalStateMachine):
 * aws-local-stepfunctions ignores ItemReader and ResultWriter, and never
 * sees a Map's gathered result, which the payload quota applies to.
 */

/** Where a distributed Map reads items and writes results; locally one store stands for every bucket. */
export type MapObjectStore = Pick<ObjectStore, 'getJson' | 'putJson'>;

/** How the ItemProcessor ended for one item. */
export type ItemOutcome = {
  readonly startDate: string;
  readonly stopDate: string;
} & (
  | { readonly status: 'SUCCEEDED'; readonly output: unknown }
  | { readonly status: 'FAILED'; readonly error: Error }
);

export interface MapRunEnvironment {
  readonly stateName: string;
  readonly store: MapObjectStore;
  /** The execution's context object (`$$`). */
  readonly context: Readonly<Record<string, unknown>>;
  /** Runs the ItemProcessor on one item: an iteration (inline) or a child execution (distributed). */
  runItem(input: unknown, index: number): Promise<ItemOutcome>;
}

interface MapFields {
  readonly ItemsPath?: string;
  readonly ItemSelector?: unknown;
  /** The older name of ItemSelector. */
  readonly Parameters?: unknown;
  readonly ItemProcessor?: { readonly ProcessorConfig?: { readonly Mode?: string } };
  readonly ItemReader?: {
    readonly Resource: string;
    readonly ReaderConfig?: {
      readonly InputType?: string;
      readonly MaxItems?: number;
      readonly MaxItemsPath?: string;
    };
    readonly Parameters?: unknown;
  };
  readonly ResultWriter?: {
    readonly Resource?: string;
    readonly Parameters?: unknown;
    readonly WriterConfig?: { readonly Transformation?: string; readonly OutputType?: string };
  };
  readonly ItemBatcher?: unknown;
  readonly Label?: string;
  readonly MaxConcurrency?: number;
  readonly MaxConcurrencyPath?: string;
  readonly ToleratedFailureCount?: number;
  readonly ToleratedFailureCountPath?: string;
  readonly ToleratedFailurePercentage?: number;
  readonly ToleratedFailurePercentagePath?: string;
}

/** The fields a Map state has and a Task state does not. */
export const MAP_ONLY_FIELDS = [
  'ItemsPath',
  'ItemSelector',
  'Parameters',
  'ItemProcessor',
  'Iterator',
  'ItemReader',
  'ResultWriter',
  'ItemBatcher',
  'Label',
  'MaxConcurrency',
  'MaxConcurrencyPath',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
] as const;

const S3_GET_OBJECT = 'arn:aws:states:::s3:getObject';
const S3_PUT_OBJECT = 'arn:aws:states:::s3:putObject';
/** Step Functions' own ceilings when a Map sets no MaxConcurrency. */
const INLINE_DEFAULT_CONCURRENCY = 40;
const DISTRIBUTED_DEFAULT_CONCURRENCY = 10_000;
/** The placeholders ingestDefinition resolves intrinsics to. */
const ARN_REGION_ACCOUNT = 'us-east-1:123456789012';

const terminal = { retryable: false, catchable: false };
const catchable = { retryable: true, catchable: true };

export function isDistributedMap(state: AslState): boolean {
  return (state as MapFields).ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

/** Fails before the run for what the local runner does not implement, rather than run it differently. */
export function assertRunnableMap(name: string, state: AslState): void {
  const map = state as MapFields;
  const unsupported = (what: string) => {
    throw new Error(`Map state ${name}: ${what} is not supported by the local runner`);
  };
  if (map.ItemBatcher !== undefined) unsupported('ItemBatcher');
  const reader = map.ItemReader;
  if (reader !== undefined) {
    if (reader.Resource !== S3_GET_OBJECT) unsupported(`ItemReader resource ${reader.Resource}`);
    const inputType = reader.ReaderConfig?.InputType ?? 'JSON';
    if (inputType !== 'JSON') unsupported(`ItemReader InputType ${inputType} (JSON only)`);
  }
  const writer = map.ResultWriter;
  if (writer !== undefined) {
    if (writer.Resource !== undefined && writer.Resource !== S3_PUT_OBJECT)
      unsupported(`ResultWriter resource ${writer.Resource}`);
    const outputType = writer.WriterConfig?.OutputType ?? 'JSON';
    if (outputType !== 'JSON') unsupported(`ResultWriter OutputType ${outputType} (JSON only)`);
  }
}

/** The Map state's result (before ResultSelector, ResultPath and OutputPath) for its effective input. */
export async function runMapState(state: AslState, input: unknown, env: MapRunEnvironment): Promise<unknown> {
  const map = state as MapFields;
  const distributed = isDistributedMap(state);
  const items = await readItems(map, input, env);
  const concurrency =
    (await numberField(map.MaxConcurrency, map.MaxConcurrencyPath, input, env)) ||
    (distributed ? DISTRIBUTED_DEFAULT_CONCURRENCY : INLINE_DEFAULT_CONCURRENCY);
  const tolerance = distributed ? await toleratedFailures(map, input, env, items.length) : undefined;

  const runs: ItemRun[] = [];
  const failures: Error[] = [];
  await runPool(items.length, concurrency, async (index) => {
    const itemInput = await selectItem(map, items[index], index, input, env);
    const outcome = await env.runItem(itemInput, index);
    runs[index] = { input: itemInput, outcome };
    if (outcome.status === 'SUCCEEDED') return true;
    failures.push(outcome.error);
    // Inline: the first failed iteration fails the Map with its error. Distributed: the Map Run fails past the threshold.
    return tolerance !== undefined && !tolerance.exceededBy(failures.length);
  });
  if (tolerance === undefined && failures[0] !== undefined) throw failures[0];
  if (tolerance?.exceededBy(failures.length)) {
    throw new StatesError(
      'States.ExceedToleratedFailureThreshold',
      `${env.stateName}: ${failures.length} of ${items.length} items failed, over the tolerated ${tolerance.describe}; first: ${String(failures[0])}`,
      catchable,
    );
  }
  if (!distributed) return runs.map((run) => (run.outcome as { output: unknown }).output);
  return writeResults(map, runs, input, env);
}

/** Runs `count` tasks, at most `limit` at once; stops starting new ones once a task returns false or throws. */
async function runPool(
  count: number,
  limit: number,
  task: (index: number) => Promise<boolean>,
): Promise<void> {
  let next = 0;
  let stopped = false;
  let thrown: { error: unknown } | undefined;
  const worker = async () => {
    while (!stopped && next < count) {
      const index = next++;
      try {
        if (!(await task(index))) stopped = true;
      } catch (error) {
        stopped = true;
        thrown ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (thrown !== undefined) throw thrown.error;
}

async function readItems(map: MapFields, input: unknown, env: MapRunEnvironment): Promise<unknown[]> {
  const reader = map.ItemReader;
  if (reader === undefined) {
    const items = map.ItemsPath === undefined ? input : await evaluatePath(map.ItemsPath, input, env.context);
    if (!Array.isArray(items)) {
      throw new StatesError(
        'States.Runtime',
        `${env.stateName}: ItemsPath ${map.ItemsPath ?? '$'} must point to an array`,
        terminal,
      );
    }
    return items;
  }
  const { Bucket, Key } = (await evaluatePayload(reader.Parameters ?? {}, input, env.context)) as {
    Bucket?: unknown;
    Key?: unknown;
  };
  const location = `s3://${String(Bucket)}/${String(Key)}`;
  const readerFailed = (why: string) =>
    new StatesError('States.ItemReaderFailed', `${env.stateName}: ${location} ${why}`, catchable);
  if (typeof Bucket !== 'string' || typeof Key !== 'string') throw readerFailed('is not a bucket and key');
  let items: unknown;
  try {
    items = await env.store.getJson(Key);
  } catch (error) {
    throw readerFailed(`could not be read as JSON: ${(error as Error).message}`);
  }
  if (items === undefined) throw readerFailed('does not exist');
  if (!Array.isArray(items)) throw readerFailed('does not hold a JSON array');
  const config = reader.ReaderConfig;
  const maxItems = await numberField(config?.MaxItems, config?.MaxItemsPath, input, env);
  return maxItems > 0 ? items.slice(0, maxItems) : items;
}

function selectItem(
  map: MapFields,
  item: unknown,
  index: number,
  input: unknown,
  env: MapRunEnvironment,
): unknown | Promise<unknown> {
  const selector = map.ItemSelector ?? map.Parameters;
  if (selector === undefined) return item;
  return evaluatePayload(selector, input, { ...env.context, Map: { Item: { Index: index, Value: item } } });
}

async function toleratedFailures(
  map: MapFields,
  input: unknown,
  env: MapRunEnvironment,
  total: number,
): Promise<{ exceededBy(failed: number): boolean; describe: string }> {
  const count = await optionalNumber(map.ToleratedFailureCount, map.ToleratedFailureCountPath, input, env);
  const percentage = await optionalNumber(
    map.ToleratedFailurePercentage,
    map.ToleratedFailurePercentagePath,
    input,
    env,
  );
  // Neither set: the service's default is 0 %, so any failed item fails the Map Run.
  const percent = count === undefined && percentage === undefined ? 0 : percentage;
  return {
    exceededBy: (failed) =>
      (count !== undefined && failed > count) ||
      (percent !== undefined && total > 0 && (failed * 100) / total > percent),
    describe: [
      ...(count === undefined ? [] : [`${count} items`]),
      ...(percent === undefined ? [] : [`${percent} %`]),
    ].join(' or '),
  };
}

async function numberField(
  value: number | undefined,
  path: string | undefined,
  input: unknown,
  env: MapRunEnvironment,
): Promise<number> {
  return (await optionalNumber(value, path, input, env)) ?? 0;
}

async function optionalNumber(
  value: number | undefined,
  path: string | undefined,
  input: unknown,
  env: MapRunEnvironment,
): Promise<number | undefined> {
  if (path === undefined) return value;
  const resolved = await evaluatePath(path, input, env.context);
  if (typeof resolved !== 'number' || resolved < 0) {
    throw new StatesError(
      'States.Runtime',
      `${env.stateName}: ${path} must be a number >= 0, got ${JSON.stringify(resolved)}`,
      terminal,
    );
  }
  return resolved;
}

interface ItemRun {
  readonly input: unknown;
  readonly outcome: ItemOutcome;
}

/**
 * A distributed Map's result. Without a ResultWriter, the children's outputs
 * (a failed child, tolerated, as its execution record). With one that names
 * a bucket, what the service writes: each status's results under
 * `<Prefix>/<map run id>/` (SUCCEEDED_0.json, FAILED_0.json) and a
 * manifest.json listing them; the state's result is then the Map Run ARN
 * and where the manifest is.
 */
async function writeResults(
  map: MapFields,
  runs: readonly ItemRun[],
  input: unknown,
  env: MapRunEnvironment,
): Promise<unknown> {
  const writer = map.ResultWriter;
  const names = mapRunNames(map, env);
  // The service's defaults: outputs only when results stay in the state, full records when exported.
  const transformation =
    writer?.WriterConfig?.Transformation ?? (writer?.Resource === undefined ? 'COMPACT' : 'NONE');
  // A failed child is always its full record, whatever the transformation.
  const format = (run: ItemRun): unknown[] => {
    if (run.outcome.status === 'FAILED' || transformation === 'NONE') return [executionRecord(run, names)];
    const output = run.outcome.output;
    return transformation === 'FLATTEN' && Array.isArray(output) ? output : [output];
  };
  if (writer?.Resource === undefined) return runs.flatMap(format);

  const { Bucket, Prefix } = (await evaluatePayload(writer.Parameters ?? {}, input, env.context)) as {
    Bucket?: unknown;
    Prefix?: unknown;
  };
  if (typeof Bucket !== 'string') {
    throw new StatesError(
      'States.ResultWriterFailed',
      `${env.stateName}: ResultWriter names no Bucket`,
      catchable,
    );
  }
  const prefix = typeof Prefix === 'string' && Prefix !== '' ? Prefix.replace(/\/?$/, '/') : '';
  const folder = `${prefix}${names.mapRunId}/`;
  const resultFiles: Record<'FAILED' | 'PENDING' | 'SUCCEEDED', { Key: string; Size: number }[]> = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [],
  };
  try {
    for (const status of ['SUCCEEDED', 'FAILED'] as const) {
      const results = runs.filter((run) => run.outcome.status === status).flatMap(format);
      if (results.length === 0) continue;
      const key = `${folder}${status}_0.json`;
      await env.store.putJson(key, results);
      resultFiles[status].push({ Key: key, Size: Buffer.byteLength(JSON.stringify(results)) });
    }
    const manifestKey = `${folder}manifest.json`;
    await env.store.putJson(manifestKey, {
      DestinationBucket: Bucket,
      MapRunArn: names.mapRunArn,
      ResultFiles: resultFiles,
    });
    return { MapRunArn: names.mapRunArn, ResultWriterDetails: { Bucket, Key: manifestKey } };
  } catch (error) {
    throw new StatesError(
      'States.ResultWriterFailed',
      `${env.stateName}: writing results to s3://${Bucket}/${folder} failed: ${(error as Error).message}`,
      catchable,
    );
  }
}

interface MapRunNames {
  readonly mapRunId: string;
  readonly mapRunArn: string;
  /** The ARN of the child executions' state machine; the execution ARN replaces `stateMachine` and adds the name. */
  readonly childMachine: string;
}

function mapRunNames(map: MapFields, env: MapRunEnvironment): MapRunNames {
  const machine =
    (env.context.StateMachine as { Name?: unknown } | undefined)?.Name ??
    (env.context.Execution as { Name?: unknown } | undefined)?.Name ??
    'local';
  const label = map.Label ?? env.stateName;
  const mapRunId = randomUUID();
  return {
    mapRunId,
    mapRunArn: `arn:aws:states:${ARN_REGION_ACCOUNT}:mapRun:${String(machine)}/${label}:${mapRunId}`,
    childMachine: `${String(machine)}/${label}`,
  };
}

/** A child execution as the service describes it in result files (Transformation NONE). */
function executionRecord(run: ItemRun, names: MapRunNames): Record<string, unknown> {
  const name = randomUUID();
  const { outcome } = run;
  return {
    ExecutionArn: `arn:aws:states:${ARN_REGION_ACCOUNT}:execution:${names.childMachine}:${name}`,
    Input: JSON.stringify(run.input ?? null),
    InputDetails: { Included: true },
    Name: name,
    ...(outcome.status === 'SUCCEEDED'
      ? { Output: JSON.stringify(outcome.output ?? null), OutputDetails: { Included: true } }
      : { Error: outcome.error.name, Cause: outcome.error.message }),
    RedriveCount: 0,
    RedriveStatus: outcome.status === 'SUCCEEDED' ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
    StartDate: outcome.startDate,
    StateMachineArn: `arn:aws:states:${ARN_REGION_ACCOUNT}:stateMachine:${names.childMachine}`,
    Status: outcome.status,
    StopDate: outcome.stopDate,
  };
}

function evaluatePath(path: string, input: unknown, context: Readonly<Record<string, unknown>>) {
  return evaluatePayload({ 'value.$': path }, input, context).then((v) => (v as { value: unknown }).value);
}

/**
 * A payload template (`.$` paths, intrinsic functions, `$$` context)
 * evaluated by the interpreter itself, as a Pass state's Parameters, so
 * paths mean exactly what they mean in every other state.
 */
export async function evaluatePayload(
  template: unknown,
  input: unknown,
  context: Readonly<Record<string, unknown>>,
): Promise<unknown> {
  const pass = new StateMachine(
    { StartAt: 'Evaluate', States: { Evaluate: { Type: 'Pass', Parameters: template, End: true } } } as never,
    { validationOptions: { noValidate: true } },
  );
  try {
    return await pass.run(input as never, { context: context as never }).result;
  } catch (error) {
    throw error instanceof ExecutionError ? error.cause : error;
  }
}
