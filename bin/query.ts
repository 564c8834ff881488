/**
 * `npm run query -- "SELECT …"`: DuckDB SQL over the local Iceberg tables
 * that `npm run local` wrote, by name, with Athena's and Spark's time travel.
 */
import { parseArgs } from 'node:util';
import { queryCommand, snapshotsCommand, tablesCommand } from '../lib/local/query/index.ts';

const USAGE = `usage: npm run query -- [options] "<SQL>"      (SQL "-" reads it from stdin)
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
  --json               rows as a JSON array: decimals as exact strings, BIGINTs as exact numbers
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
      tables: { type: 'boolean', default: false },
      snapshots: { type: 'string' },
      'max-rows': { type: 'string', default: '1000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    await write(`${USAGE}\n`);
    return 0;
  }
  const maxRows = Number(values['max-rows']);
  if (!Number.isInteger(maxRows) || maxRows < 0)
    throw new Error(`--max-rows must be a non-negative integer, got ${values['max-rows']}`);
  const options = { dir: values.dir, json: values.json, text: { maxRows, maxCellWidth: 80 } };
  if (values.tables) return tablesCommand(options, write).then(() => 0);
  if (values.snapshots !== undefined) return snapshotsCommand(values.snapshots, options, write).then(() => 0);
  const sql = positionals.length === 1 && positionals[0] === '-' ? await readStdin() : positionals.join(' ');
  if (sql.trim() === '') {
    process.stderr.write(`no SQL given\n${USAGE}\n`);
    return 2;
  }
  await queryCommand(sql, options, write);
  return 0;
}

function write(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
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
