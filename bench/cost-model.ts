import type { LedgerlakeConfig } from '../lib/config/index.ts';
import type { Results } from './targets.ts';

/**
 * List prices (us-east-1, on-demand, as published on the AWS pricing pages
 * for Lambda, Glue and Step Functions; check them for another region).
 */
export const PRICES = {
  /** Lambda on Arm (the functions' architecture): per GB-second of duration. */
  lambdaGbSecond: 0.0000133334,
  /** Lambda: per request. */
  lambdaRequest: 0.0000002,
  /** Glue Spark jobs (4.0): per DPU-hour, billed per second with a 1-minute minimum per job run. */
  glueDpuHour: 0.44,
  glueMinimumSeconds: 60,
  /** Step Functions standard workflows: per state transition. */
  stateTransition: 0.000025,
} as const;

/** DPUs per Glue worker type. */
const DPU_PER_WORKER: Record<string, number> = { 'G.025X': 0.25, 'G.1X': 1, 'G.2X': 2, 'G.4X': 4, 'G.8X': 8 };

/** Lambda memory at which a function has one whole vCPU (AWS: CPU is allocated in proportion to memory). */
export const ONE_VCPU_MIB = 1769;

export interface CostModel {
  readonly assumptions: readonly string[];
  readonly lambda: {
    readonly memoryMiB: number;
    readonly docsPerSecond: number;
    readonly gbSecondsPerMillionDocs: number;
    readonly dollarsPerMillionDocs: number;
  } | null;
  readonly glue: {
    readonly workerType: string;
    readonly workers: number;
    readonly jobs: Record<string, { readonly fullSeconds: number; readonly deltaSeconds: number }>;
    readonly fullLoadDpuHours: number;
    readonly deltaRunDpuHours: number;
    readonly fullLoadDollars: number;
    readonly deltaRunDollars: number;
  } | null;
  readonly stepFunctions: {
    readonly transitionsPerDeltaRun: number;
    readonly dollarsPerDeltaRun: number;
  } | null;
  /** A month of the configured ingest schedule with the measured delta run. */
  readonly month: { readonly runs: number; readonly dollars: number } | null;
}

/**
 * What a run costs on AWS, from figures measured in this benchmark: Lambda
 * GB-seconds per million documents from the extraction rate (one chunk, one
 * core, as a function with ONE_VCPU_MIB or more has) at the configured memory,
 * and Glue DPU-hours from the Glue scripts' job durations on local PySpark for
 * a full load and a 1% delta (the benchmark runs each job in a Spark process
 * of its own, so its duration includes starting the JVM, as a Glue job run's
 * includes its start-up).
 */
export function costModel(results: Results, config: LedgerlakeConfig): CostModel {
  const memoryMiB = config.aws.functions.extractMemoryMiB;
  const extract = results.extraction?.embedded?.extract;
  const lambda =
    extract === undefined
      ? null
      : (() => {
          const seconds = 1_000_000 / extract.docsPerSecond;
          const gbSeconds = seconds * (memoryMiB / 1024);
          return {
            memoryMiB,
            docsPerSecond: extract.docsPerSecond,
            gbSecondsPerMillionDocs: round(gbSeconds),
            dollarsPerMillionDocs: round(gbSeconds * PRICES.lambdaGbSecond, 4),
          };
        })();

  const { workerType, numberOfWorkers } = config.aws.glue;
  const dpus = (DPU_PER_WORKER[workerType] ?? 1) * numberOfWorkers;
  const glueRun = results.glue;
  let glue: CostModel['glue'] = null;
  if (glueRun !== undefined) {
    // ReconcileDeletes runs only when a run that reads updates finds the source's count short of raw's.
    const jobStates = ['RawAppend', 'ReconcileDeletes', 'Curate'];
    const jobs = Object.fromEntries(
      jobStates.map((state) => [
        state,
        { fullSeconds: glueRun.full.states[state] ?? 0, deltaSeconds: glueRun.delta.states[state] ?? 0 },
      ]),
    );
    const dpuHours = (pick: 'fullSeconds' | 'deltaSeconds') =>
      Object.values(jobs).reduce(
        (sum, job) =>
          job[pick] === 0 ? sum : sum + (Math.max(job[pick], PRICES.glueMinimumSeconds) * dpus) / 3600,
        0,
      );
    const full = dpuHours('fullSeconds');
    const delta = dpuHours('deltaSeconds');
    glue = {
      workerType,
      workers: numberOfWorkers,
      jobs,
      fullLoadDpuHours: round(full, 4),
      deltaRunDpuHours: round(delta, 4),
      fullLoadDollars: round(full * PRICES.glueDpuHour, 4),
      deltaRunDollars: round(delta * PRICES.glueDpuHour, 4),
    };
  }
  const transitions = results.glue?.delta.transitions ?? results.pipeline?.incremental.transitions;
  const stepFunctions =
    transitions === undefined
      ? null
      : {
          transitionsPerDeltaRun: transitions,
          dollarsPerDeltaRun: round(transitions * PRICES.stateTransition, 6),
        };
  const runs = runsPerMonth(config.schedules.ingest);
  const month =
    glue === null || runs === undefined
      ? null
      : { runs, dollars: round(runs * (glue.deltaRunDollars + (stepFunctions?.dollarsPerDeltaRun ?? 0)), 2) };
  return {
    assumptions: [
      `prices: Lambda $${PRICES.lambdaGbSecond}/GB-s, Glue $${PRICES.glueDpuHour}/DPU-hour (1-minute minimum per job run), Step Functions $${PRICES.stateTransition}/transition (us-east-1 list prices)`,
      `Lambda: the extraction rate measured here on one core; the extract function has ${memoryMiB} MiB (${memoryMiB >= ONE_VCPU_MIB ? 'a whole vCPU' : 'less than a whole vCPU: slower than measured here'})`,
      `Glue: ${numberOfWorkers} × ${workerType} (${dpus} DPU) per job; ${results.glue === undefined ? 'no durations in this run (the spark section was skipped or Spark is not set up)' : `durations of the generated scripts on local PySpark at ${results.glue.documents} entries`}`,
      'Not included: S3 storage and requests, KMS, Athena scans, CloudWatch, data transfer from Atlas',
    ],
    lambda,
    glue,
    stepFunctions,
    month,
  };
}

/** Runs a month of a `rate(N unit)` schedule starts (30 days); undefined for cron expressions. */
function runsPerMonth(expression: string): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (match === null) return undefined;
  const minutes = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 }[
    match[2] as string
  ] as number;
  return Math.floor((30 * 1440) / (Number(match[1]) * minutes));
}

function round(n: number, digits = 2): number {
  return Number(n.toFixed(digits));
}
