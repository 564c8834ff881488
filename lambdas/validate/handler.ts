import { validateConfig } from '../../lib/config/index.ts';
import { ENV } from '../shared/context-from-env.ts';
import { requireEnv } from '../shared/env.ts';
import { assertRunId } from '../shared/staging-layout.ts';
import { parseRunRequest, type RunRequest } from './run-request.ts';

/**
 * First state of the ingest state machine: `{ input, runId }` → the validated
 * request. Needs only the configuration, so it opens no connection.
 */
export const handler = async (event: {
  input: unknown;
  runId: string;
}): Promise<{ runId: string; request: RunRequest }> => {
  const config = validateConfig(JSON.parse(requireEnv(ENV.config)));
  return { runId: assertRunId(event.runId), request: parseRunRequest(event.input, config) };
};
