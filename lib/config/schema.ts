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
export const DELETE_DETECTION = ['every-run', 'never'] as const;
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
  /**
   * `every-run` lists every `_id` each run (a covered scan of the `_id` index)
   * and appends a tombstone to raw for each document gone from the source, so
   * hard deletes leave silver and gold; `never` skips the listing, for
   * collections whose documents are never deleted.
   */
  deletes: z
    .enum(DELETE_DETECTION, `must be one of ${DELETE_DETECTION.map((d) => `'${d}'`).join(', ')}`)
    .default('every-run'),
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

/** Retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const GLUE_WORKER_TYPES = ['G.1X', 'G.2X', 'G.4X', 'G.8X'] as const;

/** Athena refuses a per-query cutoff below 10 MB. */
export const MIN_BYTES_SCANNED_CUTOFF = 10_000_000;

const intBetween = (min: number, max: number) =>
  z
    .number()
    .int(`must be an integer between ${min} and ${max}`)
    .min(min, `must be between ${min} and ${max}`)
    .max(max, `must be between ${min} and ${max}`);

const iamPrincipalArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[A-Za-z0-9+=,.@_/-]{1,512}$/,
    "must be an IAM role or user ARN like 'arn:aws:iam::123456789012:role/analysts'",
  );

const lakeFormationSchema = z
  .strictObject({
    /**
     * Grant the pipeline and the analysts their tables in Lake Formation. Needed
     * where Lake Formation governs the Data Catalog (new databases and tables
     * are not left to IAM access control alone); harmless where it does not.
     */
    enabled: z.boolean('must be true or false'),
    /** IAM roles or users granted SELECT and DESCRIBE on the curated (silver and gold) tables. */
    analystPrincipals: z
      .array(iamPrincipalArn)
      .default([])
      .superRefine((arns, ctx) => {
        arns.forEach((arn, i) => {
          if (arns.indexOf(arn) !== i)
            ctx.addIssue({ code: 'custom', path: [i], message: 'is listed twice', input: arn });
        });
      }),
  })
  .superRefine((lakeFormation, ctx) => {
    if (!lakeFormation.enabled && lakeFormation.analystPrincipals.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['analystPrincipals'],
        message: 'take effect only with enabled: true',
        input: lakeFormation.analystPrincipals,
      });
    }
  });

const awsSchema = z
  .strictObject({
    /** Deployment stage; `cdk deploy -c stage=prod` selects it. */
    stage: z.enum(['dev', 'prod'], "must be 'dev' or 'prod'"),
    /**
     * What happens to stateful resources (key, buckets, tables, databases,
     * secret) when their stack is deleted. `destroy` is allowed only for dev.
     */
    removalPolicy: z.enum(['retain', 'destroy'], "must be 'retain' or 'destroy'"),
    /** `create` makes an empty secret named `source.secretName` to fill in; `import` uses an existing one. */
    atlasSecret: z.enum(['create', 'import'], "must be 'create' or 'import'"),
    glue: z.strictObject({
      workerType: z.enum(GLUE_WORKER_TYPES, `must be one of ${GLUE_WORKER_TYPES.join(', ')}`),
      /** Glue 4.0 needs at least 2 workers (one driver, one executor). */
      numberOfWorkers: intBetween(2, 299),
      timeoutMinutes: intBetween(5, 2880),
    }),
    /** Parallel extraction Lambdas per run (Map MaxConcurrency); MongoDB sees this many cursors. */
    mapMaxConcurrency: intBetween(1, 1000),
    functions: z.strictObject({
      memoryMiB: intBetween(256, 10240),
      /**
       * The extract function's memory. Lambda gives a function CPU in
       * proportion to its memory, a whole vCPU from 1,769 MiB: extraction
       * (decoding, mapping, Parquet encoding) is CPU-bound, so less makes it
       * slower without making it cheaper.
       */
      extractMemoryMiB: intBetween(256, 10240),
      timeoutSeconds: intBetween(30, 900),
    }),
    /**
     * Optional VPC placement of the functions, for Atlas IP allow-lists: the
     * subnets must be private with a NAT gateway whose address Atlas allows.
     */
    network: z
      .strictObject({
        vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, "must be a VPC id like 'vpc-0123456789abcdef0'"),
        subnetIds: z
          .array(
            z
              .string()
              .regex(/^subnet-[0-9a-f]{8,17}$/, "must be a subnet id like 'subnet-0123456789abcdef0'"),
          )
          .min(1, 'must list at least one private subnet'),
      })
      .optional(),
    alarms: z.strictObject({
      /** Address subscribed to the alarm topic; confirm the subscription mail after deploying. */
      email: z.email('must be an email address').optional(),
      /** Data is stale when no run has committed for this many hours. */
      freshnessHours: intBetween(1, 168),
    }),
    /** Lake Formation grants for the Glue jobs' role and the analysts. */
    lakeFormation: lakeFormationSchema,
    /** Athena stops (and bills up to) a query after it scans this many bytes. */
    athenaBytesScannedCutoff: z
      .number()
      .int('must be an integer number of bytes')
      .min(MIN_BYTES_SCANNED_CUTOFF, `must be at least ${MIN_BYTES_SCANNED_CUTOFF} (Athena's minimum)`),
    logRetentionDays: z.number().refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    }),
  })
  .superRefine((aws, ctx) => {
    if (aws.removalPolicy === 'destroy' && aws.stage !== 'dev') {
      ctx.addIssue({
        code: 'custom',
        path: ['removalPolicy'],
        message: `may be 'destroy' only when stage is 'dev' (stage is '${aws.stage}')`,
        input: aws.removalPolicy,
      });
    }
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
  /** How the pipeline is deployed on AWS (read by the CDK app only). */
  aws: awsSchema,
});

export type LedgerlakeConfig = z.infer<typeof configSchema>;
export type CollectionConfig = LedgerlakeConfig['collections'][number];
export type RetentionConfig = z.infer<typeof retentionSchema>;
export type AwsConfig = LedgerlakeConfig['aws'];
