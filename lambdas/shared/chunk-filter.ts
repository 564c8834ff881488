import type { Document } from 'mongodb';
import type { ChunkSpec } from './pipeline-context.ts';
import { decodeBound, type KeyValues, type RangeKey, rangeFilter } from './range-key.ts';
import { irregularWatermarkFilter, notAnArray } from './watermark-filters.ts';

/**
 * Documents with key in `(lower, upper]`, within `subset` when given. A range
 * over a watermark field never holds an array there (see `notAnArray`).
 * Plan counts and splits with this filter and extraction reads with it, so a
 * chunk reads exactly what was planned.
 */
export function keyRangeFilter(
  key: RangeKey,
  lower: KeyValues | null,
  upper: KeyValues | null,
  typeAliases: ReadonlySet<string>,
  subset: Document | null = null,
): Document {
  const parts: Document[] = [rangeFilter(key, lower, upper, typeAliases)];
  if (key[0] !== '_id') parts.push(notAnArray(key[0] as string));
  if (subset !== null) parts.push(subset);
  const nonEmpty = parts.filter((p) => Object.keys(p).length > 0);
  if (nonEmpty.length === 0) return {};
  return nonEmpty.length === 1 ? (nonEmpty[0] as Document) : { $and: nonEmpty };
}

/** What a range or irregular chunk reads. */
export function chunkFilter(chunk: ChunkSpec, typeAliases: ReadonlySet<string>): Document {
  const lower = chunk.lower === null ? null : decodeBound(chunk.lower);
  const upper = chunk.upper === null ? null : decodeBound(chunk.upper);
  switch (chunk.kind) {
    case 'range':
      return keyRangeFilter(chunk.key, lower, upper, typeAliases);
    case 'irregular': {
      if (chunk.watermarkField === undefined) {
        throw new Error(`irregular chunk ${chunk.index} of ${chunk.collection} names no watermarkField`);
      }
      const subset = irregularWatermarkFilter(chunk.watermarkField, new Date(chunk.ingestTs));
      return keyRangeFilter(chunk.key, lower, upper, typeAliases, subset);
    }
    case 'keys':
      return {};
  }
}
