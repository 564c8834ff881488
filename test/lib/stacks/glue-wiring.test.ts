import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type App, Stack } from 'aws-cdk-lib';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as assets from 'aws-cdk-lib/aws-s3-assets';
import { INGEST_STATES, JOB_ARGUMENT } from '../../../lib/contracts/index.ts';
import { glueJobArguments } from '../../../lib/glue/job-arguments.ts';
import { GLUE_PACKAGE, GLUE_PACKAGE_ROOT } from '../../../lib/glue/package.ts';
import { buildTableModel } from '../../../lib/model/index.ts';
import { ingestDefinition } from '../../../lib/stacks/ingest-definition.ts';
import { synthesize } from './stacks-fixture.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..');
/** Glue's own arguments, not the scripts'. */
const GLUE_ARGUMENTS = new Set([
  '--extra-py-files',
  '--datalake-formats',
  '--conf',
  '--enable-metrics',
  '--enable-continuous-cloudwatch-log',
  '--job-bookmark-option',
  '--TempDir',
]);

describe('Glue job wiring: each job runs its generated script with the arguments that script accepts', () => {
  const { stacks, config, pipeline } = synthesize();
  const stack = stacks.pipeline;
  const contract = glueJobArguments(buildTableModel(config));
  const jobs: Record<'raw_append' | 'curate' | 'maintenance', glue.CfnJob> = {
    raw_append: stack.glueJobs.rawAppend,
    curate: stack.glueJobs.curate,
    maintenance: stack.glueJobs.maintenance,
  };
  const scriptAssets = stack.node.findAll().filter((c): c is assets.Asset => c instanceof assets.Asset);

  for (const [name, job] of Object.entries(jobs)) {
    it(`${name}: the script asset is glue-scripts/${contract[name as keyof typeof jobs].script}, byte for byte`, () => {
      const spec = contract[name as keyof typeof jobs];
      const location = JSON.stringify(
        stack.resolve((job.command as glue.CfnJob.JobCommandProperty).scriptLocation),
      );
      const asset = scriptAssets.find((a) => JSON.stringify(stack.resolve(a.s3ObjectUrl)) === location);
      assert.ok(asset, `no asset behind ${location}`);
      const staged = readFileSync(join((stack.node.root as App).outdir, asset.assetPath));
      assert.deepEqual(staged, readFileSync(join(repoRoot, 'glue-scripts', spec.script)));
    });

    it(`${name}: every default argument is one the script accepts, and every required one is given`, () => {
      const spec = contract[name as keyof typeof jobs];
      const defaults = Stack.of(job).resolve(job.defaultArguments) as Record<string, string>;
      const accepted = new Set([...spec.required, ...Object.keys(spec.defaults)].map((a) => `--${a}`));
      for (const arg of Object.keys(defaults)) {
        if (!GLUE_ARGUMENTS.has(arg)) assert.ok(accepted.has(arg), `${name} does not accept ${arg}`);
      }
      // The state machine passes --run_id per run; everything else required must be a default.
      for (const arg of spec.required) {
        if (arg !== JOB_ARGUMENT.runId) assert.ok(`--${arg}` in defaults, `${name} lacks --${arg}`);
      }
    });
  }

  it("every job gets the jobs' Python package (glue/src) through --extra-py-files, without caches", () => {
    const modules = (dir: string) =>
      readdirSync(join(dir, GLUE_PACKAGE), { recursive: true, encoding: 'utf8' }).sort();
    for (const [name, job] of Object.entries(jobs)) {
      const defaults = Stack.of(job).resolve(job.defaultArguments) as Record<string, unknown>;
      const location = JSON.stringify(defaults['--extra-py-files']);
      const asset = scriptAssets.find((a) => JSON.stringify(stack.resolve(a.s3ObjectUrl)) === location);
      assert.ok(asset?.isZipArchive, `${name}: --extra-py-files is a zip asset`);
      const staged = join((stack.node.root as App).outdir, asset.assetPath);
      assert.deepEqual(readdirSync(staged), [GLUE_PACKAGE], name);
      const shipped = modules(staged);
      assert.ok(shipped.includes('maintenance.py') && !shipped.some((f) => f.includes('__pycache__')), name);
      const source = modules(join(repoRoot, GLUE_PACKAGE_ROOT)).filter((f) => !f.includes('__pycache__'));
      assert.deepEqual(shipped, source, name);
    }
  });

  it('no job has an empty default argument (Glue passes none; optional arguments have no default)', () => {
    for (const [name, job] of Object.entries(jobs)) {
      const defaults = Stack.of(job).resolve(job.defaultArguments) as Record<string, unknown>;
      for (const [arg, value] of Object.entries(defaults)) assert.notEqual(value, '', `${name} ${arg}`);
      assert.ok(!(`--${JOB_ARGUMENT.expireAsOf}` in defaults), name);
    }
  });

  it('the state machine starts the raw append and curate jobs with the run id, synchronously', () => {
    const definition = ingestDefinition(pipeline.toJSON() as Parameters<typeof ingestDefinition>[0]);
    for (const state of [INGEST_STATES.rawAppend, INGEST_STATES.curate]) {
      const task = definition.States[state] as unknown as {
        Resource: string;
        Parameters: Record<string, unknown>;
      };
      assert.match(task.Resource, /:states:::glue:startJobRun\.sync$/);
      assert.deepEqual(task.Parameters.Arguments, { [`--${JOB_ARGUMENT.runId}.$`]: '$.runId' });
    }
  });
});
