import type { Document } from 'mongodb';
import { isOperatorObject } from './key-interval.ts';
import { compileDocumentFilter } from './query.ts';

/**
 * What a filter says about a document from the value of one top-level field
 * alone: true when every document with that value there matches, false when
 * none does, undefined when the other fields decide (or the filter is beyond
 * this analysis). Evaluated once per group of index rows rather than once per
 * row: planning counts irregular watermarks and ranges over a million
 * documents, and all but a few of them hold a Date, where the answer only
 * changes at the Dates the filter names (`breakpoints`).
 */
export interface KeyVerdicts {
  /** Times of the Dates compared with the field, ascending, without repeats. */
  readonly breakpoints: readonly number[];
  /**
   * The verdict for documents whose field holds `value` (undefined: missing).
   * Documents holding a Date between two breakpoints (or at one) share the
   * verdict, so any of them stands for all.
   */
  at(value: unknown): boolean | undefined;
}

/** A filter read with three outcomes: matches, does not match, or depends on fields other than the one known. */
type Verdict = (doc: Document) => boolean | undefined;

/**
 * The verdicts of `filter` by the value of `field`, or undefined when no
 * condition on `field` can be judged from its value alone. Conditions on
 * `field` are judged (by the same matcher as every query) when they use only
 * operators whose outcome on a non-array Date changes only at a Date operand:
 * equality, comparisons, `$in`, `$nin`, `$exists`, `$type` and `$not` of
 * those, with scalar operands. Anything else (other fields, dotted paths
 * below `field`, `$regex`, `$elemMatch`, `$expr`, ...) is left to the
 * documents.
 */
export function keyVerdicts(filter: Document, field: string): KeyVerdicts | undefined {
  const dates = new Set<number>();
  let judged = 0;
  const clause = (condition: Document): Verdict => {
    const parts = Object.entries(condition).map(([key, value]): Verdict => {
      if (key === field && settledByValue(value, dates)) {
        judged++;
        const test = compileDocumentFilter({ [field]: value });
        return (doc) => test(doc);
      }
      if ((key === '$and' || key === '$or' || key === '$nor') && isClauseList(value)) {
        const children = (value as Document[]).map(clause);
        return key === '$and' ? all(children) : key === '$or' ? any(children) : not(any(children));
      }
      return () => undefined;
    });
    return all(parts);
  };
  let root: Verdict;
  try {
    root = clause(filter);
  } catch {
    // The matcher refused a condition: the query reports that as it always has.
    return undefined;
  }
  if (judged === 0 || [...dates].some(Number.isNaN)) return undefined;
  return {
    breakpoints: [...dates].sort((a, b) => a - b),
    at: (value) => {
      try {
        return root(value === undefined ? {} : { [field]: value });
      } catch {
        return undefined;
      }
    },
  };
}

function all(parts: readonly Verdict[]): Verdict {
  return (doc) => {
    let known = true;
    for (const part of parts) {
      const verdict = part(doc);
      if (verdict === false) return false;
      if (verdict === undefined) known = false;
    }
    return known ? true : undefined;
  };
}

function any(parts: readonly Verdict[]): Verdict {
  return (doc) => {
    let known = true;
    for (const part of parts) {
      const verdict = part(doc);
      if (verdict === true) return true;
      if (verdict === undefined) known = false;
    }
    return known ? false : undefined;
  };
}

function not(part: Verdict): Verdict {
  return (doc) => {
    const verdict = part(doc);
    return verdict === undefined ? undefined : !verdict;
  };
}

function isClauseList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((c) => c !== null && typeof c === 'object' && !Array.isArray(c))
  );
}

const COMPARISONS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte']);

/**
 * Whether a condition on the field (`{$gt: date}`, `null`, `{$not: {$type: 'array'}}`)
 * has one outcome for every Date between two of its Date operands, which it adds to `dates`.
 */
function settledByValue(condition: unknown, dates: Set<number>): boolean {
  if (!isOperatorObject(condition)) return isScalar(condition, dates);
  return Object.entries(condition as Document).every(([op, operand]) => {
    if (COMPARISONS.has(op)) return isScalar(operand, dates);
    if (op === '$in' || op === '$nin')
      return Array.isArray(operand) && operand.every((item) => isScalar(item, dates));
    if (op === '$exists') return typeof operand === 'boolean' || typeof operand === 'number';
    if (op === '$type') return (Array.isArray(operand) ? operand : [operand]).every(isTypeName);
    if (op === '$not') return isOperatorObject(operand) && settledByValue(operand, dates);
    return false;
  });
}

function isTypeName(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number';
}

/** Operand types whose comparison with a Date depends on nothing but the two values. */
const SCALAR_TAGS = new Set([
  'Int32',
  'Long',
  'Double',
  'Decimal128',
  'ObjectId',
  'Timestamp',
  'MinKey',
  'MaxKey',
]);

/** A scalar operand (no document, array or regex); a Date's time is added to `dates`. */
function isScalar(value: unknown, dates: Set<number>): boolean {
  if (value instanceof Date) {
    dates.add(value.getTime());
    return true;
  }
  if (value === null) return true;
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'bigint':
      return true;
    case 'object':
      return SCALAR_TAGS.has((value as { _bsontype?: string })._bsontype ?? '');
    default:
      return false;
  }
}
