import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Binary,
  BSON,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  type Document,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from 'mongodb';
import { canonicalExtendedJson } from '../../../lambdas/shared/raw-ejson.ts';
import { generateJournalEntries } from '../../../lib/local/sample-data/index.ts';
import { Prng } from '../../../lib/local/sample-data/prng.ts';

/** What `_doc_ejson` held before: the bson library's canonical Extended JSON of the decoded document. */
function viaLibrary(bytes: Uint8Array): string {
  return BSON.EJSON.stringify(BSON.deserialize(bytes, { promoteValues: false }), { relaxed: false });
}

/** Asserts the byte walk gives the library's string, and that it handled the document itself. */
function assertSame(bytes: Uint8Array): string {
  const expected = viaLibrary(bytes);
  assert.equal(canonicalExtendedJson(bytes), expected);
  return expected;
}

const same = (doc: Document) => assertSame(BSON.serialize(doc));

/** When the byte walk answers, its answer is the library's; undefined leaves the document to the library. */
function assertNeverDiffers(bytes: Uint8Array): 'handled' | 'declined' {
  const actual = canonicalExtendedJson(bytes);
  if (actual === undefined) return 'declined';
  let expected: string;
  try {
    expected = viaLibrary(bytes);
  } catch (error) {
    assert.fail(`the library refuses ${Buffer.from(bytes).toString('hex')} (${error}) but got ${actual}`);
  }
  assert.equal(actual, expected, `for ${Buffer.from(bytes).toString('hex')}`);
  return 'handled';
}

// BSON written by hand: duplicate keys, invalid UTF-8 and other things BSON.serialize never writes.
type Bytes = Uint8Array | string | readonly number[];
const bytesOf = (part: Bytes): Buffer =>
  typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part as Uint8Array);
const concat = (...parts: Bytes[]): Buffer => Buffer.concat(parts.map(bytesOf));
function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}
function int64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b;
}
function float64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(n);
  return b;
}
const element = (type: number, key: Bytes, value: Bytes = []): Buffer => concat([type], key, [0], value);
const documentOf = (...elements: Bytes[]): Buffer => {
  const body = concat(...elements, [0]);
  return concat(int32(body.length + 4), body);
};
const stringValue = (text: Bytes): Buffer => {
  const bytes = bytesOf(text);
  return concat(int32(bytes.length + 1), bytes, [0]);
};
const codeWithScope = (code: Bytes, scope: Buffer): Buffer => {
  const body = concat(stringValue(code), scope);
  return concat(int32(body.length + 4), body);
};

describe('canonical Extended JSON from raw BSON', () => {
  it('writes sample journal entries exactly as the bson library', () => {
    for (const doc of generateJournalEntries({ journalEntries: 500 })) same(doc);
  });

  it('writes doubles as Double.toExtendedJSON does', () => {
    const doubles = [
      0,
      -0,
      1,
      -1,
      1.5,
      0.1,
      1 / 3,
      100,
      1e20,
      1e21,
      1e22,
      -1e21,
      1.5e300,
      5e-324,
      1e-7,
      1.5e-7,
      123e-20,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      Number.MAX_SAFE_INTEGER,
      2 ** 53 + 2,
      2 ** 63,
      NaN,
      Infinity,
      -Infinity,
    ];
    const json = same(Object.fromEntries(doubles.map((d, i) => [`d${i}`, new Double(d)])));
    assert.match(json, /"d1":\{"\$numberDouble":"-0\.0"\}/);
    assert.match(json, /"d2":\{"\$numberDouble":"1\.0"\}/);
    // NaN with a payload and a sign is still NaN.
    assertSame(documentOf(element(0x01, 'n', [1, 0, 0, 0, 0, 0, 0xf8, 0xff])));
  });

  it('writes integers, longs, timestamps and dates', () => {
    same({
      i: [new Int32(0), new Int32(-1), new Int32(2 ** 31 - 1), new Int32(-(2 ** 31))],
      l: [
        Long.fromNumber(0),
        Long.fromNumber(-5),
        Long.fromNumber(2 ** 53 - 1),
        Long.fromNumber(-(2 ** 53)),
        Long.fromBigInt(2n ** 53n + 1n),
        Long.MAX_VALUE,
        Long.MIN_VALUE,
        Long.fromBigInt(-(2n ** 60n) - 7n),
      ],
      t: [
        new Timestamp({ t: 0, i: 0 }),
        new Timestamp({ t: 4_294_967_295, i: 4_294_967_295 }),
        new Timestamp(7n),
      ],
      d: [
        new Date(0),
        new Date(-1),
        new Date(8.64e15),
        new Date(-8.64e15),
        new Date('2025-05-31T12:00:00.123Z'),
      ],
    });
    // Dates beyond JS Date's range read as Invalid Date: "NaN".
    for (const ms of [
      8_640_000_000_000_001n,
      -8_640_000_000_000_001n,
      2n ** 62n,
      -(2n ** 63n),
      2n ** 63n - 1n,
    ]) {
      assert.match(assertSame(documentOf(element(0x09, 'd', int64(ms)))), /"NaN"/);
    }
  });

  it('writes Decimal128 as Decimal128.toString does, non-canonical encodings included', () => {
    const texts = [
      '0',
      '-0',
      '0.00',
      '500.00',
      '-0.01',
      '1E+3',
      '1.23E+40',
      '0E-10',
      '0E+10',
      '1E-6',
      '1E-7',
      '123456789.123',
      '-1E-6176',
      '9.999999999999999999999999999999999E+6144',
      '1234567890123456789012345678901234',
      '0.000001234',
      'NaN',
      'Infinity',
      '-Infinity',
      '1E+6144',
    ];
    same(Object.fromEntries(texts.map((text, i) => [`d${i}`, Decimal128.fromString(text)])));
    const prng = new Prng(7, 0);
    for (let n = 0; n < 2000; n++) {
      const bytes = Buffer.alloc(16);
      for (let k = 0; k < 16; k += 4) bytes.writeUInt32LE(prng.uint32(), k);
      // Also the combination-bits-11 forms with a coefficient beyond 34 digits.
      if (n % 3 === 0) bytes[15] = ((bytes[15] as number) & 0x81) | 0x60;
      if (n % 5 === 0) bytes.fill(0, 4, 12);
      assertSame(documentOf(element(0x13, 'd', bytes)));
    }
  });

  it('writes binary data of every subtype, UUIDs and the old subtype 2 included', () => {
    same({
      empty: new Binary(Buffer.alloc(0)),
      generic: new Binary(Buffer.from('hello world')),
      fn: new Binary(Buffer.from([1, 2, 3]), 1),
      old: new Binary(Buffer.from('old binary'), 2),
      uuidOld: new Binary(Buffer.alloc(16, 0xab), 3),
      uuid: new UUID('0e5ba04c-0c8c-4c47-a7cc-d1a4d1f3c2b0'),
      uuidShort: new Binary(Buffer.alloc(5, 1), 4),
      md5: new Binary(Buffer.alloc(16, 9), 5),
      encrypted: new Binary(Buffer.from([6]), 6),
      column: new Binary(Buffer.from([7, 7]), 7),
      sensitive: new Binary(Buffer.from([8]), 8),
      vector: Binary.fromFloat32Array(new Float32Array([1.5, -2])),
      int8Vector: Binary.fromInt8Array(new Int8Array([1, -2, 3])),
      bits: Binary.fromPackedBits(new Uint8Array([0xff, 0x01])),
      user: new Binary(Buffer.from('user'), 0x80),
      high: new Binary(Buffer.from('x'), 0xff),
    });
    // Subtype 2 whose inner length disagrees, and invalid vectors: the library refuses both.
    for (const bad of [
      documentOf(element(0x05, 'b', concat(int32(6), [2], int32(1), [1, 2]))),
      documentOf(element(0x05, 'b', concat(int32(3), [9], [0x03, 1, 0]))),
      documentOf(element(0x05, 'b', concat(int32(3), [9], [0x27, 0, 1]))),
      documentOf(element(0x05, 'b', concat(int32(2), [9], [0x10, 3]))),
      documentOf(element(0x05, 'b', concat(int32(3), [9], [0x10, 9, 0]))),
    ]) {
      assert.equal(canonicalExtendedJson(bad), undefined);
      assert.throws(() => viaLibrary(bad));
    }
    // Vectors with one or no header byte: padding reads as absent, as bson reads it.
    for (const header of [[], [0x03], [0x10], [0x27], [0x42, 1]]) {
      assertNeverDiffers(
        documentOf(
          element(0x05, 'v', concat(int32(header.length), [9], header)),
          element(0x10, 'x', int32(1)),
        ),
      );
    }
  });

  it('writes ObjectIds, booleans, nulls, undefined, min and max keys, symbols and code', () => {
    same({
      id: new ObjectId('68ca9aca193e5d257e046f22'),
      yes: true,
      no: false,
      nothing: null,
      min: new MinKey(),
      max: new MaxKey(),
      symbol: new BSONSymbol('sym "bol"\n'),
      code: new Code('function () { return "x"; }'),
      scoped: new Code('x + y', {
        y: new Int32(1),
        nested: { '2': 'b', '1': 'a' },
        $ref: 'not a DBRef here',
      }),
      emptyScope: new Code('z', {}),
      list: [null, new MinKey(), [new MaxKey()]],
    });
    assertSame(
      documentOf(element(0x06, 'u'), element(0x04, 'a', documentOf(element(0x06, '0'), element(0x0a, '1')))),
    );
  });

  it('writes regular expressions as the RegExp deserialize builds, and declines what the library refuses', () => {
    same({
      plain: new BSONRegExp('^JE\\d+$', 'i'),
      slash: new BSONRegExp('a/b', 'mi'),
      newline: new BSONRegExp('a\nb\u2028c', ''),
      empty: new BSONRegExp('', ''),
      dropped: new BSONRegExp('x', 'lux'),
      unicode: new BSONRegExp('é+😀', 'm'),
      js: /tab\there/im,
    });
    // BSON option s becomes flag g, which EJSON refuses; a pattern JS cannot compile fails deserialize.
    for (const bad of [new BSONRegExp('x', 's'), new BSONRegExp('(', ''), new BSONRegExp('x', 'ii')]) {
      const bytes = BSON.serialize({ re: bad });
      assert.equal(canonicalExtendedJson(bytes), undefined);
      assert.throws(() => viaLibrary(bytes));
    }
  });

  it('escapes strings and keys as JSON.stringify does', () => {
    const controls = Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).join('');
    const json = same({
      controls,
      quotes: 'say "hi" \\ back\\slash /',
      unicode: 'é ü 中文 😀 \u2028\u2029 \u007f \ufffd \uffff',
      [`key ${controls.slice(1)}"\\é`]: 'k',
      '': 'empty key',
      'a.b': 'dotted',
    });
    assert.ok(json.includes('\\u001f') && json.includes('\\b\\t\\n\\u000b\\f\\r'));
    // Strings may hold zero bytes: BSON strings are length-prefixed.
    assertSame(documentOf(element(0x02, 's', stringValue('a\u0000b'))));
  });

  it('orders integer-like keys first, as a JS object does', () => {
    const keys = ['b', '10', '2', '01', '-1', '1.5', '4294967295', '4294967294', '0', 'a', '1e3', ' 1'];
    const bytes = documentOf(...keys.map((key, i) => element(0x10, key, int32(i))));
    const json = assertSame(bytes);
    assert.ok(json.startsWith('{"0":{"$numberInt":"8"},"2":'), json);
    assertSame(
      documentOf(element(0x03, 'inner', bytes), element(0x04, 'list', documentOf(element(0x03, '0', bytes)))),
    );
  });

  it('keeps the last value of a repeated key at its first position', () => {
    const bytes = documentOf(
      element(0x10, 'a', int32(1)),
      element(0x02, 'b', stringValue('first')),
      element(0x10, 'a', int32(2)),
      element(0x03, 'b', documentOf(element(0x10, 'b', int32(3)), element(0x10, 'b', int32(4)))),
      element(0x0a, '7'),
      element(0x10, '7', int32(5)),
    );
    assert.equal(
      assertSame(bytes),
      '{"7":{"$numberInt":"5"},"a":{"$numberInt":"2"},"b":{"b":{"$numberInt":"4"}}}',
    );
    const many = documentOf(
      ...Array.from({ length: 5000 }, (_, i) => element(0x10, `k${i % 1234}`, int32(i))),
    );
    assertSame(many);
  });

  it('writes __proto__, toJSON and other Object.prototype names as plain keys', () => {
    const bytes = documentOf(
      element(0x10, '__proto__', int32(1)),
      element(
        0x03,
        'x',
        documentOf(element(0x02, '__proto__', stringValue('p')), element(0x10, 'toJSON', int32(2))),
      ),
      element(0x10, 'constructor', int32(3)),
      element(0x10, 'hasOwnProperty', int32(4)),
      element(0x10, '__proto__', int32(5)),
    );
    assert.equal(
      assertSame(bytes),
      '{"__proto__":{"$numberInt":"5"},"x":{"__proto__":"p","toJSON":{"$numberInt":"2"}},' +
        '"constructor":{"$numberInt":"3"},"hasOwnProperty":{"$numberInt":"4"}}',
    );
  });

  it('leaves DBRefs, DBPointers, _bsontype keys and keys that are not UTF-8 to the library', () => {
    const declined = [
      BSON.serialize({ ref: new DBRef('accounts', new ObjectId(), 'db', { extra: 1 }) }),
      BSON.serialize({ $ref: 'accounts', $id: new Int32(1) }),
      BSON.serialize({ list: [{ $id: 1, $ref: 'x' }] }),
      documentOf(element(0x0c, 'p', concat(stringValue('db.accounts'), Buffer.alloc(12, 1)))),
      documentOf(element(0x10, Buffer.from([0x6b, 0xff]), int32(1))),
    ];
    for (const bytes of declined) {
      assert.equal(canonicalExtendedJson(bytes), undefined);
      assert.doesNotThrow(() => viaLibrary(bytes));
    }
    const bsonType = documentOf(
      element(0x03, 'nested', documentOf(element(0x02, '_bsontype', stringValue('Int32')))),
    );
    assert.equal(canonicalExtendedJson(bsonType), undefined);
    assert.throws(() => viaLibrary(bsonType));
    // Only a $ref key makes a DBRef: other $ keys are plain keys.
    same({ $id: 1, $db: 'x', $set: { $inc: 1 } });
  });

  it('declines malformed BSON that deserialize refuses', () => {
    const valid = BSON.serialize({ a: 'text', b: [1, { c: 2 }], d: new Code('x', { y: 1 }) });
    const malformed = [
      valid.subarray(0, valid.length - 1),
      Buffer.from([4, 0, 0, 0]),
      documentOf(element(0x08, 'b', [2])),
      documentOf(element(0x02, 's', concat(int32(0)))),
      documentOf(element(0x02, 's', concat(int32(5), 'abc'))),
      documentOf(element(0x02, 's', stringValue(Buffer.from([0xc3, 0x28])))),
      documentOf(element(0x02, 's', stringValue(Buffer.from([0xed, 0xa0, 0x80])))),
      documentOf(element(0x20, 'x')),
      documentOf(element(0x0f, 'c', codeWithScope('x', documentOf()).fill(0xff, 0, 1))),
      concat(int32(6), [0x0a, 0]),
    ];
    for (const bytes of malformed) {
      assert.equal(canonicalExtendedJson(bytes), undefined, Buffer.from(bytes).toString('hex'));
      assert.throws(() => viaLibrary(bytes));
    }
  });

  it('reads the document at an offset and grows its buffer for large documents', () => {
    const doc = BSON.serialize({
      big: 'x'.repeat(3_000_000),
      escapes: '\u0001'.repeat(300_000),
      list: [1, 2],
    });
    assertSame(doc);
    const framed = concat([9, 9, 9], doc, [7, 7]);
    assert.equal(canonicalExtendedJson(framed, 3), viaLibrary(doc));
    same({ after: 'a small document after a large one' });
  });

  it('handles deep nesting or declines it', () => {
    let doc: Document = { leaf: new Int32(1) };
    for (let depth = 0; depth < 150; depth++) doc = depth % 2 === 0 ? { d: doc } : { a: [doc] };
    same(doc);
    let deeper = documentOf(element(0x10, 'x', int32(1)));
    for (let depth = 0; depth < 400; depth++) deeper = documentOf(element(0x03, 'd', deeper));
    assertNeverDiffers(deeper);
  });

  it('matches the library on thousands of random documents of every type', () => {
    const random = new RandomBson(new Prng(20_250_531, 1), false);
    for (let n = 0; n < 4000; n++) assertSame(random.document(0));
  });

  it('never differs from the library on random documents with DBRefs, bad UTF-8 and corrupted bytes', () => {
    const prng = new Prng(20_250_601, 2);
    const random = new RandomBson(prng, true);
    const outcomes = { handled: 0, declined: 0 };
    for (let n = 0; n < 4000; n++) {
      const bytes = random.document(0);
      if (n % 2 === 1) {
        // Corrupt a byte or two, or cut the document short.
        for (let k = prng.int(1, 2); k > 0; k--) bytes[prng.int(0, bytes.length - 1)] = prng.int(0, 255);
      }
      const candidate = n % 7 === 3 ? bytes.subarray(0, prng.int(0, bytes.length)) : bytes;
      outcomes[assertNeverDiffers(candidate)]++;
    }
    assert.ok(outcomes.handled > 1000, JSON.stringify(outcomes));
  });
});

/**
 * Random BSON written byte by byte, so keys repeat, integer-like keys and
 * `__proto__` appear, and every type and edge value shows up. `wild` adds
 * what the writer declines (DBRefs, DBPointers, `_bsontype`, invalid UTF-8,
 * regex options the library refuses).
 */
class RandomBson {
  private static readonly KEYS = [
    'a',
    'b',
    'amount',
    'lines',
    '0',
    '1',
    '2',
    '10',
    '01',
    '-1',
    '4294967294',
    '4294967295',
    '__proto__',
    'toJSON',
    'constructor',
    '$id',
    '$db',
    '$set',
    'é',
    'k"\\\n\u0001',
    '',
    'x.y',
    '😀',
  ];
  private static readonly WILD_KEYS = [
    '$ref',
    '_bsontype',
    Buffer.from([0x6b, 0xff]),
    Buffer.from([0xe2, 0x82]),
  ];
  private static readonly CHARS = [
    'a',
    'Z',
    ' ',
    '"',
    '\\',
    '/',
    '\n',
    '\t',
    '\u0000',
    '\u001f',
    '\u007f',
    'é',
    '中',
    '😀',
    '\u2028',
    '\ufffd',
  ];
  private static readonly DOUBLES = [
    0,
    -0,
    1,
    -1,
    0.1,
    1e21,
    1e-7,
    5e-324,
    2 ** 53,
    NaN,
    Infinity,
    -Infinity,
    123.456,
  ];

  constructor(
    private readonly prng: Prng,
    private readonly wild: boolean,
  ) {}

  document(depth: number): Buffer {
    const count = this.prng.int(0, depth === 0 ? 8 : 4);
    const elements = Array.from({ length: count }, () => this.element(this.key(), depth));
    return documentOf(...elements);
  }

  private array(depth: number): Buffer {
    const count = this.prng.int(0, 4);
    return documentOf(...Array.from({ length: count }, (_, i) => this.element(String(i), depth)));
  }

  private key(): Bytes {
    if (this.wild && this.prng.chance(0.05)) return this.prng.pick(RandomBson.WILD_KEYS);
    // Keys are C strings: no zero byte.
    return this.prng.chance(0.1) ? this.text(6).replaceAll('\u0000', '0') : this.prng.pick(RandomBson.KEYS);
  }

  private text(max: number): string {
    return Array.from({ length: this.prng.int(0, max) }, () => this.prng.pick(RandomBson.CHARS)).join('');
  }

  private bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.prng.int(0, 255)));
  }

  private element(key: Bytes, depth: number): Buffer {
    const prng = this.prng;
    const nested = depth < 4;
    const type = prng.pick([
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
      10,
      11,
      13,
      14,
      15,
      16,
      17,
      18,
      19,
      127,
      255,
      ...(this.wild ? [12] : []),
    ]);
    switch (type) {
      case 1:
        return element(type, key, prng.chance(0.5) ? float64(prng.pick(RandomBson.DOUBLES)) : this.bytes(8));
      case 2:
      case 13:
      case 14:
        return element(
          type,
          key,
          stringValue(this.wild && prng.chance(0.05) ? this.bytes(3) : this.text(12)),
        );
      case 3:
        return nested ? element(type, key, this.document(depth + 1)) : element(10, key);
      case 4:
        return nested ? element(type, key, this.array(depth + 1)) : element(6, key);
      case 5: {
        const subType = prng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x80, 0xff]);
        let data = this.bytes(subType === 4 && prng.chance(0.7) ? 16 : prng.int(0, 10));
        if (subType === 9 && !this.wild) data = concat([0x03, 0], this.bytes(prng.int(0, 4)));
        if (subType === 2) data = concat(int32(data.length), data);
        return element(type, key, concat(int32(data.length), [subType], data));
      }
      case 7:
        return element(type, key, this.bytes(12));
      case 8:
        return element(type, key, [prng.int(0, 1)]);
      case 9:
        return element(
          type,
          key,
          prng.chance(0.5) ? int64(BigInt(prng.int(-1e9, 1e9)) * 1000n) : this.bytes(8),
        );
      case 11: {
        const pattern = prng.pick([
          '',
          'a/b',
          '^JE\\d+$',
          '[x/]',
          'é+',
          'a\nb',
          '\\u{1F600}',
          '😀',
          ...(this.wild ? ['(', '\\'] : []),
        ]);
        const options = prng.pick([
          '',
          'i',
          'm',
          'im',
          'mi',
          'x',
          'lu',
          'imxlu',
          ...(this.wild ? ['s', 'ii', 'q'] : []),
        ]);
        return element(type, key, concat(pattern, [0], options, [0]));
      }
      case 12:
        return element(type, key, concat(stringValue('db.coll'), this.bytes(12)));
      case 15: {
        const scope = nested ? this.document(depth + 1) : documentOf();
        return element(type, key, codeWithScope(this.text(8), scope));
      }
      case 16:
        return element(
          type,
          key,
          prng.chance(0.3) ? int32(prng.pick([0, -1, 2 ** 31 - 1, -(2 ** 31)])) : this.bytes(4),
        );
      case 17:
      case 18:
        return element(
          type,
          key,
          prng.chance(0.3)
            ? int64(prng.pick([0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n]))
            : this.bytes(8),
        );
      case 19:
        return element(type, key, this.bytes(16));
      default:
        return element(type, key);
    }
  }
}
