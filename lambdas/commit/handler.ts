import { contextFromEnv } from '../shared/context-from-env.ts';
import { logger } from '../shared/logger.ts';
import { commitRun, type RunSummary } from './commit-run.ts';
import { type ReleaseResult, releaseRun } from './release-run.ts';

/**
 * Step Functions task after the raw append: `{ runId }` → run summary.
 * The failure path calls it with `{ runId, action: 'release' }` to give the lease back.
 */
export const handler = async (event: {
  runId: string;
  action?: 'commit' | 'release';
}): Promise<RunSummary | ReleaseResult> => {
  logger.appendKeys({ runId: event.runId });
  if (event.action === 'release') return releaseRun(event, contextFromEnv());
  return commitRun(event, contextFromEnv());
};
