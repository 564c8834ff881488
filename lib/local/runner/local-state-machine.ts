import './node22-polyfills.ts';
import { ExecutionError, type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition, AslState } from '../../stacks/ingest-definition.ts';
import {
  assertRunnableMap,
  type ItemOutcome,
  MAP_ONLY_FIELDS,
  type MapObjectStore,
  runMapState,
} from './map-state.ts';
import {
  holdStatesToPayloadLimit,
  LONGEST_LOCAL_TIMEOUT_SECONDS,
  type LocalTaskHandler,
  type StateEventSink,
  withPayloadLimits,
} from './service-limits.ts';

/** The resource a Map state becomes locally; the runner's task override runs it (runMapState). */
export const LOCAL_MAP_RESOURCE = 'arn:aws:states:::ledgerlake:local-map';

type Execution = ReturnType<StateMachine['run']>;
type ExecutionEvent = Execution['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** What the interpreter's private `execute(input, options, cleanup)` receives, as far as this file uses it. */
interface ExecuteOptions {
  runOptions?: RunOptions;
  readonly eventLogger: StateEventSink & {
    forwardNestedMapEvent(event: ExecutionEvent, index: number, mapState: string, mapInput: unknown): void;
  };
}
type Execute = (input: unknown, options: ExecuteOptions, cleanup: () => void) => Promise<unknown>;

export interface LocalStateMachineServices {
  /** Where distributed Maps read items (ItemReader) and write results (ResultWriter): the local warehouse. */
  readonly store: MapObjectStore;
}

export interface LocalStateMachineOptions {
  /** Check the definition with the interpreter's ASL validator. @default true */
  readonly validate?: boolean;
  /**
   * The state executions start at, e.g. the failed state a redrive restarts
   * at; the definition is still validated as written (from its StartAt).
   * @default - the definition's StartAt
   */
  readonly startAt?: string;
}

/**
 * aws-local-stepfunctions with the service's rules it lacks: every payload is
 * held to the 256 KiB quota (service-limits.ts), and every Map state, inline
 * or distributed, runs as Step Functions runs it (map-state.ts): ItemReader,
 * ResultWriter, MaxConcurrency, tolerated failures, and its gathered result
 * counted against the quota. Each Map becomes a Task whose local handler runs
 * the ItemProcessor, one nested execution per item with the same task
 * handlers; the Map's InputPath, ResultSelector, ResultPath, OutputPath,
 * Retry, Catch and Next/End stay on that Task, so the interpreter applies
 * them as before.
 */
export class LocalStateMachine {
  private readonly machine: StateMachine;
  private readonly maps = new Map<string, { state: AslState; processor: LocalStateMachine }>();

  constructor(
    definition: AslDefinition,
    private readonly services: LocalStateMachineServices,
    options: LocalStateMachineOptions = {},
  ) {
    // The definition as written is checked by the interpreter's own validator; the rewritten one is not ASL.
    if (options.validate !== false) new StateMachine(definition as never);
    const states: Record<string, AslState> = {};
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Map') {
        states[name] = state;
        continue;
      }
      assertRunnableMap(name, state);
      const processor = new LocalStateMachine(processorOf(name, state), services, { validate: false });
      this.maps.set(name, { state, processor });
      states[name] = asLocalTask(state);
    }
    const startAt = options.startAt ?? definition.StartAt;
    if (definition.States[startAt] === undefined) throw new Error(`no state ${startAt} to start at`);
    this.machine = new StateMachine({ ...definition, StartAt: startAt, States: states } as never, {
      validationOptions: { noValidate: true },
    });
    this.interceptExecute();
  }

  /** Runs an execution, as StateMachine#run; each task handler is held to the payload quota. */
  run(input: unknown, options: RunOptions = {}): Execution {
    const handlers = options.overrides?.taskResourceLocalHandlers ?? {};
    const limited = Object.fromEntries(
      Object.entries(handlers).map(([state, handler]) => [
        state,
        withPayloadLimits(state, async (taskInput) => handler(taskInput as never)),
      ]),
    );
    return this.machine.run(input as never, {
      ...options,
      overrides: { ...options.overrides, taskResourceLocalHandlers: limited as never },
    });
  }

  /**
   * Runs the ItemProcessor on one item with the parent's run options (its
   * handlers already limited, its abort signal), passing each event on.
   */
  private async runItem(
    input: unknown,
    runOptions: RunOptions,
    forward: (event: ExecutionEvent) => void,
  ): Promise<ItemOutcome> {
    const startDate = new Date().toISOString();
    const execution = this.machine.run(input as never, runOptions);
    const forwarding = (async () => {
      for await (const event of execution.eventLogs) forward(event);
    })();
    try {
      const output = await execution.result;
      return { status: 'SUCCEEDED', output, startDate, stopDate: new Date().toISOString() };
    } catch (error) {
      const cause = error instanceof ExecutionError ? error.cause : error;
      return { status: 'FAILED', error: cause as Error, startDate, stopDate: new Date().toISOString() };
    } finally {
      await forwarding;
    }
  }

  /**
   * The interpreter creates each execution's event logger inside its private
   * `execute`; wrapping that method, per instance, is the one way to see
   * every state's input and output while the state loop runs, and to give
   * this execution's Map handlers its logger for their children's events.
   */
  private interceptExecute(): void {
    const internals = this.machine as unknown as { execute?: Execute };
    const execute = internals.execute;
    if (typeof execute !== 'function') {
      throw new Error(
        'aws-local-stepfunctions no longer has StateMachine#execute(input, options, cleanup), which the local runner wraps to enforce the service limits',
      );
    }
    internals.execute = (input, options, cleanup) => {
      holdStatesToPayloadLimit(options.eventLogger);
      const runOptions = options.runOptions ?? {};
      const overrides = runOptions.overrides ?? {};
      options.runOptions = {
        ...runOptions,
        overrides: {
          ...overrides,
          taskResourceLocalHandlers: {
            ...overrides.taskResourceLocalHandlers,
            ...(this.mapHandlers(options, runOptions) as NonNullable<
              typeof overrides.taskResourceLocalHandlers
            >),
          },
        },
      };
      return execute.call(this.machine, input, options, cleanup);
    };
  }

  private mapHandlers(options: ExecuteOptions, runOptions: RunOptions): Record<string, LocalTaskHandler> {
    return Object.fromEntries(
      [...this.maps].map(([name, { state, processor }]) => [
        name,
        withPayloadLimits(name, (input) =>
          runMapState(state, input, {
            stateName: name,
            store: this.services.store,
            context: (runOptions.context ?? {}) as Record<string, unknown>,
            runItem: (itemInput, index) =>
              processor.runItem(itemInput, runOptions, (event) =>
                options.eventLogger.forwardNestedMapEvent(event, index, name, input),
              ),
          }),
        ),
      ]),
    );
  }
}

/** The Map as a Task: what the interpreter still applies around the local handler. */
function asLocalTask(state: AslState): AslState {
  const task: Record<string, unknown> = { ...state };
  for (const field of MAP_ONLY_FIELDS) delete task[field];
  // A Map state has no timeout; the interpreter's Task would otherwise give up after 60 s.
  return {
    ...task,
    Type: 'Task',
    Resource: LOCAL_MAP_RESOURCE,
    TimeoutSeconds: LONGEST_LOCAL_TIMEOUT_SECONDS,
  };
}

function processorOf(name: string, state: AslState): AslDefinition {
  const processor = (state.ItemProcessor ?? state.Iterator) as
    | (AslDefinition & { ProcessorConfig?: unknown })
    | undefined;
  if (processor === undefined) throw new Error(`Map state ${name} has no ItemProcessor`);
  const { ProcessorConfig: _config, ...definition } = processor;
  return definition as AslDefinition;
}
