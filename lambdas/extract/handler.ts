import { contextFromEnv } from '../shared/context-from-env.ts';
import { logger } from '../shared/logger.ts';
import type { ChunkSpec } from '../shared/pipeline-context.ts';
import { extractChunk } from './extract-chunk.ts';

/** Step Functions Map item: one chunk → its manifest without the file list (kept small for the Map output). */
export const handler = async (chunk: ChunkSpec) => {
  logger.appendKeys({ runId: chunk.runId, collection: chunk.collection, chunk: chunk.index });
  const { files, ...manifest } = await extractChunk(chunk, contextFromEnv());
  return { ...manifest, files: files.length };
};
