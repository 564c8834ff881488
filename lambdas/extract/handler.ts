import { contextFromEnv } from '../shared/context-from-env.ts';
import type { KeysManifest } from '../shared/job-reports.ts';
import { logger } from '../shared/logger.ts';
import type { ChunkManifest, ChunkSpec, PipelineContext } from '../shared/pipeline-context.ts';
import { extractChunk } from './extract-chunk.ts';
import { listKeys } from './list-keys.ts';

/** One chunk of any kind: documents read and staged, or (`keys`) the collection's `_id`s listed. */
export function extractTask(
  chunk: ChunkSpec,
  context: PipelineContext,
): Promise<ChunkManifest | KeysManifest> {
  return chunk.kind === 'keys' ? listKeys(chunk, context) : extractChunk(chunk, context);
}

/** Step Functions Map item: one chunk → its manifest without the file list (kept small for the Map output). */
export const handler = async (chunk: ChunkSpec) => {
  logger.appendKeys({ runId: chunk.runId, collection: chunk.collection, chunk: chunk.index });
  const { files, ...manifest } = await extractTask(chunk, contextFromEnv());
  return { ...manifest, files: files.length };
};
