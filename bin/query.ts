/**
 * `npm run query -- "SELECT …"`: DuckDB SQL over the local Iceberg tables
 * that `npm run local` wrote, by name, with Athena's and Spark's time travel.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  namedQueriesCommand,
  namedQueryCommand,
  queryCommand,
  snapshotsCommand,
  tablesCommand,
} from '../lib/local/query/index.ts';

const USAGE = `usage: npm run query -- [options] "<SQL>"      (SQL "-" reads it from stdin)
       npm run query -- [options] --named [<id>] [--period YYYY-MM]
       npm run query -- [options] --tables
       npm run query -- [options] --snapshots <table>

DuckDB SQL over the Iceberg tables that \`npm run local\` wrote. Tables answer to
<database>.<table> (fq_app_curated.journal_entries_silver), <layer>.<table>
(raw.journal_entries, silver.journal_entries_silver, gold.journal_entries_gold)
and the bare table name. Time travel, as in Athena and Spark:
  <table> FOR VERSION AS OF <snapshot id>
  <table> FOR TIMESTAMP AS OF '2025-07-01T12:00:00Z'     (no offset means UTC)
  <table> FOR TIMESTAMP AS OF (current_timestamp - interval '1' day)
(also FOR SYSTEM_VERSION / FOR SYSTEM_TIME, and Spark's VERSION AS OF / TIMESTAMP AS OF).

options:
  --dir DIR            state directory of \`npm run local\` (default .ledgerlake); tables in DIR/warehouse
  --named [ID]         run the accountant's named query ID (the Athena named queries: trial-balance,
                       income-statement, balance-sheet, ...); --named alone lists them
  --period YYYY-MM     the month a named query reports on (default: the ledger's latest month)
  --json               rows as a JSON array: decimals as exact strings, BIGINTs as exact numbers
  --csv                rows as CSV for spreadsheets: a header row, decimals exactly as stored
  --out FILE           write the rows to FILE instead of the terminal
  --tables             list the tables: rows, data files, snapshots, current snapshot id
  --snapshots TABLE    list a table's snapshots: id, committed at, operation, run id, records
  --max-rows N         text output: print at most N rows, count the rest (default 1000)
  --help               this text

Text output cuts values over 80 characters; --json prints them whole.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: '.ledgerlake' },
      json: { type: 'boolean', default: false },
      csv: { type: 'boolean', default: false },
      out: { type: 'string' },
      named: { type: 'boolean', default: false },
      period: { type: 'string' },
      tables: { type: 'boolean', default: false },
      snapshots: { type: 'string' },
      'max-rows': { type: 'string', default: '1000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    await writer(process.stdout)(`${USAGE}\n`);
    return 0;
  }
  const maxRows = Number(values['max-rows']);
  if (!Number.isInteger(maxRows) || maxRows < 0)
    throw new Error(`--max-rows must be a non-negative integer, got ${values['max-rows']}`);
  if (values.json && values.csv)
    throw new Error('--json and --csv cannot be combined: choose one output format');
  if (values.period !== undefined && !values.named)
    throw new Error('--period goes with --named <id>: plain SQL names its months itself');
  const format = values.json ? 'json' : values.csv ? 'csv' : 'text';
  const options = { dir: values.dir, format, text: { maxRows, maxCellWidth: 80 } } as const;
  const out = values.out === undefined ? process.stdout : await openOut(values.out);
  const write = writer(out);
  try {
    if (values.named && positionals.length === 0) await namedQueriesCommand(options, write);
    else if (values.named) {
      if (positionals.length > 1)
        throw new Error(`--named takes one query id, got ${positionals.length}: ${positionals.join(' ')}`);
      await namedQueryCommand(positionals[0] as string, values.period, options, write);
    } else if (values.tables) await tablesCommand(options, write);
    else if (values.snapshots !== undefined) await snapshotsCommand(values.snapshots, options, write);
    else {
      const sql =
        positionals.length === 1 && positionals[0] === '-' ? await readStdin() : positionals.join(' ');
      if (sql.trim() === '') {
        process.stderr.write(`no SQL given\n${USAGE}\n`);
        return 2;
      }
      await queryCommand(sql, options, write);
    }
  } finally {
    if (out !== process.stdout) await new Promise((resolve) => (out as WriteStream).end(resolve));
  }
  return 0;
}

/** The file --out names, created or truncated; fails before any query runs if it cannot be written. */
async function openOut(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new Error(`--out ${path}: ${error.message}`)));
  });
  return stream;
}

function writer(out: NodeJS.WritableStream): (text: string) => Promise<void> {
  return (text) =>
    new Promise((resolve) => {
      if (out.write(text)) resolve();
      else out.once('drain', resolve);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// Piping into `head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
