import { contextFromEnv } from '../shared/context-from-env.ts';
import { logger } from '../shared/logger.ts';
import { type PlanResult, planRun } from './plan-run.ts';

/** Step Functions task: `{ runId }` (the execution name) → chunk list or ALREADY_RUNNING. */
export const handler = async (event: { runId: string }): Promise<PlanResult> => {
  logger.appendKeys({ runId: event.runId });
  return planRun(event, contextFromEnv());
};
