/**
 * Local engine benchmark (`npm run bench:engine`, also run by `npm run bench`).
 * Stages N generated journal entries (default 1,000,000) plus the accounts and
 * close tasks exactly as extraction would, then measures in this process:
 *   - raw append of the run (rows/s),
 *   - curate of the run into empty silver and gold (raw rows/s),
 *   - an incremental run that corrects every entry dated in the last week of the
 *     sample range (about 1% of them, the way month-end corrections cluster):
 *     raw append + curate (entries/s, data files rewritten and position delete files written),
 *   - delete reconciliation: a raw append whose key listing lacks 0.1% of the
 *     entries (a key-only scan of raw against the listing, tombstones appended)
 *     and the curate that removes them;
 *   - a run that reads nothing new (it must commit nothing);
 *   - maintenance, then files and bytes per table after compaction.
 * DuckDB gets the local runner's memory limit. Peak RSS is sampled
 * throughout. Options: --docs N, --json (one JSON object instead of the
 * lines, for `npm run bench -- --json`). With LEDGERLAKE_PROFILE=1 the jobs
 * print each step's wall and CPU time to stderr (lib/local/engine/profile.ts).
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { Decimal128, type Document } from 'mongodb';
import { ParquetStager } from '../lambdas/shared/parquet-stager.ts';
import { RowMapper } from '../lambdas/shared/row-mapper.ts';
import { resolveConfig } from '../lib/config/index.ts';
import { stagingLayout } from '../lib/contracts/index.ts';
import { stagingStore } from '../lib/local/engine/context.ts';
import { curate, type EngineContext, maintain, openTable, rawAppend } from '../lib/local/engine/index.ts';
import { FsCatalog } from '../lib/local/iceberg/catalog.ts';
import { DEFAULT_ENGINE_MEMORY } from '../lib/local/runner/run-pipeline.ts';
import {
  generateAccounts,
  generateCloseTasks,
  generateJournalEntries,
} from '../lib/local/sample-data/index.ts';
import { buildTableModel } from '../lib/model/index.ts';
import { sampleRss } from './peak-rss.ts';

const { values } = parseArgs({
  options: { docs: { type: 'string', default: '1000000' }, json: { type: 'boolean', default: false } },
});
const docs = Number(values.docs);
if (!Number.isInteger(docs) || docs < 1000)
  throw new Error(`--docs must be an integer of at least 1000, got ${values.docs}`);

const rss = sampleRss(100);

const dir = await mkdtemp(join(tmpdir(), 'ledgerlake-bench-engine-'));
const config = resolveConfig();
const engine: EngineContext = {
  config,
  model: buildTableModel(config),
  catalog: new FsCatalog(join(dir, 'warehouse')),
  // DuckDB as the local runner configures it: memory bounded, spilling to disk beyond.
  connection: await (
    await DuckDBInstance.create(':memory:', {
      memory_limit: DEFAULT_ENGINE_MEMORY,
      temp_directory: join(dir, 'engine-spill'),
    })
  ).connect(),
  stagingRoot: join(dir, 'store'),
};

async function stage(
  runId: string,
  collection: string,
  documents: Iterable<Document>,
  ingest: bigint,
): Promise<number> {
  const table = engine.model.rawTableFor(collection);
  const mapper = new RowMapper(table);
  const stager = new ParquetStager({
    table,
    workDir: dir,
    keyFor: (sequence) => stagingLayout.dataFile(config.app, collection, runId, 0, sequence),
    upload: async (path, key) => {
      const target = join(engine.stagingRoot, key);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(path, target);
    },
    fileRows: config.extraction.stagingFileRows,
  });
  let n = 0;
  for (const doc of documents) {
    const flushing = stager.add(mapper.map(doc, { runId, ingestTsMicros: ingest }).row);
    if (flushing !== undefined) await flushing;
    n++;
  }
  await stager.finish();
  return n;
}

/** What Plan and the key-listing chunk write for a run: its plan (curateSince) and, optionally, a key listing. */
async function planRun(runId: string, ingest: bigint, curateSince: bigint | undefined): Promise<void> {
  const iso = (micros: bigint) => new Date(Number(micros / 1000n)).toISOString();
  await stagingStore(engine).putJson(stagingLayout.plan(config.app, runId), {
    runId,
    app: config.app,
    plannedAt: iso(ingest),
    collections: [],
    chunkCount: 0,
    ...(curateSince === undefined ? {} : { curateSince: iso(curateSince) }),
  });
}

async function listKeys(runId: string, collection: string, ingest: bigint, select: string): Promise<number> {
  const key = stagingLayout.keysFile(config.app, collection, runId, 0);
  await mkdir(dirname(join(engine.stagingRoot, key)), { recursive: true });
  await engine.connection.run(`COPY (${select}) TO '${join(engine.stagingRoot, key)}' (FORMAT parquet)`);
  const keys = Number(
    (
      await engine.connection.runAndReadAll(`SELECT count(*) FROM '${join(engine.stagingRoot, key)}'`)
    ).getRows()[0]?.[0],
  );
  await stagingStore(engine).putJson(stagingLayout.keysManifest(config.app, runId, collection), {
    runId,
    collection,
    ingestTs: new Date(Number(ingest / 1000n)).toISOString(),
    keys,
    files: [{ key, rows: keys, bytes: 0 }],
    seconds: 0,
  });
  return keys;
}

const seconds = (start: number) => (performance.now() - start) / 1000;
const rate = (rows: number, s: number) => Math.round(rows / s).toLocaleString('en-US');
const HOUR = 3_600_000_000n;
/** Ingest time of run n: runs an hour apart, the last one now. */
const ingestOf = (run: number) => BigInt(Date.now()) * 1000n - BigInt(4 - run) * HOUR;

try {
  let t = performance.now();
  await planRun('run-1', ingestOf(1), undefined);
  await stage('run-1', 'accounts', generateAccounts(), ingestOf(1));
  await stage('run-1', 'journal_entries', generateJournalEntries({ journalEntries: docs }), ingestOf(1));
  await stage('run-1', 'close_tasks', generateCloseTasks(), ingestOf(1));
  console.error(`staged ${docs.toLocaleString('en-US')} journal entries in ${seconds(t).toFixed(1)} s`);

  t = performance.now();
  const appended = await rawAppend({ runId: 'run-1' }, engine);
  const appendSeconds = seconds(t);
  const rawRows = appended.reduce((sum, r) => sum + r.rows, 0);

  t = performance.now();
  const curated = await curate({ runId: 'run-1' }, engine);
  const curateSeconds = seconds(t);

  // Corrections of the last week's entries: a new description and first-line amount.
  const lastWeek = new Date('2025-12-25T00:00:00Z');
  const edited = (function* () {
    for (const doc of generateJournalEntries({ journalEntries: docs })) {
      if ((doc.date as Date) < lastWeek) continue;
      const lines = (doc.lines as Document[]).map((line, j) =>
        j === 0
          ? { ...line, debit: Decimal128.fromString('1.2345'), credit: Decimal128.fromString('0') }
          : line,
      );
      yield { ...doc, lines, description: `${String(doc.description)} (corrected)`, updatedAt: new Date() };
    }
  })();
  await planRun('run-2', ingestOf(2), ingestOf(1));
  const edits = await stage('run-2', 'journal_entries', edited, ingestOf(2));
  t = performance.now();
  await rawAppend({ runId: 'run-2', collections: ['journal_entries'] }, engine);
  const incremental = await curate({ runId: 'run-2' }, engine);
  const incrementalSeconds = seconds(t);

  // Run 3 reads nothing new, but lists the journal keys without every thousandth entry: deleted in the source.
  await planRun('run-3', ingestOf(3), ingestOf(2));
  const raw = await openTable(engine, engine.model.rawTableFor('journal_entries'));
  const listed = await listKeys(
    'run-3',
    'journal_entries',
    ingestOf(3),
    `SELECT DISTINCT "_id" FROM ${await raw.scanSql()} WHERE hash("_id") % 1000 <> 0`,
  );
  t = performance.now();
  const [reconciled] = await rawAppend({ runId: 'run-3', collections: ['journal_entries'] }, engine);
  const reconcileSeconds = seconds(t);
  t = performance.now();
  const afterDeletes = await curate({ runId: 'run-3' }, engine);
  const deleteCurateSeconds = seconds(t);

  await planRun('run-4', ingestOf(4), ingestOf(3));
  t = performance.now();
  await rawAppend({ runId: 'run-4', collections: ['journal_entries'] }, engine);
  const noop = await curate({ runId: 'run-4' }, engine);
  const noopSeconds = seconds(t);

  t = performance.now();
  const maintenance = await maintain(engine, { nowMs: Date.now() + 31 * 86_400_000 });
  const maintenanceSeconds = seconds(t);

  const round = (n: number) => Number(n.toFixed(2));
  const curatedTables = (results: typeof curated) =>
    Object.fromEntries(
      results.map((r) => [
        r.table.split('.')[1],
        {
          status: r.status,
          filesRewritten: r.filesRewritten,
          deleteFilesWritten: r.deleteFilesWritten,
          filesKept: r.filesKept,
        },
      ]),
    );
  if (values.json) {
    console.log(
      JSON.stringify({
        documents: docs,
        rawAppend: { rows: rawRows, seconds: round(appendSeconds) },
        curateFull: { entries: docs, seconds: round(curateSeconds) },
        curateVsRawAppend: round(curateSeconds / appendSeconds),
        incremental: {
          editedEntries: edits,
          seconds: round(incrementalSeconds),
          tables: curatedTables(incremental),
        },
        deletes: {
          listedKeys: listed,
          tombstones: reconciled?.deletes ?? 0,
          rawAppendSeconds: round(reconcileSeconds),
          curateSeconds: round(deleteCurateSeconds),
        },
        noop: {
          seconds: round(noopSeconds),
          curatedSnapshots: noop.filter((r) => r.status === 'merged').length,
        },
        maintenance: { seconds: round(maintenanceSeconds), tables: maintenance },
        peakRssMiB: rss.peakMiB(),
      }),
    );
  } else {
    console.log(`local engine, ${docs.toLocaleString('en-US')} journal entries`);
    console.log(
      `  raw append      ${rawRows.toLocaleString('en-US')} rows in ${appendSeconds.toFixed(1)} s: ${rate(rawRows, appendSeconds)} rows/s`,
    );
    console.log(
      `  curate (full)   ${docs.toLocaleString('en-US')} entries in ${curateSeconds.toFixed(1)} s: ${rate(docs, curateSeconds)} entries/s; silver lines ${curated.find((r) => r.table.endsWith('.journal_entries_silver'))?.upserted.toLocaleString('en-US')}`,
    );
    console.log(
      `  incremental     ${edits.toLocaleString('en-US')} edited entries, append + curate in ${incrementalSeconds.toFixed(1)} s: ${rate(edits, incrementalSeconds)} entries/s; files rewritten / delete files written / files ${incremental.map((r) => `${r.table.split('.')[1]}=${r.filesRewritten}/${r.deleteFilesWritten}/${r.filesRewritten + r.filesKept}`).join(' ')}`,
    );
    console.log(
      `  deletes         key listing of ${listed.toLocaleString('en-US')} ids against raw: ${reconciled?.deletes.toLocaleString('en-US')} tombstones in ${reconcileSeconds.toFixed(1)} s; curate ${deleteCurateSeconds.toFixed(1)} s (${afterDeletes.map((r) => `${r.table.split('.')[1]} -${r.deleted}`).join(' ')})`,
    );
    console.log(
      `  no-op run       append + curate ${noopSeconds.toFixed(1)} s; curated snapshots committed: ${noop.filter((r) => r.status === 'merged').length}`,
    );
    console.log(`  maintenance     ${maintenanceSeconds.toFixed(1)} s`);
    for (const table of maintenance) {
      console.log(
        `    ${table.table.padEnd(38)} ${String(table.dataFiles).padStart(3)} files ${(table.dataBytes / 1048576).toFixed(1).padStart(8)} MiB  (compacted ${table.filesCompacted} → ${table.filesAfterCompaction}, snapshots kept ${table.snapshots}, expired ${table.expiredSnapshots})`,
      );
    }
    console.log(`  peak RSS        ${rss.peakMiB()} MiB`);
  }
} finally {
  rss.stop();
  await rm(dir, { recursive: true, force: true });
}
