/**
 * The ingest state machine's names, as its definition (lib/constructs/
 * ingest-state-machine.ts) writes them and the local runner, the tests and
 * operators read them: the local runner overrides tasks by state name and
 * reads the execution's output.
 */
export const INGEST_STATES = {
  validate: 'ValidateInput',
  inputRejected: 'InputRejected',
  plan: 'Plan',
  alreadyRunning: 'AlreadyRunning?',
  anotherRunActive: 'AnotherRunHoldsTheLease',
  alreadyCommitted: 'RunAlreadyCommitted',
  waitForLease: 'WaitForLease',
  maintain: 'Maintain',
  releaseAfterMaintenance: 'ReleaseAfterMaintenance',
  maintained: 'Maintained',
  chunksInline: 'ChunksInline?',
  extractInline: 'ExtractChunks',
  extractChunk: 'ExtractChunk',
  extractFromList: 'ExtractChunksFromList',
  extractListedChunk: 'ExtractListedChunk',
  rawAppend: 'RawAppend',
  checkDeletes: 'CheckDeletes',
  listKeysChoice: 'ListKeys?',
  listKeys: 'ListKeys',
  listKeysChunk: 'ListKeysChunk',
  reconcileDeletes: 'ReconcileDeletes',
  curate: 'Curate',
  closePeriodChoice: 'ClosePeriod?',
  closePeriod: 'ClosePeriod',
  commit: 'Commit',
  releaseLease: 'ReleaseLease',
  runFailed: 'RunFailed',
} as const;

/**
 * What Plan (lambdas/plan/plan-run.ts) answers in `status`; the AlreadyRunning?
 * Choice branches on it, and the local runner reports the two that end a run
 * without doing anything.
 */
export const PLAN_STATUS = {
  /** Chunks planned (or a resumed run's plan returned): extract, append, curate, commit. */
  planned: 'PLANNED',
  /** Another execution holds the run lease. */
  alreadyRunning: 'ALREADY_RUNNING',
  /** The lease is taken for the maintenance job (`request.maintenance`). */
  maintenance: 'MAINTENANCE',
  /** The run id committed before: nothing to do. */
  alreadyCommitted: 'ALREADY_COMMITTED',
} as const;

export type PlanStatus = (typeof PLAN_STATUS)[keyof typeof PLAN_STATUS];

/**
 * Where the states keep what later states read: ValidateInput's result is the
 * state (`runId`, `request`: lambdas/validate/handler.ts ValidatedRun), Plan's
 * result goes under `plan` (PlanResult) and Commit's under `summary`.
 */
export const INGEST_PATHS = {
  runId: '$.runId',
  request: '$.request',
  /** `{"maintenance": true}` input: the AlreadyRunning? Choice waits for the lease instead of exiting. */
  requestMaintenance: '$.request.maintenance',
  /** `{"closePeriod": "YYYY-MM"}` input (null otherwise): the ClosePeriod? Choice and the ClosePeriod job read it. */
  requestClosePeriod: '$.request.closePeriod',
  /** `{"reopen": true}` with closePeriod: close a month that is closed already. */
  requestReopen: '$.request.reopen',
  plan: '$.plan',
  /** PLAN_STATUS, read by the AlreadyRunning? Choice. */
  planStatus: '$.plan.status',
  /** Present when the chunk list fits between states: the ChunksInline? Choice and the inline Map read it. */
  planChunks: '$.plan.chunks',
  /** The chunk list in S3 (always written): the distributed Map reads it. */
  planChunksKey: '$.plan.chunksKey',
  /** CheckDeletes' answer (DeleteCheck): the ListKeys? Choice and the ListKeys Map read it. */
  deleteCheck: '$.deleteCheck',
  deleteCheckListKeys: '$.deleteCheck.listKeys',
  deleteCheckChunks: '$.deleteCheck.chunks',
  summary: '$.summary',
} as const;

/** What the Plan function is asked to do (`action`): plan the run, or after its raw append decide which key listings it needs. */
export const PLAN_ACTION = {
  plan: 'plan',
  checkDeletes: 'check-deletes',
} as const;

export type PlanAction = (typeof PLAN_ACTION)[keyof typeof PLAN_ACTION];

/** What the Commit function is asked to do (`action`): commit the run, or give its lease back on the failure path. */
export const COMMIT_ACTION = {
  commit: 'commit',
  release: 'release',
} as const;

export type CommitAction = (typeof COMMIT_ACTION)[keyof typeof COMMIT_ACTION];
