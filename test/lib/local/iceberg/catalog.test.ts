import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveConfig } from '../../../../lib/config/index.ts';
import { CommitConflictError, FsCatalog, type LoadedTable } from '../../../../lib/local/iceberg/catalog.ts';
import { parseJsonWithLongs, stringifyWithLongs } from '../../../../lib/local/iceberg/json-long.ts';
import { newSnapshotId, type Snapshot, withSnapshot } from '../../../../lib/local/iceberg/metadata.ts';
import { buildTableModel } from '../../../../lib/model/index.ts';
import { runPythonJson } from '../../../support/venv-python.ts';

const model = buildTableModel(resolveConfig());
const journal = model.table('journal_entries');

function snapshot(base: LoadedTable, runId: string): Snapshot {
  return {
    'snapshot-id': newSnapshotId(),
    ...(base.metadata['current-snapshot-id'] > 0n
      ? { 'parent-snapshot-id': base.metadata['current-snapshot-id'] }
      : {}),
    'sequence-number': base.metadata['last-sequence-number'] + 1n,
    'timestamp-ms': Date.now(),
    'manifest-list': join(base.location, 'metadata', `snap-${runId}.avro`),
    summary: { operation: 'append', 'ledgerlake.run-id': runId },
    'schema-id': 0,
  };
}

describe('local Iceberg catalog', () => {
  let warehouse: string;
  before(async () => {
    warehouse = await mkdtemp(join(tmpdir(), 'warehouse-'));
  });
  after(() => rm(warehouse, { recursive: true, force: true }));

  it('creates a table from the model in the Hadoop catalog layout, once', async () => {
    const catalog = new FsCatalog(warehouse);
    const created = await catalog.createIfAbsent(journal);
    const again = await catalog.createIfAbsent(journal);
    assert.equal(created.location, join(warehouse, 'raw', 'fq_app', 'journal_entries'));
    assert.equal(again.version, 1);
    assert.deepEqual((await readdir(join(created.location, 'metadata'))).sort(), [
      'v1.metadata.json',
      'version-hint.text',
    ]);
    assert.equal(await readFile(join(created.location, 'metadata', 'version-hint.text'), 'utf8'), '1');
    assert.equal(created.metadata['last-column-id'], 15);
  });

  it('pyiceberg reads the metadata: schema with field ids, partition spec, sort order, properties', async () => {
    const catalog = new FsCatalog(warehouse);
    const table = await catalog.createIfAbsent(journal);
    const seen = await runPythonJson<{
      fields: [string, number][];
      spec: string;
      props: string;
      sort: string;
    }>(
      `
import json, sys
from pyiceberg.table import StaticTable
t = StaticTable.from_metadata(sys.argv[1])
print(json.dumps({
  'fields': [[f.name, f.field_id] for f in t.schema().fields],
  'spec': str(t.spec()),
  'props': t.properties['write.target-file-size-bytes'],
  'sort': str(t.sort_order()),
}))
`,
      [table.metadataFile],
    );
    assert.deepEqual(seen.fields.slice(0, 5), [
      ['_id', 1],
      ['entry_id', 2],
      ['date', 3],
      ['description', 4],
      ['lines', 5],
    ]);
    assert.match(seen.spec, /1000: ingest_ts_day: day\(7\)/);
    assert.equal(seen.props, '536870912');
    assert.match(seen.sort, /^\[\s*1 ASC NULLS FIRST\s*\]$/);
  });

  it('refuses a commit that lost the race and keeps the winner', async () => {
    const catalog = new FsCatalog(warehouse);
    const location = (await catalog.createIfAbsent(model.table('close_tasks'))).location;
    const base = (await catalog.load(location)) as LoadedTable;
    const winner = await catalog.commit(
      base,
      withSnapshot(base.metadata, snapshot(base, 'a'), base.metadataFile),
    );
    await assert.rejects(
      catalog.commit(base, withSnapshot(base.metadata, snapshot(base, 'b'), base.metadataFile)),
      CommitConflictError,
    );
    const current = (await catalog.load(location)) as LoadedTable;
    assert.equal(current.version, winner.version);
    assert.equal(current.metadata.snapshots[0]?.summary['ledgerlake.run-id'], 'a');
  });

  it('concurrent writers both land: the loser retries on the new metadata, no snapshot is lost', async () => {
    const catalog = new FsCatalog(warehouse);
    const location = (await catalog.createIfAbsent(model.table('accounts'))).location;
    const append = (runId: string) =>
      catalog.update(location, async (base) => {
        await new Promise((r) => setTimeout(r, 5));
        return withSnapshot(base.metadata, snapshot(base, runId), base.metadataFile);
      });
    await Promise.all(['w1', 'w2', 'w3', 'w4'].map(append));
    const current = (await catalog.load(location)) as LoadedTable;
    assert.deepEqual(current.metadata.snapshots.map((s) => s.summary['ledgerlake.run-id']).sort(), [
      'w1',
      'w2',
      'w3',
      'w4',
    ]);
    assert.deepEqual(
      current.metadata.snapshots.map((s) => s['sequence-number']),
      [1n, 2n, 3n, 4n],
    );
    // Each snapshot's parent is the one before it: the retries rebuilt on the winner's metadata.
    const ids = current.metadata.snapshots.map((s) => s['snapshot-id']);
    assert.deepEqual(
      current.metadata.snapshots.slice(1).map((s) => s['parent-snapshot-id']),
      ids.slice(0, -1),
    );
  });

  it('ignores leftovers of a crashed commit and finds versions the hint missed', async () => {
    const catalog = new FsCatalog(warehouse);
    const base = await catalog.createIfAbsent(model.table('journal_entries_gold'));
    await writeFile(join(base.location, 'metadata', '.half-written.tmp'), '{"format-version": 2, "tabl');
    const next = withSnapshot(base.metadata, snapshot(base, 'x'), base.metadataFile);
    await writeFile(catalog.metadataFile(base.location, 2), stringifyWithLongs(next));
    const loaded = (await catalog.load(base.location)) as LoadedTable;
    assert.equal(loaded.version, 2, 'version 2 exists although version-hint.text still says 1');
    assert.equal(loaded.metadata.snapshots.length, 1);
  });

  it('keeps 64-bit snapshot ids written by other engines exact', () => {
    const text =
      '{"current-snapshot-id": 8744736658442914487, "snapshots": [{"snapshot-id": 8744736658442914487, "timestamp-ms": 1758646012534}]}';
    const parsed = parseJsonWithLongs<{
      'current-snapshot-id': bigint;
      snapshots: { 'snapshot-id': bigint; 'timestamp-ms': number }[];
    }>(text);
    assert.equal(parsed['current-snapshot-id'], 8744736658442914487n);
    assert.equal(parsed.snapshots[0]?.['timestamp-ms'], 1758646012534);
    assert.equal(stringifyWithLongs(parsed), text.replaceAll(': ', ':').replaceAll(', ', ','));
  });
});
