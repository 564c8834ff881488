import { assertRunId, stagingLayout } from '../../lib/contracts/index.ts';
import type { CurateReport, RawAppendCollectionReport, RawAppendReport } from '../shared/job-reports.ts';
import { logger } from '../shared/logger.ts';
import {
  type ChunkManifest,
  type ChunkSpec,
  type CollectionPlan,
  type IrregularWatermarks,
  type PipelineContext,
  plannedDocuments,
  type ReloadFingerprint,
  type RunPlan,
} from '../shared/pipeline-context.ts';
import { RunSuperseded, releaseOwnLease } from '../shared/run-state.ts';

export interface CollectionSummary extends IrregularWatermarks {
  readonly collection: string;
  readonly mode: 'incremental' | 'full' | 'backfill';
  readonly chunks: number;
  /** What the plan counted independently of extraction: the range, plus the irregular watermarks. */
  readonly expectedDocuments: number;
  readonly documentsRead: number;
  readonly rowsStaged: number;
  /** Documents of an unchanged full reload: read, and already in raw exactly as read, so not staged again. */
  readonly unchangedDocuments: number;
  readonly quarantined: number;
  readonly quarantineReasons: Readonly<Record<string, number>>;
  /** Fields found in documents but not declared in the table model (schema drift). */
  readonly undeclaredFields: readonly string[];
  /** Tombstones the raw append wrote: documents gone from the source. 0 when deletes were not listed. */
  readonly deletes: number;
  /** Whether the run listed the collection's keys (delete detection ran). */
  readonly keysListed: boolean;
  /**
   * The source's document count equalled raw's live keys plus the documents read (at the plan), or
   * raw's live keys after the raw append (CheckDeletes): no listing was needed.
   */
  readonly documentsCountedLikeRaw: boolean;
  /** Source keys the listing had but raw has no row for: documents extraction never read. */
  readonly sourceKeysNotInRaw: number;
  readonly files: number;
  readonly bytes: number;
  /** Sum of chunk extraction times (chunks run in parallel, so this is work, not wall time). */
  readonly seconds: number;
  readonly watermark: {
    readonly from: string | null;
    readonly to: string | null;
    readonly advanced: boolean;
  };
  /**
   * The documents read are what the plan counted, every one became exactly one staged row (or is
   * in raw already, unchanged), and every listed source key has a raw row.
   */
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
    readonly deletes: number;
    readonly bytes: number;
  };
  /** Every collection reconciled. */
  readonly reconciled: boolean;
  /** Open data-quality issues per code after the run (from the curate job's report; empty without one). */
  readonly dataQuality: Readonly<Record<string, number>>;
}

const MANIFEST_READ_CONCURRENCY = 16;

/**
 * Ends a run after its rows are in raw and curated: moves each watermark to
 * the run's upper bound (conditional on it still being where the plan found
 * it), records the run as the last committed, writes the run summary and
 * releases the lease. Committing a committed run returns its summary; a run
 * superseded by a later plan is refused before anything moves.
 */
export async function commitRun(
  input: { readonly runId: unknown },
  context: PipelineContext,
): Promise<RunSummary> {
  const runId = assertRunId(input.runId);
  const app = context.config.app;
  const committed = await context.store.getJson<RunSummary>(stagingLayout.summary(app, runId));
  if (committed !== undefined) {
    await releaseOwnLease(context.runState, runId);
    return committed;
  }
  const plan = await context.store.getJson<RunPlan>(stagingLayout.plan(app, runId));
  if (plan === undefined)
    throw new Error(`run ${runId} has no plan at ${stagingLayout.plan(app, runId)}; nothing to commit`);
  const latest = await context.runState.readLastPlannedRun();
  if (latest !== null && latest.runId !== runId) throw new RunSuperseded(runId, latest);
  const chunks = (await context.store.getJson<ChunkSpec[]>(stagingLayout.chunkList(app, runId))) ?? [];
  const manifests = await readManifests(
    context,
    runId,
    chunks.filter((c) => c.kind !== 'keys'),
  );
  const rawAppend = await context.store.getJson<RawAppendReport>(
    stagingLayout.jobReport(app, runId, 'raw-append'),
  );
  const curate = await context.store.getJson<CurateReport>(stagingLayout.jobReport(app, runId, 'curate'));

  const collections: CollectionSummary[] = [];
  for (const planned of plan.collections) {
    if (planned.advancesWatermark && planned.high !== null) {
      await context.runState.advanceWatermark(planned.collection, {
        from: planned.previousWatermark,
        to: planned.high,
        runId,
      });
      await context.faultPoint?.(`commit:after-watermark:${planned.collection}`);
    }
    collections.push(
      collectionSummary(
        planned,
        manifests.filter((m) => m.collection === planned.collection),
        rawAppend?.collections[planned.collection],
      ),
    );
  }
  await recordReloads(context, runId, chunks, manifests, rawAppend);
  await context.runState.recordCommittedRun({ runId, ingestTs: plan.plannedAt });

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
      deletes: sum(collections, (c) => c.deletes),
      bytes: sum(collections, (c) => c.bytes),
    },
    reconciled: collections.every((c) => c.reconciled),
    dataQuality: curate?.dataQuality ?? {},
  };
  // Written before the lease is given back: a summary means the run is committed (Plan answers ALREADY_COMMITTED).
  await context.store.putJson(stagingLayout.summary(app, runId), summary);
  await context.runState.releaseLease(runId);
  for (const c of collections) {
    if (c.undeclaredFields.length > 0) {
      logger.warn('schema drift: fields not in the table model', {
        runId,
        collection: c.collection,
        fields: c.undeclaredFields,
      });
    }
    if (!c.reconciled) {
      logger.warn('collection did not reconcile', {
        runId,
        collection: c.collection,
        expectedDocuments: c.expectedDocuments,
        documentsRead: c.documentsRead,
        rowsStaged: c.rowsStaged,
        sourceKeysNotInRaw: c.sourceKeysNotInRaw,
      });
    }
  }
  logger.info('run committed', { runId, ...summary.totals, reconciled: summary.reconciled });
  return summary;
}

function collectionSummary(
  planned: CollectionPlan,
  own: readonly ChunkManifest[],
  appended: RawAppendCollectionReport | undefined,
): CollectionSummary {
  const reasons: Record<string, number> = {};
  for (const m of own) {
    for (const [reason, count] of Object.entries(m.quarantineReasons))
      reasons[reason] = (reasons[reason] ?? 0) + count;
  }
  const irregular: IrregularWatermarks = {
    missingWatermarkField: planned.missingWatermarkField ?? 0,
    watermarkFieldType: planned.watermarkFieldType ?? 0,
    futureWatermark: planned.futureWatermark ?? 0,
  };
  const expectedDocuments = plannedDocuments(planned);
  const documentsRead = sum(own, (m) => m.documents);
  const rowsStaged = sum(own, (m) => m.rows);
  const unchangedDocuments = sum(own, (m) => m.unchangedDocuments ?? 0);
  const sourceKeysNotInRaw = appended?.sourceKeysNotInRaw ?? 0;
  return {
    collection: planned.collection,
    mode: planned.mode,
    chunks: own.length,
    expectedDocuments,
    documentsRead,
    rowsStaged,
    unchangedDocuments,
    quarantined: sum(own, (m) => m.quarantined),
    quarantineReasons: reasons,
    undeclaredFields: [...new Set(own.flatMap((m) => m.undeclaredFields))].sort(),
    ...irregular,
    deletes: appended?.deletes ?? 0,
    keysListed: appended?.keysListed ?? false,
    documentsCountedLikeRaw:
      planned.documentsCountedLikeRaw !== undefined ||
      (planned.countAfterAppend !== undefined && appended?.keysListed !== true),
    sourceKeysNotInRaw,
    files: sum(own, (m) => m.files.length),
    bytes: sum(own, (m) => m.bytes),
    seconds: Number(sum(own, (m) => m.seconds).toFixed(3)),
    watermark: {
      from: planned.previousWatermark,
      to: planned.high,
      advanced: planned.advancesWatermark && planned.high !== null,
    },
    reconciled:
      documentsRead === expectedDocuments &&
      rowsStaged + unchangedDocuments === documentsRead &&
      sourceKeysNotInRaw === 0,
  };
}

/**
 * For each full-reload collection the raw append took, what its chunks read
 * (their content hashes): the next reload of the same documents stages
 * nothing (see extractChunk). Written only once raw holds this run's rows.
 */
async function recordReloads(
  context: PipelineContext,
  runId: string,
  chunks: readonly ChunkSpec[],
  manifests: readonly ChunkManifest[],
  rawAppend: RawAppendReport | undefined,
): Promise<void> {
  for (const config of context.config.collections) {
    if (config.mode !== 'full' || rawAppend?.collections[config.name] === undefined) continue;
    const read = chunks
      .filter((c) => c.collection === config.name && c.kind === 'range')
      .map((c) => ({
        chunk: c,
        manifest: manifests.find((m) => m.collection === c.collection && m.index === c.index),
      }));
    if (read.length === 0 || read.some(({ manifest }) => manifest?.contentSha256 === undefined)) continue;
    const fingerprint: ReloadFingerprint = {
      runId,
      chunks: read.map(({ chunk, manifest }) => ({
        lower: chunk.lower,
        upper: chunk.upper,
        contentSha256: manifest?.contentSha256 as string,
      })),
    };
    await context.store.putJson(
      stagingLayout.reloadFingerprint(context.config.app, config.name),
      fingerprint,
    );
  }
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
