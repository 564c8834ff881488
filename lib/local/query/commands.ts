import { stringifyWithLongs } from '../iceberg/json-long.ts';
import { listSnapshots, listTables } from './inspect.ts';
import {
  DEFAULT_TEXT_OPTIONS,
  listingText,
  type TextOptions,
  type Write,
  writeJson,
  writeText,
} from './output.ts';
import { QuerySession } from './session.ts';
import { Warehouse } from './warehouse.ts';

export interface QueryCommandOptions {
  /** The pipeline's state directory; the warehouse is `<dir>/warehouse`. */
  readonly dir: string;
  readonly json: boolean;
  readonly text?: TextOptions;
}

/** `npm run query -- "<sql>"`: runs the SQL over the warehouse's tables and writes the last statement's rows. */
export async function queryCommand(sql: string, options: QueryCommandOptions, write: Write): Promise<void> {
  const session = await QuerySession.open(options.dir);
  try {
    const result = await session.stream(sql);
    if (options.json) await writeJson(result, write);
    else await writeText(result, write, options.text ?? DEFAULT_TEXT_OPTIONS);
  } finally {
    session.close();
  }
}

/** `--tables`: every table with rows, live data files and snapshots. */
export async function tablesCommand(options: QueryCommandOptions, write: Write): Promise<void> {
  const tables = await listTables(await Warehouse.open(options.dir));
  if (options.json) {
    await write(`${stringifyWithLongs(tables, 2)}\n`);
    return;
  }
  await write(
    `${listingText(tables, ['table', 'layer', 'rows', 'files', 'snapshots', 'currentSnapshotId'])}\n`,
  );
}

/** `--snapshots <table>`: the snapshots time travel can name, oldest first. */
export async function snapshotsCommand(
  table: string,
  options: QueryCommandOptions,
  write: Write,
): Promise<void> {
  const snapshots = await listSnapshots(await Warehouse.open(options.dir), table);
  if (options.json) {
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
