import { Context } from 'mingo/core';
import * as queryOperators from 'mingo/operators/query';
import { Query } from 'mingo/query';
import { resolve } from 'mingo/util';
import { BSON, type Document } from 'mongodb';
import { BSON_TYPE_BRACKETS, bsonTypeBracket } from '../../../lambdas/shared/bson-type-order.ts';
import { compareBson } from './bson-order.ts';
import { CommandError } from './errors.ts';

/**
 * Filters evaluated on documents with their exact BSON types, by mingo with
 * MongoDB's comparison semantics in place of its JavaScript ones: `$eq`,
 * `$gt` and friends compare in BSON order and only within their operand's
 * type bracket (numbers of any type are one bracket), and `$type` knows
 * every BSON type alias.
 */
export function compileFilter(filter: Document): (raw: Buffer) => boolean {
  if (Object.keys(filter).length === 0) return () => true;
  const test = compileDocumentFilter(filter);
  const fields = fieldsOf(filter);
  return (raw) => test(decode(raw, fields));
}

/** The same test of a document already decoded with exact types (at least the fields the filter reads). */
export function compileDocumentFilter(filter: Document): (doc: Document) => boolean {
  if (Object.keys(filter).length === 0) return () => true;
  const query = new Query(filter, { context: CONTEXT });
  return (doc) => query.test(doc);
}

/**
 * A stored document with exact BSON types, decoding only `fields` (top-level
 * names) when given: a filter on `updatedAt` and `_id` need not decode every
 * journal line of a million documents.
 */
export function decode(raw: Buffer, fields: ReadonlySet<string> | null): Document {
  if (fields === null) return BSON.deserialize(raw, { promoteValues: false });
  const parts: Buffer[] = [];
  let size = 4 + 1;
  for (const [, nameOffset, nameLength, offset, length] of BSON.onDemand.parseToElements(raw)) {
    if (!fields.has(raw.toString('utf8', nameOffset, nameOffset + nameLength))) continue;
    const element = raw.subarray(nameOffset - 1, offset + length);
    parts.push(element);
    size += element.length;
  }
  const out = Buffer.alloc(size);
  out.writeInt32LE(size, 0);
  let at = 4;
  for (const part of parts) at += part.copy(out, at);
  return BSON.deserialize(out, { promoteValues: false });
}

const LOGICAL = new Set(['$and', '$or', '$nor']);

/** Top-level fields a filter reads; null when it may read any (`$where`, `$expr`, ...). */
export function fieldsOf(filter: Document): ReadonlySet<string> | null {
  const fields = new Set<string>();
  const visit = (clause: Document): boolean => {
    for (const [key, value] of Object.entries(clause)) {
      if (LOGICAL.has(key)) {
        if (!Array.isArray(value) || !value.every((part) => visit(part as Document))) return false;
      } else if (key.startsWith('$')) {
        return false;
      } else {
        fields.add(key.split('.')[0] as string);
      }
    }
    return true;
  };
  return visit(filter) ? fields : null;
}

type Predicate = (value: unknown, operand: unknown) => boolean;

/** The values a path holds: the value, and for an array each element too (as MongoDB matches arrays). */
function candidates(value: unknown): unknown[] {
  return Array.isArray(value) ? [...value, value] : [value];
}

/** An operator `{path: {op: operand}}` that holds when `test` holds for any value at the path. */
function fieldOperator(test: Predicate) {
  return (selector: string, operand: unknown) => (doc: Document) =>
    test(resolve(doc, selector, { unwrapArray: true }), operand);
}

function equals(value: unknown, operand: unknown): boolean {
  const values = value === undefined ? [null] : candidates(value);
  return values.some(
    (v) => bsonTypeBracket(v) === bsonTypeBracket(operand) && compareBson(v ?? null, operand) === 0,
  );
}

/** MinKey and MaxKey operands compare with every type; any other only within its bracket. */
function ordered(accept: (order: number) => boolean): Predicate {
  return (value, operand) => {
    const bracket = bsonTypeBracket(operand);
    const unbracketed = bracket === 0 || bracket === BSON_TYPE_BRACKETS.length - 1;
    return candidates(value ?? null).some(
      (v) => (unbracketed || bsonTypeBracket(v) === bracket) && accept(compareBson(v, operand)),
    );
  };
}

function inList(value: unknown, operand: unknown): boolean {
  if (!Array.isArray(operand)) throw new CommandError(2, 'BadValue', '$in needs an array');
  return operand.some((item) =>
    item instanceof RegExp
      ? candidates(value).some((v) => typeof v === 'string' && item.test(v))
      : equals(value, item),
  );
}

const TYPE_CODES: Readonly<Record<string, string>> = {
  '-1': 'minKey',
  '1': 'double',
  '2': 'string',
  '3': 'object',
  '4': 'array',
  '5': 'binData',
  '7': 'objectId',
  '8': 'bool',
  '9': 'date',
  '10': 'null',
  '11': 'regex',
  '14': 'symbol',
  '16': 'int',
  '17': 'timestamp',
  '18': 'long',
  '19': 'decimal',
  '127': 'maxKey',
};

const INT32_LIMIT = 2 ** 31;

/** The `$type` alias of one value. Promoted numbers: integers in int32 range are `int`, others `long` or `double`. */
function typeAlias(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 'double';
    return value >= -INT32_LIMIT && value < INT32_LIMIT ? 'int' : 'long';
  }
  if (typeof value === 'bigint') return 'long';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  const tag = (value as { _bsontype?: string })._bsontype;
  switch (tag) {
    case undefined:
    case 'DBRef':
      return 'object';
    case 'Int32':
      return 'int';
    case 'Long':
      return 'long';
    case 'Double':
      return 'double';
    case 'Decimal128':
      return 'decimal';
    case 'BSONSymbol':
      return 'symbol';
    case 'Binary':
      return 'binData';
    case 'ObjectId':
      return 'objectId';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    default:
      return 'javascript';
  }
}

const KNOWN_ALIASES = new Set([...Object.values(TYPE_CODES), 'number', 'javascript']);

function aliasOf(operand: unknown): string {
  const alias = typeof operand === 'number' ? TYPE_CODES[String(operand)] : String(operand);
  if (alias === undefined || !KNOWN_ALIASES.has(alias)) {
    throw new CommandError(2, 'BadValue', `Unknown type name alias: ${String(operand)}`);
  }
  return alias;
}

function hasType(value: unknown, operand: unknown): boolean {
  if (value === undefined) return false;
  const wanted = (Array.isArray(operand) ? operand : [operand]).map(aliasOf);
  // An array matches 'array' itself, and any type one of its elements has.
  const values = Array.isArray(value) ? [value, ...value] : [value];
  return values.some((v) => {
    const alias = typeAlias(v);
    return wanted.some(
      (w) => w === alias || (w === 'number' && ['int', 'long', 'double', 'decimal'].includes(alias)),
    );
  });
}

const BSON_OPERATORS = {
  $eq: fieldOperator(equals),
  $ne: fieldOperator((value, operand) => !equals(value, operand)),
  $gt: fieldOperator(ordered((order) => order > 0)),
  $gte: fieldOperator(ordered((order) => order >= 0)),
  $lt: fieldOperator(ordered((order) => order < 0)),
  $lte: fieldOperator(ordered((order) => order <= 0)),
  $in: fieldOperator(inList),
  $nin: fieldOperator((value, operand) => !inList(value, operand)),
  $type: fieldOperator(hasType),
};

const CONTEXT = Context.init({
  query: { ...queryOperators, ...BSON_OPERATORS } as never,
});
