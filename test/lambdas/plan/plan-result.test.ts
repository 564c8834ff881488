import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INLINE_CHUNKS_MAX_BYTES, planResult } from '../../../lambdas/plan/plan-run.ts';
import type { ChunkSpec } from '../../../lambdas/shared/pipeline-context.ts';

function chunks(count: number): ChunkSpec[] {
  return Array.from({ length: count }, (_, index) => ({
    runId: 'run-1',
    collection: 'journal_entries',
    index,
    kind: 'range',
    key: ['updatedAt', '_id'],
    lower: index === 0 ? null : `[{"$date":{"$numberLong":"${index}"}},{"$oid":"68ca9aca193e5d257e046f22"}]`,
    upper: `[{"$date":{"$numberLong":"${index + 1}"}},{"$oid":"68ca9aca193e5d257e046f22"}]`,
    expectedDocuments: 50_000,
    ingestTs: '2025-09-23T16:46:52.534Z',
  }));
}

describe('plan result size', () => {
  it('returns a small chunk list inline', () => {
    const result = planResult('run-1', 'k', chunks(10), [], false);
    assert.ok(result.status === 'PLANNED' && result.chunks?.length === 10);
  });

  it('returns only the S3 key when the chunk list would exceed what Step Functions passes between states', () => {
    const many = chunks(2_000);
    assert.ok(JSON.stringify(many).length > INLINE_CHUNKS_MAX_BYTES);
    const result = planResult('run-1', 'staging/fq_app/_runs/run=run-1/chunks.json', many, [], false);
    assert.ok(result.status === 'PLANNED');
    assert.equal(result.chunks, undefined);
    assert.equal(result.chunkCount, 2_000);
    assert.equal(result.chunksKey, 'staging/fq_app/_runs/run=run-1/chunks.json');
    assert.ok(JSON.stringify(result).length < 256 * 1024);
  });
});
