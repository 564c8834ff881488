import { icebergRead } from 'icebird';
import { Decimal128, type Document, Double, Int32, Long, ObjectId } from 'mongodb';
import { resolveConfig } from '../../lib/config/index.ts';
import { recordedSchemaHistory } from '../../lib/model/build.ts';
import { MODEL_DEFINITION, type ModelDefinition } from '../../lib/model/definition.ts';
import { column, SOURCE_FIELDS, t } from '../../lib/model/index.ts';
import type { ColumnSpec } from '../../lib/model/types.ts';
import { withLocalFetch } from '../support/local-fetch.ts';
import { runPythonJson } from '../support/venv-python.ts';
import { BRIEF, INGEST } from './curate/brief-fixture.ts';

// One model change on an existing warehouse, run by both engines: the local engine
// (test/lib/local/engine/schema-evolution.test.ts) and the generated Glue scripts on Spark
// (test/lib/glue/schema-evolution-spark.test.ts).

export const config = resolveConfig();
const money = (text: string) => Decimal128.fromString(text);
export const HOUR = 3_600_000_000n;
export const INGEST_2 = INGEST + HOUR;

/** The previous model: the checked-in one with a required entry_id, an int revision, a float rate and a decimal(10, 2) quantity per line. */
const PREVIOUS_JOURNAL: ColumnSpec[] = [
  column('entry_id', t.string(), 'Business key', { required: true }),
  column('date', t.date(), 'Accounting date'),
  column('description', t.string(), 'Narrative'),
  column('revision', t.int(), 'Edit counter of the source application'),
  column('rate', t.float(), 'Exchange rate to the reporting currency'),
  column(
    'lines',
    t.list(
      t.struct([
        column('account_id', t.string(), 'Account code'),
        column('debit', t.decimal(18, 4), 'Debit amount'),
        column('credit', t.decimal(18, 4), 'Credit amount'),
        column('quantity', t.decimal(10, 2), 'Units'),
      ]),
    ),
    'Journal lines',
  ),
  column('updated_at', t.timestamptz(), 'Last change', { sourceField: 'updatedAt' }),
];

/**
 * The next model: every supported change at once. entry_id made optional,
 * revision widened to long, rate to double, quantity to decimal(12, 2), a top-level currency
 * between date and description, a memo inside each line between account_id
 * and debit, and a period for close tasks.
 */
export const NEXT_JOURNAL: ColumnSpec[] = [
  column('entry_id', t.string(), 'Business key'),
  column('date', t.date(), 'Accounting date'),
  column('currency', t.string(), 'ISO 4217 code of the entry'),
  column('description', t.string(), 'Narrative'),
  column('revision', t.long(), 'Edit counter of the source application'),
  column('rate', t.double(), 'Exchange rate to the reporting currency'),
  column(
    'lines',
    t.list(
      t.struct([
        column('account_id', t.string(), 'Account code'),
        column('memo', t.string(), 'Line memo'),
        column('debit', t.decimal(18, 4), 'Debit amount'),
        column('credit', t.decimal(18, 4), 'Credit amount'),
        column('quantity', t.decimal(12, 2), 'Units'),
      ]),
    ),
    'Journal lines',
  ),
  column('updated_at', t.timestamptz(), 'Last change', { sourceField: 'updatedAt' }),
];

export const definition = (journal: ColumnSpec[], closeTasks: readonly ColumnSpec[]): ModelDefinition => ({
  ...MODEL_DEFINITION,
  sourceFields: { ...SOURCE_FIELDS, journal_entries: journal, close_tasks: closeTasks },
});
const CLOSE_TASKS = SOURCE_FIELDS.close_tasks ?? [];
const unrecorded = definition(PREVIOUS_JOURNAL, CLOSE_TASKS);
/** The previous model as it was deployed: its schema history recorded. */
export const PREVIOUS: ModelDefinition = {
  ...unrecorded,
  history: recordedSchemaHistory(config, { ...unrecorded, history: { tables: {} } }),
};
/** The next model over the previous one's history, as before `npm run gen` records it. */
export const NEXT: ModelDefinition = {
  ...definition(NEXT_JOURNAL, [
    ...CLOSE_TASKS.slice(0, -1),
    column('period', t.string(), 'Fiscal period, e.g. 2025-06'),
    ...CLOSE_TASKS.slice(-1),
  ]),
  history: PREVIOUS.history,
};

const JE1001 = BRIEF.journal_entries?.[0] as Document;
/** A further change neither engine can follow: currency removed, revision narrowed back to int. */
export const NARROWED: ModelDefinition = {
  ...definition(
    NEXT_JOURNAL.filter((c) => c.name !== 'currency').map((c) =>
      c.name === 'revision' ? column('revision', t.int(), 'Edit counter') : c,
    ),
    NEXT.sourceFields.close_tasks ?? [],
  ),
  history: { tables: {} },
};
/** What the refusal of NARROWED must say. */
export const NARROWED_REFUSAL = [
  /table journal_entries: column 'currency' \(string\) is in the table but no longer in the model/,
  /table journal_entries: column 'revision' is long in the table but int in the model/,
];

export const RUN_1 = {
  ...BRIEF,
  journal_entries: [
    {
      ...JE1001,
      revision: new Int32(1),
      rate: new Double(1.25),
      lines: [
        { account_id: new Int32(1000), debit: money('500'), credit: money('0'), quantity: money('2.5') },
        { account_id: new Int32(2000), debit: money('0'), credit: money('500') },
      ],
    },
  ],
};
export const JE2001 = {
  _id: new ObjectId('68ca9aca193e5d257e046f30'),
  entry_id: 'JE2001',
  date: new Date('2025-06-30T00:00:00Z'),
  currency: 'EUR',
  description: 'Accrual',
  revision: Long.fromString('1099511627776'),
  rate: new Double(0.1),
  lines: [
    {
      account_id: new Int32(1000),
      memo: 'June',
      debit: money('75.5'),
      credit: money('0'),
      quantity: money('1234567890.12'),
    },
    { account_id: new Int32(2000), memo: null, debit: money('0'), credit: money('75.5') },
  ],
};
/** A document without entry_id: quarantined under the previous model, an entry with a null key under the next. */
export const NO_KEY = {
  _id: new ObjectId('68ca9aca193e5d257e046f31'),
  date: new Date('2025-06-30T00:00:00Z'),
  lines: [],
};

/**
 * The evolved raw journal_entries by _id as both engines' tests select it: entry_id, currency,
 * revision and quantities as text, the lines' memos, and whether the row is clean.
 */
export const EVOLVED_JOURNAL_ROWS = [
  {
    entry_id: 'JE1001',
    currency: null,
    revision: '1',
    memos: [null, null],
    quantities: ['2.50', null],
    clean: true,
  },
  {
    entry_id: 'JE2001',
    currency: 'EUR',
    revision: '1099511627776',
    memos: ['June', null],
    quantities: ['1234567890.12', null],
    clean: true,
  },
  { entry_id: null, currency: null, revision: null, memos: [], quantities: [], clean: true },
];

/** What pyiceberg and icebird read from the evolved raw journal_entries table at `location`, by _id. */
export async function readByOtherReaders(location: string) {
  const pyiceberg = await runPythonJson<{
    currency: (string | null)[];
    memo: (string | null)[][];
    revision: (number | null)[];
  }>(
    `
import json, os, sys
from pyiceberg.table import StaticTable
hint = open(os.path.join(sys.argv[1], "metadata", "version-hint.text")).read().strip()
table = StaticTable.from_metadata(os.path.join(sys.argv[1], "metadata", f"v{hint}.metadata.json"))
rows = table.scan().to_arrow().sort_by("_id").to_pylist()
print(json.dumps({
  "currency": [r["currency"] for r in rows],
  "memo": [[l["memo"] for l in r["lines"]] for r in rows],
  "revision": [r["revision"] for r in rows],
}))
`,
    [location],
  );
  const icebird = (await withLocalFetch(() => icebergRead({ tableUrl: location }))) as Record<
    string,
    unknown
  >[];
  return { pyiceberg, icebirdCurrencies: icebird.map((r) => r.currency ?? null).sort() };
}

/** What both readers must see: old rows with NULL in the new fields, new rows with their values. */
export const OTHER_READERS_EXPECTED = {
  pyiceberg: {
    currency: [null, 'EUR', null],
    memo: [[null, null], ['June', null], []],
    revision: [1, 1099511627776, null],
  },
  icebirdCurrencies: ['EUR', null, null],
};
