/**
 * Where a run's staged data and bookkeeping live in the warehouse bucket.
 * Plan, Extract and Commit (and the local runner) write and read these keys;
 * the raw append and curate jobs read them (the generated Glue scripts get
 * them as str.format templates, `{run_id}` and `{collection}` in place of the
 * values) and write their reports here; the CDK grants and the state
 * machine's chunk-list reader are scoped to their prefixes.
 */

/** Everything staged, of every pipeline: what the bucket's staging lifecycle rule expires. */
const STAGING_ROOT = 'staging/';

const pad = (n: number) => String(n).padStart(5, '0');
const appPrefix = (app: string) => `${STAGING_ROOT}${app}/`;
const runsPrefix = (app: string) => `${appPrefix(app)}_runs/`;
const runPrefix = (app: string, runId: string) => `${runsPrefix(app)}run=${runId}/`;
const runDataPrefix = (app: string, collection: string, runId: string) =>
  `${appPrefix(app)}${collection}/run=${runId}/`;
const liveKeysPrefix = (app: string) => `${appPrefix(app)}_live-keys/`;
const keysPrefix = (app: string, collection: string, runId: string) =>
  `${appPrefix(app)}_keys/${collection}/run=${runId}/`;

export const stagingLayout = {
  root: STAGING_ROOT,
  /** Everything a pipeline stages: the functions read-write it, the Glue jobs read it. */
  appPrefix,
  /** Bookkeeping of every run, apart from the data so readers of the data folders see only Parquet. */
  runsPrefix,
  /** Folder of a collection's staged Parquet files for one run. */
  runDataPrefix,
  dataFile: (app: string, collection: string, runId: string, chunk: number, part: number) =>
    `${runDataPrefix(app, collection, runId)}chunk-${pad(chunk)}-${pad(part)}.parquet`,
  chunkDataPrefix: (app: string, collection: string, runId: string, chunk: number) =>
    `${runDataPrefix(app, collection, runId)}chunk-${pad(chunk)}-`,
  /** Bookkeeping of one run. */
  runPrefix,
  plan: (app: string, runId: string) => `${runPrefix(app, runId)}plan.json`,
  chunkList: (app: string, runId: string) => `${runPrefix(app, runId)}chunks.json`,
  chunkManifest: (app: string, runId: string, collection: string, chunk: number) =>
    `${runPrefix(app, runId)}chunks/${collection}-${pad(chunk)}.json`,
  summary: (app: string, runId: string) => `${runPrefix(app, runId)}summary.json`,
  /**
   * Every `_id` of a collection as the run listed it (Parquet, one string column `_id` in the raw
   * table's text form), for the raw append's delete reconciliation. Apart from the data folder so
   * the raw append never takes key files for rows.
   */
  keysFile: (app: string, collection: string, runId: string, part: number) =>
    `${keysPrefix(app, collection, runId)}part-${pad(part)}.parquet`,
  keysPrefix,
  /** Written after the key files: its presence means the listing is complete (see KeysManifest). */
  keysManifest: (app: string, runId: string, collection: string) =>
    `${runPrefix(app, runId)}keys/${collection}.json`,
  /**
   * The content of a full-reload collection as the last committed run read it (ReloadFingerprint):
   * a reload that reads the same documents again stages nothing. Kept apart from the runs; the
   * staging expiry may remove it, which only makes the next reload stage everything.
   */
  reloadFingerprint: (app: string, collection: string) => `${appPrefix(app)}_fingerprints/${collection}.json`,
  /**
   * How many documents raw holds live for a collection (LiveKeys), written by the raw append that
   * last changed the table, whether its run committed or not: a run that reads nothing and finds
   * the source's count equal needs no key listing. Kept apart from the runs; the staging expiry may
   * remove it, which only brings the listing back.
   */
  liveKeys: (app: string, collection: string) => `${liveKeysPrefix(app)}${collection}.json`,
  /** Where the raw append keeps LiveKeys: the only staging objects the Glue jobs write or delete. */
  liveKeysPrefix,
  /** What a Glue job (or its local twin) did in a run: RawAppendReport, CurateReport. */
  jobReport: (app: string, runId: string, job: 'raw-append' | 'curate') =>
    `${runPrefix(app, runId)}${job}.json`,
};
