import { contextFromEnv } from '../shared/context-from-env.ts';
import { logger } from '../shared/logger.ts';
import type { RunRequest } from '../validate/run-request.ts';
import { type PlanResult, planRun } from './plan-run.ts';

/** Step Functions task: `{ runId, request }` (execution name, validated input) → chunk list or ALREADY_RUNNING. */
export const handler = async (event: { runId: string; request?: RunRequest }): Promise<PlanResult> => {
  logger.appendKeys({ runId: event.runId });
  return planRun(event, contextFromEnv());
};
