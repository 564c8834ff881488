import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..', '..');

/** The environment without anything that could reach an AWS account. */
function offlineEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('CDK_')) env[key] = value;
  }
  // No shared config or credentials files either.
  return { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' };
}

describe('cdk synth', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('synthesizes all three stacks offline with no AWS credentials, bundling the functions', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cdk-out-'));
    const home = await mkdtemp(join(tmpdir(), 'cdk-home-'));
    dirs.push(out, home);
    await run(
      'npx',
      ['cdk', 'synth', '--quiet', '--no-notices', '--no-version-reporting', '-c', 'stage=prod', '-o', out],
      {
        cwd: repoRoot,
        env: offlineEnv(home),
        timeout: 240_000,
      },
    );
    const templates = (await readdir(out)).filter((f) => f.endsWith('.template.json')).sort();
    assert.deepEqual(templates, [
      'ledgerlake-fq-app-prod-analytics.template.json',
      'ledgerlake-fq-app-prod-data.template.json',
      'ledgerlake-fq-app-prod-pipeline.template.json',
    ]);
    const pipeline = JSON.parse(
      await readFile(join(out, 'ledgerlake-fq-app-prod-pipeline.template.json'), 'utf8'),
    );
    const functions = Object.values(pipeline.Resources as Record<string, { Type: string }>).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    assert.equal(functions.length, 4);
    const assets = await readdir(out);
    const bundles = assets.filter((a) => a.startsWith('asset.'));
    assert.ok(
      bundles.length >= 7,
      `expected 4 function bundles and 3 Glue scripts, got ${bundles.length} assets`,
    );
  });

  it('refuses an unknown stage with the value received', async () => {
    const home = await mkdtemp(join(tmpdir(), 'cdk-home-'));
    dirs.push(home);
    await assert.rejects(
      run('npx', ['tsx', 'bin/ledgerlake.ts'], {
        cwd: repoRoot,
        env: { ...offlineEnv(home), CDK_CONTEXT_JSON: JSON.stringify({ stage: 'qa' }) },
      }),
      (error: { stderr: string }) => {
        assert.match(error.stderr, /config\.aws\.stage must be 'dev' or 'prod', got "qa"/);
        return true;
      },
    );
  });
});
