import { dayNumber } from './bson-values.ts';

export interface SampleDataOptions {
  /** Seed of every random choice; equal seeds give byte-identical documents. @default 42 */
  readonly seed?: number;
  /** Number of journal entries, the brief's JE1001 included. @default 1000 */
  readonly journalEntries?: number;
  /** Number of close tasks, the brief's T1 and T2 included. @default the twelve-task checklist for each month from startDate to endDate */
  readonly closeTasks?: number;
  /** Share of generated journal entries whose debits and credits deliberately differ. @default 0.02 */
  readonly unbalancedRatio?: number;
  /** First entry date, `YYYY-MM-DD` (UTC). @default '2024-01-01' */
  readonly startDate?: string;
  /** Last entry date, `YYYY-MM-DD` (UTC), inclusive. @default '2025-12-31' */
  readonly endDate?: string;
}

export interface SeedDatabaseOptions extends SampleDataOptions {
  /** Documents per `insertMany`. @default 5000 */
  readonly batchSize?: number;
}

export interface ResolvedSampleDataOptions {
  readonly seed: number;
  readonly journalEntries: number;
  readonly closeTasks: number;
  readonly unbalancedRatio: number;
  readonly startDay: number;
  readonly endDay: number;
}

export const SAMPLE_DATA_DEFAULTS = {
  seed: 42,
  journalEntries: 1000,
  /** Close tasks per month when closeTasks is not given (lib/local/sample-data/close-tasks.ts). */
  closeTasksPerMonth: 12,
  unbalancedRatio: 0.02,
  startDate: '2024-01-01',
  endDate: '2025-12-31',
  batchSize: 5000,
} as const;

const MAX_SEED = 0xffffffff;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** An option value that is not allowed; `option` names it as the caller spelled it. */
export class SampleDataOptionError extends Error {
  constructor(
    readonly option: string,
    value: unknown,
    allowed: string,
  ) {
    super(`${option} must be ${allowed}, got ${describe(value)}`);
    this.name = 'SampleDataOptionError';
  }
}

export function resolveSampleDataOptions(options: SampleDataOptions = {}): ResolvedSampleDataOptions {
  const d = SAMPLE_DATA_DEFAULTS;
  const seed = options.seed ?? d.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new SampleDataOptionError('seed', seed, `an integer from 0 to ${MAX_SEED}`);
  }
  const unbalancedRatio = options.unbalancedRatio ?? d.unbalancedRatio;
  if (typeof unbalancedRatio !== 'number' || !(unbalancedRatio >= 0 && unbalancedRatio <= 1)) {
    throw new SampleDataOptionError('unbalancedRatio', unbalancedRatio, 'a number from 0 to 1');
  }
  const startDay = dateOption('startDate', options.startDate ?? d.startDate);
  const endDay = dateOption('endDate', options.endDate ?? d.endDate);
  if (endDay < startDay) {
    throw new SampleDataOptionError('endDate', options.endDate ?? d.endDate, `on or after startDate`);
  }
  return {
    seed,
    journalEntries: countOption('journalEntries', options.journalEntries ?? d.journalEntries),
    closeTasks: countOption(
      'closeTasks',
      options.closeTasks ?? d.closeTasksPerMonth * monthsBetween(startDay, endDay),
    ),
    unbalancedRatio,
    startDay,
    endDay,
  };
}

export function resolveBatchSize(options: SeedDatabaseOptions): number {
  const batchSize = options.batchSize ?? SAMPLE_DATA_DEFAULTS.batchSize;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new SampleDataOptionError('batchSize', batchSize, 'a positive integer');
  }
  return batchSize;
}

function countOption(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SampleDataOptionError(option, value, 'a non-negative integer');
  }
  return value;
}

function dateOption(option: string, value: unknown): number {
  const allowed = 'a calendar date as YYYY-MM-DD';
  if (typeof value !== 'string' || !ISO_DATE.test(value))
    throw new SampleDataOptionError(option, value, allowed);
  const day = dayNumber(value);
  // Date.parse accepts 2025-02-30 by rolling over; a round trip catches it.
  if (!Number.isInteger(day) || new Date(day * 86_400_000).toISOString().slice(0, 10) !== value) {
    throw new SampleDataOptionError(option, value, allowed);
  }
  return day;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Calendar months from the month of `startDay` to the month of `endDay`, both included. */
function monthsBetween(startDay: number, endDay: number): number {
  const month = (day: number) => {
    const date = new Date(day * 86_400_000);
    return date.getUTCFullYear() * 12 + date.getUTCMonth();
  };
  return month(endDay) - month(startDay) + 1;
}
