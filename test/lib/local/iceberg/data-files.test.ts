import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { Decimal128, Int32, ObjectId } from 'mongodb';
import { ParquetStager } from '../../../../lambdas/shared/parquet-stager.ts';
import { RowMapper } from '../../../../lambdas/shared/row-mapper.ts';
import { resolveConfig } from '../../../../lib/config/index.ts';
import { writeDataFile } from '../../../../lib/local/iceberg/data-files.ts';
import { fieldIdsOption } from '../../../../lib/local/iceberg/field-ids-sql.ts';
import { buildTableModel } from '../../../../lib/model/index.ts';
import { runPythonJson } from '../../../support/venv-python.ts';

const table = buildTableModel(resolveConfig()).rawTableFor('journal_entries');
const DAY = 86_400_000_000n;

describe('Iceberg data files written by DuckDB', () => {
  let dir: string;
  let connection: DuckDBConnection;
  let staged: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'data-files-'));
    connection = await (await DuckDBInstance.create(':memory:')).connect();
    // Stage three entries the way extraction does, across two ingest days.
    const mapper = new RowMapper(table);
    const stager = new ParquetStager({
      table,
      workDir: dir,
      keyFor: () => 'staged.parquet',
      upload: (path) => copyFile(path, join(dir, 'staged.parquet')),
      fileRows: 1000,
    });
    const day = 20_354n * DAY; // 2025-09-23
    for (const [i, micros] of [day + 1n, day + 2n, day + DAY].entries()) {
      const doc = {
        _id: new ObjectId(`68ca9aca193e5d257e046f2${i}`),
        entry_id: `JE100${i + 1}`,
        date: new Date(Date.UTC(2025, 4, 31 - i)),
        description: i === 1 ? null : 'Vendor payment',
        lines: [
          {
            account_id: new Int32(1000),
            debit: Decimal128.fromString(`${500 + i}.00`),
            credit: Decimal128.fromString('0'),
          },
        ],
      };
      const flushing = stager.add(mapper.map(doc, { runId: 'run-1', ingestTsMicros: micros }).row);
      if (flushing !== undefined) await flushing;
    }
    await stager.finish();
    staged = join(dir, 'staged.parquet');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('renders every field id of the model, nested ones included', () => {
    assert.match(
      fieldIdsOption(table),
      /^\{'_id': 1, 'entry_id': 2, 'date': 3, 'description': 4, 'lines': \{'__duckdb_field_id': 5, 'element': \{'__duckdb_field_id': 12, 'account_id': 13, 'debit': 14, 'credit': 15\}\}, 'updated_at': 6/,
    );
  });

  it('writes one partition to a file with field ids and reports counts, bounds and the partition value', async () => {
    const path = join(dir, 'day1.parquet');
    const info = await writeDataFile(
      connection,
      table,
      `SELECT * FROM read_parquet('${staged}') WHERE CAST(ingest_ts AT TIME ZONE 'UTC' AS DATE) = DATE '2025-09-23'`,
      path,
    );
    assert.equal(info.recordCount, 2n);
    assert.deepEqual(info.partition, { ingest_ts_day: 20_354 });
    assert.equal(info.nullValueCounts.get(4), 1n, 'description is null once');
    assert.equal(info.valueCounts.get(4), 2n);
    assert.equal(Buffer.from(info.lowerBounds.get(2) as Uint8Array).toString(), 'JE1001');
    assert.equal(Buffer.from(info.upperBounds.get(2) as Uint8Array).toString(), 'JE1002');
    // Long strings keep 16 characters, the upper bound's last one incremented so it still sorts after the value.
    assert.equal(Buffer.from(info.lowerBounds.get(1) as Uint8Array).toString(), '68ca9aca193e5d25');
    assert.equal(Buffer.from(info.upperBounds.get(1) as Uint8Array).toString(), '68ca9aca193e5d26');
    // Dates are little-endian days since 1970: 2025-05-30 is day 20238 (0x4f0e).
    assert.deepEqual([...(info.lowerBounds.get(3) as Uint8Array)], [0x0e, 0x4f, 0, 0]);
    assert.ok(info.fileSizeInBytes > 0n);
    const ids = await runPythonJson<Record<string, string>>(
      `
import json, sys, pyarrow.parquet as pq
s = pq.read_schema(sys.argv[1])
out = {f.name: f.metadata[b'PARQUET:field_id'].decode() for f in s}
el = s.field('lines').type.value_type
out.update({'lines.' + f.name: f.metadata[b'PARQUET:field_id'].decode() for f in el})
out['debit'] = str(pq.read_table(sys.argv[1]).column('lines').to_pylist()[0][0]['debit'])
print(json.dumps(out))
`,
      [path],
    );
    assert.equal(ids._id, '1');
    assert.equal(ids['lines.debit'], '14');
    assert.equal(ids._mapping_errors, '10');
    assert.equal(ids.debit, '500.0000');
  });

  it('refuses a file that would span two partitions', async () => {
    await assert.rejects(
      writeDataFile(connection, table, `SELECT * FROM read_parquet('${staged}')`, join(dir, 'both.parquet')),
      /spans 2 partitions of journal_entries; write one file per partition/,
    );
  });
});
