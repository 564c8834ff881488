import { z } from 'zod';

/**
 * The configuration schema. Every constraint carries a message that says what
 * is allowed; `validateConfig` adds the field path and the value received.
 */

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be 1-63 characters of a-z, 0-9 and _, starting with a letter');

const mongoFieldName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a top-level field name (letters, digits, _; no dots or $)');

const scheduleExpression = z
  .string()
  .regex(
    /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/,
    "must be an EventBridge Scheduler expression like 'rate(1 hour)' or 'cron(0 3 * * ? *)'",
  );

export const MIN_CHUNK_DOCS = 100;
export const MAX_CHUNK_DOCS = 1_000_000;

const collectionSchema = z.strictObject({
  /** MongoDB collection name; also the raw table name. */
  name: identifier,
  /**
   * `incremental` reads `(watermark, high]` each run; `full` re-reads the
   * whole collection every run (small reference data such as the chart of accounts).
   */
  mode: z.enum(['incremental', 'full'], "must be 'incremental' or 'full'"),
  /**
   * Field whose order defines the extraction range. `_id` alone, or a
   * timestamp such as `updatedAt`, in which case `_id` breaks ties.
   */
  watermarkField: mongoFieldName,
  /** Documents per extraction chunk (one Lambda invocation each). */
  chunkDocs: z
    .number()
    .int(`must be an integer between ${MIN_CHUNK_DOCS} and ${MAX_CHUNK_DOCS}`)
    .min(MIN_CHUNK_DOCS, `must be between ${MIN_CHUNK_DOCS} and ${MAX_CHUNK_DOCS}`)
    .max(MAX_CHUNK_DOCS, `must be between ${MIN_CHUNK_DOCS} and ${MAX_CHUNK_DOCS}`),
});

const retentionSchema = z.strictObject({
  /** Snapshots always kept, however old. */
  keepLastSnapshots: z
    .number()
    .int('must be an integer from 1 to 100')
    .min(1, 'must be from 1 to 100')
    .max(100, 'must be from 1 to 100'),
  /** Older snapshots beyond `keepLastSnapshots` are expired after this many days. */
  maxSnapshotAgeDays: z
    .number()
    .int('must be an integer from 1 to 3650')
    .min(1, 'must be from 1 to 3650')
    .max(3650, 'must be from 1 to 3650'),
});

export const configSchema = z.strictObject({
  /** Pipeline name: namespaces the warehouse prefix, Glue databases and resource names. */
  app: identifier,
  source: z.strictObject({
    /** MongoDB database to extract from. */
    database: z
      .string()
      .regex(
        /^[^/\\. "$]{1,63}$/,
        'must be a MongoDB database name (1-63 chars, none of / \\ . " $ or space)',
      ),
    /** Secrets Manager secret whose SecretString is the Atlas connection URI. */
    secretName: z
      .string()
      .regex(
        /^[A-Za-z0-9/_+=.@-]{1,512}$/,
        'must be a Secrets Manager secret name (1-512 of A-Z a-z 0-9 /_+=.@-)',
      ),
  }),
  collections: z
    .array(collectionSchema)
    .min(1, 'must list at least one collection')
    .superRefine((collections, ctx) => {
      const seen = new Set<string>();
      collections.forEach((c, i) => {
        if (seen.has(c.name)) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: 'must be unique among collections',
            input: c.name,
          });
        }
        seen.add(c.name);
      });
    }),
  extraction: z.strictObject({
    /** Rows per staged Parquet file; a chunk larger than this writes several files. */
    stagingFileRows: z
      .number()
      .int('must be an integer')
      .min(1000, 'must be between 1000 and 5000000')
      .max(5_000_000, 'must be between 1000 and 5000000'),
    /** Documents per driver batch (getMore size). */
    cursorBatchDocs: z
      .number()
      .int('must be an integer')
      .min(100, 'must be between 100 and 100000')
      .max(100_000, 'must be between 100 and 100000'),
    /** Minutes after which an abandoned run lease may be taken over. */
    leaseMinutes: z
      .number()
      .int('must be an integer')
      .min(5, 'must be between 5 and 1440')
      .max(1440, 'must be between 5 and 1440'),
  }),
  schedules: z.strictObject({
    ingest: scheduleExpression,
    maintenance: scheduleExpression,
    timezone: z
      .string()
      .regex(/^[A-Za-z_]+(\/[A-Za-z_+-]+)*$/, "must be an IANA time zone such as 'UTC' or 'Europe/London'"),
  }),
  retention: z.strictObject({
    raw: retentionSchema,
    silver: retentionSchema,
    gold: retentionSchema,
    /** Files not referenced by any snapshot are deleted once older than this. */
    orphanFileMinAgeDays: z
      .number()
      .int('must be an integer')
      .min(1, 'must be between 1 and 365')
      .max(365, 'must be between 1 and 365'),
  }),
});

export type LedgerlakeConfig = z.infer<typeof configSchema>;
export type CollectionConfig = LedgerlakeConfig['collections'][number];
export type RetentionConfig = z.infer<typeof retentionSchema>;
