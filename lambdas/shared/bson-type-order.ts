/**
 * MongoDB's order of BSON types ("type brackets"). Values of different types
 * compare by bracket alone; `$gt`, `$lte` and friends only ever match values
 * of their operand's bracket, so a range across types needs `$type` too.
 * See https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/
 */
export const BSON_TYPE_BRACKETS: readonly (readonly string[])[] = [
  ['minKey'],
  ['null'],
  ['int', 'long', 'double', 'decimal'],
  ['string', 'symbol'],
  ['object'],
  ['array'],
  ['binData'],
  ['objectId'],
  ['bool'],
  ['date'],
  ['timestamp'],
  ['regex'],
  ['maxKey'],
];

const BRACKET_BY_TAG: Readonly<Record<string, number>> = {
  MinKey: 0,
  Int32: 2,
  Long: 2,
  Double: 2,
  Decimal128: 2,
  BSONSymbol: 3,
  DBRef: 4,
  Binary: 6,
  ObjectId: 7,
  Timestamp: 10,
  BSONRegExp: 11,
  MaxKey: 12,
};

/**
 * The bracket (index into BSON_TYPE_BRACKETS) of a value as the driver
 * deserializes it, with or without promoted numbers. Code and CodeWithScope,
 * which MongoDB places outside these brackets and never uses as keys, sort last.
 */
export function bsonTypeBracket(value: unknown): number {
  if (value === undefined || value === null) return 1;
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 2;
    case 'string':
      return 3;
    case 'boolean':
      return 8;
  }
  if (Array.isArray(value)) return 5;
  if (value instanceof Date) return 9;
  if (value instanceof RegExp) return 11;
  const tag = (value as { _bsontype?: string })._bsontype;
  if (tag === undefined) return 4;
  return BRACKET_BY_TAG[tag] ?? BSON_TYPE_BRACKETS.length;
}

/** `$type` aliases of the brackets strictly before (`'before'`) or after (`'after'`) the bracket of `value`. */
export function typeAliasesBeyond(value: unknown, side: 'before' | 'after'): string[] {
  const bracket = bsonTypeBracket(value);
  const brackets =
    side === 'before' ? BSON_TYPE_BRACKETS.slice(0, bracket) : BSON_TYPE_BRACKETS.slice(bracket + 1);
  return brackets.flat();
}
