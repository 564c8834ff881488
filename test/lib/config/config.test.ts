import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ConfigError,
  configFromContext,
  DEFAULT_CONFIG,
  resolveConfig,
  validateConfig,
} from '../../../lib/config/index.ts';

function problemsOf(overrides: unknown): readonly string[] {
  try {
    resolveConfig(overrides);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.problems;
  }
  assert.fail('configuration was accepted');
}

describe('configuration', () => {
  it('defaults reproduce the original brief', () => {
    const config = resolveConfig();
    assert.equal(config.app, 'fq_app');
    assert.equal(config.source.database, 'fq_app');
    assert.deepEqual(
      config.collections.map((c) => c.name),
      ['accounts', 'journal_entries', 'close_tasks'],
    );
    assert.deepEqual(config.retention.raw, { keepLastSnapshots: 3, maxSnapshotAgeDays: 30 });
    assert.deepEqual(config.retention.silver, { keepLastSnapshots: 3, maxSnapshotAgeDays: 30 });
    assert.equal(config.retention.gold.maxSnapshotAgeDays, 90);
    assert.match(config.source.secretName, /^[A-Za-z0-9/_+=.@-]+$/);
  });

  it('merges overrides field by field and replaces arrays', () => {
    const config = resolveConfig({
      extraction: { leaseMinutes: 30 },
      collections: [{ name: 'journal_entries', mode: 'incremental', watermarkField: '_id', chunkDocs: 1000 }],
    });
    assert.equal(config.extraction.leaseMinutes, 30);
    assert.equal(config.extraction.stagingFileRows, DEFAULT_CONFIG.extraction.stagingFileRows);
    assert.equal(config.collections.length, 1);
  });

  it('fails when chunkDocs is 12, naming the field, the value and the range', () => {
    const problems = problemsOf({
      collections: [{ name: 'journal_entries', mode: 'incremental', watermarkField: '_id', chunkDocs: 12 }],
    });
    assert.deepEqual(problems, ['config.collections[0].chunkDocs must be between 100 and 1000000, got 12']);
  });

  it('reports every invalid field at once', () => {
    const problems = problemsOf({
      app: 'Bad-Name',
      source: { secretName: 'has spaces' },
      collections: [{ name: 'x', mode: 'delta', watermarkField: 'a.b', chunkDocs: 1000 }],
      schedules: { ingest: 'every hour' },
      retention: { gold: { keepLastSnapshots: 'three' } },
    });
    assert.deepEqual(problems, [
      'config.app must be 1-63 characters of a-z, 0-9 and _, starting with a letter, got "Bad-Name"',
      'config.source.secretName must be a Secrets Manager secret name (1-512 of A-Z a-z 0-9 /_+=.@-), got "has spaces"',
      `config.collections[0].mode must be 'incremental' or 'full', got "delta"`,
      'config.collections[0].watermarkField must be a top-level field name (letters, digits, _; no dots or $), got "a.b"',
      `config.schedules.ingest must be an EventBridge Scheduler expression like 'rate(1 hour)' or 'cron(0 3 * * ? *)', got "every hour"`,
      'config.retention.gold.keepLastSnapshots must be a number, got "three"',
    ]);
  });

  it("lists keys for delete detection every run unless a collection says deletes: 'never'", () => {
    const config = resolveConfig({
      collections: [
        { name: 'journal_entries', mode: 'incremental', watermarkField: 'updatedAt', chunkDocs: 1000 },
        { name: 'accounts', mode: 'full', watermarkField: '_id', chunkDocs: 1000, deletes: 'never' },
      ],
    });
    assert.deepEqual(
      config.collections.map((c) => c.deletes),
      ['every-run', 'never'],
    );
    assert.deepEqual(
      problemsOf({
        collections: [
          { name: 'accounts', mode: 'full', watermarkField: '_id', chunkDocs: 1000, deletes: 'hourly' },
        ],
      }),
      [`config.collections[0].deletes must be one of 'every-run', 'never', got "hourly"`],
    );
  });

  it('names unknown fields so typos are not silently ignored', () => {
    assert.deepEqual(problemsOf({ extraction: { chunkSize: 5 } }), [
      "config.extraction: unknown field 'chunkSize'",
    ]);
  });

  it('names missing required fields', () => {
    assert.deepEqual(problemsOf({ collections: [{ name: 'accounts' }] }), [
      "config.collections[0].mode is required: must be 'incremental' or 'full'",
      'config.collections[0].watermarkField is required: expected a string',
      'config.collections[0].chunkDocs is required: expected a number',
    ]);
  });

  it('refuses a collection listed twice', () => {
    const twice = { name: 'accounts', mode: 'full', watermarkField: '_id', chunkDocs: 1000 };
    assert.deepEqual(problemsOf({ collections: [twice, twice] }), [
      'config.collections[1].name must be unique among collections, got "accounts"',
    ]);
  });

  it('refuses a configuration that is not an object', () => {
    assert.throws(() => resolveConfig('fq_app'), /config must be an object, got "fq_app"/);
  });

  it('validateConfig accepts the defaults unchanged', () => {
    assert.deepEqual(validateConfig(structuredClone(DEFAULT_CONFIG)), DEFAULT_CONFIG);
  });

  it('deploys to dev, retaining data, with an empty Atlas secret to fill in by default', () => {
    const { aws } = resolveConfig();
    assert.equal(aws.stage, 'dev');
    assert.equal(aws.removalPolicy, 'retain');
    assert.equal(aws.atlasSecret, 'create');
    assert.deepEqual(aws.glue, { workerType: 'G.1X', numberOfWorkers: 2, timeoutMinutes: 60 });
    assert.equal(aws.network, undefined);
    assert.equal(aws.alarms.email, undefined);
  });

  it('refuses destroy outside dev, naming the stage', () => {
    assert.deepEqual(problemsOf({ aws: { stage: 'prod', removalPolicy: 'destroy' } }), [
      `config.aws.removalPolicy may be 'destroy' only when stage is 'dev' (stage is 'prod'), got "destroy"`,
    ]);
  });

  it('reports every invalid deployment setting with its value and what is allowed', () => {
    assert.deepEqual(
      problemsOf({
        aws: {
          stage: 'qa',
          glue: { workerType: 'G.3X', numberOfWorkers: 1 },
          mapMaxConcurrency: 0,
          network: { vpcId: 'default', subnetIds: [] },
          alarms: { email: 'ops' },
          athenaBytesScannedCutoff: 5,
          logRetentionDays: 8,
        },
      }),
      [
        `config.aws.stage must be 'dev' or 'prod', got "qa"`,
        'config.aws.glue.workerType must be one of G.1X, G.2X, G.4X, G.8X, got "G.3X"',
        'config.aws.glue.numberOfWorkers must be between 2 and 299, got 1',
        'config.aws.mapMaxConcurrency must be between 1 and 1000, got 0',
        `config.aws.network.vpcId must be a VPC id like 'vpc-0123456789abcdef0', got "default"`,
        'config.aws.network.subnetIds must list at least one private subnet, got []',
        'config.aws.alarms.email must be an email address, got "ops"',
        "config.aws.athenaBytesScannedCutoff must be at least 10000000 (Athena's minimum), got 5",
        'config.aws.logRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, got 8',
      ],
    );
  });

  it('leaves Lake Formation off by default and turns it on with enabled: true', () => {
    assert.deepEqual(resolveConfig().aws.lakeFormation, { enabled: false, analystPrincipals: [] });
    const analysts = 'arn:aws:iam::123456789012:role/finance-analysts';
    assert.deepEqual(
      resolveConfig({ aws: { lakeFormation: { enabled: true, analystPrincipals: [analysts] } } }).aws
        .lakeFormation,
      { enabled: true, analystPrincipals: [analysts] },
    );
    assert.deepEqual(resolveConfig({ aws: { lakeFormation: { enabled: true } } }).aws.lakeFormation, {
      enabled: true,
      analystPrincipals: [],
    });
  });

  it('refuses a Lake Formation setting that is not what it looks like', () => {
    assert.deepEqual(problemsOf({ aws: { lakeFormation: true } }), [
      'config.aws.lakeFormation must be an object, got true',
    ]);
    assert.deepEqual(problemsOf({ aws: { lakeFormation: { enabled: 'yes', admins: [] } } }), [
      'config.aws.lakeFormation.enabled must be a boolean, got "yes"',
      "config.aws.lakeFormation: unknown field 'admins'",
    ]);
    const role = 'arn:aws:iam::123456789012:role/analysts';
    assert.deepEqual(
      problemsOf({ aws: { lakeFormation: { enabled: true, analystPrincipals: ['analysts', role, role] } } }),
      [
        `config.aws.lakeFormation.analystPrincipals[0] must be an IAM role or user ARN like 'arn:aws:iam::123456789012:role/analysts', got "analysts"`,
        `config.aws.lakeFormation.analystPrincipals[2] is listed twice, got "${role}"`,
      ],
    );
    assert.deepEqual(problemsOf({ aws: { lakeFormation: { analystPrincipals: [role] } } }), [
      `config.aws.lakeFormation.analystPrincipals take effect only with enabled: true, got ["${role}"]`,
    ]);
  });

  it('takes the stage from CDK context over a config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-'));
    try {
      const file = join(dir, 'prod.json');
      await writeFile(file, JSON.stringify({ aws: { stage: 'dev', alarms: { email: 'ops@example.com' } } }));
      const context: Record<string, unknown> = { config: file, stage: 'prod' };
      const config = configFromContext((key) => context[key]);
      assert.equal(config.aws.stage, 'prod');
      assert.equal(config.aws.alarms.email, 'ops@example.com');
      assert.equal(config.aws.alarms.freshnessHours, 3);
      assert.throws(
        () => configFromContext((key) => ({ config: join(dir, 'missing.json') })[key]),
        /context config: cannot read .*missing\.json as JSON/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
