import {
  BSON,
  type Collection,
  type Db,
  type Document,
  type Filter,
  MongoServerError,
  type Sort,
} from 'mongodb';
import { BSON_TYPE_BRACKETS, bsonTypeBracket } from './bson-type-order.ts';

const { EJSON } = BSON;

/**
 * The key that orders a collection for extraction: `_id` alone, or a
 * timestamp field with `_id` breaking ties, so documents sharing a timestamp
 * are never split ambiguously across chunks or runs.
 */
export type RangeKey = readonly string[];

/** Values of the range key fields, in key order. */
export type KeyValues = readonly unknown[];

export function rangeKeyFor(watermarkField: string): RangeKey {
  return watermarkField === '_id' ? ['_id'] : [watermarkField, '_id'];
}

/** Bounds travel through Step Functions and DynamoDB as canonical Extended JSON, so BSON types survive. */
export function encodeBound(values: KeyValues): string {
  return EJSON.stringify([...values], { relaxed: false });
}

export function decodeBound(text: string): KeyValues {
  const values = EJSON.parse(text, { relaxed: false });
  if (!Array.isArray(values)) throw new Error(`range bound must be an Extended JSON array, got ${text}`);
  return values;
}

export function keyValuesOf(doc: Document, key: RangeKey): KeyValues {
  return key.map((field) => doc[field]);
}

export function keySort(key: RangeKey, direction: 1 | -1 = 1): Sort {
  return Object.fromEntries(key.map((field) => [field, direction]));
}

export function keyProjection(key: RangeKey): Document {
  return Object.fromEntries(key.map((field) => [field, 1]));
}

/** Every `$type` alias of BSON_TYPE_BRACKETS: what MongoDB understands. */
export const ALL_TYPE_ALIASES: ReadonlySet<string> = new Set(BSON_TYPE_BRACKETS.flat());

/**
 * Filter for documents whose key is in `(lower, upper]` in lexicographic key
 * order; a null bound is open. Built from plain comparisons so it runs on
 * every MongoDB-compatible server and uses a compound index on the key.
 *
 * `_id` is compared in MongoDB's order across BSON types. `$gt` and `$lte`
 * alone only match values of their operand's type bracket, so a bound of one
 * `_id` type would never match documents whose `_id` has another (a string
 * `_id` tied on the timestamp with an ObjectId bound): each `_id` comparison
 * adds the type brackets beyond the bound with `$type`. `typeAliases` is what
 * the server accepts (see `supportedTypeAliases`); it drops only types the
 * server cannot store.
 */
export function rangeFilter(
  key: RangeKey,
  lower: KeyValues | null,
  upper: KeyValues | null,
  typeAliases: ReadonlySet<string> = ALL_TYPE_ALIASES,
): Filter<Document> {
  const parts: Document[] = [];
  if (lower !== null) parts.push(compare(key, lower, '$gt', typeAliases));
  if (upper !== null) parts.push(compare(key, upper, '$lte', typeAliases));
  if (parts.length === 0) return {};
  return parts.length === 1 ? (parts[0] as Document) : { $and: parts };
}

type Comparison = '$gt' | '$gte' | '$lt' | '$lte';

/**
 * `field op value` in BSON order across types: `{field: {op: value}}`, or with
 * the brackets beyond `value`'s,
 * `{$or: [{field: {op: value}}, {field: {$type: [aliases of those brackets]}}]}`.
 */
export function bsonOrderComparison(
  field: string,
  op: Comparison,
  value: unknown,
  typeAliases: ReadonlySet<string> = ALL_TYPE_ALIASES,
): Document {
  const bracket = bsonTypeBracket(value);
  const beyond =
    op === '$gt' || op === '$gte'
      ? BSON_TYPE_BRACKETS.slice(bracket + 1)
      : BSON_TYPE_BRACKETS.slice(0, bracket);
  const aliases = beyond.flat().filter((alias) => typeAliases.has(alias));
  const same = { [field]: { [op]: value } };
  return aliases.length === 0 ? same : { $or: [same, { [field]: { $type: aliases } }] };
}

function compare(
  key: RangeKey,
  values: KeyValues,
  op: '$gt' | '$lte',
  typeAliases: ReadonlySet<string>,
): Document {
  if (values.length !== key.length) {
    throw new Error(
      `range bound has ${values.length} values but the key (${key.join(', ')}) has ${key.length}`,
    );
  }
  const strict = op === '$gt' ? '$gt' : '$lt';
  const alternatives: Document[] = key.map((field, i) => {
    const clause: Document = {};
    for (let j = 0; j < i; j++) clause[key[j] as string] = values[j];
    const last = i === key.length - 1;
    const comparison = (last ? op : strict) as Comparison;
    // Only `_id` crosses types; the watermark field of a range is always a Date (irregular values are read apart).
    const condition =
      field === '_id'
        ? bsonOrderComparison(field, comparison, values[i], typeAliases)
        : { [field]: { [comparison]: values[i] } };
    return condition.$or === undefined || Object.keys(clause).length === 0
      ? { ...clause, ...condition }
      : { ...clause, $or: condition.$or };
  });
  return alternatives.length === 1 ? (alternatives[0] as Document) : { $or: alternatives };
}

/** Servers known to refuse some aliases, by client: a property of the server, asked once. */
const refusing = new WeakMap<object, ReadonlySet<string>>();

/**
 * The `$type` aliases of BSON_TYPE_BRACKETS that a server accepts. MongoDB
 * accepts all; FerretDB 1.x refuses minKey, maxKey, symbol and decimal,
 * types it cannot store, so leaving them out of its filters changes no
 * result. FerretDB checks an alias only when it evaluates the filter against
 * a document, so the question is asked of the collection the filters are
 * for, and only a refusal is remembered (one query per call otherwise,
 * answered at once).
 */
export async function supportedTypeAliases(db: Db, collection: string): Promise<ReadonlySet<string>> {
  const known = refusing.get(db.client);
  if (known !== undefined) return known;
  const accepted = await probeTypeAliases(db.collection(collection));
  if (accepted !== ALL_TYPE_ALIASES) refusing.set(db.client, accepted);
  return accepted;
}

async function probeTypeAliases(collection: Collection<Document>): Promise<ReadonlySet<string>> {
  if (await accepts(collection, [...ALL_TYPE_ALIASES])) return ALL_TYPE_ALIASES;
  const accepted = new Set<string>();
  for (const alias of ALL_TYPE_ALIASES) {
    if (await accepts(collection, [alias])) accepted.add(alias);
  }
  return accepted;
}

/**
 * Whether the server accepts `{$type: aliases}`, asked with a filter that
 * every document matches whichever branch the server tries first, `$type`
 * or its negation, so the query ends at the first document. A filter that
 * matches nothing (`{_id: {$type: 'null'}}` alone) reads the whole
 * collection where no index answers it: FerretDB 1.x on SQLite pushes down
 * neither `$type` nor a range, and took 3 s per probe at 30,000 documents,
 * twelve probes per process.
 */
async function accepts(collection: Collection<Document>, aliases: string[]): Promise<boolean> {
  const type = { $type: aliases };
  const either: Document = { $or: [{ _id: type }, { _id: { $not: type } }] };
  try {
    await collection.findOne(either, { projection: { _id: 1 } });
    return true;
  } catch (error) {
    if (!(error instanceof MongoServerError)) throw error;
    return false;
  }
}
