import { resolveConfig } from '../../config/index.ts';
import { buildTableModel } from '../../model/index.ts';
import { accountantQueries, withPeriod } from '../../queries/accountant-queries.ts';
import { stringifyWithLongs } from '../iceberg/json-long.ts';
import { listSnapshots, listTables } from './inspect.ts';
import {
  DEFAULT_TEXT_OPTIONS,
  listingText,
  type TextOptions,
  type Write,
  writeCsv,
  writeJson,
  writeText,
} from './output.ts';
import { QuerySession } from './session.ts';
import { Warehouse } from './warehouse.ts';

export interface QueryCommandOptions {
  /** The pipeline's state directory; the warehouse is `<dir>/warehouse`. */
  readonly dir: string;
  /** How rows are written: an aligned table (the default), a JSON array, or CSV. */
  readonly format?: 'text' | 'json' | 'csv';
  readonly text?: TextOptions;
}

/** `npm run query -- "<sql>"`: runs the SQL over the warehouse's tables and writes the last statement's rows. */
export async function queryCommand(sql: string, options: QueryCommandOptions, write: Write): Promise<void> {
  const session = await QuerySession.open(options.dir);
  try {
    const result = await session.stream(sql);
    if (options.format === 'json') await writeJson(result, write);
    else if (options.format === 'csv') await writeCsv(result, write);
    else await writeText(result, write, options.text ?? DEFAULT_TEXT_OPTIONS);
  } finally {
    session.close();
  }
}

/** The accountant's queries over the warehouse's model (the one Warehouse.open reads the tables of). */
const namedQueries = () => accountantQueries(buildTableModel(resolveConfig()));

/**
 * `--named <id>`: runs one of the accountant's queries (the Athena named
 * queries) for the month `period` ('YYYY-MM'; the latest when absent).
 */
export async function namedQueryCommand(
  id: string,
  period: string | undefined,
  options: QueryCommandOptions,
  write: Write,
): Promise<void> {
  const queries = namedQueries();
  const query = queries.find((q) => q.id === id);
  if (query === undefined)
    throw new Error(
      `no named query '${id}'; the named queries are: ${queries.map((q) => q.id).join(', ')} (list them with --named alone)`,
    );
  await queryCommand(withPeriod(query, period), options, write);
}

/** `--named` alone: the accountant's queries, with what each shows. */
export async function namedQueriesCommand(options: QueryCommandOptions, write: Write): Promise<void> {
  const queries = namedQueries();
  const rows = queries.map((q) => ({
    id: q.id,
    'athena name': q.name,
    period: q.takesPeriod ? '--period YYYY-MM' : '',
    shows: q.description,
  }));
  if (options.format === 'json') await write(`${JSON.stringify(rows, null, 2)}\n`);
  else await write(`${listingText(rows, ['id', 'athena name', 'period', 'shows'])}\n`);
}

/** `--tables`: every table with rows, live data files and snapshots. */
export async function tablesCommand(options: QueryCommandOptions, write: Write): Promise<void> {
  const tables = await listTables(await Warehouse.open(options.dir));
  if (options.format === 'json') {
    await write(`${stringifyWithLongs(tables, 2)}\n`);
    return;
  }
  await write(
    `${listingText(tables, ['table', 'layer', 'rows', 'files', 'deleteFiles', 'snapshots', 'currentSnapshotId'])}\n`,
  );
}

/** `--snapshots <table>`: the snapshots time travel can name, oldest first. */
export async function snapshotsCommand(
  table: string,
  options: QueryCommandOptions,
  write: Write,
): Promise<void> {
  const snapshots = await listSnapshots(await Warehouse.open(options.dir), table);
  if (options.format === 'json') {
    await write(`${stringifyWithLongs(snapshots, 2)}\n`);
    return;
  }
  const rows = snapshots.map((s) => ({ ...s, current: s.current ? 'yes' : '' }));
  const columns = [
    'snapshotId',
    'committedAt',
    'operation',
    'runId',
    'addedRecords',
    'totalRecords',
    'current',
  ];
  await write(`${listingText(rows, columns)}\n`);
}
