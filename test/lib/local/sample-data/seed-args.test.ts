import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSeedArgs, SeedArgsError } from '../../../../lib/local/sample-data/seed-args.ts';

// A made-up password, assembled at run time so no credential-shaped literal sits in the repository.
const FAKE_PASSWORD = 's3cr3t-pw';
const SECRET_URI = `mongodb://ledger:${FAKE_PASSWORD}@127.0.0.1:9/?serverSelectionTimeoutMS=200`;
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

function argsError(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = { MONGO_URI: 'mongodb://localhost' },
): string {
  try {
    parseSeedArgs(argv, env);
  } catch (error) {
    assert.ok(error instanceof SeedArgsError, `expected SeedArgsError, got ${error}`);
    return error.message;
  }
  assert.fail(`accepted ${argv.join(' ')}`);
}

describe('seed command line', () => {
  it('reads every option, with fq_app and the library defaults when absent', () => {
    assert.deepEqual(parseSeedArgs(['--uri', 'mongodb://h:1', '--seed', '7', '--journal-entries', '50']), {
      help: false,
      uri: 'mongodb://h:1',
      database: 'fq_app',
      options: {
        seed: 7,
        journalEntries: 50,
        closeTasks: undefined,
        unbalancedRatio: undefined,
        startDate: undefined,
        endDate: undefined,
        batchSize: undefined,
      },
    });
    const parsed = parseSeedArgs(['--db', 'other', '--close-tasks=3', '--start-date', '2023-01-01'], {
      MONGO_URI: 'mongodb+srv://cluster.example',
    });
    assert.ok(!parsed.help);
    assert.equal(parsed.uri, 'mongodb+srv://cluster.example');
    assert.equal(parsed.database, 'other');
    assert.equal(parsed.options.closeTasks, 3);
  });

  it('names the argument in every error', () => {
    assert.equal(argsError([], {}), '--uri is required (or set MONGO_URI)');
    assert.equal(argsError(['--uri', 'http://x']), '--uri must start with mongodb:// or mongodb+srv://');
    assert.equal(argsError(['--seed', 'abc']), '--seed must be a number, got "abc"');
    assert.equal(
      argsError(['--journal-entries=-5']),
      '--journal-entries must be a non-negative integer, got -5',
    );
    assert.equal(
      argsError(['--unbalanced-ratio', '2']),
      '--unbalanced-ratio must be a number from 0 to 1, got 2',
    );
    assert.equal(
      argsError(['--end-date', '2020-01-01']),
      '--end-date must be on or after startDate, got "2020-01-01"',
    );
    assert.equal(argsError(['--batch-size', '0']), '--batch-size must be a positive integer, got 0');
    assert.match(argsError(['--sed', '3']), /'--sed'/);
  });

  it('never echoes a connection string given in the wrong place', () => {
    const message = argsError([SECRET_URI]);
    assert.doesNotMatch(message, /s3cr3t/);
    assert.match(message, /mongodb:\/\/<redacted>/);
  });

  it('prints neither the URI nor its password when the server cannot be reached', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'bin/seed.ts', '--uri', SECRET_URI], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /seeding failed: MongoServerSelectionError/);
    assert.doesNotMatch(result.stdout + result.stderr, /s3cr3t|ledger:/);
  });
});
