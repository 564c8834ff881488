import { parentPort } from 'node:worker_threads';
import { ChunkProcessor, type ChunkProcessorSetup } from './chunk-processor.ts';
import type { ToMain, ToWorker } from './extraction-threads.ts';

/**
 * A worker thread of ExtractionThreads: processes one chunk at a time
 * (ChunkProcessor) from batches of raw BSON documents sent by the thread
 * that reads the cursor, and asks that thread to upload each finished file
 * (the object store lives there).
 */
const port = parentPort;
if (port === null) throw new Error('chunk-worker.ts runs as a worker thread (see ExtractionThreads)');

const post = (message: ToMain) => port.postMessage(message);
const uploads = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
let nextUpload = 0;
let processor: ChunkProcessor | undefined;
// Batches are processed in order, one after the other; upload answers are not queued behind them.
let queue: Promise<void> = Promise.resolve();
let failed = false;

function upload(path: string, key: string): Promise<void> {
  const id = nextUpload++;
  return new Promise((resolve, reject) => {
    uploads.set(id, { resolve, reject });
    post({ type: 'upload', id, path, key });
  });
}

async function handle(message: Exclude<ToWorker, { type: 'uploaded' }>): Promise<void> {
  switch (message.type) {
    case 'start':
      processor = new ChunkProcessor(message.setup as ChunkProcessorSetup, upload);
      return;
    case 'batch': {
      const bytes = new Uint8Array(message.buffer);
      const view = new DataView(message.buffer);
      for (let offset = 0; offset < bytes.length; ) {
        const size = view.getInt32(offset, true);
        const flushing = (processor as ChunkProcessor).add(bytes.subarray(offset, offset + size));
        if (flushing !== undefined) await flushing;
        offset += size;
      }
      post({ type: 'batch-done' });
      return;
    }
    case 'finish': {
      const result = await (processor as ChunkProcessor).finish();
      processor = undefined;
      post({ type: 'done', result });
      return;
    }
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'uploaded') {
    const waiting = uploads.get(message.id);
    uploads.delete(message.id);
    if (message.error === undefined) waiting?.resolve();
    else waiting?.reject(new Error(message.error));
    return;
  }
  queue = queue.then(async () => {
    // After a failure the rest of that chunk's messages are dropped; the next chunk starts afresh.
    if (message.type === 'start') failed = false;
    if (failed) return;
    try {
      await handle(message);
    } catch (error) {
      failed = true;
      processor = undefined;
      const failure = error instanceof Error ? error : new Error(String(error));
      post({ type: 'error', message: failure.message, stack: failure.stack ?? '' });
    }
  });
});
