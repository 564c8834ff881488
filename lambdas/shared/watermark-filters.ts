import type { Document } from 'mongodb';
import type { IrregularWatermarks } from './pipeline-context.ts';

/** Clock skew allowed between the source application and the plan: later Dates are "in the future". */
export const FUTURE_WATERMARK_TOLERANCE_MS = 5 * 60_000;

/** Watermarks after this instant are in the future for a run planned at `planTime`. */
export function futureCutoff(planTime: Date): Date {
  return new Date(planTime.getTime() + FUTURE_WATERMARK_TOLERANCE_MS);
}

/**
 * Keeps array-valued watermark fields out of a range: MongoDB compares an
 * array element by element (and sorts it by its smallest or largest
 * element), so an array holding a Date would fall into ranges and could
 * become a bound. Such documents are irregular (`watermarkFieldType`).
 */
export function notAnArray(field: string): Document {
  return { [field]: { $not: { $type: 'array' } } };
}

/**
 * The documents whose watermark field cannot place them in a range, by
 * reason. The three filters are disjoint, and together with the range
 * (non-array Dates up to the plan time) they leave out only Dates between the
 * plan time and the cutoff, which the next run's range reads.
 * They name no type FerretDB refuses: "not a Date" is `$not` of `date` and
 * `null`, which also catches MinKey, MaxKey and symbols.
 */
export function irregularWatermarkFilters(
  field: string,
  planTime: Date,
): Readonly<Record<keyof IrregularWatermarks, Document>> {
  return {
    missingWatermarkField: { $and: [{ [field]: null }, notAnArray(field)] },
    watermarkFieldType: {
      $or: [
        { [field]: { $type: 'array' } },
        { [field]: { $exists: true, $not: { $type: ['date', 'null'] } } },
      ],
    },
    futureWatermark: { $and: [{ [field]: { $gt: futureCutoff(planTime) } }, notAnArray(field)] },
  };
}

/** Every irregular document: what irregular chunks read. */
export function irregularWatermarkFilter(field: string, planTime: Date): Document {
  return { $or: Object.values(irregularWatermarkFilters(field, planTime)) };
}
