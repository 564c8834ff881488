/**
 * `npm run local`: the whole pipeline on this machine, no AWS account and no
 * Docker. It runs the state machine CDK synthesizes (see lib/local/runner)
 * against MONGO_URI or the embedded MongoDB server seeded with sample data,
 * and keeps everything under one folder (default .ledgerlake/), so a second
 * run is incremental.
 */

import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { logger } from '../lambdas/shared/logger.ts';
import { PLAN_STATUS } from '../lib/contracts/index.ts';
import { staleGeneratedFilesWarning } from '../lib/generate.ts';
import { describeRun, progressPrinter } from '../lib/local/runner/progress.ts';
import { type GlueEngine, LocalRunFailed, runLocalPipeline } from '../lib/local/runner/run-pipeline.ts';

const USAGE = `usage: npm run local -- [options]
  --dir PATH        state folder: source dump, warehouse, run state (default .ledgerlake)
  --scale N         journal entries of the embedded sample source, on the first run (default 1000)
  --mutate N        change N source journal entries (plus new entries, tasks, an account) before the run
  --engine NAME     duckdb (default): the local engine; spark: the generated Glue scripts on PySpark
  --input JSON      state machine input, e.g. '{"mode":"full"}' (default {})
  --name NAME       the execution's name, which is the run id (default: local-<time>); as on
                    Step Functions a name starts one execution ever
  --resume ID       a new execution resuming run ID with its own plan (same as --input '{"resume":"ID"}'):
                    reuses what a failed run staged; a committed run does nothing, a superseded one is refused
  --redrive NAME    redrive a failed execution as Step Functions does: it restarts at the state that
                    failed, RunFailed, so it fails again (shown for parity; resume or run anew instead)
  --maintain        then run the maintenance job (compaction, manifests, expiry, orphans)
  --fresh           delete the state folder first
  --json            print the run summary as JSON
  --verbose         structured logs of the functions
MONGO_URI, when set, is extracted from instead of the embedded source.`;

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '.ledgerlake' },
    scale: { type: 'string', default: '1000' },
    mutate: { type: 'string', default: '0' },
    engine: { type: 'string', default: 'duckdb' },
    input: { type: 'string', default: '{}' },
    fresh: { type: 'boolean', default: false },
    maintain: { type: 'boolean', default: false },
    name: { type: 'string' },
    resume: { type: 'string' },
    redrive: { type: 'string' },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function fail(message: string): never {
  console.error(`npm run local: ${message}\n${USAGE}`);
  process.exit(2);
}

const count = (flag: string, text: string, min: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) fail(`--${flag} must be an integer of at least ${min}, got ${text}`);
  return n;
};
const scale = count('scale', values.scale, 1);
const mutate = count('mutate', values.mutate, 0);
if (values.engine !== 'duckdb' && values.engine !== 'spark') {
  fail(`--engine must be duckdb or spark, got ${values.engine}`);
}
let input: unknown;
try {
  input = JSON.parse(values.input);
} catch (error) {
  fail(`--input must be JSON, got ${values.input} (${(error as Error).message})`);
}
if (values.resume !== undefined) {
  if (values.input !== '{}')
    fail('--resume and --input cannot be combined: a resumed run keeps its own plan');
  input = { resume: values.resume };
}
if (
  values.redrive !== undefined &&
  (values.resume !== undefined || values.name !== undefined || mutate > 0)
) {
  fail('--redrive restarts a failed execution as it was: --resume, --name and --mutate do not apply');
}

if (values.fresh) await rm(values.dir, { recursive: true, force: true });
// The summary is the output; the functions' structured logs only with --verbose.
if (!values.verbose) logger.setLogLevel('WARN');
const progress =
  process.stderr.isTTY && !values.json ? progressPrinter((line) => console.error(line)) : undefined;

try {
  // Builds the model from its definition first: a refused model change fails here, before anything runs.
  const stale = staleGeneratedFilesWarning();
  if (stale !== undefined) console.error(`npm run local: warning: ${stale}`);
  const summary = await runLocalPipeline({
    dir: values.dir,
    scale,
    mutate,
    engine: values.engine as GlueEngine,
    input,
    maintain: values.maintain,
    ...(values.name === undefined ? {} : { executionName: values.name }),
    ...(values.redrive === undefined ? {} : { redrive: values.redrive }),
    ...(process.env.MONGO_URI ? { mongoUri: process.env.MONGO_URI } : {}),
    ...(progress === undefined ? {} : { onEvent: progress }),
  });
  if (values.json) {
    const { run: _run, ...brief } = summary;
    console.log(JSON.stringify(brief, null, 2));
  } else {
    console.log(describeRun(summary, values.dir));
  }
  if (summary.status === PLAN_STATUS.alreadyRunning) process.exitCode = 1;
} catch (error) {
  console.error(`npm run local: ${(error as Error).message}`);
  // A superseded run (LocalRunRefused) has nothing to redo: suggesting a resume could not help.
  if (error instanceof LocalRunFailed) {
    console.error(
      `after fixing the cause, run again (npm run local): the next run reads everything this one would; to reuse what it staged, resume it: npm run local -- --resume ${error.runId}`,
    );
  }
  process.exitCode = 1;
}
