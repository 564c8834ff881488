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

export interface Watermark {
  /** Encoded range-key bound (see range-key.ts); null before the first run. */
  readonly bound: string | null;
  readonly runId: string | null;
}

/** The pipeline's run lease and per-collection watermarks. */
export interface RunStateStore {
  /** Takes the lease unless another run holds an unexpired one; the same run may take it again (redrive). */
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
}

export interface WatermarkMove {
  readonly from: string | null;
  readonly to: string;
  readonly runId: string;
}

/** Messages shared by every implementation, so callers see the same errors locally and on AWS. */
export const runStateErrors = {
  leaseHeldByOther: (runId: string) => `run ${runId} cannot release the lease: another run holds it`,
  watermarkMoved: (collection: string, runId: string) =>
    `watermark of ${collection} moved since run ${runId} was planned; refusing to overwrite it`,
};

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

  private leaseKey(): string {
    return `lease#${this.app}`;
  }

  private watermarkKey(collection: string): string {
    return `watermark#${this.app}#${collection}`;
  }
}
