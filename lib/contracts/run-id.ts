/**
 * The run id rule. The execution name (or `input.resume`) becomes the run id:
 * ValidateInput, Plan, Extract and Commit check it with assertRunId, the
 * generated Glue scripts check their `--run_id` against RUN_ID_PATTERN, and
 * the local runner and engine use assertRunId too. Run ids become staging
 * paths (`run=<id>/`) and snapshot summary values, so every side must accept
 * exactly the same ones.
 */

/**
 * The rule as a regular expression body, valid in JavaScript and in Python's `re` (matched whole).
 * The first character is a letter or digit: the Glue scripts' argument reader takes a value that
 * starts with `--` for the next argument's name.
 */
export const RUN_ID_PATTERN = '[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}';

/** The rule in words, for messages that refuse a run id. */
export const RUN_ID_RULE = '1-80 characters of A-Z a-z 0-9 _ . : -, starting with a letter or digit';

const RUN_ID = new RegExp(`^${RUN_ID_PATTERN}$`);

export function assertRunId(runId: unknown): string {
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) {
    throw new Error(`runId must be ${RUN_ID_RULE}, got ${JSON.stringify(runId)}`);
  }
  return runId;
}
