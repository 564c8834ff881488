import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { bundleLambda, LAMBDA_NAMES, MONGODB_OPTIONAL_MODULES } from '../../lib/lambda-bundles.ts';

const run = promisify(execFile);
/** Budget per function; Lambda allows 50 MB zipped, but cold starts grow with bundle size. */
const BUNDLE_BUDGET_BYTES = 2_500_000;

describe('Lambda bundles', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bundles-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const name of LAMBDA_NAMES) {
    it(`bundles ${name} for Node 22 within budget, leaving only the AWS SDK to the runtime`, async () => {
      const { bytes, externalImports } = await bundleLambda(name, join(dir, name));
      assert.ok(bytes < BUNDLE_BUDGET_BYTES, `${name} bundle is ${bytes} bytes`);
      const optional = new Set<string>(MONGODB_OPTIONAL_MODULES);
      const unexpected = externalImports.filter(
        (s) => !s.startsWith('@aws-sdk/') && !isBuiltin(s) && !optional.has(s),
      );
      assert.deepEqual(
        unexpected,
        [],
        'only the AWS SDK, Node built-ins and unused driver options may be left out',
      );
    });
  }

  it('a bundled handler fails naming the missing environment variable', async () => {
    const { file } = await bundleLambda('plan', join(dir, 'plan-env'));
    // The Lambda runtime provides the AWS SDK; here the project's copy stands in for it.
    await symlink(join(import.meta.dirname, '..', '..', 'node_modules'), join(dir, 'node_modules'));
    const script = `import(${JSON.stringify(file)}).then((m) => m.handler({ runId: 'r1' })).catch((e) => { console.log(e.message); });`;
    const { stdout } = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } });
    assert.match(stdout, /environment variable LEDGERLAKE_CONFIG is not set/);
  });
});
