import { contextFromEnv } from '../shared/context-from-env.ts';
import { logger } from '../shared/logger.ts';
import { commitRun, type RunSummary } from './commit-run.ts';

/** Step Functions task after the raw append: `{ runId }` → run summary. */
export const handler = async (event: { runId: string }): Promise<RunSummary> => {
  logger.appendKeys({ runId: event.runId });
  return commitRun(event, contextFromEnv());
};
