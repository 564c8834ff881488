import { assertRunId } from '../../lib/contracts/index.ts';
import { logger } from '../shared/logger.ts';
import type { PipelineContext } from '../shared/pipeline-context.ts';
import { releaseOwnLease } from '../shared/run-state.ts';

export interface ReleaseResult {
  readonly runId: string;
  /** False when another run holds the lease (this run never took it, or lost it after it expired). */
  readonly released: boolean;
}

/**
 * The state machine's failure path: gives the lease back so the next
 * scheduled run is not blocked until the lease expires. The watermark does
 * not move, so the next run reads everything the failed one would have (and
 * the failed run can be resumed, `{"resume": runId}`, until a later run is planned).
 */
export async function releaseRun(
  input: { readonly runId: unknown },
  context: Pick<PipelineContext, 'runState'>,
): Promise<ReleaseResult> {
  const runId = assertRunId(input.runId);
  if (!(await releaseOwnLease(context.runState, runId))) {
    logger.warn('lease is held by another run; leaving it', { runId });
    return { runId, released: false };
  }
  logger.info('lease released after a failed run', { runId });
  return { runId, released: true };
}
