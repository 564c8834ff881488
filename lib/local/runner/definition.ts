import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { LedgerlakeConfig } from '../../config/index.ts';
import type { AslDefinition, AslState } from '../../stacks/ingest-definition.ts';
import { LONGEST_LOCAL_TIMEOUT_SECONDS } from './service-limits.ts';

/** The repository (or installed package) root: where lib/ and package-lock.json are. */
const ROOT = join(import.meta.dirname, '..', '..', '..');
/** Where synthesized definitions are kept between processes (git-ignored). */
export const SYNTH_CACHE_DIR = join(ROOT, '.cache', 'synth');
/** Definitions kept on disk; older ones are removed. */
const KEPT_DEFINITIONS = 20;

/** What Step Functions does with a Task that sets no TimeoutSeconds: it waits (99999999 s, the service default). */
export const SERVICE_DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999;

/**
 * The state timeouts the service applies, written into each Task state:
 * aws-local-stepfunctions times out a Task without `TimeoutSeconds` after 60
 * seconds, where Step Functions waits. A Glue `.sync` task without one ends
 * when the job run's own `Timeout` (minutes) ends it, so that becomes its
 * state timeout; any other Task gets the service default (both at most
 * LONGEST_LOCAL_TIMEOUT_SECONDS).
 */
export function withServiceTimeouts(definition: AslDefinition): AslDefinition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => [name, withTimeout(state)]),
  );
  return { ...definition, States: states };
}

function withTimeout(state: AslState): AslState {
  const nested = (machine: unknown) =>
    machine !== null && typeof machine === 'object' && 'States' in machine
      ? withServiceTimeouts(machine as AslDefinition)
      : machine;
  let out: AslState = { ...state };
  if (out.ItemProcessor !== undefined) out = { ...out, ItemProcessor: nested(out.ItemProcessor) };
  if (out.Iterator !== undefined) out = { ...out, Iterator: nested(out.Iterator) };
  if (Array.isArray(out.Branches)) out = { ...out, Branches: out.Branches.map(nested) };
  if (out.Type !== 'Task' || out.TimeoutSeconds !== undefined || out.TimeoutSecondsPath !== undefined) {
    return out;
  }
  const jobTimeoutMinutes = (out.Parameters as { Timeout?: unknown } | undefined)?.Timeout;
  const glueSync = String(out.Resource).startsWith('arn:aws:states:::glue:startJobRun.sync');
  const seconds =
    glueSync && typeof jobTimeoutMinutes === 'number'
      ? jobTimeoutMinutes * 60
      : SERVICE_DEFAULT_TASK_TIMEOUT_SECONDS;
  return { ...out, TimeoutSeconds: Math.min(seconds, LONGEST_LOCAL_TIMEOUT_SECONDS) };
}

const synthesized = new Map<string, AslDefinition>();

/** Where the definition came from: this process's cache, the disk cache, or a synthesis just now. */
export type DefinitionSource = 'process' | 'disk' | 'synthesized';

/**
 * The synthesized definition for `config` with the service's timeouts
 * (withServiceTimeouts). Synthesis loads the CDK and takes seconds (tens on
 * a loaded machine), so the result is kept by a hash of everything it is
 * made from (synthesisInputsHash): in this process, and as a file under
 * `cacheDir`, so a repeated `npm run local` does not synthesize again. A
 * change to the config, the model, the constructs or the CDK version makes a
 * new hash. Each caller gets its own copy.
 */
export async function ingestDefinitionFor(
  config: LedgerlakeConfig,
  cacheDir: string = SYNTH_CACHE_DIR,
): Promise<{ definition: AslDefinition; source: DefinitionSource }> {
  const hash = await synthesisInputsHash(config);
  let definition = synthesized.get(hash);
  let source: DefinitionSource = 'process';
  if (definition === undefined) {
    const file = join(cacheDir, `ingest-${hash}.json`);
    definition = await readCached(file);
    source = 'disk';
    if (definition === undefined) {
      const { synthesizedIngestDefinition } = await import('./synthesize.ts');
      definition = withServiceTimeouts(synthesizedIngestDefinition(config));
      source = 'synthesized';
      await writeCached(cacheDir, file, definition);
    }
    synthesized.set(hash, definition);
  }
  return { definition: structuredClone(definition), source };
}

/**
 * A hash of what the synthesized definition depends on: the config, every
 * source file under lib/ that the CDK app is built from (stacks, constructs,
 * contracts, model and its schema history, config, Glue generation, queries;
 * not the local engine, whose code the definition does not contain, apart
 * from this runner's timeout rules), and package-lock.json for the CDK's version.
 */
export async function synthesisInputsHash(config: LedgerlakeConfig): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(config));
  const lib = join(ROOT, 'lib');
  const files = (await readdir(lib, { recursive: true }))
    .filter((path) => /\.(ts|json)$/.test(path))
    .filter((path) => !path.startsWith(join('local', '')) || RUNNER_INPUTS.has(path))
    .sort();
  for (const path of files) {
    hash.update(`\0${path}\0`);
    hash.update(await readFile(join(lib, path)));
  }
  hash.update(await readFile(join(ROOT, 'package-lock.json')));
  return hash.digest('hex').slice(0, 32);
}

/** The files of lib/local/ the cached definition is made with. */
const RUNNER_INPUTS = new Set(
  ['definition.ts', 'synthesize.ts', 'service-limits.ts'].map((file) =>
    relative(join(ROOT, 'lib'), join(import.meta.dirname, file)),
  ),
);

async function readCached(file: string): Promise<AslDefinition | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as AslDefinition;
  } catch (error) {
    // Missing, or torn by a crash mid-write on a file system without atomic rename: synthesize again.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

async function writeCached(cacheDir: string, file: string, definition: AslDefinition): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(definition));
  await rename(temporary, file);
  // Keep the newest few: every edit of lib/ makes a new hash.
  const entries = (await readdir(cacheDir)).filter((name) => name.endsWith('.json'));
  if (entries.length <= KEPT_DEFINITIONS) return;
  const dated = await Promise.all(
    entries.map(async (name) => ({ name, mtime: (await stat(join(cacheDir, name))).mtimeMs })),
  );
  dated.sort((a, b) => b.mtime - a.mtime);
  for (const { name } of dated.slice(KEPT_DEFINITIONS)) await rm(join(cacheDir, name), { force: true });
}
