import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAvroFile, encodeAvroFile } from '../../../../lib/local/iceberg/avro.ts';
import { MANIFEST_LIST_SCHEMA } from '../../../../lib/local/iceberg/manifests.ts';

const BIGGEST = (1n << 63n) - 1n;

describe('Avro container files', () => {
  it('round-trips longs beyond 2^53 exactly, negative ones included', () => {
    const schema = { type: 'record', name: 'r', fields: [{ name: 'id', type: 'long', 'field-id': 1 }] };
    const ids = [BIGGEST, -BIGGEST - 1n, 9_007_199_254_740_993n, 0n, -1n];
    const file = decodeAvroFile(
      encodeAvroFile(
        schema,
        ids.map((id) => ({ id })),
        {},
      ),
    );
    assert.deepEqual(
      file.records.map((r) => (r as { id: bigint }).id),
      ids,
    );
  });

  it('keeps the schema exactly as given in the header, field ids and element ids included', () => {
    const file = decodeAvroFile(encodeAvroFile(MANIFEST_LIST_SCHEMA, [], { 'format-version': '2' }));
    assert.deepEqual(file.schema, MANIFEST_LIST_SCHEMA);
    assert.equal(file.metadata.get('format-version'), '2');
    assert.equal(file.metadata.get('avro.codec'), 'deflate');
    assert.match(file.metadata.get('avro.schema') ?? '', /"field-id":508|"element-id":508/);
  });

  it('reads many blocks and refuses what is not an Avro file, naming it', () => {
    const schema = { type: 'record', name: 'r', fields: [{ name: 'n', type: 'int' }] };
    const records = Array.from({ length: 2500 }, (_, n) => ({ n }));
    const decoded = decodeAvroFile(encodeAvroFile(schema, records, {})).records;
    assert.deepEqual(
      decoded.map((r) => ({ ...(r as object) })),
      records,
    );
    assert.throws(
      () => decodeAvroFile(Buffer.from('PAR1'), 'snap-1.avro'),
      /snap-1.avro is not an Avro container file/,
    );
  });
});
