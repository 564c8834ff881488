/**
 * Where a run's staged data lives in the warehouse bucket. Extraction writes
 * these keys and the raw append reads them, so they are defined once.
 */
const RUN_ID = /^[A-Za-z0-9_.:-]{1,80}$/;

export function assertRunId(runId: unknown): string {
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) {
    throw new Error(`runId must be 1-80 characters of A-Z a-z 0-9 _ . : -, got ${JSON.stringify(runId)}`);
  }
  return runId;
}

const pad = (n: number) => String(n).padStart(5, '0');

export const stagingLayout = {
  /** Folder of a collection's staged Parquet files for one run. */
  runDataPrefix: (app: string, collection: string, runId: string) =>
    `staging/${app}/${collection}/run=${runId}/`,
  dataFile: (app: string, collection: string, runId: string, chunk: number, part: number) =>
    `staging/${app}/${collection}/run=${runId}/chunk-${pad(chunk)}-${pad(part)}.parquet`,
  chunkDataPrefix: (app: string, collection: string, runId: string, chunk: number) =>
    `staging/${app}/${collection}/run=${runId}/chunk-${pad(chunk)}-`,
  /** Bookkeeping of a run, apart from the data so readers of the data folder see only Parquet. */
  runPrefix: (app: string, runId: string) => `staging/${app}/_runs/run=${runId}/`,
  plan: (app: string, runId: string) => `staging/${app}/_runs/run=${runId}/plan.json`,
  chunkList: (app: string, runId: string) => `staging/${app}/_runs/run=${runId}/chunks.json`,
  chunkManifest: (app: string, runId: string, collection: string, chunk: number) =>
    `staging/${app}/_runs/run=${runId}/chunks/${collection}-${pad(chunk)}.json`,
  summary: (app: string, runId: string) => `staging/${app}/_runs/run=${runId}/summary.json`,
  /**
   * Every `_id` of a collection as the run listed it (Parquet, one string column `_id` in the raw
   * table's text form), for the raw append's delete reconciliation. Apart from the data folder so
   * the raw append never takes key files for rows.
   */
  keysFile: (app: string, collection: string, runId: string, part: number) =>
    `staging/${app}/_keys/${collection}/run=${runId}/part-${pad(part)}.parquet`,
  keysPrefix: (app: string, collection: string, runId: string) =>
    `staging/${app}/_keys/${collection}/run=${runId}/`,
  /** Written after the key files: its presence means the listing is complete (see KeysManifest). */
  keysManifest: (app: string, runId: string, collection: string) =>
    `staging/${app}/_runs/run=${runId}/keys/${collection}.json`,
  /** What a Glue job (or its local twin) did in a run: RawAppendReport, CurateReport. */
  jobReport: (app: string, runId: string, job: 'raw-append' | 'curate') =>
    `staging/${app}/_runs/run=${runId}/${job}.json`,
};
