import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { icebergRead } from 'icebird';
import { BSON, type Document } from 'mongodb';
import { toUnscaled } from '../../lambdas/shared/decimal.ts';
import { logger } from '../../lambdas/shared/logger.ts';
import { resolveConfig } from '../../lib/config/index.ts';
import { INGEST_STATES } from '../../lib/contracts/index.ts';
import { FsCatalog } from '../../lib/local/iceberg/catalog.ts';
import { IcebergTable } from '../../lib/local/iceberg/table-ops.ts';
import { readBsonDocuments } from '../../lib/local/runner/embedded-source.ts';
import { LocalRunFailed, runLocalPipeline } from '../../lib/local/runner/run-pipeline.ts';
import { buildTableModel } from '../../lib/model/index.ts';
import { withLocalFetch } from '../support/local-fetch.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const model = buildTableModel(resolveConfig());

interface LocalJson {
  runId: string;
  mode: 'full' | 'incremental';
  status: string;
  seconds: number;
  collections: Record<string, { read: number; staged: number; quarantined: number }>;
  tables: Record<string, { rows: number; files: number; snapshots: number }>;
}

/** `npm run local -- --json …` as a user runs it (embedded source: MONGO_URI unset). */
async function local(dir: string, ...args: string[]): Promise<LocalJson> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'bin/local.ts', '--json', '--dir', dir, ...args],
    { cwd: repoRoot, env: { ...process.env, MONGO_URI: '' }, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as LocalJson;
}

/** The source as it now is, from the embedded server's dump (not through the pipeline). */
async function sourceDocuments(dir: string, collection: string): Promise<Document[]> {
  const docs: Document[] = [];
  for await (const raw of readBsonDocuments(join(dir, 'source', 'fq_app', `${collection}.bson`))) {
    docs.push(BSON.deserialize(raw, { promoteValues: false }));
  }
  return docs;
}

/** Decimal128 text → exact text at scale 4, as silver and gold hold it. */
function money(value: unknown): string {
  const result = toUnscaled(String(value ?? '0'), 28, 4);
  if (!result.ok) throw new Error(result.reason);
  return scaled(result.unscaled);
}

function scaled(unscaled: bigint): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(5, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`;
}

const text = (value: unknown) => (value === null || value === undefined ? null : String(value));

describe('npm run local: the whole pipeline twice, full then incremental after mutations', () => {
  let dir: string;
  let first: LocalJson;
  let second: LocalJson;
  const rows = async (table: string, sql: (relation: string) => string) => {
    const catalog = new FsCatalog(join(dir, 'warehouse'));
    const relation = await new IcebergTable(catalog, catalog.locationOf(model.table(table))).scanSql();
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      return (await connection.runAndReadAll(sql(relation))).getRowObjectsJS();
    } finally {
      connection.closeSync();
    }
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-local-'));
    first = await local(dir, '--scale', '400');
    second = await local(dir, '--scale', '400', '--mutate', '40');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the first run into an empty folder is full, the next incremental, each reading only what changed', () => {
    assert.equal(first.mode, 'full');
    assert.equal(second.mode, 'incremental');
    assert.deepEqual(
      Object.fromEntries(Object.entries(first.collections).map(([name, c]) => [name, c.read])),
      // The close checklist: twelve tasks for each of the 24 months of entries.
      { accounts: 58, journal_entries: 400, close_tasks: 288 },
    );
    // 40 corrected entries and 4 new ones; 4 close tasks moved on; accounts are reloaded whole each run.
    assert.deepEqual(
      Object.fromEntries(Object.entries(second.collections).map(([name, c]) => [name, c.read])),
      { accounts: 58, journal_entries: 44, close_tasks: 4 },
    );
    assert.notEqual(first.runId, second.runId);
  });

  it('raw rows grow by exactly the documents staged in each run, and staged counts every document read', () => {
    for (const summary of [first, second]) {
      for (const c of Object.values(summary.collections)) assert.equal(c.staged, c.read);
    }
    for (const collection of ['accounts', 'journal_entries', 'close_tasks']) {
      const table = `fq_app_raw.${collection}`;
      assert.equal(first.tables[table]?.rows, first.collections[collection]?.staged, table);
      assert.equal(
        (second.tables[table]?.rows ?? 0) - (first.tables[table]?.rows ?? 0),
        second.collections[collection]?.staged,
        table,
      );
    }
  });

  it('silver holds the latest state of every source document, lines joined to the current accounts', async () => {
    const accounts = new Map((await sourceDocuments(dir, 'accounts')).map((a) => [String(a.account_id), a]));
    const expected = (await sourceDocuments(dir, 'journal_entries'))
      .flatMap((entry) =>
        (entry.lines as Document[]).map((line, i) => {
          const account = accounts.get(String(line.account_id));
          return [
            entry._id.toHexString(),
            i + 1,
            entry.entry_id,
            (entry.date as Date).toISOString().slice(0, 10),
            entry.description,
            String(line.account_id),
            text(account?.account_name),
            text(account?.account_type),
            money(line.debit),
            money(line.credit),
          ].join('|');
        }),
      )
      .sort();
    const silver = (
      await rows(
        'journal_entries_silver',
        (
          r,
        ) => `SELECT _id, line_no, entry_id, CAST(entry_date AS VARCHAR) AS d, description, account_id, account_name,
          account_type, CAST(debit AS VARCHAR) AS debit, CAST(credit AS VARCHAR) AS credit FROM ${r}`,
      )
    )
      .map((row) => Object.values(row).join('|'))
      .sort();
    assert.equal(silver.length, expected.length);
    assert.deepEqual(silver, expected);
    const renamed = [...accounts.values()].filter((a) => String(a.account_name).includes('(renamed 1)'));
    assert.equal(renamed.length, 1, 'the mutation renamed one account');

    const tasks = (await sourceDocuments(dir, 'close_tasks'))
      .map((t) => [t._id.toHexString(), t.task_id, t.status].join('|'))
      .sort();
    const tasksSilver = (await rows('close_tasks_silver', (r) => `SELECT _id, task_id, status FROM ${r}`))
      .map((row) => Object.values(row).join('|'))
      .sort();
    assert.deepEqual(tasksSilver, tasks);
  });

  it('gold equals debit and credit totals computed from the source documents', async () => {
    const expected = (await sourceDocuments(dir, 'journal_entries'))
      .map((entry) => {
        let debit = 0n;
        let credit = 0n;
        for (const line of entry.lines as Document[]) {
          const d = toUnscaled(String(line.debit), 28, 4);
          const c = toUnscaled(String(line.credit), 28, 4);
          if (!d.ok || !c.ok) throw new Error(`bad amount in ${entry.entry_id}`);
          debit += d.unscaled;
          credit += c.unscaled;
        }
        return [entry.entry_id, scaled(debit), scaled(credit), debit === credit].join('|');
      })
      .sort();
    const gold = (
      await rows(
        'journal_entries_gold',
        (r) =>
          `SELECT entry_id, CAST(total_debit AS VARCHAR), CAST(total_credit AS VARCHAR), is_balanced FROM ${r}`,
      )
    )
      .map((row) => Object.values(row).join('|'))
      .sort();
    assert.deepEqual(gold, expected);
    assert.ok(
      expected.some((row) => row.endsWith('|false')),
      'the sample has unbalanced entries, found by is_balanced',
    );
  });

  it('the balance sheet of the sample data: assets = liabilities + equity + earnings at every month end, but for exactly what the unbalanced entries leave over; cash stays positive', async () => {
    const types = new Map(
      (await sourceDocuments(dir, 'accounts')).map((a) => [String(a.account_id), String(a.account_type)]),
    );
    const known = new Set(['Asset', 'Liability', 'Equity', 'Revenue', 'Expense']);
    // Per month: debits less credits on accounts of a known type, from the source documents.
    const imbalance = new Map<string, bigint>();
    for (const entry of await sourceDocuments(dir, 'journal_entries')) {
      const month = `${(entry.date as Date).toISOString().slice(0, 7)}-01`;
      for (const line of entry.lines as Document[]) {
        if (!known.has(types.get(String(line.account_id)) ?? '')) continue;
        const d = toUnscaled(String(line.debit), 28, 4);
        const c = toUnscaled(String(line.credit), 28, 4);
        if (!d.ok || !c.ok) throw new Error(`bad amount in ${entry.entry_id}`);
        imbalance.set(month, (imbalance.get(month) ?? 0n) + d.unscaled - c.unscaled);
      }
    }
    const sheet = await rows(
      'balance_sheet_gold',
      (r) => `SELECT CAST(period AS VARCHAR) AS period, CAST(total_assets AS VARCHAR) AS assets,
        CAST(total_liabilities_and_equity AS VARCHAR) AS claims, CAST(out_of_balance AS VARCHAR) AS out
        FROM ${r} ORDER BY period`,
    );
    assert.equal(sheet.length, 24, 'every month of 2024 and 2025');
    let cumulative = 0n;
    for (const month of sheet) {
      cumulative += imbalance.get(String(month.period)) ?? 0n;
      assert.equal(month.out, scaled(cumulative), `out of balance at the end of ${month.period}`);
      const unscaledOf = (value: unknown) => {
        const result = toUnscaled(String(value), 28, 4);
        if (!result.ok) throw new Error(result.reason);
        return result.unscaled;
      };
      assert.equal(unscaledOf(month.assets), unscaledOf(month.claims) + cumulative, String(month.period));
    }
    assert.notEqual(cumulative, 0n, 'the sample has unbalanced entries, and the balance sheet shows them');
    const cash = await rows(
      'trial_balance_gold',
      (r) => `SELECT min(closing_balance) > 0 AS positive FROM ${r} WHERE account_id = '1000'`,
    );
    assert.deepEqual(cash, [{ positive: true }]);
  });

  it('every table is readable by icebird with the row counts the summary reports', async () => {
    const catalog = new FsCatalog(join(dir, 'warehouse'));
    for (const table of model.tables) {
      const counts = second.tables[`${table.database}.${table.name}`];
      // A table no commit has written yet (trial_balance_closed_gold before any close) has no snapshot to read.
      if (counts?.snapshots === 0) {
        assert.equal(counts.rows, 0, table.name);
        continue;
      }
      const data = await withLocalFetch(() => icebergRead({ tableUrl: catalog.locationOf(table) }));
      assert.equal(data.length, counts?.rows, table.name);
    }
  });
});

describe('npm run local --resume: replaying a committed run, resuming a superseded one', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-replay-'));
    // The failing run made in process warns on purpose; its outcome is asserted, not printed.
    logger.setLogLevel('ERROR');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a committed run id succeeds as a no-op and says so; the tables stay as they were', async () => {
    const first = await local(dir, '--fresh', '--scale', '200');
    const second = await local(dir, '--scale', '200', '--mutate', '10');
    const replay = await local(dir, '--scale', '200', '--resume', first.runId);
    assert.equal(replay.status, 'ALREADY_COMMITTED');
    assert.deepEqual(replay.collections, {});
    assert.deepEqual(replay.tables, second.tables);
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'bin/local.ts', '--dir', dir, '--scale', '200', '--resume', first.runId],
      { cwd: repoRoot, env: { ...process.env, MONGO_URI: '' } },
    );
    assert.match(stdout, new RegExp(`run ${first.runId} was committed before; nothing done`));
  });

  it('a run id superseded by a later run fails with RunSuperseded and suggests no rerun of it', async () => {
    const failed = await runLocalPipeline({
      dir,
      scale: 200,
      mutate: 5,
      wrapTask: (state, handler) =>
        state === INGEST_STATES.commit
          ? async () => {
              throw new Error('injected commit failure');
            }
          : handler,
    }).then(
      () => assert.fail('the run should have failed'),
      (error: unknown) => error as LocalRunFailed,
    );
    assert.ok(failed instanceof LocalRunFailed);
    const later = await local(dir, '--scale', '200');
    const refused = await run(
      process.execPath,
      ['--import', 'tsx', 'bin/local.ts', '--dir', dir, '--scale', '200', '--resume', failed.runId],
      { cwd: repoRoot, env: { ...process.env, MONGO_URI: '' } },
    ).then(
      () => assert.fail('a superseded run should fail'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`run ${failed.runId} was superseded by run ${later.runId}`));
    assert.match(refused.stderr, /nothing to resume: start a new run, or wait for the next scheduled one/);
    assert.doesNotMatch(refused.stderr, /run it again with|--resume/);
  });
});
