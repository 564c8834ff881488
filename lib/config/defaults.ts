import type { LedgerlakeConfig } from './schema.ts';

/** Defaults that reproduce the original brief (app `fq_app`, three collections). */
export const DEFAULT_CONFIG: LedgerlakeConfig = {
  app: 'fq_app',
  source: {
    database: 'fq_app',
    secretName: 'ledgerlake/fq_app/mongodb-uri',
  },
  collections: [
    // The chart of accounts is small and edited in place: reload it whole.
    {
      name: 'accounts',
      mode: 'full',
      watermarkField: 'updatedAt',
      chunkDocs: 50_000,
      deletes: 'every-run',
    },
    // Entries are corrected after posting, so `updatedAt` (not `_id`) catches edits too.
    {
      name: 'journal_entries',
      mode: 'incremental',
      watermarkField: 'updatedAt',
      chunkDocs: 50_000,
      deletes: 'every-run',
    },
    // Task statuses change during the close: same reasoning.
    {
      name: 'close_tasks',
      mode: 'incremental',
      watermarkField: 'updatedAt',
      chunkDocs: 50_000,
      deletes: 'every-run',
    },
  ],
  extraction: {
    stagingFileRows: 250_000,
    cursorBatchDocs: 5_000,
    leaseMinutes: 120,
  },
  schedules: {
    ingest: 'rate(1 hour)',
    maintenance: 'cron(0 3 * * ? *)',
    timezone: 'UTC',
  },
  retention: {
    raw: { keepLastSnapshots: 3, maxSnapshotAgeDays: 30 },
    silver: { keepLastSnapshots: 3, maxSnapshotAgeDays: 30 },
    gold: { keepLastSnapshots: 3, maxSnapshotAgeDays: 90 },
    orphanFileMinAgeDays: 3,
  },
  aws: {
    stage: 'dev',
    removalPolicy: 'retain',
    atlasSecret: 'create',
    // Two G.1X workers (2 DPU) handle an hourly delta of a few hundred thousand documents.
    glue: { workerType: 'G.1X', numberOfWorkers: 2, timeoutMinutes: 60 },
    mapMaxConcurrency: 10,
    // The extract function gets a whole vCPU (1,769 MiB); plan and commit wait on I/O.
    functions: { memoryMiB: 1024, extractMemoryMiB: 1769, timeoutSeconds: 900 },
    alarms: { freshnessHours: 3 },
    // Off: most accounts leave the Data Catalog to IAM access control.
    lakeFormation: { enabled: false, analystPrincipals: [] },
    // 10 GiB: about $0.05 per query at $5 per TB; a runaway scan stops there.
    athenaBytesScannedCutoff: 10_737_418_240,
    logRetentionDays: 90,
  },
};
