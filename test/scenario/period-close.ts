import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Decimal128, type Document, MongoClient, ObjectId } from 'mongodb';
import { logger } from '../../lambdas/shared/logger.ts';
import { resolveConfig } from '../../lib/config/index.ts';
import { FsCatalog } from '../../lib/local/iceberg/catalog.ts';
import { IcebergTable } from '../../lib/local/iceberg/table-ops.ts';
import { type RunningMongoServer, startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { type GlueEngine, LocalRunFailed, runLocalPipeline } from '../../lib/local/runner/run-pipeline.ts';
import { seedDatabase } from '../../lib/local/sample-data/index.ts';
import { buildTableModel } from '../../lib/model/index.ts';
import { expectedTables, readSourceDocuments } from './oracle.ts';
import { diffTables, readCuratedTables } from './tables.ts';

logger.setLogLevel('CRITICAL');
const config = resolveConfig();
const model = buildTableModel(config);
const DATABASE = config.source.database;
const TAG = 'close-2025-06';
const JUNE = { $gte: new Date('2025-06-01T00:00:00Z'), $lt: new Date('2025-07-01T00:00:00Z') };
const JULY = { $gte: new Date('2025-07-01T00:00:00Z'), $lt: new Date('2025-08-01T00:00:00Z') };

/**
 * The period-close scenario of issue 12, the same on either engine (the
 * local engine, or the generated Glue scripts on PySpark): close 2025-06,
 * then change an entry dated June and one dated July, add a June entry and
 * delete another, and run. The tag still reads June as closed,
 * trial_balance_closed_gold is unchanged, trial_balance_gold moved to what
 * the source now says (every curated table is compared with the oracle),
 * posted_after_close lists the June entries only, and a second close is
 * refused.
 */
export function periodCloseScenario(engine: GlueEngine, journalEntries: number): void {
  describe(`closing 2025-06 and changing the books after the close (${engine} engine)`, () => {
    let dir: string;
    let server: RunningMongoServer;
    let client: MongoClient;
    let closedBefore: Record<string, unknown>[];
    let taggedBefore: bigint;
    const changed: { june?: ObjectId; july?: ObjectId; added?: ObjectId; deleted?: ObjectId } = {};
    const entries = () => client.db(DATABASE).collection('journal_entries');
    const run = (input?: unknown) =>
      runLocalPipeline({
        dir,
        mongoUri: server.uri,
        scale: 0,
        engine,
        ...(input === undefined ? {} : { input }),
      });
    const table = (name: string) => {
      const catalog = new FsCatalog(join(dir, 'warehouse'));
      return new IcebergTable(catalog, catalog.locationOf(model.table(name)));
    };
    const rows = async (
      sql: (scan: (name: string, snapshotId?: bigint) => Promise<string>) => Promise<string>,
    ) => {
      const connection = await (await DuckDBInstance.create(':memory:')).connect();
      try {
        const scan = (name: string, snapshotId?: bigint) =>
          table(name).scanSql(snapshotId === undefined ? {} : { snapshotId });
        return (await connection.runAndReadAll(await sql(scan))).getRowObjectsJS() as Record<
          string,
          unknown
        >[];
      } finally {
        connection.closeSync();
      }
    };
    const juneBalances = (source: string) =>
      `SELECT account_id, CAST(opening_balance AS VARCHAR) AS opening, CAST(period_debit AS VARCHAR) AS debit,
         CAST(period_credit AS VARCHAR) AS credit, CAST(closing_balance AS VARCHAR) AS closing
       FROM ${source} WHERE period = DATE '2025-06-01' ORDER BY account_id`;
    const tagOf = async (name: string) => (await table(name).load()).metadata.refs[TAG]?.['snapshot-id'];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `period-close-${engine}-`));
      server = await startMongoServer();
      client = await new MongoClient(server.uri).connect();
      await seedDatabase(client.db(DATABASE), { journalEntries, closeTasks: 24 });
      const summary = await run({ closePeriod: '2025-06' });
      assert.equal(summary.status, 'SUCCEEDED');
      closedBefore = await rows(async (scan) =>
        juneBalances(`(SELECT * FROM ${await scan('trial_balance_closed_gold')})`),
      );
      taggedBefore = (await tagOf('trial_balance_gold')) as bigint;
      const [june, juneToo, juneDeleted] = await entries()
        .find({ date: JUNE })
        .sort({ _id: 1 })
        .limit(3)
        .toArray();
      const [july] = await entries().find({ date: JULY }).sort({ _id: 1 }).limit(1).toArray();
      assert.ok(june && juneToo && juneDeleted && july, 'the sample has June and July entries');
      const now = new Date();
      // One more on the first debit and the first credit line: the entry stays balanced.
      const bump = async (doc: Document) => {
        const lines = (doc.lines as Document[]).map((l) => ({ ...l }));
        for (const side of ['debit', 'credit']) {
          const line = lines.find((l) => Number(l[side].toString()) > 0) as Document;
          line[side] = Decimal128.fromString((Number(line[side].toString()) + 1).toFixed(2));
        }
        await entries().updateOne({ _id: doc._id }, { $set: { lines, updatedAt: now } });
      };
      await bump(june);
      await bump(july);
      changed.june = june._id as ObjectId;
      changed.july = july._id as ObjectId;
      changed.added = new ObjectId();
      await entries().insertOne({
        ...juneToo,
        _id: changed.added,
        entry_id: 'JE-LATE',
        description: 'Posted after the close',
        updatedAt: now,
      });
      await entries().deleteOne({ _id: juneDeleted._id });
      changed.deleted = juneDeleted._id as ObjectId;
      assert.equal((await run()).status, 'SUCCEEDED');
    });
    after(async () => {
      await client?.close();
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('the tag still reads June as closed, and trial_balance_closed_gold is unchanged', async () => {
      assert.equal(await tagOf('trial_balance_gold'), taggedBefore, 'the tag did not move');
      const atTag = await rows(async (scan) => juneBalances(await scan('trial_balance_gold', taggedBefore)));
      assert.deepEqual(atTag, closedBefore);
      const closedNow = await rows(async (scan) =>
        juneBalances(`(SELECT * FROM ${await scan('trial_balance_closed_gold')})`),
      );
      assert.deepEqual(closedNow, closedBefore);
      for (const name of ['journal_entries_silver', 'balance_sheet_gold', 'data_quality_issues'])
        assert.ok((await tagOf(name)) !== undefined, `${name} is tagged ${TAG}`);
    });

    it('trial_balance_gold moved, and every curated table equals the source (posted_after_close aside)', async () => {
      const now = await rows(async (scan) => juneBalances(await scan('trial_balance_gold')));
      assert.notDeepEqual(now, closedBefore);
      const expected = expectedTables(await readSourceDocuments(client.db(DATABASE)), new Date(), config);
      const actual = await readCuratedTables(dir, config);
      const withoutLate = {
        ...actual,
        data_quality_issues: actual.data_quality_issues.filter((r) => r.code !== 'posted_after_close'),
      };
      assert.deepEqual(diffTables(expected, withoutLate), []);
    });

    it('posted_after_close lists the June entries changed, added and deleted after the close, not the July one', async () => {
      const late = await rows(
        async (scan) =>
          `SELECT _id, detail FROM ${await scan('data_quality_issues')} WHERE code = 'posted_after_close' ORDER BY _id`,
      );
      const ids = [changed.june, changed.added, changed.deleted].map((id) => id?.toHexString()).sort();
      assert.deepEqual(
        late.map((r) => r._id),
        ids,
      );
      for (const r of late) assert.match(String(r.detail), /^dated in closed month 2025-06: /);
    });

    it('closing 2025-06 again is refused, naming the close and the way to reopen', async () => {
      await assert.rejects(
        run({ closePeriod: '2025-06' }),
        (error: Error) =>
          error instanceof LocalRunFailed &&
          /2025-06 is closed \(close 1, by run .*\); to close it again, start a run with \{"closePeriod": "2025-06", "reopen": true\}/.test(
            error.message,
          ),
      );
    });
  });
}
