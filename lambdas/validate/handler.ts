import { type LedgerlakeConfig, validateConfig } from '../../lib/config/index.ts';
import { assertRunId, ENV } from '../../lib/contracts/index.ts';
import { requireEnv } from '../shared/env.ts';
import { parseRunRequest, type RunRequest } from './run-request.ts';

export interface ValidatedRun {
  /** The execution name, or the run it resumes (`input.resume`). */
  readonly runId: string;
  readonly request: RunRequest;
}

/** `{ input, runId }` → the validated request; the local runner calls this too. */
export function validateRun(
  event: { input: unknown; runId: unknown },
  config: LedgerlakeConfig,
): ValidatedRun {
  const executionName = assertRunId(event.runId);
  const request = parseRunRequest(event.input, config);
  return { runId: request.resume ?? executionName, request };
}

/**
 * First state of the ingest state machine. Needs only the configuration, so
 * it opens no connection.
 */
export const handler = async (event: { input: unknown; runId: string }): Promise<ValidatedRun> =>
  validateRun(event, validateConfig(JSON.parse(requireEnv(ENV.config))));
