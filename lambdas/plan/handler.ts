import { PLAN_ACTION, type PlanAction } from '../../lib/contracts/index.ts';
import { contextFromEnv } from '../shared/context-from-env.ts';
import { logger } from '../shared/logger.ts';
import type { RunRequest } from '../validate/run-request.ts';
import { checkDeletes, type DeleteCheck } from './check-deletes.ts';
import { type PlanResult, planRun } from './plan-run.ts';

/**
 * Step Functions task: `{ runId, request }` (execution name, validated input) → chunk list or
 * ALREADY_RUNNING; with `action: 'check-deletes'`, after the raw append, the key listings the run needs.
 */
export const handler = async (event: {
  runId: string;
  request?: RunRequest;
  action?: PlanAction;
}): Promise<PlanResult | DeleteCheck> => {
  logger.appendKeys({ runId: event.runId });
  const context = contextFromEnv();
  if (event.action === PLAN_ACTION.checkDeletes) return checkDeletes(event, context);
  return planRun(event, context);
};
