import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  ChunkProcessor,
  type ChunkProcessorSetup,
  type ProcessedChunk,
  type Upload,
} from './chunk-processor.ts';

/** Messages from the cursor's thread to a worker (chunk-worker.ts). */
export type ToWorker =
  | { readonly type: 'start'; readonly setup: ChunkProcessorSetup }
  | { readonly type: 'batch'; readonly buffer: ArrayBuffer }
  | { readonly type: 'finish' }
  | { readonly type: 'uploaded'; readonly id: number; readonly error?: string };

/** Messages from a worker to the cursor's thread. */
export type ToMain =
  | { readonly type: 'upload'; readonly id: number; readonly path: string; readonly key: string }
  | { readonly type: 'batch-done' }
  | { readonly type: 'done'; readonly result: ProcessedChunk }
  | { readonly type: 'error'; readonly message: string; readonly stack: string };

/** What extractChunk feeds documents to: a ChunkProcessor, here or on a worker thread. */
export interface DocumentSink {
  add(raw: Uint8Array): Promise<void> | undefined;
  finish(): Promise<ProcessedChunk>;
  /** Gives up a chunk that will not be finished (its cursor failed). */
  abort(): void;
}

const WORKER_MODULE = new URL('./chunk-worker.ts', import.meta.url).href;
/**
 * The worker is TypeScript, as the local runner is (run by tsx). Module
 * loaders are registered per thread, so the worker registers tsx's before it
 * imports its module.
 */
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_MODULE)}); });`;

/** A worker idle this long is ended. */
const IDLE_WORKER_MS = 1_000;
/** Chunks smaller than this are processed on the cursor's thread. */
export const THREADED_MIN_DOCUMENTS = 10_000;
/** Documents sent to a worker at once (one copy into a transferred buffer). */
const BATCH_DOCS = 1_000;
/** Batches sent but not yet processed, per chunk: the cursor waits beyond this. */
const BATCHES_IN_FLIGHT = 4;
/**
 * What one busy worker holds at most: its V8 heap, one row group of rows
 * (ParquetStager, 10,000 rows) and BATCHES_IN_FLIGHT batches.
 */
export const WORKER_MEMORY_MIB = 160;

/**
 * Worker threads that do the CPU-bound half of extraction (ChunkProcessor)
 * while the thread that owns the cursors only reads raw BSON: the local
 * runner's chunks use every core instead of sharing one thread with the
 * embedded server. A chunk holds a worker from its first document to its
 * last file, and waits for one before it opens its cursor, so the number of
 * chunks extracting at once, and the memory they hold, is bounded by the
 * pool (threadsFor), whatever the Map's MaxConcurrency. On Lambda each
 * chunk is its own invocation and extracts on its own thread.
 */
export class ExtractionThreads {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private readonly all = new Set<Worker>();
  private closed = false;

  constructor(
    readonly size: number,
    /** Chunks expected to hold fewer documents are processed on the caller's thread. */
    private readonly minDocuments: number = THREADED_MIN_DOCUMENTS,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`extraction threads must be at least 1, got ${size}`);
  }

  /**
   * Where a chunk of `expectedDocuments` goes: a worker thread, once one is
   * free; a small chunk is processed here, since starting a worker (loading
   * its modules) costs more than the chunk.
   */
  async open(setup: ChunkProcessorSetup, upload: Upload, expectedDocuments: number): Promise<DocumentSink> {
    if (expectedDocuments < this.minDocuments) return new ChunkProcessor(setup, upload);
    const worker = await this.acquire();
    return new ThreadSink(worker, setup, upload, (healthy) => this.release(worker, healthy));
  }

  /** Worker threads started and not yet ended. */
  get started(): number {
    return this.all.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((worker) => worker.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }

  private async acquire(): Promise<Worker> {
    if (this.closed) throw new Error('the extraction threads are closed');
    const free = this.idle.pop();
    if (free !== undefined) return free;
    if (this.all.size < this.size) {
      const worker = new Worker(WORKER_BOOTSTRAP, { eval: true });
      this.all.add(worker);
      return worker;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A worker that failed mid-chunk may hold a half-written file: it is replaced, not reused. */
  private release(worker: Worker, healthy: boolean): void {
    if (!healthy) {
      this.all.delete(worker);
      void worker.terminate();
      const next = this.waiting.shift();
      if (next !== undefined) void this.acquire().then(next);
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) {
      next(worker);
      return;
    }
    this.idle.push(worker);
    // Extraction comes in one burst per run: a worker left idle is ended, so its memory is
    // back before the Glue jobs run. The next chunk starts a new one.
    setTimeout(() => {
      const at = this.idle.indexOf(worker);
      if (at < 0) return;
      this.idle.splice(at, 1);
      this.all.delete(worker);
      void worker.terminate();
    }, IDLE_WORKER_MS).unref();
  }
}

/**
 * Threads for a machine: one per core, fewer when `memoryMiB` cannot hold
 * that many busy workers (WORKER_MEMORY_MIB each), at least one.
 */
export function threadsFor(memoryMiB: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.floor(memoryMiB / WORKER_MEMORY_MIB)));
}

class ThreadSink implements DocumentSink {
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private finished: { resolve: (result: ProcessedChunk) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private readonly onMessage: (message: ToMain) => void;
  private readonly onError: (error: Error) => void;

  constructor(
    private readonly worker: Worker,
    setup: ChunkProcessorSetup,
    private readonly upload: Upload,
    private readonly release: (healthy: boolean) => void,
  ) {
    this.onMessage = (message) => this.receive(message);
    this.onError = (error) => this.fail(error, false);
    worker.on('message', this.onMessage);
    worker.on('error', this.onError);
    this.post({ type: 'start', setup });
  }

  add(raw: Uint8Array): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.batch.push(raw);
    this.batchBytes += raw.byteLength;
    if (this.batch.length < BATCH_DOCS) return undefined;
    this.send();
    return this.inFlight < BATCHES_IN_FLIGHT ? undefined : this.waitForRoom();
  }

  async finish(): Promise<ProcessedChunk> {
    if (this.failure !== undefined) throw this.failure;
    if (this.batch.length > 0) this.send();
    const result = new Promise<ProcessedChunk>((resolve, reject) => {
      this.finished = { resolve, reject };
    });
    this.post({ type: 'finish' });
    return result;
  }

  abort(): void {
    if (this.failure !== undefined || this.finished !== undefined) return;
    // The worker may be mid-batch, waiting for an upload nobody will answer now: replace it.
    this.fail(new Error('the chunk was abandoned'), false);
  }

  /** The batch's documents copied into one buffer, which is moved (not copied) to the worker. */
  private send(): void {
    const buffer = new ArrayBuffer(this.batchBytes);
    const bytes = new Uint8Array(buffer);
    let offset = 0;
    for (const doc of this.batch) {
      bytes.set(doc, offset);
      offset += doc.byteLength;
    }
    this.batch = [];
    this.batchBytes = 0;
    this.inFlight++;
    this.worker.postMessage({ type: 'batch', buffer } satisfies ToWorker, [buffer]);
  }

  private waitForRoom(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.drained = () => (this.failure === undefined ? resolve() : reject(this.failure));
    });
  }

  private receive(message: ToMain): void {
    switch (message.type) {
      case 'batch-done': {
        this.inFlight--;
        const drained = this.drained;
        this.drained = undefined;
        drained?.();
        return;
      }
      case 'upload':
        this.upload(message.path, message.key).then(
          () => this.post({ type: 'uploaded', id: message.id }),
          (error: unknown) => this.post({ type: 'uploaded', id: message.id, error: String(error) }),
        );
        return;
      case 'done':
        this.detach(true);
        this.finished?.resolve(message.result);
        return;
      case 'error': {
        const error = new Error(message.message);
        error.stack = message.stack;
        this.fail(error, true);
        return;
      }
    }
  }

  private fail(error: Error, workerAlive: boolean): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.detach(workerAlive);
    const drained = this.drained;
    this.drained = undefined;
    drained?.();
    this.finished?.reject(error);
  }

  private detach(healthy: boolean): void {
    this.worker.off('message', this.onMessage);
    this.worker.off('error', this.onError);
    this.release(healthy);
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}
