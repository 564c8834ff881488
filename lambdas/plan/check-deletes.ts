import { assertRunId, stagingLayout } from '../../lib/contracts/index.ts';
import type { RawAppendReport } from '../shared/job-reports.ts';
import { logger } from '../shared/logger.ts';
import type { ChunkSpec, LiveKeys, PipelineContext, RunPlan } from '../shared/pipeline-context.ts';
import { rangeKeyFor } from '../shared/range-key.ts';

/** CheckDeletes' answer: the key listings the run still needs (the ListKeys? Choice reads `listKeys`). */
export interface DeleteCheck {
  readonly runId: string;
  readonly listKeys: boolean;
  /** One `keys` chunk per collection whose count differs from raw's; a handful, so always inline. */
  readonly chunks: readonly ChunkSpec[];
}

/**
 * After the raw append: for each collection the plan left to the count
 * (`countAfterAppend`), compares the source's count at the plan time with
 * what raw now holds live (LiveKeys, which the raw append just wrote, or an
 * earlier one left when nothing was staged). Equal, nothing is gone (see
 * deleteDetection in plan-run.ts); different, the collection's keys are
 * listed and the raw append runs again to reconcile them. A collection whose
 * listing the raw append has reconciled already (a resumed run) is not
 * listed again.
 */
export async function checkDeletes(
  input: { readonly runId: unknown },
  context: PipelineContext,
): Promise<DeleteCheck> {
  const runId = assertRunId(input.runId);
  const app = context.config.app;
  const plan = await context.store.getJson<RunPlan>(stagingLayout.plan(app, runId));
  if (plan === undefined) {
    throw new Error(
      `run ${runId} has no plan at ${stagingLayout.plan(app, runId)}; CheckDeletes follows Plan`,
    );
  }
  const reportKey = stagingLayout.jobReport(app, runId, 'raw-append');
  const report = await context.store.getJson<RawAppendReport>(reportKey);
  if (report === undefined) {
    throw new Error(`run ${runId} has no raw append report at ${reportKey}; CheckDeletes follows RawAppend`);
  }
  const chunks: ChunkSpec[] = [];
  for (const planned of plan.collections) {
    const sourceDocuments = planned.countAfterAppend;
    if (sourceDocuments === undefined || report.collections[planned.collection]?.keysListed === true)
      continue;
    const live = await context.store.getJson<LiveKeys>(stagingLayout.liveKeys(app, planned.collection));
    const counted = {
      runId,
      collection: planned.collection,
      sourceDocuments,
      liveKeys: live?.liveKeys ?? null,
    };
    if (live?.liveKeys === sourceDocuments) {
      logger.info('raw holds as many live documents as the source: no key listing', counted);
      continue;
    }
    logger.info('the source count differs from raw: listing keys', counted);
    chunks.push({
      runId,
      collection: planned.collection,
      index: plan.chunkCount + chunks.length,
      kind: 'keys',
      key: rangeKeyFor('_id'),
      lower: null,
      upper: null,
      expectedDocuments: sourceDocuments,
      ingestTs: plan.plannedAt,
    });
  }
  return { runId, listKeys: chunks.length > 0, chunks };
}
