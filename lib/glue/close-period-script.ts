import {
  CLOSE_PERIOD_PATTERN,
  CLOSE_TAG_PREFIX,
  JOB_ARGUMENT,
  RUN_ID_SUMMARY_KEY,
} from '../contracts/index.ts';
import type { TableModel } from '../model/index.ts';
import { TRIAL_BALANCE_CLOSED_GOLD, TRIAL_BALANCE_GOLD } from '../model/tables/curated.ts';
import { entryPointScript } from './entry-point.ts';
import type { GlueJobArguments } from './job-arguments.ts';
import { tableSpec } from './table-specs.ts';

const A = JOB_ARGUMENT;

/** glue-scripts/close_period.py: a month's trial balance recorded and every curated table tagged close-YYYY-MM. */
export function closePeriodScript(model: TableModel, args: GlueJobArguments): string {
  const closed = model.table(TRIAL_BALANCE_CLOSED_GOLD.name);
  return entryPointScript({
    job: 'close_period',
    title: 'Glue 4.0 job: close a month.',
    description: `After a run has curated, appends the month's trial balance to
${closed.name} and tags the snapshot of every curated table
${CLOSE_TAG_PREFIX}YYYY-MM; a month another run closed is refused unless --${A.reopen} true.`,
    args,
    model: [
      {
        name: 'tagged_tables',
        value: model.tables.filter((t) => t.layer !== 'raw' && t.name !== closed.name).map((t) => t.name),
      },
      { name: 'closed_table', value: tableSpec(closed) },
      { name: 'trial_balance_table', value: model.table(TRIAL_BALANCE_GOLD.name).name },
      { name: 'raw_journal_table', value: model.rawTableFor('journal_entries').name },
      { name: 'tag', value: `${CLOSE_TAG_PREFIX}{period}` },
      { name: 'period_pattern', value: CLOSE_PERIOD_PATTERN },
      { name: 'run_id_key', value: RUN_ID_SUMMARY_KEY },
    ],
    parameters: {
      run_id: A.runId,
      close_period: A.closePeriod,
      reopen: A.reopen,
      raw_namespace: A.rawNamespace,
      curated_namespace: A.curatedNamespace,
      table_location_root: A.tableLocationRoot,
    },
  });
}
