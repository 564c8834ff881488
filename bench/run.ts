/**
 * The benchmark (`npm run bench`; `npm run bench -- --json` prints one JSON
 * object). Every figure is measured in this run, each in its own process so
 * its peak RSS is its own, and each target is a ratio of two figures of the
 * same run (the machine is noisy; ratios travel better than seconds):
 *
 *   extraction  the bare driver cursor over N journal entries (the ceiling),
 *               extractChunk over the same N as one chunk and over N/10
 *               (memory must not grow with chunk size), planRun, and the key
 *               listing of delete detection; on the embedded server and, where
 *               installed (`npm run setup:ferretdb`), on FerretDB
 *   pipeline    `npm run local` at N: a full run and an incremental run after a
 *               1% change (`--mutate N/100`), each pair on its own copy of one
 *               seeded source, --pipeline-runs times (the medians are the
 *               figures; a run on this machine varies by 10-30%), then a
 *               run of 1% new entries and a run that reads nothing
 *   synthesis   the state machine synthesized from the CDK app, and read back
 *               from the synthesis cache
 *   engine      the local engine's jobs at N (bench/engine.ts)
 *   glue        the generated Glue scripts on PySpark (Glue 4.0's versions) for
 *               a full load and a 1% delta at --spark-docs, where Spark is set
 *               up (`npm run setup:spark`): the durations the cost model uses
 *
 * Options: --docs N (default 1,000,000), --ferretdb-docs N (default the
 * smaller of N and 100,000: FerretDB on SQLite answers each range query by
 * scanning and sorting the whole collection, about 100 s at 1,000,000),
 * --spark-docs N (default 10,000), --pipeline-runs K (default 3),
 * --skip ferretdb,spark,engine,... (sections to leave out), --json.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { type Document, Double, MongoClient } from 'mongodb';
import { resolveConfig } from '../lib/config/index.ts';
import { startMongoServer } from '../lib/local/mongo-server/index.ts';
import { generateJournalEntries } from '../lib/local/sample-data/index.ts';
import { startFerretdb } from '../test/support/service-processes.ts';
import { costModel } from './cost-model.ts';
import { describeReport, medianRun, type PipelineMeasurement, type Results, targetsOf } from './targets.ts';

const run = promisify(execFile);
const SECTIONS = ['extraction', 'ferretdb', 'pipeline', 'synthesis', 'engine', 'spark'] as const;
const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    'ferretdb-docs': { type: 'string' },
    'spark-docs': { type: 'string', default: '10000' },
    'pipeline-runs': { type: 'string', default: '3' },
    skip: { type: 'string', default: '' },
    json: { type: 'boolean', default: false },
  },
});
const count = (flag: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1000)
    throw new Error(`--${flag} must be an integer of at least 1000, got ${text}`);
  return n;
};
const docs = count('docs', values.docs);
const ferretdbDocs = count('ferretdb-docs', values['ferretdb-docs'] ?? String(Math.min(docs, 100_000)));
const sparkDocs = count('spark-docs', values['spark-docs']);
const pipelineRuns = Number(values['pipeline-runs']);
if (!Number.isInteger(pipelineRuns) || pipelineRuns < 1)
  throw new Error(`--pipeline-runs must be a positive integer, got ${values['pipeline-runs']}`);
const skip = new Set(values.skip.split(',').filter((s) => s !== ''));
for (const section of skip) {
  if (!(SECTIONS as readonly string[]).includes(section))
    throw new Error(`--skip takes a list of ${SECTIONS.join(', ')}; got ${section}`);
}
const REPO = join(import.meta.dirname, '..');
const say = (line: string) => console.error(line);

/** Runs a bench worker script in a fresh Node process and returns its last JSON line. */
async function worker(script: string, args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, script), ...args],
    {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
    },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
  say(`  ${script} ${args.filter((a) => !a.startsWith('mongodb://')).join(' ')}: ${JSON.stringify(result)}`);
  return result;
}

/** N sample journal entries into `uri`; `money` turns Decimal128 amounts into what the server stores. */
async function seed(
  uri: string,
  n: number,
  money: (doc: Document) => Document = (doc) => doc,
): Promise<number> {
  const started = performance.now();
  const client = await new MongoClient(uri).connect();
  try {
    const collection = client.db('fq_app').collection('journal_entries');
    await collection.createIndex({ updatedAt: 1, _id: 1 });
    let batch: Document[] = [];
    for (const doc of generateJournalEntries({ journalEntries: n })) {
      batch.push(money(doc));
      if (batch.length === 10_000) {
        await collection.insertMany(batch, { ordered: false });
        batch = [];
      }
    }
    if (batch.length > 0) await collection.insertMany(batch, { ordered: false });
  } finally {
    await client.close();
  }
  return Number(((performance.now() - started) / 1000).toFixed(1));
}

/** FerretDB 1.x cannot store Decimal128: the same entries with money as doubles. */
function moneyAsDoubles(doc: Document): Document {
  const lines = (doc.lines as Document[]).map((line) => ({
    ...line,
    debit: new Double(Number(line.debit.toString())),
    credit: new Double(Number(line.credit.toString())),
  }));
  return { ...doc, lines };
}

/** The extraction measurements against one seeded server. */
async function extraction(uri: string, n: number): Promise<Results['extraction']['embedded']> {
  const measure = (mode: string, size: number, extra: string[] = []) =>
    worker('extract-worker.ts', ['--mode', mode, '--uri', uri, '--docs', String(size), ...extra]);
  const cursor = await measure('cursor', n);
  const extract = await measure('extract', n);
  const extractTenth = await measure('extract', Math.round(n / 10));
  const extractThreads = await measure('extract', n, ['--threads', String(availableParallelism())]);
  const plan = await measure('plan', n, ['--chunkDocs', '50000']);
  const keys = await measure('keys', n);
  return { documents: n, cursor, extract, extractTenth, extractThreads, plan, keys } as never;
}

const results: Partial<Results> = {
  date: new Date().toISOString(),
  machine: {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  documents: docs,
  skipped: [...skip].sort(),
};

if (!skip.has('extraction')) {
  say(`extraction: the embedded server, ${docs.toLocaleString('en-US')} journal entries`);
  const server = await startMongoServer();
  try {
    const seconds = await seed(server.uri, docs);
    say(`  seeded in ${seconds} s`);
    results.extraction = { embedded: await extraction(server.uri, docs), ferretdb: null };
  } finally {
    await server.close();
  }
  if (!skip.has('ferretdb') && existsSync(join(REPO, '.cache', 'bin', 'ferretdb'))) {
    say(`extraction: FerretDB, ${ferretdbDocs.toLocaleString('en-US')} journal entries (money as doubles)`);
    const ferretdb = await startFerretdb();
    try {
      const seconds = await seed(ferretdb.url, ferretdbDocs, moneyAsDoubles);
      say(`  seeded in ${seconds} s`);
      results.extraction.ferretdb = await extraction(ferretdb.url, ferretdbDocs);
    } finally {
      await ferretdb.stop();
    }
  }
}

if (!skip.has('pipeline')) {
  say(`pipeline: npm run local at ${docs.toLocaleString('en-US')} journal entries`);
  const dir = await mkdtemp(join(tmpdir(), 'ledgerlake-bench-pipeline-'));
  try {
    const scale = (at: string) => ['--dir', at, '--scale', String(docs)];
    const seeded = join(dir, 'seeded');
    const prepared = await worker('pipeline-worker.ts', [...scale(seeded), '--prepare']);
    const fullRuns: PipelineMeasurement[] = [];
    const incrementalRuns: PipelineMeasurement[] = [];
    let at = seeded;
    for (let i = 1; i <= pipelineRuns; i++) {
      if (at !== seeded) await rm(at, { recursive: true, force: true });
      at = join(dir, `run-${i}`);
      await cp(seeded, at, { recursive: true });
      fullRuns.push((await worker('pipeline-worker.ts', scale(at))) as never);
      incrementalRuns.push(
        (await worker('pipeline-worker.ts', [
          ...scale(at),
          '--mutate',
          String(Math.round(docs / 100)),
        ])) as never,
      );
    }
    // After the last pair: 1% new entries, then nothing new.
    const appended = await worker('pipeline-worker.ts', [
      ...scale(at),
      '--append',
      String(Math.round(docs / 100)),
    ]);
    const noop = await worker('pipeline-worker.ts', scale(at));
    results.pipeline = {
      seedSeconds: prepared.seconds as number,
      full: medianRun(fullRuns),
      incremental: medianRun(incrementalRuns),
      fullRuns,
      incrementalRuns,
      appended,
      noop,
    } as never;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (!skip.has('synthesis')) {
  say('synthesis: the ingest state machine from the CDK app, then from the cache');
  const cache = await mkdtemp(join(tmpdir(), 'ledgerlake-bench-synth-'));
  try {
    const synthesized = await worker('pipeline-worker.ts', ['--synth', cache]);
    const cached = await worker('pipeline-worker.ts', ['--synth', cache]);
    results.synthesis = { synthesized, cached } as never;
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
}

if (!skip.has('engine')) {
  say(`engine: the local engine's jobs at ${docs.toLocaleString('en-US')} journal entries`);
  results.engine = (await worker('engine.ts', ['--docs', String(docs), '--json'])) as never;
}

if (!skip.has('spark')) {
  if (!existsSync(join(REPO, '.venv', 'bin', 'python')) || !existsSync(join(REPO, '.cache', 'jars'))) {
    say('glue: skipped, Spark is not set up here (npm run setup:spark)');
  } else {
    say(
      `glue: the generated Glue scripts on PySpark at ${sparkDocs.toLocaleString('en-US')} journal entries`,
    );
    const dir = await mkdtemp(join(tmpdir(), 'ledgerlake-bench-spark-'));
    try {
      const scale = ['--dir', dir, '--scale', String(sparkDocs), '--engine', 'spark'];
      await worker('pipeline-worker.ts', [...scale, '--prepare']);
      const full = await worker('pipeline-worker.ts', scale);
      const delta = await worker('pipeline-worker.ts', [
        ...scale,
        '--mutate',
        String(Math.round(sparkDocs / 100)),
      ]);
      results.glue = { documents: sparkDocs, full, delta } as never;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

const complete = results as Results;
complete.cost = costModel(complete, resolveConfig());
complete.targets = targetsOf(complete);
if (values.json) console.log(JSON.stringify(complete, null, 2));
else console.log(describeReport(complete));
