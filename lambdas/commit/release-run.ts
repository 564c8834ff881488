import { logger } from '../shared/logger.ts';
import type { PipelineContext } from '../shared/pipeline-context.ts';
import { runStateErrors } from '../shared/run-state.ts';
import { assertRunId } from '../shared/staging-layout.ts';

export interface ReleaseResult {
  readonly runId: string;
  /** False when another run holds the lease (this run never took it, or lost it after it expired). */
  readonly released: boolean;
}

/**
 * The state machine's failure path: gives the lease back so the next
 * scheduled run is not blocked until the lease expires. The watermark does
 * not move, so the failed run can still be redriven.
 */
export async function releaseRun(
  input: { readonly runId: unknown },
  context: Pick<PipelineContext, 'runState'>,
): Promise<ReleaseResult> {
  const runId = assertRunId(input.runId);
  try {
    await context.runState.releaseLease(runId);
  } catch (error) {
    if ((error as Error).message !== runStateErrors.leaseHeldByOther(runId)) throw error;
    logger.warn('lease is held by another run; leaving it', { runId });
    return { runId, released: false };
  }
  logger.info('lease released after a failed run', { runId });
  return { runId, released: true };
}
