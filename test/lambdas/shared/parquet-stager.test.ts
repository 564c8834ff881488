import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { ParquetStager } from '../../../lambdas/shared/parquet-stager.ts';
import type { RawRow } from '../../../lambdas/shared/row-mapper.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { buildTableModel } from '../../../lib/model/index.ts';
import { runPythonJson } from '../../support/venv-python.ts';

const table = buildTableModel(resolveConfig()).rawTableFor('journal_entries');

function row(i: number): RawRow {
  return {
    _id: i.toString(16).padStart(24, '0'),
    entry_id: `JE${1000 + i}`,
    date: 20_239 + (i % 400),
    description: i % 10 === 0 ? null : `entry ${i}`,
    lines:
      i % 7 === 0
        ? []
        : [
            { account_id: '1000', debit: BigInt(i) * 12_345n, credit: 0n },
            { account_id: '2000', debit: 0n, credit: BigInt(i) * 12_345n },
          ],
    updated_at: 1_748_772_000_123_000n + BigInt(i),
    ingest_ts: 1_758_646_012_534_674n,
    _run_id: 'run-1',
    _doc_ejson: `{"i":${i}}`,
    _mapping_errors: null,
    _op: 'upsert',
  };
}

describe('Parquet staging', () => {
  let dir: string;
  const uploaded: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stager-'));
    await mkdir(join(dir, 'out'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('splits rows into files of at most fileRows, in order, with deterministic keys', async () => {
    const stager = new ParquetStager({
      table,
      workDir: dir,
      keyFor: (n) => `part-${n}.parquet`,
      upload: async (path, key) => {
        uploaded.push(key);
        await copyFile(path, join(dir, 'out', key));
      },
      fileRows: 10_000,
      rowGroupRows: 3_000,
      opaqueColumns: ['_doc_ejson'],
    });
    for (let i = 0; i < 25_000; i++) await stager.add(row(i));
    const files = await stager.finish();
    assert.deepEqual(
      files.map((f) => [f.key, f.rows]),
      [
        ['part-0.parquet', 10_000],
        ['part-1.parquet', 10_000],
        ['part-2.parquet', 5_000],
      ],
    );
    assert.deepEqual(uploaded, ['part-0.parquet', 'part-1.parquet', 'part-2.parquet']);

    const bytes = await readFile(join(dir, 'out', 'part-1.parquet'));
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const metadata = parquetMetadata(file);
    assert.deepEqual(
      metadata.row_groups.map((g) => Number(g.num_rows)),
      [3_000, 3_000, 3_000, 1_000],
    );
    const chunkOf = (name: string) =>
      metadata.row_groups[0]?.columns.find((c) => c.meta_data?.path_in_schema.join('.') === name)?.meta_data;
    assert.ok(chunkOf('_doc_ejson') !== undefined && chunkOf('entry_id') !== undefined);
    assert.equal(chunkOf('_doc_ejson')?.statistics, undefined, 'no min/max for the document blob');
    assert.ok(!chunkOf('_doc_ejson')?.encodings.includes('RLE_DICTIONARY'));
    assert.ok(chunkOf('entry_id')?.statistics !== undefined);
    const rows = await parquetReadObjects({ file, rowStart: 0, rowEnd: 2 });
    assert.equal(rows[0]?.entry_id, 'JE11000');
  });

  it('writes files that Arrow and DuckDB read with exact decimals, dates and field ids', async () => {
    const result = await runPythonJson<{
      ids: Record<string, string>;
      first: unknown[];
      sum: string;
      rows: number;
      empty: number;
    }>(
      `
import json, sys, duckdb, pyarrow.parquet as pq
path = sys.argv[1]
schema = pq.read_schema(path)
ids = {f.name: f.metadata[b'PARQUET:field_id'].decode() for f in schema}
element = schema.field('lines').type.value_type
ids.update({'lines.' + f.name: f.metadata[b'PARQUET:field_id'].decode() for f in element})
con = duckdb.connect()
first = con.execute("select entry_id, cast(date as varchar), description, cast(lines[1].debit as varchar) from read_parquet(?) where entry_id = 'JE1010'", [path]).fetchone()
total = con.execute("select cast(sum(l.debit) as varchar) from (select unnest(lines) as l from read_parquet(?))", [path]).fetchone()[0]
rows = con.execute("select count(*) from read_parquet(?)", [path]).fetchone()[0]
empty = con.execute("select count(*) from read_parquet(?) where len(lines) = 0", [path]).fetchone()[0]
print(json.dumps({'ids': ids, 'first': list(first), 'sum': total, 'rows': rows, 'empty': empty}))
`,
      [join(dir, 'out', 'part-0.parquet')],
    );
    // The ids the model assigned, so readers resolve columns by id.
    const lines = table.fields.find((f) => f.name === 'lines');
    const element = lines?.type.kind === 'list' ? lines.type.element : undefined;
    const debit = element?.kind === 'struct' ? element.fields.find((f) => f.name === 'debit') : undefined;
    assert.equal(result.ids._id, String(table.fields.find((f) => f.name === '_id')?.id));
    assert.equal(result.ids.lines, String(lines?.id));
    assert.equal(result.ids['lines.debit'], String(debit?.id));
    assert.ok(debit !== undefined);
    assert.deepEqual(result.first, ['JE1010', '2025-06-10', null, '12.3450']);
    // sum over i in [0, 10000) not divisible by 7 of i * 1.2345
    let expected = 0n;
    for (let i = 0; i < 10_000; i++) if (i % 7 !== 0) expected += BigInt(i) * 12_345n;
    assert.equal(result.sum, `${expected / 10_000n}.${(expected % 10_000n).toString().padStart(4, '0')}`);
    assert.equal(result.rows, 10_000);
    assert.equal(result.empty, 1429);
  });
});
