import { COMMIT_ACTION, type CommitAction } from '../../lib/contracts/index.ts';
import { contextFromEnv } from '../shared/context-from-env.ts';
import { logger } from '../shared/logger.ts';
import type { PipelineContext } from '../shared/pipeline-context.ts';
import { commitRun, type RunSummary } from './commit-run.ts';
import { type ReleaseResult, releaseRun } from './release-run.ts';
import { publishRunMetrics } from './run-metrics.ts';

export interface CommitEvent {
  readonly runId: string;
  readonly action?: CommitAction;
}

/** Commits a run, or (`action: 'release'`, the failure path) gives its lease back; the local runner calls this too. */
export function commitTask(
  event: CommitEvent,
  context: PipelineContext,
): Promise<RunSummary | ReleaseResult> {
  if (event.action === COMMIT_ACTION.release) return releaseRun(event, context);
  return commitRun(event, context);
}

/** Step Functions task after the raw append and curate: `{ runId }` → run summary, published as metrics. */
export const handler = async (event: CommitEvent): Promise<RunSummary | ReleaseResult> => {
  logger.appendKeys({ runId: event.runId });
  const result = await commitTask(event, contextFromEnv());
  if (event.action !== COMMIT_ACTION.release) publishRunMetrics(result as RunSummary);
  return result;
};
