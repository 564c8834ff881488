import type { Document } from 'mongodb';
import { bsonTypeBracket } from '../../../lambdas/shared/bson-type-order.ts';
import { compareBson } from './bson-order.ts';

export interface Bound {
  readonly value: unknown;
  readonly inclusive: boolean;
}

/** Values of one field in compareBson order; a missing side is open. A missing field counts as null. */
export interface Interval {
  readonly lower?: Bound;
  readonly upper?: Bound;
}

const UNBOUNDED: Interval = {};

/** Brackets whose equality operand means more than "compares equal": documents, arrays, regexes. */
const NOT_A_POINT = new Set([4, 5, 11]);

/**
 * The values of `field` a document can hold and still match `filter`, as an
 * interval wide enough to be safe rather than tight: the filter is applied
 * to every document in it afterwards. For a document whose field is not an
 * array (the only ones an index slice holds), a comparison `{field: {$gt: x}}`
 * matches only values above x in compareBson order, whatever the types, and
 * equality only values equal to x; a missing field behaves as null in both.
 * `$and` and the fields of one clause intersect; `$or` spans its
 * alternatives and is open where any of them is; anything else bounds nothing.
 */
export function fieldInterval(filter: Document, field: string): Interval {
  let interval = UNBOUNDED;
  for (const [key, value] of Object.entries(filter)) {
    if (key === field) interval = intersect(interval, conditionInterval(value));
    else if (key === '$and' && Array.isArray(value))
      for (const clause of value) interval = intersect(interval, fieldInterval(clause as Document, field));
    else if (key === '$or' && Array.isArray(value) && value.length > 0)
      interval = intersect(
        interval,
        value.map((clause) => fieldInterval(clause as Document, field)).reduce(span),
      );
  }
  return interval;
}

export function isBounded(interval: Interval): boolean {
  return interval.lower !== undefined || interval.upper !== undefined;
}

function conditionInterval(condition: unknown): Interval {
  if (!isOperatorObject(condition)) return pointInterval(condition);
  let interval = UNBOUNDED;
  for (const [op, value] of Object.entries(condition as Document)) {
    if (op === '$gt' || op === '$gte')
      interval = intersect(interval, { lower: { value, inclusive: op === '$gte' } });
    else if (op === '$lt' || op === '$lte')
      interval = intersect(interval, { upper: { value, inclusive: op === '$lte' } });
    else if (op === '$eq') interval = intersect(interval, pointInterval(value));
  }
  return interval;
}

function pointInterval(value: unknown): Interval {
  if (value === undefined || value instanceof RegExp || NOT_A_POINT.has(bsonTypeBracket(value)))
    return UNBOUNDED;
  const bound = { value, inclusive: true };
  return { lower: bound, upper: bound };
}

function intersect(a: Interval, b: Interval): Interval {
  return bounds(narrower(a.lower, b.lower, 1), narrower(a.upper, b.upper, -1));
}

/** The smallest interval holding both; open on a side where either is. */
function span(a: Interval, b: Interval): Interval {
  const lower = a.lower === undefined || b.lower === undefined ? undefined : wider(a.lower, b.lower, -1);
  const upper = a.upper === undefined || b.upper === undefined ? undefined : wider(a.upper, b.upper, 1);
  return bounds(lower, upper);
}

function bounds(lower: Bound | undefined, upper: Bound | undefined): Interval {
  return { ...(lower === undefined ? {} : { lower }), ...(upper === undefined ? {} : { upper }) };
}

/** Of two lower bounds (`sign` 1) the greater, of two upper (-1) the lesser; at one value, the exclusive. */
function narrower(a: Bound | undefined, b: Bound | undefined, sign: 1 | -1): Bound | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const order = compareBson(a.value, b.value) * sign;
  if (order !== 0) return order > 0 ? a : b;
  return a.inclusive ? b : a;
}

/** Of two lower bounds (`sign` -1) the lesser, of two upper (1) the greater; at one value, the inclusive. */
function wider(a: Bound, b: Bound, sign: 1 | -1): Bound {
  const order = compareBson(a.value, b.value) * sign;
  if (order !== 0) return order > 0 ? a : b;
  return a.inclusive ? a : b;
}

/** `{ $gt: 1 }` and the like, as opposed to a value to compare with (a number, an ObjectId, a document). */
export function isOperatorObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}
