import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Binary,
  BSON,
  Decimal128,
  type Document,
  Double,
  Int32,
  Long,
  MaxKey,
  ObjectId,
  Timestamp,
} from 'mongodb';
import { rawIdText } from '../../../lambdas/extract/list-keys.ts';
import { idText, RowMapper } from '../../../lambdas/shared/row-mapper.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { buildTableModel, column, RAW_ID, RAW_METADATA, t, tableFromSpec } from '../../../lib/model/index.ts';

const config = resolveConfig();
const model = buildTableModel(config);
const stamp = { runId: 'run-1', ingestTsMicros: 1_758_646_012_534_674n };

/** Documents as the extractor reads them: BSON decoded with promoteValues false. */
function asRead(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), { promoteValues: false });
}

const everyType = tableFromSpec(
  {
    name: 'every_type',
    layer: 'raw',
    doc: 'test table',
    columns: [
      RAW_ID,
      column('s', t.string(), ''),
      column('i', t.int(), ''),
      column('l', t.long(), ''),
      column('d', t.double(), ''),
      column('b', t.boolean(), ''),
      column('amount', t.decimal(18, 4), ''),
      column('day', t.date(), ''),
      column('at', t.timestamptz(), ''),
      column('bin', t.binary(), ''),
      column('nested', t.struct([column('x', t.int(), ''), column('tags', t.list(t.string()), '')]), ''),
      ...RAW_METADATA,
    ],
    partitionBy: [],
    sortBy: [],
    keyColumns: ['_id'],
  },
  config,
);

describe('BSON to raw row mapping', () => {
  it('maps the brief journal entry exactly, money as unscaled decimals', () => {
    const doc = asRead({
      _id: new ObjectId('68ca9aca193e5d257e046f22'),
      entry_id: 'JE1001',
      date: new Date('2025-05-31T00:00:00Z'),
      lines: [
        {
          account_id: new Int32(1000),
          debit: Decimal128.fromString('500.00'),
          credit: Decimal128.fromString('0.00'),
        },
        {
          account_id: new Int32(2000),
          debit: Decimal128.fromString('0.00'),
          credit: Decimal128.fromString('500.00'),
        },
      ],
      description: 'Vendor payment',
    });
    const { row, errors } = new RowMapper(model.rawTableFor('journal_entries')).map(doc, stamp);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      { ...row, _doc_ejson: undefined },
      {
        _id: '68ca9aca193e5d257e046f22',
        entry_id: 'JE1001',
        date: 20_239, // days since 1970-01-01 for 2025-05-31
        description: 'Vendor payment',
        lines: [
          { account_id: '1000', debit: 5_000_000n, credit: 0n },
          { account_id: '2000', debit: 0n, credit: 5_000_000n },
        ],
        updated_at: null,
        ingest_ts: 1_758_646_012_534_674n,
        _run_id: 'run-1',
        _doc_ejson: undefined,
        _mapping_errors: null,
        _op: 'upsert',
      },
    );
  });

  it('keeps the whole document as canonical Extended JSON, types included', () => {
    const doc = asRead({
      _id: new ObjectId('68ca9aca193e5d257e046f22'),
      n: new Int32(1),
      l: Long.fromString('9007199254740993'),
      x: new Double(1),
    });
    const { row } = new RowMapper(model.rawTableFor('accounts')).map(doc, stamp);
    assert.equal(
      row._doc_ejson,
      '{"_id":{"$oid":"68ca9aca193e5d257e046f22"},"n":{"$numberInt":"1"},"l":{"$numberLong":"9007199254740993"},"x":{"$numberDouble":"1.0"}}',
    );
  });

  it('writes the same row from the raw bytes as from the decoded document, DBRefs included', () => {
    const mapper = new RowMapper(model.rawTableFor('journal_entries'));
    const docs = [
      {
        _id: new ObjectId(),
        entry_id: 'JE1',
        n: new Int32(1),
        lines: [{ debit: Decimal128.fromString('1.50') }],
      },
      { _id: 7, '2': 'integer-like keys come first', ref: { $ref: 'accounts', $id: new Int32(1000) } },
    ];
    for (const doc of docs) {
      const raw = BSON.serialize(doc);
      const decoded = BSON.deserialize(raw, { promoteValues: false });
      assert.deepEqual(mapper.map(decoded, stamp, raw), mapper.map(decoded, stamp));
    }
  });

  it('converts every supported BSON type to its column type', () => {
    const doc = asRead({
      _id: 'custom-id',
      s: new ObjectId('68ca9b35193e5d257e046f25'),
      i: new Int32(-7),
      l: Long.fromString('9223372036854775807'),
      d: new Double(0.1),
      b: true,
      amount: new Double(500.1),
      day: '2025-06-05',
      at: new Date('2025-09-23T16:46:52.534Z'),
      bin: new Binary(Buffer.from([1, 2, 3])),
      nested: { x: new Int32(5), tags: ['a', 'b'] },
    });
    const { row, errors } = new RowMapper(everyType).map(doc, stamp);
    assert.deepEqual(errors, []);
    assert.equal(row._id, '"custom-id"');
    assert.equal(row.s, '68ca9b35193e5d257e046f25');
    assert.equal(row.i, -7);
    assert.equal(row.l, 9_223_372_036_854_775_807n);
    assert.equal(row.d, 0.1);
    assert.equal(row.b, true);
    assert.equal(row.amount, 5_001_000n, 'a double is read by its shortest round-trip text, 500.1');
    assert.equal(row.day, 20_244);
    assert.equal(row.at, 1_758_646_012_534_000n);
    assert.deepEqual([...(row.bin as Uint8Array)], [1, 2, 3]);
    assert.deepEqual(row.nested, { x: 5, tags: ['a', 'b'] });
  });

  it('maps missing and null fields to null without an error', () => {
    const { row, errors } = new RowMapper(everyType).map(asRead({ _id: new ObjectId(), s: null }), stamp);
    assert.deepEqual(errors, []);
    assert.equal(row.s, null);
    assert.equal(row.nested, null);
  });

  it('records why a field cannot be mapped, still writes the row and never rounds money', () => {
    const doc = asRead({
      _id: new ObjectId('68ca9aca193e5d257e046f30'),
      entry_id: 'JE2000',
      date: 'last tuesday',
      lines: [{ account_id: new Int32(1000), debit: Decimal128.fromString('10.12345'), credit: 'zero' }],
    });
    const { row, errors } = new RowMapper(model.rawTableFor('journal_entries')).map(doc, stamp);
    assert.deepEqual(errors, [
      `field 'date': expected a Date or a 'YYYY-MM-DD' string, got string "last tuesday"`,
      "field 'lines[0].debit': more than 4 decimal places (10.12345)",
      `field 'lines[0].credit': expected decimal(18, 4), got string "zero"`,
    ]);
    assert.equal(row.date, null);
    assert.deepEqual(row.lines, [{ account_id: '1000', debit: null, credit: null }]);
    assert.equal(row._mapping_errors, errors.join('; '));
    assert.match(row._doc_ejson as string, /"\$numberDecimal":"10.12345"/);
  });

  it('maps the watermark field leniently when told: anything but a Date is null, with no mapping error', () => {
    const strict = new RowMapper(model.rawTableFor('journal_entries'));
    const lenient = new RowMapper(model.rawTableFor('journal_entries'), { watermarkField: 'updatedAt' });
    const irregular = [
      'yesterday',
      new Double(1.5),
      new Timestamp({ t: 1_700_000_000, i: 1 }),
      new MaxKey(),
      [new Date(0)],
      null,
      undefined,
    ];
    for (const updatedAt of irregular) {
      const doc = asRead({ _id: new ObjectId(), entry_id: 'JE1', updatedAt });
      const { row, errors } = lenient.map(doc, stamp);
      assert.deepEqual(errors, [], `updatedAt ${String(updatedAt)}`);
      assert.equal(row.updated_at, null);
      assert.equal(row._mapping_errors, null);
    }
    const dated = asRead({ _id: new ObjectId(), updatedAt: new Date('2099-01-01T00:00:00Z') });
    assert.equal(
      lenient.map(dated, stamp).row.updated_at,
      4_070_908_800_000_000n,
      'a Date, even in the future, is kept',
    );
    assert.deepEqual(strict.map(asRead({ _id: new ObjectId(), updatedAt: 'yesterday' }), stamp).errors, [
      `field 'updatedAt': expected a Date, got string "yesterday"`,
    ]);
  });

  it('refuses integers that do not fit the column', () => {
    const { errors } = new RowMapper(everyType).map(
      asRead({ _id: 1, i: Long.fromString('3000000000') }),
      stamp,
    );
    assert.deepEqual(errors, [`field 'i': expected a 32-bit integer, got Long 3000000000`]);
  });

  it('reports undeclared fields by path as schema drift', () => {
    const mapper = new RowMapper(model.rawTableFor('journal_entries'));
    mapper.map(
      asRead({ _id: new ObjectId(), currency: 'EUR', lines: [{ account_id: new Int32(1), memo: 'x' }] }),
      stamp,
    );
    mapper.map(
      asRead({ _id: new ObjectId(), lines: [{}, { account_id: new Int32(1), tax_code: 'V' }] }),
      stamp,
    );
    assert.deepEqual([...mapper.undeclaredFields].sort(), ['currency', 'lines[].memo', 'lines[].tax_code']);
  });

  it('writes ObjectId ids as hex and other ids as Extended JSON', () => {
    assert.equal(idText(new ObjectId('68ca9aca193e5d257e046f22')), '68ca9aca193e5d257e046f22');
    assert.equal(idText(new Int32(42)), '{"$numberInt":"42"}');
  });

  it('reads a key listing id from the raw bytes exactly as idText reads the decoded document', () => {
    const ids: unknown[] = [
      new ObjectId('68ca9aca193e5d257e046f22'),
      new ObjectId(),
      'JE1001',
      '',
      new Int32(42),
      Long.fromString('9007199254740993'),
      new Double(1.5),
      Decimal128.fromString('12.30'),
      new Date('2025-06-30T00:00:00Z'),
      new Binary(Buffer.from('ab')),
      { a: new ObjectId('68ca9aca193e5d257e046f22') },
      new MaxKey(),
      new Timestamp({ t: 1, i: 2 }),
    ];
    for (const id of ids) {
      const bytes = BSON.serialize({ _id: id });
      const decoded = BSON.deserialize(bytes, { promoteValues: false });
      assert.equal(rawIdText(bytes), idText(decoded._id), String(id));
    }
    // A view into a larger batch buffer, as the driver hands raw documents out.
    const batch = Buffer.concat([Buffer.from([1, 2, 3]), BSON.serialize({ _id: ids[0] })]);
    assert.equal(rawIdText(batch.subarray(3)), '68ca9aca193e5d257e046f22');
  });
});
