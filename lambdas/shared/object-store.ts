import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';

/**
 * The few object operations the pipeline needs on the warehouse. S3 in AWS;
 * the local runner uses a folder with the same semantics.
 */
export interface ObjectStore {
  putJson(key: string, value: unknown): Promise<void>;
  /** Writes only if the key does not exist; returns false if it did. */
  putJsonIfAbsent(key: string, value: unknown): Promise<boolean>;
  getJson<T>(key: string): Promise<T | undefined>;
  uploadFile(localPath: string, key: string): Promise<void>;
  listKeys(prefix: string): Promise<string[]>;
  deleteKeys(keys: readonly string[]): Promise<void>;
}

/** The warehouse bucket through the S3 API; conditional writes use If-None-Match. */
/**
 * Deletes every object under `prefix` except `keep`: parts left by an earlier,
 * larger attempt of the same deterministic file names.
 */
export async function deleteAllBut(
  store: ObjectStore,
  prefix: string,
  keep: readonly { readonly key: string }[],
): Promise<void> {
  const kept = new Set(keep.map((k) => k.key));
  const stale = (await store.listKeys(prefix)).filter((key) => !kept.has(key));
  if (stale.length > 0) await store.deleteKeys(stale);
}

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async putJson(key: string, value: unknown): Promise<void> {
    await this.putJsonObject(key, value, false);
  }

  async putJsonIfAbsent(key: string, value: unknown): Promise<boolean> {
    try {
      await this.putJsonObject(key, value, true);
      return true;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) return false;
      throw error;
    }
  }

  private async putJsonObject(key: string, value: unknown, onlyIfAbsent: boolean): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
        ...(onlyIfAbsent ? { IfNoneMatch: '*' } : {}),
      }),
    );
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    try {
      const result = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = await (result.Body as { transformToString(): Promise<string> }).transformToString();
      return JSON.parse(text) as T;
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async uploadFile(localPath: string, key: string): Promise<void> {
    const { size } = await stat(localPath);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: createReadStream(localPath),
        ContentLength: size,
        ContentType: 'application/vnd.apache.parquet',
      }),
    );
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) if (item.Key !== undefined) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
  }
}
