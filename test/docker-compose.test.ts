import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CONFIG } from '../lib/config/index.ts';
import { ENV, type GlueJobName, JOB_ARGUMENT } from '../lib/contracts/index.ts';
import { glueJobArguments } from '../lib/glue/job-arguments.ts';
import { buildTableModel } from '../lib/model/index.ts';

// docker-compose.local.yml cannot be started on the build machine (no Docker
// engine), so these tests check what can be checked without one: Debian's
// docker-compose (1.29) parses and resolves the file, and the resolved config,
// the LocalStack init script and the Spark job runner agree with lib/config,
// lib/model and lib/glue.

const repoRoot = join(import.meta.dirname, '..');
const COMPOSE_FILE = 'docker-compose.local.yml';
const INSTALL_HINT =
  'install it with `bash scripts/setup-compose.sh` (as root; CI does this) or `sudo apt-get install -y docker-compose`';

/** The names a local stage gets, after the stacks' `ledgerlake-<app>-<stage>` (lib/stacks/ledgerlake-app.ts). */
const localBase = `ledgerlake-${DEFAULT_CONFIG.app.replaceAll('_', '-')}-local`;
const EXPECTED = {
  bucket: localBase,
  runStateTable: `${localBase}-run-state`,
  secretName: DEFAULT_CONFIG.source.secretName,
  rawNamespace: `raw.${DEFAULT_CONFIG.app}`,
  curatedNamespace: `curated.${DEFAULT_CONFIG.app}`,
};
const SERVICES = ['mongo', 'localstack', 'spark', 'jupyter'];

interface Service {
  readonly image?: string;
  readonly environment?: Record<string, string | null>;
  readonly volumes?: ReadonlyArray<string | { source?: string; target: string; read_only?: boolean }>;
  readonly ports?: ReadonlyArray<string | { host_ip?: string }>;
  readonly depends_on?: Record<string, { condition?: string }> | string[];
  readonly healthcheck?: { test?: string | string[]; disable?: boolean };
}
interface ComposeConfig {
  readonly services: Record<string, Service>;
  readonly volumes?: Record<string, unknown>;
}
interface Mount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

let config: ComposeConfig;
let scratch: string;

describe('docker-compose.local.yml', () => {
  before(() => {
    config = resolvedComposeConfig();
    scratch = mkdtempSync(join(tmpdir(), 'ledgerlake-compose-'));
  });
  after(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('resolves with docker-compose config into MongoDB, LocalStack, Spark and Jupyter', () => {
    assert.deepEqual(Object.keys(config.services).sort(), [...SERVICES].sort());
  });

  it('pins every image to a version tag', () => {
    for (const [name, service] of Object.entries(config.services)) {
      const tag = imageTag(service.image ?? '');
      assert.ok(tag !== undefined && tag !== 'latest', `${name}: image ${service.image} needs a pinned tag`);
      assert.match(tag, /\d+\.\d+/, `${name}: tag ${tag} of ${service.image} names no version`);
    }
    assert.match(
      imageTag(service('spark').image ?? '') ?? '',
      /^3\.5\./,
      'Spark 3.5, for iceberg-spark-runtime-3.5',
    );
  });

  it('gives every service a healthcheck and starts it after the services it needs are healthy', () => {
    for (const [name, service] of Object.entries(config.services)) {
      const test = service.healthcheck?.test;
      assert.ok(
        service.healthcheck?.disable !== true && test !== undefined && test.length > 0,
        `${name}: healthcheck`,
      );
    }
    for (const [name, service] of Object.entries(config.services)) {
      const needs = service.depends_on ?? {};
      assert.ok(!Array.isArray(needs), `${name}: depends_on must wait for health, not just start`);
      for (const [other, { condition }] of Object.entries(needs)) {
        assert.ok(other in config.services, `${name} depends on unknown service ${other}`);
        assert.equal(condition, 'service_healthy', `${name} → ${other}`);
      }
    }
    assert.ok(dependsOn('spark').includes('localstack'), 'spark needs the bucket');
    assert.ok(dependsOn('jupyter').includes('localstack'), 'jupyter needs the bucket');
  });

  it('names the bucket, secret and run-state table as the Lambdas read them, after lib/config', () => {
    for (const name of ['localstack', 'spark', 'jupyter']) {
      const env = environment(name);
      assert.equal(env[ENV.bucket], EXPECTED.bucket, `${name}: ${ENV.bucket}`);
      assert.equal(env[ENV.mongoSecretId], EXPECTED.secretName, `${name}: ${ENV.mongoSecretId}`);
      assert.equal(env[ENV.runStateTable], EXPECTED.runStateTable, `${name}: ${ENV.runStateTable}`);
    }
    const uri = new URL(environment('localstack').MONGO_URI ?? '');
    assert.equal(uri.protocol, 'mongodb:');
    assert.equal(uri.hostname, 'mongo', 'the secret points at the mongo service');
  });

  it('mounts an executable init script into LocalStack that creates the bucket, secret and table', () => {
    const init = mounts('localstack').find((m) => m.target.startsWith('/etc/localstack/init/ready.d/'));
    assert.ok(init !== undefined, 'an init script in /etc/localstack/init/ready.d/');
    assert.ok(init.target.endsWith('.sh'), 'LocalStack runs only *.sh hooks');
    assert.ok(existsSync(init.source), `${init.source} exists`);
    accessSync(init.source, constants.X_OK);

    const created = runInitScript(init.source, { exists: false });
    assert.deepEqual(created.filter(isCreate), [
      ['s3api', 'create-bucket', '--bucket', EXPECTED.bucket],
      [
        'secretsmanager',
        'create-secret',
        '--name',
        EXPECTED.secretName,
        '--secret-string',
        environment('localstack').MONGO_URI,
      ],
      [
        'dynamodb',
        'create-table',
        '--table-name',
        EXPECTED.runStateTable,
        '--attribute-definitions',
        'AttributeName=pk,AttributeType=S',
        '--key-schema',
        'AttributeName=pk,KeyType=HASH',
        '--billing-mode',
        'PAY_PER_REQUEST',
      ],
    ]);
    assert.deepEqual(
      runInitScript(init.source, { exists: true }).filter(isCreate),
      [],
      'a restart creates nothing twice',
    );
  });

  it("configures Spark with Iceberg's Hadoop catalog on LocalStack S3, for the spark service and Jupyter", () => {
    const conf = sparkConf();
    const catalog = conf['spark.sql.defaultCatalog'] ?? '';
    assert.equal(conf[`spark.sql.catalog.${catalog}`], 'org.apache.iceberg.spark.SparkCatalog');
    assert.equal(conf[`spark.sql.catalog.${catalog}.type`], 'hadoop');
    assert.equal(conf[`spark.sql.catalog.${catalog}.warehouse`], `s3a://${EXPECTED.bucket}/warehouse`);
    assert.equal(
      conf['spark.sql.extensions'],
      'org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
    );
    const endpoint = new URL(conf['spark.hadoop.fs.s3a.endpoint'] ?? '');
    assert.equal(endpoint.hostname, 'localstack');
    assert.equal(endpoint.port, '4566', "LocalStack's one port for every service");
    assert.equal(conf['spark.hadoop.fs.s3a.path.style.access'], 'true');
    const packages = (conf['spark.jars.packages'] ?? '').split(',');
    assert.ok(
      packages.some((p) => /^org\.apache\.iceberg:iceberg-spark-runtime-3\.5_2\.12:\d/.test(p)),
      'Iceberg runtime',
    );
    assert.ok(
      packages.some((p) => /^org\.apache\.hadoop:hadoop-aws:\d/.test(p)),
      'hadoop-aws for s3a://',
    );

    const ivy = conf['spark.jars.ivy'] ?? '';
    for (const name of ['spark', 'jupyter']) {
      const cache = mounts(name).find((m) => m.target === ivy);
      assert.ok(
        cache !== undefined && cache.source in (config.volumes ?? {}),
        `${name}: Ivy cache on a named volume`,
      );
      const env = environment(name);
      assert.equal(
        env.AWS_ACCESS_KEY_ID,
        'test',
        `${name}: s3a reads LocalStack's credentials from the environment`,
      );
    }
    assert.match(
      environment('jupyter').PYSPARK_SUBMIT_ARGS ?? '',
      /--properties-file \/opt\/ledgerlake\/spark\/ledgerlake\.conf/,
    );
  });

  it("mounts glue-scripts/ and the jobs' package glue/src/ into the spark service, read-only", () => {
    const scripts = mounts('spark').find((m) => m.source === join(repoRoot, 'glue-scripts'));
    assert.ok(scripts !== undefined, 'glue-scripts/ is mounted');
    assert.equal(scripts.target, '/opt/ledgerlake/glue-scripts');
    assert.ok(scripts.readOnly, 'generated scripts are never changed by a container');
    const gluePackage = mounts('spark').find((m) => m.source === join(repoRoot, 'glue', 'src'));
    assert.equal(gluePackage?.target, '/opt/ledgerlake/glue', 'the generated scripts import ledgerlake_glue');
    assert.ok(gluePackage.readOnly);
    assert.match(
      readFileSync(join(repoRoot, 'docker', 'spark', 'run-job.sh'), 'utf8'),
      /PYTHONPATH="\$home\/glue/,
      'run-job.sh puts the package on the path, as --extra-py-files does on Glue',
    );
    const helpers = mounts('spark').find((m) => m.source === join(repoRoot, 'docker', 'spark'));
    assert.equal(helpers?.target, '/opt/ledgerlake/spark');
  });

  it('runs each generated Glue script with the arguments of lib/glue/job-arguments.ts', () => {
    const jobs = glueJobArguments(buildTableModel(DEFAULT_CONFIG));
    for (const [job, spec] of Object.entries(jobs) as [GlueJobName, (typeof jobs)[GlueJobName]][]) {
      // What the state machine passes per run: the run id, and the month a close closes.
      const perRun: Partial<Record<string, string>> = {
        [JOB_ARGUMENT.runId]: 'run-1',
        [JOB_ARGUMENT.closePeriod]: '2025-06',
      };
      const given = spec.required.flatMap((name) => {
        const value = perRun[name];
        return value === undefined ? [] : [`--${name}`, value];
      });
      const { script, args } = runJobScript(job, given);
      assert.equal(script, `/opt/ledgerlake/glue-scripts/${spec.script}`, job);
      assert.ok(existsSync(join(repoRoot, 'glue-scripts', spec.script)), `${spec.script} exists`);
      const accepted = new Set<string>([...spec.required, ...Object.keys(spec.defaults)]);
      for (const name of args.keys()) assert.ok(accepted.has(name), `${job} does not take --${name}`);
      for (const name of spec.required) assert.ok(args.has(name), `${job} needs --${name}`);
      const namespaces = [
        [JOB_ARGUMENT.rawNamespace, EXPECTED.rawNamespace],
        [JOB_ARGUMENT.curatedNamespace, EXPECTED.curatedNamespace],
      ] as const;
      for (const [name, value] of namespaces) {
        if (accepted.has(name)) assert.equal(args.get(name), value, `${job} --${name}`);
      }
    }
    const staging = runJobScript('raw_append', []).args.get(JOB_ARGUMENT.stagingRoot);
    assert.equal(staging, `s3a://${EXPECTED.bucket}`, 'staged Parquet is read from the warehouse bucket');
    const catalog = runJobScript('maintenance', []).args.get(JOB_ARGUMENT.catalog);
    assert.equal(
      catalog,
      sparkConf()['spark.sql.defaultCatalog'],
      'maintenance CALLs the catalog Spark uses',
    );
    const override = runJobScript('curate', ['--run_id', 'r', '--curated_namespace', 'other.ns']).args;
    assert.equal(
      override.get(JOB_ARGUMENT.curatedNamespace),
      'other.ns',
      'given arguments override the defaults',
    );
  });

  it('refuses a job that is not a generated Glue script', () => {
    const result = spawnRunJob('compact', []);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /usage: run-job\.sh raw_append\|curate\|close_period\|maintenance/);
  });

  it("places the Hadoop catalog's tables at their model locations", () => {
    for (const table of buildTableModel(DEFAULT_CONFIG).tables) {
      const namespace = table.layer === 'raw' ? EXPECTED.rawNamespace : EXPECTED.curatedNamespace;
      assert.equal(`${namespace.replaceAll('.', '/')}/${table.name}`, table.location, table.name);
    }
  });

  it('holds no real credentials and publishes ports on localhost only', () => {
    for (const [name, service] of Object.entries(config.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (key === 'AWS_ACCESS_KEY_ID' || key === 'AWS_SECRET_ACCESS_KEY')
          assert.equal(value, 'test', `${name}: ${key}`);
        assert.doesNotMatch(key, /PASSWORD|TOKEN/, `${name}: ${key}`);
        if (value?.startsWith('mongodb'))
          assert.equal(new URL(value).username, '', `${name}: ${key} has a user`);
      }
      for (const port of hostPorts(name)) assert.match(port, /^127\.0\.0\.1:/, `${name} publishes ${port}`);
    }
    for (const file of [
      COMPOSE_FILE,
      'docker/localstack/init.sh',
      'docker/spark/ledgerlake.conf',
      'docker/spark/run-job.sh',
    ]) {
      assert.doesNotMatch(readFileSync(join(repoRoot, file), 'utf8'), /\b(AKIA|ASIA)[A-Z0-9]{16}\b/, file);
    }
  });
});

/** `docker-compose config` (parse, validate, resolve), as JSON. Fails, never skips, without docker-compose. */
function resolvedComposeConfig(): ComposeConfig {
  const compose = findOnPath('docker-compose');
  if (compose === undefined) {
    throw new Error(
      `docker-compose is not installed; it validates ${COMPOSE_FILE} without a Docker engine: ${INSTALL_HINT}`,
    );
  }
  // Variables that would make docker-compose read other files or another project.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('COMPOSE_')));
  const resolved = spawnSync(compose, ['-f', COMPOSE_FILE, 'config'], {
    cwd: repoRoot,
    env,
    encoding: 'utf8',
  });
  if (resolved.error !== undefined) throw resolved.error;
  assert.equal(resolved.status, 0, `docker-compose config failed:\n${resolved.stderr}`);
  // Debian's docker-compose is Python and depends on PyYAML; its interpreter reads the YAML it wrote.
  const python = pythonOf(compose) ?? 'python3';
  const json = spawnSync(
    python,
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    {
      input: resolved.stdout,
      encoding: 'utf8',
    },
  );
  if (json.status !== 0)
    throw new Error(`cannot read docker-compose's YAML with ${python} and PyYAML: ${json.stderr}`);
  return JSON.parse(json.stdout) as ComposeConfig;
}

function findOnPath(command: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, command))
    .find((path) => {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

function pythonOf(script: string): string | undefined {
  const firstLine = readFileSync(script).subarray(0, 200).toString('latin1').split('\n')[0] ?? '';
  return /^#!\s*(\S*python\S*)$/.exec(firstLine)?.[1];
}

function service(name: string): Service {
  const found = config.services[name];
  assert.ok(found !== undefined, `service ${name}`);
  return found;
}

function environment(name: string): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, v ?? undefined]),
  );
}

function dependsOn(name: string): string[] {
  const needs = service(name).depends_on ?? {};
  return Array.isArray(needs) ? needs : Object.keys(needs);
}

/** Mounts in either of the forms docker-compose prints: `source:target[:mode]` or the long syntax. */
function mounts(name: string): Mount[] {
  return (service(name).volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') {
      return { source: volume.source ?? '', target: volume.target, readOnly: volume.read_only === true };
    }
    const [source = '', target = '', mode = 'rw'] = volume.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

function hostPorts(name: string): string[] {
  return (service(name).ports ?? []).map((port) =>
    typeof port === 'string' ? port : `${port.host_ip ?? ''}:`,
  );
}

function imageTag(image: string): string | undefined {
  const lastPart = image.split('/').at(-1) ?? '';
  return lastPart.includes(':') ? lastPart.split(':').at(-1) : undefined;
}

/** docker/spark/ledgerlake.conf, the properties file both Spark containers mount. */
function sparkConf(): Record<string, string> {
  for (const name of ['spark', 'jupyter']) {
    const mount = mounts(name).find((m) => m.target === '/opt/ledgerlake/spark');
    assert.equal(mount?.source, join(repoRoot, 'docker', 'spark'), `${name} mounts docker/spark`);
  }
  const text = readFileSync(join(repoRoot, 'docker', 'spark', 'ledgerlake.conf'), 'utf8');
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [key = '', ...value] = line.split(/\s+/);
      return [key, value.join(' ')] as const;
    });
  return Object.fromEntries(entries);
}

const isCreate = (call: readonly string[]) => /^create-/.test(call[1] ?? '');

/** Runs the init script with a stand-in `awslocal` that records its calls; `exists` answers the existence checks. */
function runInitScript(script: string, { exists }: { exists: boolean }): string[][] {
  const bin = join(scratch, `awslocal-${exists}`);
  mkdirSync(bin, { recursive: true });
  const log = join(bin, 'calls.log');
  writeFileSync(log, '');
  writeFileSync(
    join(bin, 'awslocal'),
    [
      '#!/usr/bin/env bash',
      'printf "%s\\t" "$@" >>"$AWSLOCAL_LOG"; echo >>"$AWSLOCAL_LOG"',
      'case "$1 $2" in "s3api head-bucket"|"secretsmanager describe-secret"|"dynamodb describe-table") exit "$AWSLOCAL_EXISTS";; esac',
    ].join('\n'),
    { mode: 0o755 },
  );
  const result = spawnSync('bash', [script], {
    env: {
      ...environment('localstack'),
      PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
      AWSLOCAL_LOG: log,
      AWSLOCAL_EXISTS: exists ? '0' : '1',
    },
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `init script failed:\n${result.stderr}`);
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/\t$/, '').split('\t'));
}

/** Runs docker/spark/run-job.sh with a stand-in spark-submit that prints the argv it receives. */
function spawnRunJob(job: string, args: readonly string[]) {
  const sparkHome = join(scratch, 'spark-home');
  mkdirSync(join(sparkHome, 'bin'), { recursive: true });
  writeFileSync(join(sparkHome, 'bin', 'spark-submit'), '#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n', {
    mode: 0o755,
  });
  return spawnSync('bash', [join(repoRoot, 'docker', 'spark', 'run-job.sh'), job, ...args], {
    env: { ...environment('spark'), PATH: process.env.PATH ?? '', SPARK_HOME: sparkHome },
    encoding: 'utf8',
  });
}

/** The script run-job.sh submits and the job arguments that follow it. */
function runJobScript(job: string, given: readonly string[]): { script: string; args: Map<string, string> } {
  const result = spawnRunJob(job, given);
  assert.equal(result.status, 0, `run-job.sh ${job} failed:\n${result.stderr}`);
  const argv = result.stdout.split('\n').slice(0, -1);
  assert.deepEqual(argv.slice(0, 2), ['--properties-file', '/opt/ledgerlake/spark/ledgerlake.conf']);
  return { script: argv[2] ?? '', args: jobArgs(argv.slice(3)) };
}

/** `--name value` pairs after the script, as argparse reads them: the last one wins. */
function jobArgs(argv: readonly string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] ?? '';
    assert.match(flag, /^--[a-z_]+$/, `expected --name value pairs, got ${argv.join(' ')}`);
    args.set(flag.slice(2), argv[i + 1] ?? '');
  }
  return args;
}
