import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

export type LeaseResult =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly heldBy: string; readonly since: string };

/** The run that Plan planned last (resuming an older run is refused). */
export interface PlannedRun {
  readonly runId: string;
  /** ISO 8601; also the run's ingest timestamp. */
  readonly plannedAt: string;
}

/** The run that Commit committed last; the next plan curates raw rows ingested after it. */
export interface CommittedRun {
  readonly runId: string;
  /** The run's ingest timestamp (ISO 8601). */
  readonly ingestTs: string;
}

export interface Watermark {
  /** Encoded range-key bound (see range-key.ts); null before the first run. */
  readonly bound: string | null;
  readonly runId: string | null;
}

/** The pipeline's run lease and per-collection watermarks. */
export interface RunStateStore {
  /** Takes the lease unless another run holds an unexpired one; the same run may take it again (a resume). */
  acquireLease(runId: string, now: Date, leaseMinutes: number): Promise<LeaseResult>;
  /** Releases the lease if this run holds it; releasing twice is harmless. */
  releaseLease(runId: string): Promise<void>;
  readWatermark(collection: string): Promise<Watermark>;
  /**
   * Moves a watermark from `from` (what the plan read) to `to`. Succeeds again
   * when this run already moved it (a retried commit); fails if anyone else
   * moved it in between.
   */
  advanceWatermark(collection: string, move: WatermarkMove): Promise<void>;
  /** Records the run Plan has just planned (under the lease, so plans are recorded in order). */
  recordPlannedRun(run: PlannedRun): Promise<void>;
  /** The last run planned; null before the first. */
  readLastPlannedRun(): Promise<PlannedRun | null>;
  /** Records the run Commit has just committed (after its watermarks moved, under the lease). */
  recordCommittedRun(run: CommittedRun): Promise<void>;
  /** The last run committed; null before the first. */
  readLastCommittedRun(): Promise<CommittedRun | null>;
}

export interface WatermarkMove {
  readonly from: string | null;
  readonly to: string;
  readonly runId: string;
}

/**
 * A resume or replay of a run that a later run has superseded. Named, so the
 * state machine's error (and the local runner) show `RunSuperseded`.
 */
export class RunSuperseded extends Error {
  constructor(
    readonly runId: string,
    readonly supersededBy: PlannedRun,
  ) {
    super(
      `run ${runId} was superseded by run ${supersededBy.runId} (planned ${supersededBy.plannedAt}): ` +
        `everything ${runId} read is read again by the runs after it, so there is nothing to resume: ` +
        'start a new run, or wait for the next scheduled one.',
    );
    this.name = 'RunSuperseded';
  }
}

/** Messages shared by every implementation, so callers see the same errors locally and on AWS. */
export const runStateErrors = {
  leaseHeldByOther: (runId: string) => `run ${runId} cannot release the lease: another run holds it`,
  watermarkMoved: (collection: string, runId: string) =>
    `watermark of ${collection} moved since run ${runId} was planned; refusing to overwrite it`,
};

/**
 * Gives back a lease this run may still hold (a commit that stopped after its
 * summary); a lease another run holds is left alone.
 */
export async function releaseOwnLease(runState: RunStateStore, runId: string): Promise<boolean> {
  try {
    await runState.releaseLease(runId);
    return true;
  } catch (error) {
    if ((error as Error).message !== runStateErrors.leaseHeldByOther(runId)) throw error;
    return false;
  }
}

/**
 * Lease and watermarks in one DynamoDB table keyed by `pk`. Every write is
 * conditional, so two executions can neither run at once nor move a
 * watermark the other did not expect.
 */
export class DynamoRunStateStore implements RunStateStore {
  constructor(
    private readonly dynamo: DynamoDBClient,
    private readonly tableName: string,
    private readonly app: string,
  ) {}

  async acquireLease(runId: string, now: Date, leaseMinutes: number): Promise<LeaseResult> {
    const expiresAt = new Date(now.getTime() + leaseMinutes * 60_000);
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: this.leaseKey() },
            runId: { S: runId },
            since: { S: now.toISOString() },
            expiresAt: { N: String(expiresAt.getTime()) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR runId = :runId OR expiresAt < :now',
          ExpressionAttributeValues: { ':runId': { S: runId }, ':now': { N: String(now.getTime()) } },
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const holder = await this.dynamo.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: this.leaseKey() } },
          ConsistentRead: true,
        }),
      );
      return {
        acquired: false,
        heldBy: holder.Item?.runId?.S ?? 'unknown',
        since: holder.Item?.since?.S ?? 'unknown',
      };
    }
  }

  async releaseLease(runId: string): Promise<void> {
    try {
      await this.dynamo.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: this.leaseKey() } },
          ConditionExpression: 'attribute_not_exists(pk) OR runId = :runId',
          ExpressionAttributeValues: { ':runId': { S: runId } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new Error(runStateErrors.leaseHeldByOther(runId));
      }
      throw error;
    }
  }

  async readWatermark(collection: string): Promise<Watermark> {
    const result = await this.dynamo.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: this.watermarkKey(collection) } },
        ConsistentRead: true,
      }),
    );
    return { bound: result.Item?.bound?.S ?? null, runId: result.Item?.runId?.S ?? null };
  }

  /**
   * Moves a watermark from `from` (what the plan read) to `to`. Succeeds again
   * when this run already moved it (a retried commit); fails if anyone else
   * moved it in between.
   */
  async advanceWatermark(
    collection: string,
    move: { from: string | null; to: string; runId: string },
  ): Promise<void> {
    const values: Record<string, { S: string }> = { ':to': { S: move.to }, ':runId': { S: move.runId } };
    let condition = '(runId = :runId AND bound = :to)';
    if (move.from === null) {
      condition += ' OR attribute_not_exists(pk)';
    } else {
      condition += ' OR bound = :from';
      values[':from'] = { S: move.from };
    }
    try {
      await this.dynamo.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: this.watermarkKey(collection) } },
          UpdateExpression: 'SET bound = :to, runId = :runId, updatedAt = :at',
          ConditionExpression: condition,
          ExpressionAttributeValues: { ...values, ':at': { S: new Date().toISOString() } },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new Error(runStateErrors.watermarkMoved(collection, move.runId));
      }
      throw error;
    }
  }

  async recordPlannedRun(run: PlannedRun): Promise<void> {
    await this.putRun(this.plannedKey(), { runId: run.runId, plannedAt: run.plannedAt });
  }

  async readLastPlannedRun(): Promise<PlannedRun | null> {
    const item = await this.getRun(this.plannedKey());
    const runId = item?.runId?.S;
    const plannedAt = item?.plannedAt?.S;
    return runId === undefined || plannedAt === undefined ? null : { runId, plannedAt };
  }

  async recordCommittedRun(run: CommittedRun): Promise<void> {
    await this.putRun(this.committedKey(), { runId: run.runId, ingestTs: run.ingestTs });
  }

  async readLastCommittedRun(): Promise<CommittedRun | null> {
    const item = await this.getRun(this.committedKey());
    const runId = item?.runId?.S;
    const ingestTs = item?.ingestTs?.S;
    return runId === undefined || ingestTs === undefined ? null : { runId, ingestTs };
  }

  private async putRun(pk: string, fields: Record<string, string>): Promise<void> {
    await this.dynamo.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: pk },
          ...Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, { S: value }])),
        },
      }),
    );
  }

  private async getRun(pk: string) {
    const result = await this.dynamo.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: pk } }, ConsistentRead: true }),
    );
    return result.Item;
  }

  private plannedKey(): string {
    return `planned#${this.app}`;
  }

  private committedKey(): string {
    return `committed#${this.app}`;
  }

  private leaseKey(): string {
    return `lease#${this.app}`;
  }

  private watermarkKey(collection: string): string {
    return `watermark#${this.app}#${collection}`;
  }
}
