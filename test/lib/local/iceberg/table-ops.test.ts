import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type EngineContext, openTable } from '../../../../lib/local/engine/index.ts';
import { compact } from '../../../../lib/local/engine/maintenance.ts';
import { writePartitionedFiles, writePositionDeletes } from '../../../../lib/local/iceberg/data-files.ts';
import { type DataFile, FileContent } from '../../../../lib/local/iceberg/manifests.ts';
import {
  currentSchema,
  IcebergTable,
  referencedDataFile,
  scanOver,
} from '../../../../lib/local/iceberg/table-ops.ts';
import { TABLE_PROPERTIES, tableFromSpec } from '../../../../lib/model/build.ts';
import { CLOSE_TASKS_SILVER } from '../../../../lib/model/tables/curated.ts';
import { column, t } from '../../../../lib/model/types.ts';
import { runPythonJson } from '../../../support/venv-python.ts';
import { engineIn, query } from '../engine/engine-fixture.ts';

const TASK = (id: number, due: string) =>
  `SELECT '${String(id).padStart(24, '0')}' AS _id, 'T${id}' AS task_id, 'Task ${id}' AS name, 'Alice' AS assigned_to,
    'Complete' AS status, DATE '${due}' AS due_date, TIMESTAMPTZ '2025-09-25 17:45:13.052109+00' AS ingest_ts,
    CAST(date_trunc('month', DATE '${due}') - INTERVAL 1 MONTH AS DATE) AS period`;

describe('Iceberg table operations', () => {
  let dir: string;
  let engine: EngineContext;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'table-ops-'));
    engine = await engineIn(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const table = () => engine.model.table('close_tasks_silver');
  const write = async (select: string) => {
    const iceberg = await openTable(engine, table());
    return writePartitionedFiles(engine.connection, table(), select, (p) => iceberg.dataFilePath(p));
  };
  const count = async () =>
    (
      await query(
        engine,
        `SELECT count(*)::INT AS n FROM ${await (await openTable(engine, table())).scanSql()}`,
      )
    )[0]?.n;

  it('two writers committing at once: one retries on the new metadata and no snapshot is lost', async () => {
    const iceberg = await openTable(engine, table());
    const [a, b] = [await write(TASK(1, '2025-06-05')), await write(TASK(2, '2024-06-06'))];
    await Promise.all([
      iceberg.commit({ operation: 'append', added: a as never }),
      iceberg.commit({ operation: 'append', added: b as never }),
    ]);
    const { metadata } = await iceberg.load();
    assert.equal(metadata.snapshots.length, 2);
    assert.equal(metadata.snapshots[1]?.['parent-snapshot-id'], metadata.snapshots[0]?.['snapshot-id']);
    assert.equal(metadata.snapshots[1]?.summary['total-records'], '2');
    assert.equal(await count(), 2);
  });

  it('a crash between writing data files and committing leaves the table unchanged and the files removable orphans', async () => {
    const iceberg = await openTable(engine, table());
    const before = (await iceberg.load()).version;
    const written = await write(TASK(3, '2025-06-07')); // then the process "dies": no commit
    assert.equal((await iceberg.load()).version, before);
    assert.equal(await count(), 2);
    const young = await iceberg.removeOrphanFiles(Date.now() - 60_000);
    assert.deepEqual(young, [], 'files younger than the age limit may belong to a commit in flight');
    const removed = await iceberg.removeOrphanFiles(Date.now() + 1);
    // Also gone: the manifest and manifest list of the attempt that lost the race in the test above.
    assert.deepEqual(
      removed.filter((path) => path.endsWith('.parquet')),
      written.map((f) => f.path),
    );
    assert.equal(removed.filter((path) => path.endsWith('.avro')).length, 2);
    assert.equal(await count(), 2);
  });

  it('an overwrite of files another commit already removed fails as stale instead of losing that commit', async () => {
    const iceberg = await openTable(engine, table());
    const live = await iceberg.liveEntries();
    const path = live.find((e) => e.dataFile.partition.due_date_year === 55)?.dataFile.path as string;
    await iceberg.commit({
      operation: 'overwrite',
      added: await write(TASK(1, '2025-06-05')),
      removed: [path],
    });
    await assert.rejects(
      iceberg.commit({ operation: 'overwrite', added: [], removed: [path] }),
      /is stale: 1 file\(s\) it replaces were removed by another commit/,
    );
    assert.equal(await count(), 2);
  });

  it('a scan tells DuckDB the row count its manifests hold, not a guess from the number of files', async () => {
    const iceberg = await openTable(engine, table());
    assert.equal((await iceberg.liveEntries()).length, 2);
    const [plan] = await query(engine, `EXPLAIN SELECT * FROM ${await iceberg.scanSql()}`);
    // Without it the planner assumes a thousand rows a file, and builds joins' hash tables on large tables.
    assert.match(String(plan?.explain_value), /~2 rows/);
  });

  it('schema evolution: a column the model gained is added, old files read it as NULL, new files carry it', async () => {
    const grown = tableFromSpec(
      {
        ...CLOSE_TASKS_SILVER,
        columns: [...CLOSE_TASKS_SILVER.columns, column('priority', t.int(), 'Urgency, 1 is highest')],
      },
      engine.config,
    );
    const iceberg = await openTable(engine, grown);
    const { metadata } = await iceberg.load();
    assert.equal(metadata['current-schema-id'], 1);
    assert.equal(metadata['last-column-id'], 9, 'eight columns (period included), then priority');
    const files = await writePartitionedFiles(
      engine.connection,
      grown,
      `SELECT *, 1 AS priority FROM (${TASK(4, '2025-06-08')})`,
      (p) => iceberg.dataFilePath(p),
    );
    await iceberg.commit({ operation: 'append', added: files });
    const rows = await query(
      engine,
      `SELECT task_id, priority FROM ${await iceberg.scanSql()} ORDER BY task_id`,
    );
    assert.deepEqual(rows, [
      { task_id: 'T1', priority: null },
      { task_id: 'T2', priority: null },
      { task_id: 'T4', priority: 1 },
    ]);
    const renamed = tableFromSpec(
      { ...CLOSE_TASKS_SILVER, columns: [...CLOSE_TASKS_SILVER.columns, column('urgency', t.string(), 'x')] },
      engine.config,
    );
    await assert.rejects(
      openTable(engine, renamed),
      /table close_tasks_silver: column 'priority' \(int\) is in the table but no longer in the model/,
    );
  });

  it('old metadata files beyond write.metadata.previous-versions-max are deleted after a commit', async () => {
    // Another table: the test before added a column to close_tasks_silver, which its model now lacks.
    const iceberg = await openTable(engine, engine.model.table('data_quality_issues'));
    for (let i = 0; i < 6; i++) await iceberg.commit({ operation: 'append', added: [] });
    const versions = (await readdir(join(iceberg.location, 'metadata'))).filter((n) =>
      /^v\d+\.metadata\.json$/.test(n),
    );
    assert.equal(versions.length, 6, 'the current version and the 5 before it');
  });
});

describe('position deletes (merge-on-read)', () => {
  let dir: string;
  let engine: EngineContext;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'table-ops-deletes-'));
    engine = await engineIn(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const table = () => engine.model.table('close_tasks_silver');
  const taskIds = async (iceberg: IcebergTable, selector = {}) =>
    (await query(engine, `SELECT task_id FROM ${await iceberg.scanSql(selector)} ORDER BY task_id`)).map(
      (r) => String(r.task_id),
    );

  it("a curated table created copy-on-write gets the model's merge-on-read properties when a job opens it", async () => {
    const model = engine.model.table('accounts_silver');
    await engine.catalog.createIfAbsent({ ...model, properties: TABLE_PROPERTIES });
    const before = await new IcebergTable(engine.catalog, engine.catalog.locationOf(model)).load();
    assert.equal(before.metadata.properties['write.merge.mode'], undefined);
    const opened = await (await openTable(engine, model)).load();
    assert.deepEqual(
      ['write.merge.mode', 'write.update.mode', 'write.delete.mode'].map(
        (k) => opened.metadata.properties[k],
      ),
      ['merge-on-read', 'merge-on-read', 'merge-on-read'],
    );
    assert.equal(opened.version, before.version + 1);
    assert.equal((await (await openTable(engine, model)).load()).version, opened.version, 'set once');
  });

  it('a scan leaves out the rows they name; removing the data file takes them along; expiry deletes both files', async () => {
    const iceberg = await openTable(engine, table());
    const rows = [1, 2, 3, 4].map((id) => TASK(id, '2025-06-05')).join(' UNION ALL ');
    const added = await writePartitionedFiles(engine.connection, table(), rows, (p) =>
      iceberg.dataFilePath(p),
    );
    assert.equal(added.length, 1);
    await iceberg.commit({ operation: 'append', added });
    const appended = (await iceberg.load()).metadata['current-snapshot-id'];
    const data = await iceberg.liveEntries();
    await engine.connection.run(
      `CREATE OR REPLACE TEMP TABLE doomed AS SELECT f.__ll_file, f.__ll_pos FROM ${scanOver({ data, deletes: [] }, currentSchema((await iceberg.load()).metadata), true)} f WHERE task_id IN ('T2', 'T4')`,
    );
    const deletes = await writePositionDeletes(engine.connection, 'doomed', data);
    assert.equal(deletes.length, 1);
    assert.equal(referencedDataFile(deletes[0] as DataFile), data[0]?.dataFile.path);
    await iceberg.commit({ operation: 'overwrite', added: [], addedDeletes: deletes });
    assert.deepEqual(await taskIds(iceberg), ['T1', 'T3']);
    assert.deepEqual(await taskIds(iceberg, { snapshotId: appended }), ['T1', 'T2', 'T3', 'T4']);
    assert.deepEqual(
      { ...(await iceberg.stats()), bytes: 0n, currentSnapshotId: null },
      { rows: 2n, files: 1, deleteFiles: 1, bytes: 0n, snapshots: 2, currentSnapshotId: null },
    );
    const pyiceberg = await runPythonJson<number>(
      `
import json, os, sys
from pyiceberg.table import StaticTable
hint = open(os.path.join(sys.argv[1], "metadata", "version-hint.text")).read().strip()
table = StaticTable.from_metadata(os.path.join(sys.argv[1], "metadata", f"v{hint}.metadata.json"))
print(json.dumps(table.scan().to_arrow().num_rows))
`,
      [iceberg.location],
    );
    assert.equal(pyiceberg, 2, 'pyiceberg applies the position delete file');

    const replacement = await writePartitionedFiles(engine.connection, table(), TASK(5, '2025-06-05'), (p) =>
      iceberg.dataFilePath(p),
    );
    await iceberg.commit({
      operation: 'overwrite',
      added: replacement,
      removed: [data[0]?.dataFile.path as string],
    });
    assert.deepEqual(await taskIds(iceberg), ['T5']);
    const summary = (await iceberg.history()).at(-1)?.summary ?? {};
    assert.deepEqual(
      [
        summary['removed-position-delete-files'],
        summary['total-delete-files'],
        summary['total-position-deletes'],
      ],
      ['1', '0', '0'],
    );
    assert.equal((await iceberg.stats()).deleteFiles, 0);
    // As maintenance does: manifests rewritten (dropping the removed entries), then snapshots expired.
    await iceberg.rewriteManifests();
    const expired = await iceberg.expireSnapshots({ olderThanMs: Date.now() + 1, retainLast: 1 });
    assert.equal(expired.expiredSnapshots, 3);
    const left = await readdir(join(iceberg.location, 'data'), { recursive: true });
    assert.deepEqual(
      left.filter((f) => f.endsWith('.parquet')).map((f) => join(iceberg.location, 'data', f)),
      replacement.map((f) => f.path),
      'the replaced data file and its delete file are gone from disk',
    );
  });

  it("another writer's delete file naming rows of two data files: applied by a scan, removed by compaction once both are rewritten", async () => {
    const iceberg = await openTable(engine, table());
    const first = await writePartitionedFiles(
      engine.connection,
      table(),
      `${TASK(11, '2023-03-01')} UNION ALL ${TASK(12, '2023-03-02')}`,
      (p) => iceberg.dataFilePath(p),
    );
    const second = await writePartitionedFiles(
      engine.connection,
      table(),
      `${TASK(13, '2023-03-03')} UNION ALL ${TASK(14, '2023-03-04')}`,
      (p) => iceberg.dataFilePath(p),
    );
    await iceberg.commit({ operation: 'append', added: [...first, ...second] });
    const [a, b] = [first[0] as DataFile, second[0] as DataFile];
    // As Spark writes one delete file per partition: `file:` URIs, no single file in its bounds.
    const path = join(dirname(a.path), 'spark-style-deletes.parquet');
    await engine.connection.run(
      `COPY (SELECT * FROM (VALUES ('file:${a.path}', 1::BIGINT), ('file:${b.path}', 0::BIGINT)) v(file_path, pos) ORDER BY ALL)
       TO '${path}' (FORMAT PARQUET, FIELD_IDS {file_path: 2147483546, pos: 2147483545})`,
    );
    const deletes: DataFile = {
      path,
      content: FileContent.PositionDeletes,
      recordCount: 2n,
      fileSizeInBytes: BigInt((await stat(path)).size),
      partition: a.partition,
      valueCounts: new Map(),
      nullValueCounts: new Map(),
      lowerBounds: new Map(),
      upperBounds: new Map(),
    };
    assert.equal(referencedDataFile(deletes), undefined);
    await iceberg.commit({ operation: 'overwrite', added: [], addedDeletes: [deletes] });
    const year2023 = async () =>
      (await taskIds(iceberg)).filter((id) => ['T11', 'T12', 'T13', 'T14'].includes(id));
    assert.deepEqual(await year2023(), ['T11', 'T14']);
    const compacted = await compact(engine, iceberg, table());
    assert.equal(compacted.before, 2);
    assert.deepEqual(await year2023(), ['T11', 'T14']);
    const { deletes: left } = await iceberg.liveFiles();
    assert.deepEqual(
      left.map((e) => e.dataFile.path),
      [],
      'the delete file names no live data file once its partition is rewritten',
    );
  });
});
