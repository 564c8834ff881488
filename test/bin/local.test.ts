import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { RunSummary } from '../../lambdas/commit/commit-run.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

type LocalOutput = RunSummary & {
  tables: Record<string, { rows: number; files: number; snapshots: number }>;
};

async function local(dir: string, ...args: string[]): Promise<LocalOutput> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'bin/local.ts', '--json', '--dir', dir, ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, MONGO_URI: '' },
    },
  );
  return JSON.parse(stdout) as LocalOutput;
}

const read = (summary: RunSummary) =>
  Object.fromEntries(summary.collections.map((c) => [c.collection, c.documentsRead]));

describe('npm run local', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-local-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('extracts the seeded sample data from the embedded server into staged Parquet and prints the summary', async () => {
    const summary = await local(dir, '--journal-entries', '300');
    assert.deepEqual(read(summary), { accounts: 58, journal_entries: 300, close_tasks: 24 });
    assert.equal(summary.totals.quarantined, 0);
    assert.ok(summary.collections.every((c) => c.reconciled));
    const staged = await readdir(
      join(dir, 'warehouse', 'staging', 'fq_app', 'journal_entries', `run=${summary.runId}`),
    );
    assert.deepEqual(staged, ['chunk-00000-00000.parquet']);
    const rows = Object.fromEntries(Object.entries(summary.tables).map(([name, t]) => [name, t.rows]));
    assert.equal(rows['fq_app_raw.journal_entries'], 300);
    assert.equal(rows['fq_app_raw.accounts'], 58);
    assert.equal(rows['fq_app_curated.journal_entries_gold'], 300, 'one gold row per entry');
    assert.equal(rows['fq_app_curated.close_tasks_silver'], 24);
    assert.ok(
      (rows['fq_app_curated.journal_entries_silver'] ?? 0) >= 600,
      'every entry has at least two lines',
    );
  });

  it('a second run reloads the chart of accounts and finds nothing new in incremental collections', async () => {
    const summary = await local(dir, '--journal-entries', '300');
    assert.deepEqual(read(summary), { accounts: 58, journal_entries: 0, close_tasks: 0 });
    assert.equal(
      summary.tables['fq_app_raw.accounts']?.rows,
      116,
      'raw is append-only: each reload adds a version',
    );
    assert.equal(summary.tables['fq_app_curated.journal_entries_gold']?.rows, 300);
  });
});
