/**
 * Closing a month: the input `{"closePeriod": "YYYY-MM"}` (with
 * `"reopen": true` to close a closed month again), the Iceberg tag every
 * curated table gets, and the check each side (input validation, the Glue
 * job, the local engine) applies to the month.
 */

/** A calendar month, `YYYY-MM` (month 01 to 12); the Glue job checks its argument against it too. */
export const CLOSE_PERIOD_PATTERN = '[0-9]{4}-(0[1-9]|1[0-2])';

/** What a close's tag starts with; the month follows. */
export const CLOSE_TAG_PREFIX = 'close-';

/** The tag a close puts on every curated table's snapshot: `close-2025-06`. */
export const closeTag = (period: string): string => `${CLOSE_TAG_PREFIX}${assertClosePeriod(period)}`;

/** The month `period` names, as the first day of it (`2025-06` → `2025-06-01`), or a clear error. */
export function assertClosePeriod(period: unknown): string {
  if (typeof period !== 'string' || !new RegExp(`^${CLOSE_PERIOD_PATTERN}$`).test(period))
    throw new Error(
      `closePeriod must be a month as YYYY-MM (e.g. "2025-06"), got ${JSON.stringify(period) ?? String(period)}`,
    );
  return period;
}

/** Why a close was refused: the month is closed already (and reopen was not asked), or reopen names a month never closed. */
export class PeriodCloseRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeriodCloseRefused';
  }
}
