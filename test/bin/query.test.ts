import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseJsonWithLongs } from '../../lib/local/iceberg/json-long.ts';
import { type BriefWarehouse, briefWarehouse } from '../lib/local/query/query-fixture.ts';

const REPO = resolve(import.meta.dirname, '..', '..');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function query(args: readonly string[], stdin?: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/query.ts', ...args], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

describe('npm run query', () => {
  let built: BriefWarehouse;
  before(async () => {
    built = await briefWarehouse();
  });
  after(() => rm(built.dir, { recursive: true, force: true }));

  it('prints rows as JSON with exact decimals and exact 64-bit integers', async () => {
    const run = await query([
      '--dir',
      built.dir,
      '--json',
      `SELECT entry_id, total_debit, total_credit, is_balanced, ${built.goldBrief.snapshotId} AS snapshot_id,
         9007199254740993::BIGINT AS past_double
       FROM journal_entries_gold FOR VERSION AS OF ${built.goldBrief.snapshotId}`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    // parseJsonWithLongs gives bigints from 16 digits on; snapshot ids can be shorter.
    const rows = parseJsonWithLongs<Record<string, unknown>[]>(run.stdout);
    assert.deepEqual(
      rows.map((r) => ({ ...r, snapshot_id: BigInt(r.snapshot_id as number | bigint) })),
      [
        {
          entry_id: 'JE1001',
          total_debit: '500.0000',
          total_credit: '500.0000',
          is_balanced: true,
          snapshot_id: built.goldBrief.snapshotId,
          past_double: 9007199254740993n,
        },
      ],
    );
    assert.match(
      run.stdout,
      new RegExp(`"snapshot_id":${built.goldBrief.snapshotId},"past_double":9007199254740993}`),
    );
  });

  it('--named lists the named queries; --named trial-balance --csv --out FILE writes the CSV to the file', async () => {
    const list = await query(['--dir', built.dir, '--named']);
    assert.equal(list.code, 0, list.stderr);
    for (const id of [
      'trial-balance',
      'income-statement',
      'balance-sheet',
      'books-as-closed',
      'changes-after-close',
    ])
      assert.match(list.stdout, new RegExp(`^ ${id} `, 'm'));
    const out = join(built.dir, 'trial-balance-2025-05.csv');
    const run = await query([
      '--dir',
      built.dir,
      '--named',
      'trial-balance',
      '--period',
      '2025-05',
      '--csv',
      '--out',
      out,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '');
    const csv = (await readFile(out, 'utf8')).split('\r\n');
    assert.equal(csv[0]?.startsWith('period,account_id,account_name,'), true);
    // The brief's JE1001 (as run-2 left it): cash debited 500, payables credited 499.9999.
    assert.deepEqual(csv.slice(1, 3), [
      '2025-05-01,1000,Cash,Asset,0.0000,500.0000,0.0000,500.0000,500.0000,',
      '2025-05-01,2000,Accounts Payable,Liability,0.0000,0.0000,499.9999,499.9999,,499.9999',
    ]);
    const refused = await query(['--dir', built.dir, '--period', '2025-05', 'SELECT 1']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--period goes with --named <id>/);
  });

  it('prints an aligned table with exact decimals and NULL, reading the SQL from stdin with -', async () => {
    const run = await query(
      ['--dir', built.dir, '-'],
      'SELECT entry_id, total_credit, NULL AS note FROM gold.journal_entries_gold',
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stdout,
      [
        ' entry_id | total_credit | note',
        '----------+--------------+------',
        ' JE1001   |     499.9999 | NULL',
        '(1 row)',
        '',
      ].join('\n'),
    );
  });

  it('lists a table’s snapshots as JSON, the ids exact', async () => {
    const run = await query([
      '--dir',
      built.dir,
      '--json',
      '--snapshots',
      'fq_app_curated.journal_entries_gold',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const snapshots = parseJsonWithLongs<{ snapshotId: bigint | number; runId: string; current: boolean }[]>(
      run.stdout,
    );
    assert.deepEqual(
      snapshots.map((s) => [BigInt(s.snapshotId) === built.goldBrief.snapshotId, s.runId, s.current]),
      [
        [true, 'run-1', false],
        [false, 'run-2', true],
      ],
    );
  });

  it('lists the tables with rows, files and snapshots', async () => {
    const run = await query(['--dir', built.dir, '--tables']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^ fq_app_curated\.journal_entries_gold +\| gold +\| +1 \| +2 \| +1 \| +2 \| +\d+$/m,
    );
  });

  it('exits non-zero naming the known tables when a table is unknown', async () => {
    const run = await query(['--dir', built.dir, 'SELECT * FROM silver.ledger']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /Table with name ledger does not exist/);
    assert.match(run.stderr, /known tables: .*fq_app_curated\.journal_entries_silver/);
  });

  it('exits non-zero saying to run npm run local when the directory has no warehouse', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'query-none-'));
    try {
      const run = await query(['--dir', empty, 'SELECT 1']);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^no warehouse at .*: run `npm run local` first/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
