import type { Batch } from './raw-bson.ts';

/** A query's result as a cursor hands it out; a `Buffer[]` is one. */
export interface DocumentList {
  readonly length: number;
  slice(start: number, end: number): Batch;
}

/** Open cursors: the remaining documents of a result, handed out batch by batch by getMore. */
export class CursorRegistry {
  private readonly open = new Map<bigint, { ns: string; docs: DocumentList; position: number }>();
  private nextId = 1n;

  /** Returns the first batch and the cursor id (0 when the result is exhausted). */
  start(ns: string, docs: DocumentList, batchSize: number | undefined): { id: bigint; batch: Batch } {
    const size = batchSize === undefined || batchSize <= 0 ? 101 : batchSize;
    const batch = docs.slice(0, size);
    if (docs.length <= size) return { id: 0n, batch };
    const id = this.nextId++;
    this.open.set(id, { ns, docs, position: size });
    return { id, batch };
  }

  next(id: bigint, batchSize: number | undefined): { ns: string; id: bigint; batch: Batch } | undefined {
    const cursor = this.open.get(id);
    if (cursor === undefined) return undefined;
    const size = batchSize === undefined || batchSize <= 0 ? cursor.docs.length : batchSize;
    const batch = cursor.docs.slice(cursor.position, cursor.position + size);
    cursor.position += batch.length;
    if (cursor.position >= cursor.docs.length) {
      this.open.delete(id);
      return { ns: cursor.ns, id: 0n, batch };
    }
    return { ns: cursor.ns, id, batch };
  }

  kill(ids: readonly bigint[]): { killed: bigint[]; notFound: bigint[] } {
    const killed = ids.filter((id) => this.open.delete(id));
    return { killed, notFound: ids.filter((id) => !killed.includes(id)) };
  }
}
