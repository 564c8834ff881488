import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_CONFIG, resolveConfig, validateConfig } from '../../../lib/config/index.ts';

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
});
