import type { LedgerlakeConfig } from '../../lib/config/index.ts';
import { assertClosePeriod, assertRunId, RUN_ID_RULE } from '../../lib/contracts/index.ts';

/** What one execution of the ingest state machine is asked to do, after validation. */
export interface RunRequest {
  /** Collections to extract; every configured collection when the input names none. */
  readonly collections: readonly string[];
  /** `configured`: each collection's own mode; `full`: reload every selected collection whole. */
  readonly mode: 'configured' | 'full';
  /** Re-extract documents whose watermark field is in `[from, to)`; the watermark does not move. */
  readonly backfill: { readonly from: string; readonly to: string } | null;
  /**
   * Run id of an earlier run to resume under this execution: its plan is reused, so a failed large
   * load keeps what it staged. Step Functions never reuses an execution name, so this is how a
   * given run is run again. Null for a new run.
   */
  readonly resume: string | null;
  /**
   * Run the Iceberg maintenance job (expire snapshots, remove orphans, compact) under the run
   * lease instead of ingesting, so it never races an ingest run's commits. What the maintenance
   * schedule starts.
   */
  readonly maintenance: boolean;
  /**
   * After the run has curated, close this month (`YYYY-MM`): record its trial balance in
   * trial_balance_closed_gold and tag every curated table `close-YYYY-MM`. Null: no close.
   */
  readonly closePeriod: string | null;
  /** With closePeriod: close a month that is closed already (the reopening is recorded). */
  readonly reopen: boolean;
}

/** The error type Step Functions sees (`Error` of the failed state) when the input is refused. */
export class InvalidRunRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRunRequest';
  }
}

const FIELDS = ['collections', 'mode', 'backfill', 'resume', 'maintenance', 'closePeriod', 'reopen'] as const;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Validates the input an execution was started with. Accepted forms:
 * `{}` (incremental run of every collection), `{"collections": [...]}`,
 * `{"mode": "full"}` and `{"backfill": {"from": ISO, "to": ISO}}`; `collections`
 * combines with either of the others. `{"resume": runId}` runs an earlier
 * run again and combines with nothing; `{"maintenance": true}` runs the
 * maintenance job under the lease and combines with nothing. `{"closePeriod": "YYYY-MM"}`
 * (with `"reopen": true` to close a closed month again) closes the month after the run and
 * combines with the run's other fields. Every refusal says what was received and what is allowed.
 */
export function parseRunRequest(input: unknown, config: LedgerlakeConfig): RunRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail(`input must be a JSON object such as {} or {"mode": "full"}, got ${show(input)}`);
  }
  const fields = input as Record<string, unknown>;
  const unknownFields = Object.keys(fields).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknownFields.length > 0) {
    fail(
      `input has unknown field${unknownFields.length > 1 ? 's' : ''} ${unknownFields.map((k) => `'${k}'`).join(', ')} (allowed: ${FIELDS.join(', ')})`,
    );
  }
  if (fields.resume !== undefined) return parseResume(fields);
  if (fields.maintenance !== undefined) return parseMaintenance(fields);
  const configured = config.collections.map((c) => c.name);
  const collections =
    fields.collections === undefined ? configured : parseCollections(fields.collections, configured);
  const mode = parseMode(fields.mode);
  const backfill = fields.backfill === undefined ? null : parseBackfill(fields.backfill);
  if (backfill !== null && mode === 'full') {
    fail('input.backfill cannot be combined with mode "full": a full reload already reads every document');
  }
  if (backfill !== null) {
    const byId = config.collections.filter((c) => collections.includes(c.name) && c.watermarkField === '_id');
    if (byId.length > 0) {
      fail(
        `input.backfill needs a timestamp watermarkField, but ${byId.map((c) => c.name).join(', ')} ${byId.length > 1 ? 'are' : 'is'} ordered by _id; name other collections in input.collections`,
      );
    }
  }
  return { collections, mode, backfill, resume: null, maintenance: false, ...parseClose(fields) };
}

/** `closePeriod` ('YYYY-MM') and `reopen` (true, only with closePeriod). */
function parseClose(fields: Record<string, unknown>): Pick<RunRequest, 'closePeriod' | 'reopen'> {
  if (fields.reopen !== undefined && typeof fields.reopen !== 'boolean')
    fail(`input.reopen must be true or false, got ${show(fields.reopen)}`);
  if (fields.closePeriod === undefined) {
    if (fields.reopen === true)
      fail(
        'input.reopen goes with input.closePeriod: name the month to close again, e.g. {"closePeriod": "2025-06", "reopen": true}',
      );
    return { closePeriod: null, reopen: false };
  }
  try {
    return { closePeriod: assertClosePeriod(fields.closePeriod), reopen: fields.reopen === true };
  } catch (error) {
    return fail(`input.${(error as Error).message}`);
  }
}

/** `{"resume": runId}` stands alone: the resumed run's plan fixes collections, mode and window. */
function parseResume(fields: Record<string, unknown>): RunRequest {
  const others = Object.keys(fields).filter((k) => k !== 'resume');
  if (others.length > 0) {
    fail(
      `input.resume cannot be combined with ${others.map((k) => `'${k}'`).join(', ')}: the resumed run's own plan decides what it reads`,
    );
  }
  let resume: string;
  try {
    resume = assertRunId(fields.resume);
  } catch {
    return fail(
      `input.resume must be the run id of an earlier run (${RUN_ID_RULE}), got ${show(fields.resume)}`,
    );
  }
  return {
    collections: [],
    mode: 'configured',
    backfill: null,
    resume,
    maintenance: false,
    closePeriod: null,
    reopen: false,
  };
}

/** `{"maintenance": true}` stands alone: it reads no source. */
function parseMaintenance(fields: Record<string, unknown>): RunRequest {
  if (fields.maintenance !== true)
    fail(`input.maintenance must be true when given, got ${show(fields.maintenance)}`);
  const others = Object.keys(fields).filter((k) => k !== 'maintenance');
  if (others.length > 0) {
    fail(
      `input.maintenance cannot be combined with ${others.map((k) => `'${k}'`).join(', ')}: it reads no source`,
    );
  }
  return {
    collections: [],
    mode: 'configured',
    backfill: null,
    resume: null,
    maintenance: true,
    closePeriod: null,
    reopen: false,
  };
}

function parseCollections(value: unknown, configured: readonly string[]): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    fail(
      `input.collections must be a non-empty list of configured collections (${configured.join(', ')}), got ${show(value)}`,
    );
  }
  value.forEach((name, i) => {
    if (typeof name !== 'string' || !configured.includes(name)) {
      fail(`input.collections[${i}] must be one of ${configured.join(', ')}, got ${show(name)}`);
    }
  });
  const names = value as string[];
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) fail(`input.collections lists '${repeated}' twice`);
  // Configured order, so a request plans collections the way a scheduled run does.
  return configured.filter((name) => names.includes(name));
}

function parseMode(value: unknown): RunRequest['mode'] {
  if (value === undefined || value === 'incremental') return 'configured';
  if (value === 'full') return 'full';
  return fail(`input.mode must be "full" or "incremental", got ${show(value)}`);
}

function parseBackfill(value: unknown): NonNullable<RunRequest['backfill']> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(`input.backfill must be an object {"from": ISO 8601, "to": ISO 8601}, got ${show(value)}`);
  }
  const { from, to, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) fail(`input.backfill has unknown field '${extra[0]}' (allowed: from, to)`);
  const fromDate = parseTimestamp('from', from);
  const toDate = parseTimestamp('to', to);
  if (fromDate.getTime() >= toDate.getTime()) {
    fail(`input.backfill.from must be before input.backfill.to, got from ${show(from)} and to ${show(to)}`);
  }
  return { from: fromDate.toISOString(), to: toDate.toISOString() };
}

function parseTimestamp(field: 'from' | 'to', value: unknown): Date {
  const date = typeof value === 'string' && ISO_TIMESTAMP.test(value) ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    fail(
      `input.backfill.${field} must be an ISO 8601 date or timestamp such as "2024-01-31" or "2024-01-31T00:00:00Z", got ${show(value)}`,
    );
  }
  return date;
}

function fail(message: string): never {
  throw new InvalidRunRequest(message);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
