/**
 * The data-quality codes of `data_quality_issues`. A row exists for a live
 * source document and a code while the code is true of the document's latest
 * version; documents with issues stay in silver and gold (the lakehouse
 * mirrors the source's books) unless they cannot be mapped.
 */
export const DATA_QUALITY_CODES = {
  /** Journal entry whose debits and credits differ (lines without an amount count as 0). */
  unbalancedEntry: 'unbalanced_entry',
  /** Journal entry with a line whose account_id is missing or not in the current chart of accounts. */
  unknownAccount: 'unknown_account',
  /** Journal entry whose entry_id another live journal entry also has (every such document is listed). */
  duplicateEntryId: 'duplicate_entry_id',
  /** Journal entry without an entry_id (missing, null or empty). */
  missingEntryId: 'missing_entry_id',
  /** Journal entry without lines (missing, null or empty). */
  noLines: 'no_lines',
  /** Journal entry with a line whose debit and credit are both missing or zero. */
  lineWithoutAmount: 'line_without_amount',
  /** Journal entry with a negative debit or credit. */
  negativeAmount: 'negative_amount',
  /**
   * Journal entry dated in a closed month (trial_balance_closed_gold) that was created, changed or
   * deleted after the month's latest close; the detail names the month. Deleted entries are listed too.
   */
  postedAfterClose: 'posted_after_close',
  /** A date field holding a 'YYYY-MM-DD' string that is not a calendar date (the document is quarantined). */
  invalidDate: 'invalid_date',
  /** The document cannot be mapped to its declared columns: it is in raw only (quarantined), not in silver or gold. */
  mappingError: 'mapping_error',
  /** The watermark field is missing, null or not a Date: the document is read on every run. */
  missingWatermark: 'missing_watermark',
  /** The watermark field is a Date later than the run that read the document: it is read on every run until then. */
  futureWatermark: 'future_watermark',
} as const;

export type DataQualityCode = (typeof DATA_QUALITY_CODES)[keyof typeof DATA_QUALITY_CODES];

/**
 * Words of the row mapper's error for a 'YYYY-MM-DD' string that is not a calendar date
 * (`expected a Date or a 'YYYY-MM-DD' string naming a calendar date, got ...`); `invalid_date` looks for them.
 */
export const NAMING_A_CALENDAR_DATE = 'naming a calendar date';
