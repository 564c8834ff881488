/**
 * `npm run local`: runs the pipeline on this machine with no AWS account:
 * plan → extract (the Lambda code, in process) → raw append → curate (the
 * local engine's Iceberg jobs) → commit, against MONGO_URI or, by default,
 * the embedded MongoDB server seeded with sample data. The warehouse (staged
 * Parquet and Iceberg tables) and run state live under .local/.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { MongoClient } from 'mongodb';
import { commitRun, type RunSummary } from '../lambdas/commit/commit-run.ts';
import { extractChunk } from '../lambdas/extract/extract-chunk.ts';
import { planRun } from '../lambdas/plan/plan-run.ts';
import { logger } from '../lambdas/shared/logger.ts';
import type { ChunkSpec, PipelineContext } from '../lambdas/shared/pipeline-context.ts';
import { resolveConfig } from '../lib/config/index.ts';
import { curate, type EngineContext, openTable, rawAppend } from '../lib/local/engine/index.ts';
import { FsObjectStore } from '../lib/local/fs-object-store.ts';
import { FsRunStateStore } from '../lib/local/fs-run-state.ts';
import { FsCatalog } from '../lib/local/iceberg/catalog.ts';
import { startMongoServer } from '../lib/local/mongo-server/index.ts';
import { seedDatabase } from '../lib/local/sample-data/index.ts';
import { buildTableModel } from '../lib/model/index.ts';

const USAGE = 'usage: npm run local -- [--json] [--fresh] [--verbose] [--journal-entries N] [--dir PATH]';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
    'journal-entries': { type: 'string', default: '1000' },
    dir: { type: 'string', default: '.local' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const journalEntries = Number(values['journal-entries']);
if (!Number.isInteger(journalEntries) || journalEntries < 0) {
  throw new Error(`--journal-entries must be a non-negative integer, got ${values['journal-entries']}`);
}

const root = values.dir;
if (values.fresh) await rm(root, { recursive: true, force: true });
// The summary is the output; structured logs only with --verbose (they would also break --json).
if (!values.verbose) logger.setLogLevel('WARN');

const config = resolveConfig();
const externalUri = process.env.MONGO_URI;
const server = externalUri ? undefined : await startMongoServer();
const uri: string = externalUri || (server?.uri as string);
if (server !== undefined) {
  const seeding = await new MongoClient(uri).connect();
  await seedDatabase(seeding.db(config.source.database), { journalEntries });
  await seeding.close();
}

const client = await new MongoClient(uri).connect();
const model = buildTableModel(config);
const warehouse = join(root, 'warehouse');
const engine: EngineContext = {
  config,
  model,
  catalog: new FsCatalog(warehouse),
  connection: await (await DuckDBInstance.create(':memory:')).connect(),
  stagingRoot: warehouse,
};
const context: PipelineContext = {
  config,
  model,
  store: new FsObjectStore(join(root, 'warehouse')),
  runState: new FsRunStateStore(join(root, 'state')),
  mongo: async () => client,
};

try {
  // Milliseconds included: two runs in the same second must not share a run id (it would resume the first).
  const runId = `local-${new Date().toISOString().replace(/[-:.]/g, '')}`;
  const plan = await planRun({ runId }, context);
  if (plan.status === 'ALREADY_RUNNING') {
    console.error(
      `another local run (${plan.heldBy}, since ${plan.since}) holds the lease; try again when it ends`,
    );
    process.exitCode = 1;
  } else {
    const chunks = plan.chunks ?? (await context.store.getJson<ChunkSpec[]>(plan.chunksKey)) ?? [];
    for (const chunk of chunks) await extractChunk(chunk, context);
    await rawAppend({ runId }, engine);
    await curate({ runId }, engine);
    const summary = await commitRun({ runId }, context);
    const tables = await describeTables(engine);
    console.log(
      values.json ? JSON.stringify({ ...summary, tables }, null, 2) : describe(summary, tables, warehouse),
    );
  }
} finally {
  await client.close();
  await server?.close();
}

interface TableState {
  readonly rows: number;
  readonly files: number;
  readonly snapshots: number;
}

/** Rows, live data files and snapshots of every table of the model. */
async function describeTables(engine: EngineContext): Promise<Record<string, TableState>> {
  const out: Record<string, TableState> = {};
  for (const table of engine.model.tables) {
    const iceberg = await openTable(engine, table);
    const files = await iceberg.liveEntries();
    out[`${table.database}.${table.name}`] = {
      rows: files.reduce((sum, e) => sum + Number(e.dataFile.recordCount), 0),
      files: files.length,
      snapshots: (await iceberg.load()).metadata.snapshots.length,
    };
  }
  return out;
}

function describe(summary: RunSummary, tables: Record<string, TableState>, warehouse: string): string {
  const lines = [`run ${summary.runId}: Iceberg tables under ${warehouse}/`];
  for (const c of summary.collections) {
    lines.push(
      `  ${c.collection.padEnd(16)} ${String(c.documentsRead).padStart(8)} read  ${String(c.rowsStaged).padStart(8)} staged  ${String(c.quarantined).padStart(5)} quarantined  ${c.files} files  ${(c.bytes / 1024).toFixed(0)} KiB`,
    );
    if (c.undeclaredFields.length > 0)
      lines.push(`    fields not in the model: ${c.undeclaredFields.join(', ')}`);
  }
  for (const [name, state] of Object.entries(tables)) {
    lines.push(
      `  ${name.padEnd(38)} ${String(state.rows).padStart(8)} rows  ${String(state.files).padStart(3)} files  ${state.snapshots} snapshots`,
    );
  }
  return lines.join('\n');
}
