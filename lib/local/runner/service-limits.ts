/**
 * Step Functions' payload quota, enforced where the service enforces it: the
 * execution input, each state's input (after Parameters) and output, and each
 * task's result must each be at most 256 KiB as a UTF-8 JSON string.
 * aws-local-stepfunctions enforces none of it, so a definition that passes
 * locally could fail on AWS with `States.DataLimitExceeded`.
 */
export const PAYLOAD_LIMIT_BYTES = 262_144;

/**
 * The longest state timeout the interpreter can wait for: it sets a Node
 * timer, and Node fires a timer longer than 2^31 - 1 ms after 1 ms instead
 * (so the service default of 99999999 s, as is, would time a task out at
 * once). About 24 days: waiting, for any local run.
 */
export const LONGEST_LOCAL_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * An error the service itself raises (`States.*`). aws-local-stepfunctions
 * reads `isRetryable` and `isCatchable` when it matches Retry and Catch
 * (`States.ALL` included), so a terminal error here fails the execution
 * whatever the state's Catch says, as on AWS.
 */
export class StatesError extends Error {
  readonly isRetryable: boolean;
  readonly isCatchable: boolean;

  constructor(name: string, message: string, handling: { retryable: boolean; catchable: boolean }) {
    super(message);
    this.name = name;
    this.isRetryable = handling.retryable;
    this.isCatchable = handling.catchable;
  }
}

/** The size Step Functions measures: the UTF-8 bytes of the JSON text. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/**
 * `States.DataLimitExceeded` when `value` is over the quota. The service
 * documents it as terminal: `States.ALL` does not catch it, so the execution
 * fails without taking any catch path.
 */
export function payloadLimitError(value: unknown, what: string): StatesError | undefined {
  const bytes = payloadBytes(value);
  if (bytes <= PAYLOAD_LIMIT_BYTES) return undefined;
  return new StatesError(
    'States.DataLimitExceeded',
    `${what} is ${bytes.toLocaleString('en-US')} bytes, over the ${PAYLOAD_LIMIT_BYTES.toLocaleString('en-US')}-byte (256 KiB) payload quota`,
    { retryable: false, catchable: false },
  );
}

export type LocalTaskHandler = (input: unknown) => Promise<unknown>;

/** A task whose effective input (after Parameters) and result are held to the quota. */
export function withPayloadLimits(stateName: string, handler: LocalTaskHandler): LocalTaskHandler {
  return async (input) => {
    const tooLargeInput = payloadLimitError(
      input,
      `the input of ${stateName} (after InputPath and Parameters)`,
    );
    if (tooLargeInput !== undefined) throw tooLargeInput;
    const result = await handler(input);
    const tooLargeResult = payloadLimitError(result, `the result of ${stateName}`);
    if (tooLargeResult !== undefined) throw tooLargeResult;
    return result;
  };
}

/** The part of aws-local-stepfunctions' event logger (one per execution) that sees each state's data. */
export interface StateEventSink {
  dispatchStateEnteredEvent(name: string, type: string, input: unknown): void;
  dispatchStateExitedEvent(name: string, type: string, input: unknown, output: unknown): void;
  dispatchStateFailedEvent(name: string, type: string, input: unknown, error: Error): void;
}

/**
 * Holds every state of one execution to the quota: its input when it is
 * entered (for the first state, the execution input) and its output before
 * it is left (after ResultSelector, ResultPath and OutputPath, a Catch's
 * ResultPath included). The interpreter dispatches these events inside its
 * state loop, so throwing here fails the execution at that state, before the
 * next one runs.
 */
export function holdStatesToPayloadLimit(sink: StateEventSink): void {
  const entered = sink.dispatchStateEnteredEvent.bind(sink);
  const exited = sink.dispatchStateExitedEvent.bind(sink);
  const failed = sink.dispatchStateFailedEvent.bind(sink);
  sink.dispatchStateEnteredEvent = (name, type, input) => {
    entered(name, type, input);
    const error = payloadLimitError(input, `the input of ${name}`);
    if (error === undefined) return;
    failed(name, type, input, error);
    throw error;
  };
  sink.dispatchStateExitedEvent = (name, type, input, output) => {
    const error = payloadLimitError(output, `the output of ${name}`);
    if (error !== undefined) {
      failed(name, type, input, error);
      throw error;
    }
    exited(name, type, input, output);
  };
}
