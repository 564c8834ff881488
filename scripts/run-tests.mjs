// Runs the test suite: `npm test [-- <files or dirs>] [--test-name-pattern=<regex>]`.
//
// Starts one moto server and one FerretDB for the whole run and hands them to
// every test process through LEDGERLAKE_TEST_MOTO_ENDPOINT and
// LEDGERLAKE_TEST_FERRETDB_URI, then runs Node's test runner on the
// `*.test.ts` files. Node 20 has neither `--test` globs nor a global setup
// hook, so this script is both. The services' own output is kept out of the
// terminal so the test runner's summary stays the last thing printed; they
// are in .cache/test-services/ for when a test needs explaining.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '..');
const TEST_FILE = /\.test\.ts$/;
const LOG_DIR = '.cache/test-services';
const USAGE = 'usage: node scripts/run-tests.mjs [--test-name-pattern=<regex>]... [file or directory]...';

const { paths, nodeTestOptions } = parseArgs(process.argv.slice(2));

if (!existsSync(join(repoRoot, 'node_modules', 'tsx'))) {
  fail('node_modules is missing: run `npm ci`');
}
// The test services come from pinned versions; the setup scripts are idempotent
// and fast when nothing changed, so a fresh clone needs only `npm test`.
for (const script of ['scripts/setup-python.sh', 'scripts/setup-ferretdb.sh', 'scripts/setup-spark.sh']) {
  const setup = spawnSync('bash', [join(repoRoot, script)], { stdio: 'inherit' });
  if (setup.status !== 0) fail(`${script} failed (see above): the tests need what it installs`);
}
const { tsImport } = await import('tsx/esm/api');
const services = await tsImport('../test/support/service-processes.ts', import.meta.url);
const missing = services.missingServicePrerequisites();
if (missing.length > 0) fail(missing.join('\n'));

const files = findTestFiles(paths.length > 0 ? paths : ['test']);
if (files.length === 0) fail(`no *.test.ts files under ${paths.join(' ') || 'test'}`);

const SIGNAL_EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const started = [];
let testProcess;
let interrupted;
for (const signal of Object.keys(SIGNAL_EXIT_CODES)) {
  process.on(signal, () => {
    interrupted ??= signal;
    // A terminal's Ctrl-C reaches the test process too; a signal sent to this script alone must be passed on.
    // Before the tests start, the services finish starting (seconds at most) and are then stopped below.
    testProcess?.kill(signal);
  });
}
// Last resort if this script dies on an unexpected error: never leave a service behind.
process.on('exit', () => {
  for (const service of started) service.stopNow();
});

let exitCode;
try {
  // allSettled: when one service fails, the other must still be in `started` to be stopped below.
  const starts = await Promise.allSettled([
    start(services.startMotoServer, 'moto.log'),
    start(services.startFerretdb, 'ferretdb.log'),
  ]);
  const failed = starts.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const [moto, ferretdb] = starts.map((result) => result.value);
  if (interrupted === undefined) {
    console.log(
      `test services: moto ${moto.url} (ready in ${moto.startMs} ms), FerretDB ${ferretdb.url} (ready in ${ferretdb.startMs} ms); logs in ${LOG_DIR}/`,
    );
    exitCode = await runTests(files, {
      LEDGERLAKE_TEST_MOTO_ENDPOINT: moto.url,
      LEDGERLAKE_TEST_FERRETDB_URI: ferretdb.url,
    });
  }
} catch (error) {
  console.error(`run-tests: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
}
await Promise.allSettled(started.map((service) => service.stop()));
process.exit(interrupted === undefined ? exitCode : SIGNAL_EXIT_CODES[interrupted]);

async function start(startService, logName) {
  const service = await startService({ logFile: join(repoRoot, LOG_DIR, logName) });
  started.push(service);
  return service;
}

function runTests(testFiles, serviceEnv) {
  // Two files at a time: on 2 cores, three (24.8 min) and the slowest files first (21.4 to 23.2 min, three
  // runs) were both slower than two in name order (17.5 min), as `node --test` runs them.
  const args = ['--import', 'tsx', '--test', '--test-concurrency=2', ...nodeTestOptions, ...testFiles];
  testProcess = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: 'inherit',
    env: {
      ...process.env,
      ...serviceEnv,
      // The SDK warns on Node 20 that releases after January 2027 will need Node 22. The lockfile pins
      // today's release and the functions run on Node 22, so the warning is noise in test output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  return new Promise((resolveExit, reject) => {
    testProcess.once('error', reject);
    testProcess.once('exit', (code, signal) => {
      resolveExit(code ?? SIGNAL_EXIT_CODES[signal] ?? 1);
    });
  });
}

function parseArgs(args) {
  const result = { paths: [], nodeTestOptions: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('--test-name-pattern=')) {
      result.nodeTestOptions.push(arg);
    } else if (arg === '--test-name-pattern') {
      const pattern = args[++i];
      if (pattern === undefined) fail(`--test-name-pattern needs a value\n${USAGE}`);
      result.nodeTestOptions.push(`--test-name-pattern=${pattern}`);
    } else if (arg.startsWith('-')) {
      fail(`unknown option ${arg}\n${USAGE}`);
    } else {
      result.paths.push(arg);
    }
  }
  return result;
}

/** Test files under the given files and directories, repo-relative and sorted so runs are repeatable. */
function findTestFiles(targets) {
  const found = new Set();
  for (const target of targets) {
    const absolute = resolve(target);
    if (!existsSync(absolute)) fail(`no such file or directory: ${target}`);
    if (statSync(absolute).isDirectory()) collectTestFiles(absolute, found);
    else found.add(absolute);
  }
  return [...found].map((file) => relative(repoRoot, file)).sort();
}

function collectTestFiles(dir, found) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) {
      collectTestFiles(path, found);
    } else if (entry.isFile() && TEST_FILE.test(entry.name)) {
      found.add(path);
    }
  }
}

function fail(message) {
  console.error(`run-tests: ${message}`);
  process.exit(1);
}
