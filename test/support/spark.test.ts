import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runSpark } from './spark.ts';
import { runPythonJson } from './venv-python.ts';

interface SmokeRow {
  doc_id: string;
  amount: string;
  lines: { account_id: string; debit: string | null }[];
  ingest_ts: string;
}

interface SparkResult {
  current: SmokeRow[];
  firstSnapshot: SmokeRow[];
  snapshots: { snapshot_id: string; parent_id: string | null; operation: string; added_records: string }[];
  files: { day: string; record_count: number }[];
}

interface PyicebergResult {
  current: SmokeRow[];
  firstSnapshot: SmokeRow[];
  currentSnapshotId: string;
}

// 12345678901234.5678 is the largest decimal(18,4) shape and not a double:
// any float on the way would change its last digits.
const FIRST_INSERT: SmokeRow[] = [
  {
    doc_id: 'je-1',
    amount: '12345678901234.5678',
    lines: [
      { account_id: '1000', debit: '12345678901234.5678' },
      { account_id: '2000', debit: null },
    ],
    ingest_ts: '2024-05-01T23:59:59.999999+00:00',
  },
  { doc_id: 'je-2', amount: '0.0001', lines: [], ingest_ts: '2024-05-02T00:00:00+00:00' },
];
const SECOND_INSERT: SmokeRow[] = [
  {
    doc_id: 'je-3',
    amount: '-42.1000',
    lines: [{ account_id: '3000', debit: '0.0000' }],
    ingest_ts: '2024-05-02T08:30:00+00:00',
  },
];

const SPARK_SCRIPT = `
table = "local.fq_app_raw.smoke"
spark.sql("CREATE NAMESPACE IF NOT EXISTS local.fq_app_raw")
spark.sql(f"""
  CREATE TABLE {table} (
    doc_id string,
    amount decimal(18,4),
    lines array<struct<account_id: string, debit: decimal(18,4)>>,
    ingest_ts timestamp)
  USING iceberg
  PARTITIONED BY (days(ingest_ts))
  TBLPROPERTIES ('format-version' = '2')""")
spark.sql(f"""
  INSERT INTO {table} VALUES
    ('je-1', 12345678901234.5678,
     array(named_struct('account_id', '1000', 'debit', 12345678901234.5678),
           named_struct('account_id', '2000', 'debit', CAST(NULL AS decimal(18,4)))),
     TIMESTAMP '2024-05-01 23:59:59.999999'),
    ('je-2', 0.0001, array(), TIMESTAMP '2024-05-02 00:00:00')""")
spark.sql(f"""
  INSERT INTO {table} VALUES
    ('je-3', -42.1, array(named_struct('account_id', '3000', 'debit', 0)), TIMESTAMP '2024-05-02 08:30:00')""")
snapshots = rows(f"""
  SELECT CAST(snapshot_id AS STRING) AS snapshot_id, CAST(parent_id AS STRING) AS parent_id,
         operation, summary['added-records'] AS added_records
  FROM {table}.snapshots ORDER BY committed_at""")
first_id = snapshots[0]["snapshot_id"]
emit({
    "current": rows(f"SELECT * FROM {table} ORDER BY doc_id"),
    "firstSnapshot": rows(f"SELECT * FROM {table} VERSION AS OF {first_id} ORDER BY doc_id"),
    "snapshots": snapshots,
    "files": rows(f"""
      SELECT partition.ingest_ts_day AS day, record_count FROM {table}.files ORDER BY day"""),
})
`;

const PYICEBERG_SCRIPT = `
import json, sys
from decimal import Decimal
from pyiceberg.table import StaticTable

def plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(repr(value))

def read(scan):
    return sorted(scan.to_arrow().to_pylist(), key=lambda row: row["doc_id"])

table = StaticTable.from_metadata(sys.argv[1])
print(json.dumps({
    "current": read(table.scan()),
    "firstSnapshot": read(table.scan(snapshot_id=int(sys.argv[2]))),
    "currentSnapshotId": str(table.current_snapshot().snapshot_id),
}, default=plain))
`;

describe('Spark with Iceberg 1.0 (the Glue 4.0 pair)', { timeout: 300_000 }, () => {
  let warehouse: string;
  let spark: SparkResult;
  const tableDir = () => join(warehouse, 'fq_app_raw', 'smoke');

  before(async () => {
    warehouse = await mkdtemp(join(tmpdir(), 'ledgerlake-spark-warehouse-'));
    spark = await runSpark<SparkResult>(SPARK_SCRIPT, { warehouse });
  });

  after(async () => {
    if (warehouse !== undefined) await rm(warehouse, { recursive: true, force: true });
  });

  it('reads back both inserts with exact decimals, nested lists and UTC timestamps', () => {
    assert.deepEqual(spark.current, [...FIRST_INSERT, ...SECOND_INSERT]);
  });

  it('time-travels to the first snapshot with VERSION AS OF', () => {
    assert.deepEqual(spark.firstSnapshot, FIRST_INSERT);
  });

  it('lists one append snapshot per insert, the second child of the first', () => {
    const [first, second] = spark.snapshots;
    assert.equal(spark.snapshots.length, 2);
    assert.match(first?.snapshot_id ?? '', /^\d+$/);
    assert.match(second?.snapshot_id ?? '', /^\d+$/);
    assert.deepEqual(
      spark.snapshots.map(({ parent_id, operation, added_records }) => ({
        parent_id,
        operation,
        added_records,
      })),
      [
        { parent_id: null, operation: 'append', added_records: '2' },
        { parent_id: first?.snapshot_id, operation: 'append', added_records: '1' },
      ],
    );
  });

  it('writes one data file per UTC day per insert', () => {
    assert.deepEqual(spark.files, [
      { day: '2024-05-01', record_count: 1 },
      { day: '2024-05-02', record_count: 1 },
      { day: '2024-05-02', record_count: 1 },
    ]);
  });

  it('lays out metadata as the Hadoop catalog does: vN.metadata.json, version-hint.text, snap-*.avro, *-mN.avro', async () => {
    const names = (await readdir(join(tableDir(), 'metadata'))).filter((name) => !name.endsWith('.crc'));
    const ids = spark.snapshots.map((snapshot) => snapshot.snapshot_id);

    assert.deepEqual(names.filter((name) => name.endsWith('.metadata.json')).sort(), [
      'v1.metadata.json',
      'v2.metadata.json',
      'v3.metadata.json',
    ]);
    assert.equal((await readFile(join(tableDir(), 'metadata', 'version-hint.text'), 'utf8')).trim(), '3');
    const manifestLists = names.filter((name) => name.startsWith('snap-'));
    assert.deepEqual(
      manifestLists.map((name) => /^snap-(\d+)-1-[0-9a-f-]{36}\.avro$/.exec(name)?.[1]).sort(),
      [...ids].sort(),
    );
    assert.equal(names.filter((name) => /^[0-9a-f-]{36}-m0\.avro$/.test(name)).length, 2);
    assert.equal(names.length, 3 + 1 + 2 + 2, `unexpected files: ${names.join(', ')}`);
    const metadata = JSON.parse(await readFile(join(tableDir(), 'metadata', 'v3.metadata.json'), 'utf8'));
    assert.equal(metadata['format-version'], 2);
  });

  it('pyiceberg reads the same rows from the latest metadata file, now and at the first snapshot', async () => {
    const hint = (await readFile(join(tableDir(), 'metadata', 'version-hint.text'), 'utf8')).trim();
    const metadataFile = join(tableDir(), 'metadata', `v${hint}.metadata.json`);
    const firstId = spark.snapshots[0]?.snapshot_id ?? assert.fail('no snapshots');

    const read = await runPythonJson<PyicebergResult>(PYICEBERG_SCRIPT, [metadataFile, firstId]);

    assert.deepEqual(read.current, [...FIRST_INSERT, ...SECOND_INSERT]);
    assert.deepEqual(read.firstSnapshot, FIRST_INSERT);
    assert.equal(read.currentSnapshotId, spark.snapshots[1]?.snapshot_id);
  });
});
