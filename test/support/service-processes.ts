import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Shared by test/support/services.ts (one service per test process) and
// scripts/run-tests.mjs (one service per run), so both start them the same way.

const repoRoot = join(import.meta.dirname, '..', '..');

const PREREQUISITES = [
  { name: 'moto server', path: '.venv/bin/moto_server', install: 'npm run setup:python' },
  { name: 'FerretDB', path: '.cache/bin/ferretdb', install: 'npm run setup:ferretdb' },
] as const;

type Prerequisite = (typeof PREREQUISITES)[number];

/** Readiness wait; moto's first start on a cold machine compiles its Python modules. */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_TAIL_CHARS = 8_000;

export interface ServiceProcess {
  /** `http://127.0.0.1:PORT` for moto, `mongodb://127.0.0.1:PORT/` for FerretDB. */
  readonly url: string;
  readonly startMs: number;
  readonly child: ChildProcess;
  /** Sends SIGTERM, waits for the exit (SIGKILL after a grace period) and removes temporary files. */
  stop(): Promise<void>;
  /** Sends SIGTERM without waiting, for process exit handlers, which cannot wait. */
  stopNow(): void;
  /** Lets the owning process exit while the service runs; pair with a `stopNow` in an exit handler. */
  unref(): void;
}

/** One line per missing service binary, naming the file and the command that installs it. */
export function missingServicePrerequisites(): string[] {
  return PREREQUISITES.filter((p) => !existsSync(join(repoRoot, p.path))).map(describeMissing);
}

function describeMissing(p: Prerequisite): string {
  return `${p.name} is missing (${p.path}): run \`${p.install}\``;
}

function requireBinary(p: Prerequisite): string {
  const path = join(repoRoot, p.path);
  if (!existsSync(path)) throw new Error(describeMissing(p));
  return path;
}

export interface ServiceOptions {
  /**
   * Where the service's stdout and stderr go (truncated at start).
   * @default - kept in memory; only the end is shown, in startup errors
   */
  readonly logFile?: string;
}

/** Starts `.venv/bin/moto_server` on a free loopback port and waits until it answers HTTP. */
export async function startMotoServer(options: ServiceOptions = {}): Promise<ServiceProcess> {
  const binary = requireBinary(PREREQUISITES[0]);
  return startOnFreePort('moto server', options, async (port) => ({
    command: binary,
    args: ['-H', '127.0.0.1', '-p', String(port)],
    url: `http://127.0.0.1:${port}`,
    ready: () => httpAnswers(`http://127.0.0.1:${port}/moto-api/`),
  }));
}

/** Starts `.cache/bin/ferretdb` with a fresh SQLite directory and waits until it accepts connections. */
export async function startFerretdb(options: ServiceOptions = {}): Promise<ServiceProcess> {
  const binary = requireBinary(PREREQUISITES[1]);
  return startOnFreePort('FerretDB', options, async (port) => {
    const dir = await mkdtemp(join(tmpdir(), 'ledgerlake-ferretdb-'));
    return {
      command: binary,
      args: ['-listen-addr', `127.0.0.1:${port}`, '-sqlite-dir', dir],
      url: `mongodb://127.0.0.1:${port}/`,
      ready: () => tcpAccepts(port),
      tempDir: dir,
    };
  });
}

interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly url: string;
  ready(): Promise<boolean>;
  /** Removed when the service stops. */
  readonly tempDir?: string;
}

/** Retries when the process dies before it is ready: another process may have taken the free port meanwhile. */
async function startOnFreePort(
  name: string,
  options: ServiceOptions,
  plan: (port: number) => Promise<Launch>,
): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startAndWait(name, options, await plan(await freePort()));
    } catch (error) {
      if (!(error instanceof EarlyExitError) || attempt === 3) throw error;
    }
  }
}

class EarlyExitError extends Error {}

async function startAndWait(name: string, options: ServiceOptions, launch: Launch): Promise<ServiceProcess> {
  const started = performance.now();
  const { child, output } = spawnWithOutput(launch, options.logFile);
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      spawnError = error;
      resolve();
    });
  });
  const running = () => spawnError === undefined && child.exitCode === null && child.signalCode === null;

  const service: ServiceProcess = {
    url: launch.url,
    startMs: 0,
    child,
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      if (launch.tempDir !== undefined) await rm(launch.tempDir, { recursive: true, force: true });
    },
    stopNow() {
      child.kill('SIGTERM');
      if (launch.tempDir !== undefined) rmSync(launch.tempDir, { recursive: true, force: true });
    },
    unref() {
      child.unref();
      for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref();
    },
  };

  while (!(await launch.ready())) {
    if (spawnError !== undefined) {
      await service.stop();
      throw new Error(`${name} could not be started: ${spawnError.message}`);
    }
    if (!running()) {
      await service.stop();
      const how = child.signalCode ?? `code ${child.exitCode}`;
      throw new EarlyExitError(`${name} exited (${how}) before it was ready; ${output.describe()}`);
    }
    if (performance.now() - started > START_TIMEOUT_MS) {
      await service.stop();
      throw new Error(
        `${name} was not ready at ${launch.url} after ${START_TIMEOUT_MS / 1000}s; ${output.describe()}`,
      );
    }
    await sleep(50);
  }
  return { ...service, startMs: Math.round(performance.now() - started) };
}

/** The service's output is never echoed: it goes to the log file or a small in-memory tail. */
function spawnWithOutput(launch: Launch, logFile: string | undefined) {
  if (logFile === undefined) {
    const child = spawn(launch.command, launch.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const append = (chunk: Buffer) => {
      text = (text + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    return { child, output: { describe: () => `its output ends with:\n${text.trimEnd() || '(no output)'}` } };
  }
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'w');
  try {
    const child = spawn(launch.command, launch.args, { stdio: ['ignore', fd, fd] });
    return { child, output: { describe: () => `its log ${logFile} ends with:\n${fileTail(logFile)}` } };
  } finally {
    closeSync(fd);
  }
}

function fileTail(path: string): string {
  const text = readFileSync(path, 'utf8').slice(-OUTPUT_TAIL_CHARS).trimEnd();
  return text === '' ? '(no output)' : text;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`unexpected listener address ${String(address)}`));
      });
    });
  });
}

async function httpAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
