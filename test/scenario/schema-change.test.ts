import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Decimal128, type Document, MongoClient, ObjectId } from 'mongodb';
import { logger } from '../../lambdas/shared/logger.ts';
import { resolveConfig } from '../../lib/config/index.ts';
import type { EngineContext } from '../../lib/local/engine/index.ts';
import { openTable } from '../../lib/local/engine/index.ts';
import { FsCatalog } from '../../lib/local/iceberg/catalog.ts';
import { type RunningMongoServer, startMongoServer } from '../../lib/local/mongo-server/index.ts';
import { runLocalPipeline } from '../../lib/local/runner/run-pipeline.ts';
import { seedDatabase } from '../../lib/local/sample-data/index.ts';
import { MODEL_DEFINITION, type ModelDefinition } from '../../lib/model/definition.ts';
import { buildTableModel, column, SOURCE_FIELDS, t } from '../../lib/model/index.ts';
import { JOURNAL_ENTRIES_SILVER } from '../../lib/model/tables/curated.ts';

// The README's worked example of changing the model, run end to end: documents carry `currency`
// (on the entry and on each line) before the model declares it; the model gains it in raw
// journal_entries and its lines, and silver lines copy the line's; an incremental run, then a
// backfill, and silver must say what the source says.

logger.setLogLevel('CRITICAL');
const config = resolveConfig();
const DATABASE = config.source.database;
const CURRENCIES = ['USD', 'EUR', 'GBP'];

/** The checked-in model plus currency on journal entries, their lines and silver lines. */
const WITH_CURRENCY: ModelDefinition = {
  ...MODEL_DEFINITION,
  sourceFields: {
    ...SOURCE_FIELDS,
    journal_entries: (SOURCE_FIELDS.journal_entries ?? []).flatMap((c) => {
      if (c.name === 'description') return [c, column('currency', t.string(), 'ISO 4217 code of the entry')];
      if (c.name !== 'lines' || c.type.kind !== 'list' || c.type.element.kind !== 'struct') return [c];
      const line = c.type.element;
      return [
        {
          ...c,
          type: t.list(
            t.struct([...line.fields, column('currency', t.string(), 'ISO 4217 code of the line')]),
          ),
        },
      ];
    }),
  },
  curatedTables: MODEL_DEFINITION.curatedTables.map((spec) =>
    spec.name === JOURNAL_ENTRIES_SILVER.name
      ? {
          ...spec,
          columns: [
            ...spec.columns,
            column('currency', t.string(), 'ISO 4217 code of the line', { from: 'line.currency' }),
          ],
        }
      : spec,
  ),
};

describe('changing the model on an existing warehouse, end to end: currency reaches raw and silver', () => {
  let dir: string;
  let server: RunningMongoServer;
  let client: MongoClient;
  let engine: EngineContext;
  let snapshotBeforeChange: bigint;
  const run = (input?: unknown, definition?: ModelDefinition) =>
    runLocalPipeline({
      dir,
      mongoUri: server.uri,
      scale: 0,
      ...(input === undefined ? {} : { input }),
      ...(definition === undefined ? {} : { definition }),
    });
  const entries = () => client.db(DATABASE).collection('journal_entries');
  const scan = async (table: string, selector = {}) =>
    (await openTable(engine, engine.model.table(table))).scanSql(selector);
  const rows = async (sql: string) =>
    (await engine.connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];

  /** Silver's line currencies against the source's: every line of every entry in silver. */
  const silverAgainstSource = async () => {
    const source = new Map<string, Document>();
    for (const doc of await entries().find().toArray()) source.set((doc._id as ObjectId).toHexString(), doc);
    const silver = await rows(
      `SELECT _id, line_no, currency FROM ${await scan('journal_entries_silver')} ORDER BY _id, line_no`,
    );
    const wrong = silver.filter((r) => {
      const line = (source.get(r._id as string)?.lines as Document[] | undefined)?.[
        (r.line_no as number) - 1
      ];
      return (line?.currency ?? null) !== r.currency;
    });
    return { lines: silver.length, filled: silver.filter((r) => r.currency !== null).length, wrong };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'schema-change-'));
    server = await startMongoServer();
    client = await new MongoClient(server.uri).connect();
    await seedDatabase(client.db(DATABASE), { journalEntries: 60, closeTasks: 24 });
    // Documents that carry currency before the model declares it (their watermark does not move).
    let i = 0;
    for (const doc of await entries().find().toArray()) {
      const currency = CURRENCIES[i++ % CURRENCIES.length] as string;
      const lines = ((doc.lines as Document[] | undefined) ?? []).map((l) => ({ ...l, currency }));
      await entries().updateOne({ _id: doc._id }, { $set: { currency, lines } });
    }
    await run();
    engine = {
      config,
      model: buildTableModel(config, WITH_CURRENCY),
      catalog: new FsCatalog(join(dir, 'warehouse')),
      connection: await (await DuckDBInstance.create(':memory:')).connect(),
      stagingRoot: join(dir, 'warehouse'),
    };
    const raw = await openTable(engine, buildTableModel(config).table('journal_entries'));
    snapshotBeforeChange = BigInt((await raw.load()).metadata['current-snapshot-id'] as number | bigint);
  });
  after(async () => {
    await client?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an incremental run with the new model: new and changed documents carry currency in raw and silver, the rest read NULL', async () => {
    const now = new Date();
    const added = new ObjectId();
    await entries().insertOne({
      _id: added,
      entry_id: 'JE9001',
      date: new Date('2025-06-30T00:00:00Z'),
      description: 'FX accrual',
      currency: 'CHF',
      lines: [
        {
          account_id: '1000',
          debit: Decimal128.fromString('10'),
          credit: Decimal128.fromString('0'),
          currency: 'CHF',
        },
        {
          account_id: '2000',
          debit: Decimal128.fromString('0'),
          credit: Decimal128.fromString('10'),
          currency: 'CHF',
        },
      ],
      updatedAt: now,
    });
    const changed = (await entries().findOne({}, { sort: { updatedAt: 1 } })) as Document;
    await entries().updateOne({ _id: changed._id }, { $set: { description: 'Corrected', updatedAt: now } });
    const summary = await run(undefined, WITH_CURRENCY);
    assert.equal(summary.status, 'SUCCEEDED');
    const raw = await rows(
      `SELECT _id, currency, list_transform(lines, l -> l.currency) AS lines FROM ${await scan('journal_entries')} WHERE _run_id = '${summary.runId}' ORDER BY _id`,
    );
    assert.deepEqual(
      raw.map((r) => r._id).sort(),
      [(changed._id as ObjectId).toHexString(), added.toHexString()].sort(),
    );
    for (const r of raw)
      assert.ok(r.currency !== null && (r.lines as unknown[]).every((c) => c === r.currency));
    const before = await rows(
      `SELECT count(*)::INT AS n, count(currency)::INT AS with_currency FROM ${await scan('journal_entries')} WHERE _run_id <> '${summary.runId}'`,
    );
    assert.equal(before[0]?.with_currency, 0, 'rows read before the change have no currency');
    const silver = await silverAgainstSource();
    // Only the two re-read entries have currency in silver so far; every other line is NULL (not yet re-read).
    const reread = await rows(
      `SELECT count(*)::INT AS n FROM ${await scan('journal_entries_silver')} WHERE _id IN ('${added.toHexString()}', '${(changed._id as ObjectId).toHexString()}')`,
    );
    assert.equal(silver.filled, reread[0]?.n);
    assert.ok(silver.filled >= 2);
  });

  it('a backfill re-reads the history and silver gives every line the currency the source has', async () => {
    const summary = await run(
      { collections: ['journal_entries'], backfill: { from: '2000-01-01', to: '2100-01-01' } },
      WITH_CURRENCY,
    );
    assert.equal(summary.status, 'SUCCEEDED');
    const silver = await silverAgainstSource();
    assert.deepEqual(silver.wrong, [], 'silver lines whose currency differs from the source');
    assert.ok(
      silver.filled === silver.lines && silver.lines > 100,
      `${silver.filled} of ${silver.lines} lines filled`,
    );
  });

  it('time travel to the snapshot before the change reads the raw rows as they were, currency NULL', async () => {
    const then = await rows(
      `SELECT count(*)::INT AS n, count(currency)::INT AS with_currency FROM ${await scan('journal_entries', { snapshotId: snapshotBeforeChange })}`,
    );
    assert.ok((then[0]?.n as number) >= 60);
    assert.equal(then[0]?.with_currency, 0);
  });
});
