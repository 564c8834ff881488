import { parseArgs } from 'node:util';
import {
  resolveBatchSize,
  resolveSampleDataOptions,
  SampleDataOptionError,
  type SeedDatabaseOptions,
} from './options.ts';

export interface SeedArgs {
  readonly uri: string;
  readonly database: string;
  readonly options: SeedDatabaseOptions;
}

export type ParsedSeedArgs = { readonly help: true } | ({ readonly help: false } & SeedArgs);

export const SEED_USAGE = `Usage: tsx bin/seed.ts --uri mongodb://host:port [options]

Inserts seeded sample data (accounts, journal_entries, close_tasks). Drops nothing.

  --uri <uri>               MongoDB connection string (default: $MONGO_URI); never printed
  --db <name>               database (default: fq_app)
  --seed <n>                integer 0..4294967295 (default: 42)
  --journal-entries <n>     number of journal entries (default: 1000)
  --close-tasks <n>         number of close tasks (default: 24)
  --unbalanced-ratio <x>    share of unbalanced journal entries, 0..1 (default: 0.02)
  --start-date <date>       first entry date, YYYY-MM-DD (default: 2024-01-01)
  --end-date <date>         last entry date, YYYY-MM-DD (default: 2025-12-31)
  --batch-size <n>          documents per insertMany (default: 5000)
  --help                    show this text`;

/** A command line that cannot be used; the message names the argument. */
export class SeedArgsError extends Error {
  override name = 'SeedArgsError';
}

const DATABASE_NAME = /^[A-Za-z0-9_-]{1,63}$/;

/** Parses `argv` (without node and script); `env` supplies `MONGO_URI` when `--uri` is absent. */
export function parseSeedArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedSeedArgs {
  const { values } = parseOrExplain(argv);
  if (values.help === true) return { help: true };
  const uri = values.uri ?? env.MONGO_URI;
  if (uri === undefined || uri === '') throw new SeedArgsError('--uri is required (or set MONGO_URI)');
  if (!/^mongodb(\+srv)?:\/\//.test(uri)) {
    // The value itself is not echoed: it may hold a password.
    throw new SeedArgsError('--uri must start with mongodb:// or mongodb+srv://');
  }
  const database = values.db ?? 'fq_app';
  if (!DATABASE_NAME.test(database)) {
    throw new SeedArgsError(`--db must be 1-63 letters, digits, _ or -, got ${JSON.stringify(database)}`);
  }
  const options: SeedDatabaseOptions = {
    seed: numberArg('--seed', values.seed),
    journalEntries: numberArg('--journal-entries', values['journal-entries']),
    closeTasks: numberArg('--close-tasks', values['close-tasks']),
    unbalancedRatio: numberArg('--unbalanced-ratio', values['unbalanced-ratio']),
    startDate: values['start-date'],
    endDate: values['end-date'],
    batchSize: numberArg('--batch-size', values['batch-size']),
  };
  checkRanges(options);
  return { help: false, uri, database, options };
}

/** Connection strings in `text` with everything after the scheme replaced. */
export function redactUris(text: string): string {
  return text.replace(/mongodb(\+srv)?:\/\/[^\s'"`]*/g, 'mongodb$1://<redacted>');
}

/** Range errors name the command-line flag, not the option property. */
function checkRanges(options: SeedDatabaseOptions): void {
  try {
    resolveSampleDataOptions(options);
    resolveBatchSize(options);
  } catch (error) {
    if (!(error instanceof SampleDataOptionError)) throw error;
    const flag = `--${error.option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    throw new SeedArgsError(error.message.replace(error.option, flag));
  }
}

function parseOrExplain(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        uri: { type: 'string' },
        db: { type: 'string' },
        seed: { type: 'string' },
        'journal-entries': { type: 'string' },
        'close-tasks': { type: 'string' },
        'unbalanced-ratio': { type: 'string' },
        'start-date': { type: 'string' },
        'end-date': { type: 'string' },
        'batch-size': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    // parseArgs names the argument ("Unknown option '--sed'") but echoes stray positionals, which may be a URI.
    throw new SeedArgsError(redactUris((error as Error).message));
  }
}

/** Numbers are checked here only for being numbers; ranges are checked with the options. */
function numberArg(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new SeedArgsError(`${name} must be a number, got ${JSON.stringify(text)}`);
  }
  return value;
}
