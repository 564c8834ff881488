import type { TableSpec } from '../model/table.ts';
import { CLOSE_TASKS_SILVER, JOURNAL_ENTRIES_GOLD, JOURNAL_ENTRIES_SILVER } from '../model/tables/curated.ts';
import type { SqlDialect } from './dialect.ts';
import {
  type CurateSources,
  changedAccounts,
  closeTasksSilverSource,
  currentAccounts,
  journalEntriesGoldSource,
  journalEntriesSilverSource,
  latestJournalEntries,
} from './transforms.ts';

export interface CurateRelations extends CurateSources {
  /** MERGE targets. */
  readonly journalEntriesSilver: string;
  readonly closeTasksSilver: string;
  readonly journalEntriesGold: string;
}

export interface CurateStatement {
  /** The model table the statement writes. */
  readonly table: string;
  /** One MERGE INTO statement. */
  readonly sql: string;
}

/** Source column marking silver lines an entry no longer has. */
const DELETE_FLAG = '_delete';

const columnsOf = (spec: TableSpec) => spec.columns.map((c) => c.name);

/**
 * The MERGE statements of one curate run, in the order they must run: silver
 * first (tasks; journal lines of changed entries; lines of renamed accounts),
 * then gold from the merged silver. Both engines run exactly these
 * (Spark on Glue; DuckDB in the local engine).
 */
export function curateStatements(d: SqlDialect, r: CurateRelations): readonly CurateStatement[] {
  return [
    {
      table: CLOSE_TASKS_SILVER.name,
      sql: d.merge(
        r.closeTasksSilver,
        closeTasksSilverSource(d, r),
        CLOSE_TASKS_SILVER.keyColumns,
        columnsOf(CLOSE_TASKS_SILVER),
      ),
    },
    {
      table: JOURNAL_ENTRIES_SILVER.name,
      sql: d.merge(
        r.journalEntriesSilver,
        journalLinesSource(d, r),
        JOURNAL_ENTRIES_SILVER.keyColumns,
        columnsOf(JOURNAL_ENTRIES_SILVER),
        DELETE_FLAG,
      ),
    },
    {
      table: JOURNAL_ENTRIES_SILVER.name,
      sql: d.mergeUpdate(
        r.journalEntriesSilver,
        renamedAccountLines(d, r),
        JOURNAL_ENTRIES_SILVER.keyColumns,
        ['account_name', 'account_type'],
      ),
    },
    {
      table: JOURNAL_ENTRIES_GOLD.name,
      sql: d.merge(
        r.journalEntriesGold,
        journalEntriesGoldSource(
          r.journalEntriesSilver,
          `(SELECT entry_id FROM ${r.runJournalEntries} WHERE ${d.ident('_mapping_errors')} IS NULL) touched`,
        ),
        JOURNAL_ENTRIES_GOLD.keyColumns,
        columnsOf(JOURNAL_ENTRIES_GOLD),
      ),
    },
  ];
}

/** Silver lines of accounts the run renamed or retyped, with the account's new name and type. */
function renamedAccountLines(d: SqlDialect, r: CurateRelations): string {
  const id = d.ident('_id');
  return `SELECT old.${id}, old.line_no, a.account_name, a.account_type
FROM ${r.journalEntriesSilver} old
JOIN (${currentAccounts(d, r.rawAccounts)}) a ON a.account_id = old.account_id
WHERE old.account_id IN (${changedAccounts(d, r.rawAccounts)})`;
}

/**
 * The new lines of every entry the run changed, plus a delete marker for each
 * silver line beyond an entry's new line count (an edit that removed lines),
 * so silver holds exactly the latest lines of every entry.
 */
function journalLinesSource(d: SqlDialect, r: CurateRelations): string {
  const columns = columnsOf(JOURNAL_ENTRIES_SILVER).map(d.ident);
  const id = d.ident('_id');
  return `SELECT ${columns.join(', ')}, false AS ${d.ident(DELETE_FLAG)} FROM (${journalEntriesSilverSource(d, r)}) n
UNION ALL
SELECT ${columns.map((c) => `old.${c}`).join(', ')}, true AS ${d.ident(DELETE_FLAG)}
FROM ${r.journalEntriesSilver} old
JOIN (SELECT ${id}, ${d.arrayLength('lines')} AS line_count FROM (${latestJournalEntries(d, r)}) l) counted
  ON old.${id} = counted.${id}
WHERE old.line_no > counted.line_count`;
}
