import { stagingLayout } from './staging-layout.ts';

/** Glue's scratch space (`--TempDir`) of every pipeline: what the bucket's glue-temp lifecycle rule expires. */
const GLUE_TEMP_ROOT = 'glue-temp/';

/**
 * Prefixes of the warehouse bucket per pipeline. The table model places each
 * table under `raw` or `curated` (the Glue jobs and the local engine create
 * tables there), the Glue databases point at them, and the CDK policies
 * (functions, Glue jobs, analysts, the state machine's chunk-list reader)
 * are scoped to them.
 */
export const WAREHOUSE_PREFIXES = {
  staging: stagingLayout.appPrefix,
  /** Run bookkeeping under staging (plans, chunk lists, job reports). */
  runs: stagingLayout.runsPrefix,
  /** The raw append's live document counts (LiveKeys) under staging. */
  liveKeys: stagingLayout.liveKeysPrefix,
  raw: (app: string) => `raw/${app}/`,
  curated: (app: string) => `curated/${app}/`,
  glueTemp: (app: string) => `${GLUE_TEMP_ROOT}${app}/`,
} as const;

/** The same areas for every pipeline at once, for the bucket's lifecycle rules. */
export const WAREHOUSE_ROOTS = {
  staging: stagingLayout.root,
  glueTemp: GLUE_TEMP_ROOT,
} as const;
