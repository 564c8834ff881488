import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { GLUE_PACKAGE_ROOT } from '../glue/package.ts';
import { venvPython } from './python.ts';

// Spark with the Iceberg runtime, as Glue 4.0 runs it (Spark 3.3, Iceberg 1.0.0): tests use
// it to read and write the engine's tables, and `npm run local -- --engine spark` to run the
// generated Glue scripts.

const repoRoot = join(import.meta.dirname, '..', '..');
const RUNNER = join(repoRoot, 'python', 'spark_runner.py');
/** The Glue jobs' package, importable in every session as Glue's --extra-py-files makes it there. */
const GLUE_PACKAGE_PATH = join(repoRoot, GLUE_PACKAGE_ROOT);
const ICEBERG_JAR = join(repoRoot, '.cache', 'jars', 'iceberg-spark-runtime-3.3_2.12-1.0.0.jar');
/** Filled by scripts/setup-spark.sh from scripts/aws-sdk/pom.xml and tools/aws-client-factory/. */
const AWS_JAR_DIR = join(repoRoot, '.cache', 'jars', 'aws');
const SETUP_COMMAND = 'bash scripts/setup-spark.sh';
/** Must match FAILURE_MARKER in python/spark_runner.py. */
const FAILURE_MARKER = '--- spark_runner: script failed ---';
/** How much of Spark's stderr an error carries: enough to say what failed. */
export const ERROR_TAIL_CHARS = 6_000;

export interface SparkOptions {
  /** Directory of the Hadoop catalog `local`: table `local.ns.t` lives in `<warehouse>/ns/t`. */
  readonly warehouse: string;
  /**
   * Strings the script sees as `args`.
   * @default - none
   */
  readonly args?: readonly string[];
  /**
   * Extra Spark session settings, e.g. `spark.sql.defaultCatalog: 'local'`.
   * @default - none
   */
  readonly conf?: Readonly<Record<string, string>>;
  /**
   * Jars added to the session's classpath after the Iceberg runtime, e.g. {@link icebergAwsJars}.
   * @default - none
   */
  readonly jars?: readonly string[];
  /**
   * Environment variables for the Spark process, over this process's (e.g. AWS_REGION).
   * @default - this process's environment
   */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * What Iceberg's GlueCatalog and S3FileIO need on the classpath, and S3A for
 * s3:// paths read through Hadoop: the AWS SDK modules, hadoop-aws and
 * `ledgerlake.EndpointAwsClientFactory` (tools/aws-client-factory/), which
 * points the AWS clients at a local endpoint such as moto.
 */
export function icebergAwsJars(): string[] {
  const jars = existsSync(AWS_JAR_DIR) ? readdirSync(AWS_JAR_DIR).filter((f) => f.endsWith('.jar')) : [];
  if (jars.length === 0) {
    throw new Error(`the AWS jars for Iceberg are missing (.cache/jars/aws): run \`${SETUP_COMMAND}\``);
  }
  return jars.sort().map((f) => join(AWS_JAR_DIR, f));
}

/**
 * Runs a PySpark script in a fresh local Spark session and returns the last
 * value it passed to `emit`, parsed as JSON. Spark takes seconds to start, so put every check
 * that needs Spark into one script.
 *
 * The script sees `spark`, `args`, `warehouse`, `rows(df_or_sql)`, `emit(value)` and
 * `run_job(path, argv)` (runs a job script such as a generated Glue script in the session);
 * the Glue jobs' package (glue/src) is importable. See python/spark_runner.py for what they do and how values become JSON
 * (decimals as strings with their scale, timestamps as ISO 8601 in UTC).
 */
export async function runSpark<T>(script: string, options: SparkOptions): Promise<T> {
  const python = venvPython();
  requireSparkPrerequisites();
  // The script runs from a scratch directory, which also catches what Spark
  // leaves in its working directory (spark-warehouse/, derby.log).
  const scratch = await mkdtemp(join(tmpdir(), 'ledgerlake-spark-'));
  try {
    const scriptFile = join(scratch, 'spark_script.py');
    await writeFile(scriptFile, script);
    // '--' lets script arguments start with a dash.
    const args = [...sparkRunnerArguments(options), '--', scriptFile];
    const env = { ...process.env, ...options.env };
    const { code, stdout, stderr } = await runProcess(
      python,
      [...args, ...(options.args ?? [])],
      scratch,
      env,
    );
    if (code !== 0) throw new Error(`Spark script failed (exit code ${code}):\n${failureText(stderr)}`);
    return parseResult<T>(stdout);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** python/spark_runner.py's command line before the script: the session's catalog, jars, settings and package. */
export function sparkRunnerArguments(options: SparkOptions): string[] {
  const conf = Object.entries(options.conf ?? {}).flatMap(([key, value]) => ['--conf', `${key}=${value}`]);
  const jars = [ICEBERG_JAR, ...(options.jars ?? [])].flatMap((jar) => ['--jar', jar]);
  const path = ['--python-path', GLUE_PACKAGE_PATH];
  return [RUNNER, '--warehouse', options.warehouse, ...jars, ...conf, ...path];
}

/** Throws, naming the setup command, when the Iceberg jar or Java is missing. */
export function requireSparkPrerequisites(): void {
  if (!existsSync(ICEBERG_JAR)) {
    throw new Error(`the Iceberg Spark runtime jar is missing (.cache/jars): run \`${SETUP_COMMAND}\``);
  }
  if (process.env.JAVA_HOME === undefined && !onPath('java')) {
    throw new Error(
      `Spark needs Java and neither JAVA_HOME nor java on PATH is set: see \`${SETUP_COMMAND}\``,
    );
  }
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, command)));
}

interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runProcess(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
    });
  });
}

/** The runner's traceback when it wrote one; otherwise the end of stderr (e.g. Python failed to start). */
function failureText(stderr: string): string {
  const marker = stderr.lastIndexOf(FAILURE_MARKER);
  const text = marker >= 0 ? stderr.slice(marker + FAILURE_MARKER.length) : stderr;
  return text.trim().slice(-ERROR_TAIL_CHARS);
}

/** Must match RESULT_MARKER in python/spark_runner.py. */
const RESULT_MARKER = '@@ledgerlake-result@@ ';

function parseResult<T>(stdout: string): T {
  const lines = stdout.split('\n').filter((line) => line.startsWith(RESULT_MARKER));
  const last = lines.at(-1);
  if (last === undefined) {
    throw new Error(
      `the Spark script emitted no result (end it with emit(result)); stdout ended with: ${stdout.slice(-500)}`,
    );
  }
  return JSON.parse(last.slice(RESULT_MARKER.length)) as T;
}
