import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { venvPython } from '../support/venv-python.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const OUTPUT_TAIL_CHARS = 8_000;

interface PytestCase {
  readonly id: string;
  readonly outcome: 'passed' | 'failed' | 'skipped';
  /** The failure's message and traceback, or the reason for a skip. */
  readonly text: string;
}

// The package's unit tests are pytest's (glue/tests, one Spark session for the
// run); they run here so `npm test` runs them, each reported as a subtest.
describe("the Glue jobs' package (glue/)", { timeout: 300_000 }, () => {
  it('passes its pytest suite on local Spark', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ledgerlake-pytest-'));
    try {
      const report = join(dir, 'junit.xml');
      const { code, output } = await pytest(['glue', '-q', '-rfE', `--junitxml=${report}`]);
      const tail = output.slice(-OUTPUT_TAIL_CHARS);
      const xml = await readFile(report, 'utf8').catch(() => assert.fail(`pytest wrote no report:\n${tail}`));
      const cases = junitCases(xml);
      assert.ok(cases.length > 0, `pytest ran no test:\n${tail}`);
      for (const c of cases) {
        await t.test(c.id, { skip: c.outcome === 'skipped' ? c.text || true : false }, () => {
          if (c.outcome === 'failed') assert.fail(c.text);
        });
      }
      assert.equal(code, 0, `pytest exited with ${code}:\n${tail}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function pytest(args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      venvPython(),
      ['-m', 'pytest', ...args],
      { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : undefined;
        if (code === undefined) reject(error);
        else resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** The test cases of pytest's JUnit XML report, in run order. */
function junitCases(xml: string): PytestCase[] {
  const cases: PytestCase[] = [];
  for (const match of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attributes = Object.fromEntries(
      [...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], xmlText(a[2] ?? '')]),
    );
    const body = match[2] ?? '';
    const problem = /<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/.exec(body);
    const skipped = /<skipped\b[^>]*?message="([^"]*)"/.exec(body);
    const id = `${attributes.classname ?? ''}::${attributes.name ?? ''}`;
    if (problem !== null) {
      const message = /message="([^"]*)"/.exec(problem[2] ?? '')?.[1] ?? '';
      cases.push({ id, outcome: 'failed', text: xmlText(`${message}\n${problem[3] ?? ''}`).trim() });
    } else if (skipped !== null || /<skipped\b/.test(body)) {
      cases.push({ id, outcome: 'skipped', text: xmlText(skipped?.[1] ?? '') });
    } else {
      cases.push({ id, outcome: 'passed', text: '' });
    }
  }
  return cases;
}

function xmlText(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCodePoint(Number.parseInt(code, 16)))
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}
