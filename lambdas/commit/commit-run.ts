import { logger } from '../shared/logger.ts';
import type { ChunkManifest, ChunkSpec, PipelineContext, RunPlan } from '../shared/pipeline-context.ts';
import { assertRunId, stagingLayout } from '../shared/staging-layout.ts';

export interface CollectionSummary {
  readonly collection: string;
  readonly mode: 'incremental' | 'full' | 'backfill';
  readonly chunks: number;
  readonly expectedDocuments: number;
  readonly documentsRead: number;
  readonly rowsStaged: number;
  readonly quarantined: number;
  readonly quarantineReasons: Readonly<Record<string, number>>;
  /** Fields found in documents but not declared in the table model (schema drift). */
  readonly undeclaredFields: readonly string[];
  readonly missingWatermarkField: number;
  readonly files: number;
  readonly bytes: number;
  /** Sum of chunk extraction times (chunks run in parallel, so this is work, not wall time). */
  readonly seconds: number;
  readonly watermark: {
    readonly from: string | null;
    readonly to: string | null;
    readonly advanced: boolean;
  };
  /** Every document read became exactly one staged row. */
  readonly reconciled: boolean;
}

export interface RunSummary {
  readonly runId: string;
  readonly app: string;
  readonly plannedAt: string;
  readonly committedAt: string;
  readonly collections: readonly CollectionSummary[];
  readonly totals: {
    readonly documentsRead: number;
    readonly rowsStaged: number;
    readonly quarantined: number;
    readonly bytes: number;
  };
}

const MANIFEST_READ_CONCURRENCY = 16;

/**
 * Ends a run after its rows are in raw: moves each watermark to the run's
 * upper bound (conditional on it still being where the plan found it),
 * releases the lease and writes the run summary. Committing the same run
 * again returns the same result.
 */
export async function commitRun(
  input: { readonly runId: unknown },
  context: PipelineContext,
): Promise<RunSummary> {
  const runId = assertRunId(input.runId);
  const app = context.config.app;
  const plan = await context.store.getJson<RunPlan>(stagingLayout.plan(app, runId));
  if (plan === undefined)
    throw new Error(`run ${runId} has no plan at ${stagingLayout.plan(app, runId)}; nothing to commit`);
  const chunks = (await context.store.getJson<ChunkSpec[]>(stagingLayout.chunkList(app, runId))) ?? [];
  const manifests = await readManifests(context, runId, chunks);

  const collections: CollectionSummary[] = [];
  for (const planned of plan.collections) {
    const own = manifests.filter((m) => m.collection === planned.collection);
    if (planned.advancesWatermark && planned.high !== null) {
      await context.runState.advanceWatermark(planned.collection, {
        from: planned.previousWatermark,
        to: planned.high,
        runId,
      });
    }
    const reasons: Record<string, number> = {};
    for (const m of own) {
      for (const [reason, count] of Object.entries(m.quarantineReasons))
        reasons[reason] = (reasons[reason] ?? 0) + count;
    }
    const documentsRead = sum(own, (m) => m.documents);
    const rowsStaged = sum(own, (m) => m.rows);
    collections.push({
      collection: planned.collection,
      mode: planned.mode,
      chunks: own.length,
      expectedDocuments: planned.documents,
      documentsRead,
      rowsStaged,
      quarantined: sum(own, (m) => m.quarantined),
      quarantineReasons: reasons,
      undeclaredFields: [...new Set(own.flatMap((m) => m.undeclaredFields))].sort(),
      missingWatermarkField: planned.missingWatermarkField,
      files: sum(own, (m) => m.files.length),
      bytes: sum(own, (m) => m.bytes),
      seconds: Number(sum(own, (m) => m.seconds).toFixed(3)),
      watermark: {
        from: planned.previousWatermark,
        to: planned.high,
        advanced: planned.advancesWatermark && planned.high !== null,
      },
      reconciled: documentsRead === rowsStaged,
    });
  }
  await context.runState.releaseLease(runId);

  const summary: RunSummary = {
    runId,
    app,
    plannedAt: plan.plannedAt,
    committedAt: (context.now ?? (() => new Date()))().toISOString(),
    collections,
    totals: {
      documentsRead: sum(collections, (c) => c.documentsRead),
      rowsStaged: sum(collections, (c) => c.rowsStaged),
      quarantined: sum(collections, (c) => c.quarantined),
      bytes: sum(collections, (c) => c.bytes),
    },
  };
  await context.store.putJson(stagingLayout.summary(app, runId), summary);
  for (const c of collections) {
    if (c.undeclaredFields.length > 0) {
      logger.warn('schema drift: fields not in the table model', {
        runId,
        collection: c.collection,
        fields: c.undeclaredFields,
      });
    }
  }
  logger.info('run committed', { runId, ...summary.totals });
  return summary;
}

async function readManifests(
  context: PipelineContext,
  runId: string,
  chunks: readonly ChunkSpec[],
): Promise<ChunkManifest[]> {
  const app = context.config.app;
  const out: ChunkManifest[] = new Array(chunks.length);
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const i = next++;
      const chunk = chunks[i] as ChunkSpec;
      const key = stagingLayout.chunkManifest(app, runId, chunk.collection, chunk.index);
      const manifest = await context.store.getJson<ChunkManifest>(key);
      if (manifest === undefined) {
        throw new Error(
          `chunk ${chunk.index} of ${chunk.collection} in run ${runId} has not been extracted (no ${key})`,
        );
      }
      out[i] = manifest;
    }
  };
  await Promise.all(Array.from({ length: Math.min(MANIFEST_READ_CONCURRENCY, chunks.length) }, worker));
  return out;
}

function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((total, item) => total + pick(item), 0);
}
