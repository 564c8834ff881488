import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { venvPython } from '../../support/venv-python.ts';
import { synthesize } from './stacks-fixture.ts';

const run = promisify(execFile);

/** Rules left out, each with why its finding is not a defect of these templates. */
const IGNORED_RULES: Readonly<Record<string, string>> = {
  W3005:
    'CDK makes functions, Glue jobs and the state machine DependsOn their role next to the GetAtt of its ARN, so the role default policy exists first; the extra edge is redundant, not wrong.',
};

/** The configurations every template is linted in: the defaults, and every optional resource switched on. */
const CONFIGS = {
  default: {},
  full: {
    aws: {
      alarms: { email: 'ops@example.com', freshnessHours: 3 },
      network: {
        vpcId: 'vpc-0123456789abcdef0',
        subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      },
      lakeFormation: { enabled: true, analystPrincipals: ['arn:aws:iam::123456789012:role/analysts'] },
    },
  },
};

interface Finding {
  readonly Filename: string;
  readonly Level: string;
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Path: readonly (string | number)[] };
}

describe('cfn-lint', () => {
  let dir: string | undefined;
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('finds nothing in any synthesized template, default and with VPC, alarm email and Lake Formation', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-cfn-lint-'));
    const files: string[] = [];
    for (const [name, overrides] of Object.entries(CONFIGS)) {
      const synthesized = synthesize(overrides);
      for (const stack of ['data', 'pipeline', 'analytics'] as const) {
        const file = join(dir, `${name}-${stack}.json`);
        await writeFile(file, JSON.stringify(synthesized[stack].toJSON(), null, 1));
        files.push(file);
      }
    }
    const cfnLint = join(dirname(venvPython()), 'cfn-lint');
    // One process for every template; exit codes 2/4/8 only mean findings, which the JSON lists.
    const output = await run(
      cfnLint,
      ['--format', 'json', '--ignore-checks', ...Object.keys(IGNORED_RULES), '--', ...files],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    ).catch((error: { stdout?: string; code?: number; stderr?: string }) => {
      if (typeof error.stdout === 'string' && error.stdout.startsWith('[')) return { stdout: error.stdout };
      throw error;
    });
    const findings = (JSON.parse(output.stdout) as Finding[]).map(
      (f) =>
        `${f.Level} ${f.Rule.Id} ${f.Filename.slice(dir?.length ?? 0)} ${f.Location.Path.join('/')}: ${f.Message}`,
    );
    assert.deepEqual(findings, []);
  });
});
