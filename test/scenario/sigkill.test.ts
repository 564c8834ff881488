import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, MongoClient } from 'mongodb';
import { logger } from '../../lambdas/shared/logger.ts';
import { resolveConfig } from '../../lib/config/index.ts';
import { FsCatalog } from '../../lib/local/iceberg/catalog.ts';
import { type RunningMongoServer, startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { runLocalPipeline } from '../../lib/local/runner/run-pipeline.ts';
import { seedDatabase } from '../../lib/local/sample-data/index.ts';
import { buildTableModel } from '../../lib/model/index.ts';
import { History } from './histories.ts';
import { CURATED_TABLE_NAMES, expectedTables, readSourceDocuments } from './oracle.ts';
import { diffTables, duplicateKeys, readCuratedTables } from './tables.ts';

logger.setLogLevel('CRITICAL');

const repoRoot = join(import.meta.dirname, '..', '..');
/** What `npm run local` uses: the default configuration (database fq_app, one chunk per collection). */
const config = resolveConfig();
const model = buildTableModel(config);
/**
 * Large enough that the journal chunk is still being extracted when the small accounts and close
 * task chunks are done. Every chunk pays the same start-up (about 0.7 s here), so up to about
 * 5,000 entries all three finish within a few milliseconds of each other.
 */
const SCALE = 20_000;
const POLL_MS = 2;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run local -- --json --dir <dir> --name <runId>` against MONGO_URI, as a child process. */
function startLocal(
  dir: string,
  runId: string,
  mongoUri: string,
): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/local.ts', '--json', '--dir', dir, '--name', runId],
    { cwd: repoRoot, env: { ...process.env, MONGO_URI: mongoUri }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exit };
}

/** Runs the CLI to its end; fails with its output unless it succeeded. */
async function runLocal(dir: string, runId: string, mongoUri: string): Promise<void> {
  const { exit } = startLocal(dir, runId, mongoUri);
  const result = await exit;
  if (result.code !== 0) {
    assert.fail(
      `npm run local --name ${runId} exited with ${result.code ?? result.signal}:\n${result.stderr}${result.stdout}`,
    );
  }
}

/**
 * Starts the CLI and SIGKILLs it as soon as `ready()` is true. Fails when the
 * run ended first (the kill came too late to prove anything).
 */
async function killWhen(
  dir: string,
  runId: string,
  mongoUri: string,
  ready: () => Promise<boolean> | boolean,
): Promise<void> {
  const { child, exit } = startLocal(dir, runId, mongoUri);
  let ended: Exit | undefined;
  void exit.then((result) => {
    ended = result;
  });
  while (ended === undefined && !(await ready())) await sleep(POLL_MS);
  if (ended !== undefined) {
    assert.fail(
      `the run ended (${ended.code ?? ended.signal}) before the kill point:\n${ended.stderr}${ended.stdout}`,
    );
  }
  child.kill('SIGKILL');
  const result = await exit;
  assert.equal(result.signal, 'SIGKILL', `the run was killed, not ended: ${result.stderr}`);
}

function runFolder(dir: string, runId: string): string {
  return join(dir, 'warehouse', 'staging', config.app, '_runs', `run=${runId}`);
}

async function chunkManifests(dir: string, runId: string): Promise<string[]> {
  try {
    return (await readdir(join(runFolder(dir, runId), 'chunks'))).filter((f) => f.endsWith('.json'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** The next metadata file of every curated table: one of them appearing means curate has committed a table. */
async function nextCuratedMetadataFiles(dir: string): Promise<string[]> {
  const catalog = new FsCatalog(join(dir, 'warehouse'));
  const files: string[] = [];
  for (const name of CURATED_TABLE_NAMES) {
    const location = catalog.locationOf(model.table(name));
    const loaded = await catalog.load(location);
    const version = loaded === undefined ? 0 : await currentVersion(location);
    files.push(join(location, 'metadata', `v${version + 1}.metadata.json`));
  }
  return files;
}

async function currentVersion(location: string): Promise<number> {
  const names = await readdir(join(location, 'metadata'));
  return Math.max(0, ...names.map((n) => /^v(\d+)\.metadata\.json$/.exec(n)?.[1]).map((v) => Number(v ?? 0)));
}

async function plannedAt(dir: string, runId: string): Promise<Date> {
  const plan = JSON.parse(await readFile(join(runFolder(dir, runId), 'plan.json'), 'utf8')) as {
    plannedAt: string;
  };
  return new Date(plan.plannedAt);
}

/** Oracle and duplicate-key problems of the tables in `dir` after run `runId`. */
async function problems(dir: string, db: Db, runId: string): Promise<string[]> {
  const actual = await readCuratedTables(dir, config);
  const expected = expectedTables(await readSourceDocuments(db), await plannedAt(dir, runId), config);
  return diffTables(expected, actual);
}

describe('npm run local killed with SIGKILL during extract and during curate: the next run gives the books of the source', () => {
  let server: RunningMongoServer;
  let client: MongoClient;
  let db: Db;
  let dir: string;
  const folders: string[] = [];

  before(async () => {
    server = await startMongoServer();
    client = await new MongoClient(server.uri).connect();
    db = client.db(config.source.database);
    await seedDatabase(db, { journalEntries: SCALE, closeTasks: 24 });
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-sigkill-'));
    folders.push(dir);
  });
  after(async () => {
    await client?.close();
    await server?.close();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('killed during extract, after the first chunk finished: the next run takes over and gives the books of the source', async (t) => {
    let chunksAtKill: string[] = [];
    await killWhen(dir, 'killed-in-extract', server.uri, async () => {
      chunksAtKill = await chunkManifests(dir, 'killed-in-extract');
      return chunksAtKill.length > 0;
    });
    t.diagnostic(`chunks done at the kill: ${chunksAtKill.join(', ')}`);
    assert.ok(
      chunksAtKill.length < config.collections.length,
      `killed while extracting: chunks done at the kill ${chunksAtKill.join(', ')}`,
    );
    await runLocal(dir, 'after-extract-kill', server.uri);
    const found = await problems(dir, db, 'after-extract-kill');
    assert.deepEqual(found, [], found.join('\n'));
  });

  it('killed during curate, between two table commits: the next run gives the books of the source and of a clean run', async (t) => {
    const history = new History(db, { seed: 21, money: 'decimal128' });
    await history.round(25);
    await history.touchMany(500);
    const watched = await nextCuratedMetadataFiles(dir);
    await killWhen(dir, 'killed-in-curate', server.uri, () => watched.some((file) => existsSync(file)));
    assert.ok(
      !existsSync(join(runFolder(dir, 'killed-in-curate'), 'summary.json')),
      'killed before the commit wrote the run summary',
    );
    const committedAtKill = watched.filter((file) => existsSync(file)).length;
    t.diagnostic(`curated tables committed at the kill: ${committedAtKill} of ${watched.length}`);
    assert.ok(
      committedAtKill < watched.length,
      `killed before curate committed every table (${committedAtKill})`,
    );

    await runLocal(dir, 'after-curate-kill', server.uri);
    const found = await problems(dir, db, 'after-curate-kill');
    const tables = await readCuratedTables(dir, config);
    for (const name of ['journal_entries_silver', 'close_tasks_silver', 'journal_entries_gold'] as const) {
      found.push(...duplicateKeys(name, tables[name]).map((key) => `${name}: duplicate key ${key}`));
    }
    const clean = await mkdtemp(join(tmpdir(), 'ledgerlake-sigkill-clean-'));
    folders.push(clean);
    await runLocalPipeline({ dir: clean, scale: 1, mongoUri: server.uri, config });
    found.push(...diffTables(await readCuratedTables(clean, config), tables, 'the recovered tables'));
    assert.deepEqual(found, [], found.join('\n'));
  });
});
