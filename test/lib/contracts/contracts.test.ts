import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseRunRequest } from '../../../lambdas/validate/run-request.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import {
  assertRunId,
  ENV,
  INGEST_PATHS,
  INGEST_STATES,
  PLAN_STATUS,
  stagingLayout,
  WAREHOUSE_PREFIXES,
} from '../../../lib/contracts/index.ts';
import { GLUE_PACKAGE_ROOT } from '../../../lib/glue/package.ts';
import { type AslState, ingestDefinition } from '../../../lib/stacks/ingest-definition.ts';
import { runPythonJson } from '../../support/venv-python.ts';
import { synthesize } from '../stacks/stacks-fixture.ts';

// Each side reads its contracts from lib/contracts; these check that the sides agree on what they do with them.

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const config = resolveConfig();

/** Run ids near the edges of the rule: lengths 80/81, each allowed punctuation, path and SQL characters, a trailing newline, a leading dash (an argument name to Glue's reader). */
const RUN_IDS = [
  'a',
  'x'.repeat(80),
  'x'.repeat(81),
  '',
  'run_1.2:3-4',
  '2026-01-02T03:04:05.678Z',
  'a b',
  'a/b',
  "a'b",
  'run-1\n',
  'run-é',
  '--x',
  '_run',
];

const acceptedBy = (check: (runId: string) => unknown) =>
  RUN_IDS.filter((runId) => {
    try {
      check(runId);
      return true;
    } catch {
      return false;
    }
  });

/**
 * The run ids each generated Glue script that takes `--run_id` accepts:
 * its ARGUMENTS checked by the package's job_arguments (Python `re`), as
 * on Glue. Keyed by script name.
 */
async function acceptedByGlueScripts(): Promise<Record<string, string[]>> {
  const code = `
import json, runpy, sys
sys.path.insert(0, sys.argv[1])
from ledgerlake_glue.common import job_arguments
run_ids = json.loads(sys.argv[3])
result = {}
for path in json.loads(sys.argv[2]):
    spec = runpy.run_path(path, run_name="generated")["ARGUMENTS"]
    accepted = []
    for run_id in run_ids:
        argv = [path] + [a for name in spec["required"] for a in ("--" + name, run_id if name == "run_id" else "s3://b")]
        try:
            job_arguments(spec, argv)
            accepted.append(run_id)
        except ValueError:
            pass
    result[path.rsplit("/", 1)[-1]] = accepted
print(json.dumps(result))
`;
  const scripts = ['raw_append.py', 'curate.py'].map((name) => join(repoRoot, 'glue-scripts', name));
  return runPythonJson(code, [
    join(repoRoot, GLUE_PACKAGE_ROOT),
    JSON.stringify(scripts),
    JSON.stringify(RUN_IDS),
  ]);
}

/** Every state of a definition, those inside Map item processors included. */
function allStates(states: Readonly<Record<string, AslState>>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, state]) => {
    const processor = state.ItemProcessor as { States: Record<string, AslState> } | undefined;
    return [
      [name, state] as [string, AslState],
      ...(processor === undefined ? [] : allStates(processor.States)),
    ];
  });
}

describe('shared contracts', () => {
  it('the functions, the run request and the Glue scripts accept exactly the same run ids', async () => {
    const functions = acceptedBy(assertRunId);
    assert.deepEqual(functions, ['a', 'x'.repeat(80), 'run_1.2:3-4', '2026-01-02T03:04:05.678Z']);
    assert.deepEqual(
      acceptedBy((runId) => parseRunRequest({ resume: runId }, config)),
      functions,
    );
    const glue = await acceptedByGlueScripts();
    assert.deepEqual(Object.keys(glue).sort(), ['curate.py', 'raw_append.py']);
    for (const [script, accepted] of Object.entries(glue)) assert.deepEqual(accepted, functions, script);
  });

  it('keeps every run file under the runs prefix the policies grant, and the staged data outside it', () => {
    const app = config.app;
    const runs = WAREHOUSE_PREFIXES.runs(app);
    const runFiles = [
      stagingLayout.plan(app, 'r1'),
      stagingLayout.chunkList(app, 'r1'),
      stagingLayout.chunkManifest(app, 'r1', 'journal_entries', 3),
      stagingLayout.keysManifest(app, 'r1', 'journal_entries'),
      stagingLayout.jobReport(app, 'r1', 'raw-append'),
      stagingLayout.jobReport(app, 'r1', 'curate'),
      stagingLayout.summary(app, 'r1'),
    ];
    const data = [
      stagingLayout.dataFile(app, 'journal_entries', 'r1', 3, 0),
      stagingLayout.keysFile(app, 'journal_entries', 'r1', 0),
    ];
    for (const key of runFiles) assert.ok(key.startsWith(runs), `${key} is under ${runs}`);
    for (const key of data) assert.ok(!key.startsWith(runs), `${key} is not under ${runs}`);
    for (const key of [...runFiles, ...data]) {
      assert.ok(key.startsWith(WAREHOUSE_PREFIXES.staging(app)), `${key} is staged`);
    }
  });

  it('names every state of the synthesized definition in INGEST_STATES, and nothing else', () => {
    const definition = ingestDefinition(synthesize().pipeline.toJSON() as never);
    const states = allStates(definition.States);
    assert.deepEqual(states.map(([name]) => name).sort(), Object.values(INGEST_STATES).sort());
    // The Choice states read only the contract's paths, and compare the plan status only with its values.
    const rules = states.flatMap(([, s]) =>
      s.Type === 'Choice' ? (s.Choices as Record<string, unknown>[]) : [],
    );
    const conditions = rules.flatMap((rule) => (rule.And as Record<string, unknown>[] | undefined) ?? [rule]);
    for (const condition of conditions) {
      const path = String(condition.Variable);
      assert.ok(Object.values<string>(INGEST_PATHS).includes(path), `${path} is a contract path`);
    }
    const compared = conditions
      .filter((c) => c.Variable === INGEST_PATHS.planStatus)
      .map((c) => c.StringEquals);
    assert.deepEqual(
      [...new Set(compared)].sort(),
      Object.values(PLAN_STATUS)
        .filter((status) => status !== PLAN_STATUS.planned)
        .sort(),
    );
  });

  it('gives the functions exactly the environment variables of ENV', () => {
    const functions = Object.values(synthesize().pipeline.findResources('AWS::Lambda::Function'));
    const names = new Set(
      functions.flatMap((fn) => Object.keys(fn.Properties.Environment.Variables as Record<string, string>)),
    );
    names.delete('NODE_OPTIONS');
    assert.deepEqual([...names].sort(), Object.values(ENV).sort());
  });
});
