/**
 * One measurement of the local pipeline in a fresh process, so its wall time
 * and peak RSS are its own. Prints one JSON line.
 *   --dir D --scale N --prepare        seed the embedded source, and fill the synthesis cache
 *                                      as any earlier run has (not timed as a run)
 *   --dir D --scale N [--mutate M | --append M] [--engine duckdb|spark] [--threads T]
 *                     [--engine-memory 640MB]
 *                                      one run (`npm run local` without the CLI), timing
 *                                      every top-level state of the execution; --append posts
 *                                      M new entries first and changes nothing else (the
 *                                      source's change is not timed as the run's)
 *   --synth CACHE_DIR                  the ingest state machine for the default config,
 *                                      from the synthesis cache (or synthesized into it)
 */
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { logger } from '../lambdas/shared/logger.ts';
import { type LedgerlakeConfig, resolveConfig } from '../lib/config/index.ts';
import { ingestDefinitionFor } from '../lib/local/runner/definition.ts';
import { openEmbeddedSource } from '../lib/local/runner/embedded-source.ts';
import { appendEntries, type MutationCounts } from '../lib/local/runner/mutate.ts';
import { type GlueEngine, runLocalPipeline } from '../lib/local/runner/run-pipeline.ts';
import { sampleRss } from './peak-rss.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    scale: { type: 'string' },
    mutate: { type: 'string', default: '0' },
    append: { type: 'string', default: '0' },
    engine: { type: 'string', default: 'duckdb' },
    threads: { type: 'string' },
    'engine-memory': { type: 'string' },
    prepare: { type: 'boolean', default: false },
    synth: { type: 'string' },
  },
});
logger.setLogLevel('WARN');

const rss = sampleRss(50);
let appendedEntries: MutationCounts | undefined;
const started = performance.now();
const elapsed = (since: number) => Number(((performance.now() - since) / 1000).toFixed(2));

if (values.synth !== undefined) {
  const { source } = await ingestDefinitionFor(resolveConfig(), values.synth);
  print({ source, seconds: elapsed(started) });
} else {
  if (values.dir === undefined || values.scale === undefined) {
    throw new Error(
      'usage: pipeline-worker --dir <state folder> --scale <journal entries> [--prepare | --mutate N]',
    );
  }
  const config = resolveConfig();
  if (values.prepare) {
    const source = await openEmbeddedSource(
      `${values.dir}/source`,
      config.source.database,
      Number(values.scale),
    );
    await source.close();
    await ingestDefinitionFor(config);
    print({ seconds: elapsed(started), peakRssMiB: rss.peakMiB() });
  } else {
    if (Number(values.append) > 0)
      await append(values.dir, config, Number(values.scale), Number(values.append));
    await run(values.dir, Number(values.scale));
  }
}
rss.stop();

async function run(dir: string, scale: number): Promise<void> {
  const entered = new Map<string, number>();
  const states: Record<string, number> = {};
  let executionStarted: number | undefined;
  let transitions = 0;
  let sourceReady = 0;
  let synthesis = '';
  const summary = await runLocalPipeline({
    dir,
    scale,
    mutate: Number(values.mutate),
    engine: values.engine as GlueEngine,
    // Each Glue job's duration includes starting Spark, as a Glue job run's includes its start-up.
    sparkProcessPerJob: true,
    ...(values.threads === undefined ? {} : { extractionThreads: Number(values.threads) }),
    ...(values['engine-memory'] === undefined ? {} : { engineMemory: values['engine-memory'] }),
    onEvent: (event) => {
      if (event.type === 'note' && event.message.startsWith('source:')) sourceReady = elapsed(started);
      else if (event.type === 'note' && event.message.startsWith('state machine')) synthesis = event.message;
      else if (event.type === 'state-entered') {
        // Step Functions bills a standard workflow by state transition, Map iterations' states included.
        transitions++;
        executionStarted ??= performance.now();
        if (event.index === undefined) entered.set(event.state, performance.now());
      } else if (event.type === 'state-exited' && event.index === undefined) {
        const since = entered.get(event.state);
        if (since !== undefined)
          states[event.state] = Number(((states[event.state] ?? 0) + elapsed(since)).toFixed(2));
      }
    },
  });
  print({
    mode: summary.mode,
    status: summary.status,
    engine: summary.engine,
    seconds: elapsed(started),
    sourceReadySeconds: sourceReady,
    executionSeconds: executionStarted === undefined ? 0 : elapsed(executionStarted),
    states,
    transitions,
    peakRssMiB: rss.peakMiB(),
    documents: Object.values(summary.collections).reduce((sum, c) => sum + c.read, 0),
    snapshots: Object.values(summary.tables).reduce((sum, t) => sum + t.snapshots, 0),
    mutations: summary.mutations ?? appendedEntries ?? null,
    synthesis,
  });
}

/** New journal entries only, written to the saved source before the run. */
async function append(dir: string, config: LedgerlakeConfig, scale: number, count: number): Promise<void> {
  const source = await openEmbeddedSource(`${dir}/source`, config.source.database, scale);
  const client = await new MongoClient(source.uri).connect();
  try {
    const appended = await appendEntries(client.db(config.source.database), source.state, count, new Date());
    await source.save(appended.state);
    appendedEntries = appended.counts;
  } finally {
    await client.close();
    await source.close();
  }
}

function print(result: Record<string, unknown>): void {
  console.log(JSON.stringify(result));
}
