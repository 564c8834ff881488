import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveConfig } from '../../../lib/config/index.ts';
import { MODEL_DEFINITION, type ModelDefinition } from '../../../lib/model/definition.ts';
import { buildTableModel, column, SOURCE_FIELDS, t } from '../../../lib/model/index.ts';
import {
  assignFieldIds,
  type FlatSchema,
  flattenFields,
  SchemaChangeRefused,
  schemaChanges,
} from '../../../lib/model/schema-history.ts';
import type { ColumnSpec } from '../../../lib/model/types.ts';

const config = resolveConfig();

interface Case {
  readonly name: string;
  readonly before: Record<string, [string, boolean]>;
  readonly after: Record<string, [string, boolean]>;
  readonly changes?: unknown[];
  readonly refused?: string[];
}
const CASES: Case[] = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'schema-changes.json'), 'utf8'),
).cases;

const flat = (fields: Record<string, [string, boolean]>): FlatSchema =>
  new Map(Object.entries(fields).map(([path, [type, required]], i) => [path, { id: i + 1, type, required }]));

/** The journal entries' source fields with `edit` applied to a copy. */
function withJournalFields(edit: (fields: ColumnSpec[]) => ColumnSpec[]): ModelDefinition {
  return {
    ...MODEL_DEFINITION,
    sourceFields: { ...SOURCE_FIELDS, journal_entries: edit([...(SOURCE_FIELDS.journal_entries ?? [])]) },
  };
}

const LINE_FIELDS = [
  column('account_id', t.string(), 'Account code the line posts to'),
  column('debit', t.decimal(18, 4), 'Debit amount'),
  column('credit', t.decimal(18, 4), 'Credit amount'),
];
const lines = (fields: ColumnSpec[]) => column('lines', t.list(t.struct(fields)), 'Journal lines');

describe('schema history: field ids that never move', () => {
  const current = flattenFields(buildTableModel(config).table('journal_entries').fields);

  it('numbers a table it has no history of as Iceberg numbers a new table (a struct first, then nested types)', () => {
    const { fields, lastColumnId } = assignFieldIds([
      column('a', t.string(), ''),
      lines(LINE_FIELDS),
      column('b', t.int(), ''),
    ]);
    const ids = Object.fromEntries([...flattenFields(fields)].map(([path, f]) => [path, f.id]));
    assert.deepEqual(ids, {
      a: 1,
      lines: 2,
      'lines.element': 4,
      'lines.element.account_id': 5,
      'lines.element.debit': 6,
      'lines.element.credit': 7,
      b: 3,
    });
    assert.equal(lastColumnId, 7);
  });

  it('the checked-in history holds the ids tables got before it existed, so existing warehouses keep theirs', () => {
    const fresh = flattenFields(
      assignFieldIds(
        buildTableModel(config)
          .table('journal_entries')
          .fields.map(function spec(f): ColumnSpec {
            return {
              name: f.name,
              required: f.required,
              doc: f.doc,
              type:
                f.type.kind === 'list' && f.type.element.kind === 'struct'
                  ? t.list(t.struct(f.type.element.fields.map(spec)))
                  : (f.type as ColumnSpec['type']),
            };
          }),
      ).fields,
    );
    assert.deepEqual(current, fresh);
    assert.equal(current.get('lines.element.credit')?.id, 15);
  });

  it('keeps every id when columns are added before, between and after others, top-level and inside the lines struct', () => {
    const changed = withJournalFields((fields) => [
      column('currency', t.string(), 'ISO 4217 code of the entry'),
      ...fields.slice(0, 2),
      column('period', t.string(), 'Fiscal period'),
      ...fields
        .slice(2)
        .map((f) =>
          f.name === 'lines'
            ? lines([
                column('memo', t.string(), 'Line memo'),
                ...LINE_FIELDS,
                column('currency', t.string(), ''),
              ])
            : f,
        ),
    ]);
    const model = buildTableModel(config, changed);
    const table = model.table('journal_entries');
    const after = flattenFields(table.fields);
    for (const [path, field] of current) assert.equal(after.get(path)?.id, field.id, `${path} keeps its id`);
    const added = [...after].filter(([path]) => !current.has(path)).map(([path, f]) => [path, f.id]);
    assert.deepEqual(added, [
      ['currency', 16],
      ['period', 17],
      ['lines.element.memo', 18],
      ['lines.element.currency', 19],
    ]);
    assert.equal(table.lastColumnId, 19);
    assert.deepEqual(
      model.unrecorded.map((u) => `${u.table} ${u.change.kind} ${'path' in u.change ? u.change.path : ''}`),
      [
        'journal_entries add currency',
        'journal_entries add period',
        'journal_entries add lines.element.memo',
        'journal_entries add lines.element.currency',
      ],
      'what npm run gen would record',
    );
    assert.deepEqual(buildTableModel(config).unrecorded, [], 'the checked-in model is recorded');
  });

  it('refuses a model that changes a recorded table in a way no table can follow, naming table, column, types and the way out', () => {
    const narrowed = withJournalFields((fields) =>
      fields
        .filter((f) => f.name !== 'description')
        .map((f) =>
          f.name === 'lines'
            ? lines([LINE_FIELDS[0] as ColumnSpec, column('debit', t.decimal(10, 4), '')])
            : f,
        ),
    );
    assert.throws(
      () => buildTableModel(config, narrowed),
      (error: Error) => {
        assert.ok(error instanceof SchemaChangeRefused);
        assert.deepEqual(error.reasons.length, 3, error.message);
        assert.match(
          error.message,
          /table journal_entries: column 'description' \(string\) is in the table but no longer in the model/,
        );
        assert.match(
          error.message,
          /column 'lines\.element\.debit' is decimal\(18, 4\) in the table but decimal\(10, 4\) in the model/,
        );
        assert.match(
          error.message,
          /column 'lines\.element\.credit' \(decimal\(18, 4\)\) is in the table but no longer/,
        );
        return true;
      },
    );
  });

  for (const c of CASES) {
    it(`${c.refused === undefined ? 'supports' : 'refuses'}: ${c.name}`, () => {
      const run = () => schemaChanges('t', flat(c.before), flat(c.after));
      if (c.refused === undefined) {
        assert.deepEqual(run(), c.changes);
        return;
      }
      assert.throws(run, (error: Error) => {
        assert.ok(error instanceof SchemaChangeRefused, String(error));
        for (const text of c.refused ?? [])
          assert.ok(error.message.includes(text), `"${text}" in:\n${error.message}`);
        return true;
      });
    });
  }
});
