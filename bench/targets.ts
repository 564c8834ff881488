import type { CostModel } from './cost-model.ts';

/** One measurement of bench/extract-worker.ts. */
export interface ExtractMeasurement {
  readonly mode: string;
  readonly documents: number;
  readonly seconds: number;
  readonly docsPerSecond: number;
  readonly peakRssMiB: number;
}

/** One run of bench/pipeline-worker.ts. */
export interface PipelineMeasurement {
  readonly mode: 'full' | 'incremental';
  readonly status: string;
  readonly seconds: number;
  readonly sourceReadySeconds: number;
  readonly executionSeconds: number;
  readonly states: Readonly<Record<string, number>>;
  readonly transitions: number;
  readonly peakRssMiB: number;
  readonly documents: number;
  readonly snapshots: number;
}

export interface ExtractionResults {
  readonly documents: number;
  readonly cursor: ExtractMeasurement;
  readonly extract: ExtractMeasurement;
  readonly extractTenth: ExtractMeasurement;
  /** extractChunk with its processing on one worker thread per core (the local runner's way). */
  readonly extractThreads: ExtractMeasurement;
  readonly plan: ExtractMeasurement;
  readonly keys: ExtractMeasurement;
}

export interface Results {
  date: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  documents: number;
  skipped: string[];
  extraction: { embedded: ExtractionResults; ferretdb: ExtractionResults | null };
  pipeline: {
    seedSeconds: number;
    full: PipelineMeasurement;
    incremental: PipelineMeasurement;
    noop: PipelineMeasurement;
  };
  synthesis: {
    synthesized: { source: string; seconds: number };
    cached: { source: string; seconds: number };
  };
  engine: {
    rawAppend: { rows: number; seconds: number };
    curateFull: { entries: number; seconds: number };
    curateVsRawAppend: number;
    incremental: {
      tables: Record<string, { status: string; filesRewritten: number; filesKept: number }>;
    };
  };
  glue: { documents: number; full: PipelineMeasurement; delta: PipelineMeasurement };
  cost: CostModel;
  targets: Target[];
}

export interface Target {
  readonly target: string;
  /** The measured figure the target is about. */
  readonly value: number | string;
  readonly goal: string;
  /** null: not measured in this run (a section skipped, or a tool not installed). */
  readonly pass: boolean | null;
}

const round = (n: number) => Number(n.toFixed(3));

/** The targets, each from figures of this run. */
export function targetsOf(r: Partial<Results>): Target[] {
  const targets: Target[] = [];
  const add = (target: string, goal: string, value: number | string | undefined, pass: boolean | undefined) =>
    targets.push({ target, goal, value: value ?? 'not measured', pass: pass ?? null });

  for (const [server, e] of [
    ['embedded server', r.extraction?.embedded],
    ['FerretDB', r.extraction?.ferretdb ?? undefined],
  ] as const) {
    const ratio = e === undefined ? undefined : round(e.extract.docsPerSecond / e.cursor.docsPerSecond);
    add(
      `extraction rate / bare cursor rate, one thread as on Lambda (${server})`,
      '≥ 0.8',
      ratio,
      ratio === undefined ? undefined : ratio >= 0.8,
    );
    const threaded =
      e === undefined ? undefined : round(e.extractThreads.docsPerSecond / e.cursor.docsPerSecond);
    add(
      `extraction rate / bare cursor rate, a worker thread per core as locally (${server})`,
      '≥ 0.8',
      threaded,
      threaded === undefined ? undefined : threaded >= 0.8,
    );
    const growth = e === undefined ? undefined : round(e.extract.peakRssMiB / e.extractTenth.peakRssMiB);
    add(
      `extraction peak RSS, one chunk of N / of N/10 (${server})`,
      '≤ 1.25 (flat in chunk size)',
      growth,
      growth === undefined ? undefined : growth <= 1.25,
    );
  }
  const cursor = r.extraction?.embedded.cursor;
  const { full, incremental, noop } = r.pipeline ?? {};
  const fullVsCursor =
    full === undefined || cursor === undefined ? undefined : round(full.seconds / cursor.seconds);
  add(
    'full local run wall time / bare cursor time',
    '≤ 3',
    fullVsCursor,
    fullVsCursor === undefined ? undefined : fullVsCursor <= 3,
  );
  add(
    'full local run peak RSS (MiB)',
    '≤ 1536',
    full?.peakRssMiB,
    full === undefined ? undefined : full.peakRssMiB <= 1536,
  );
  const planShare = full === undefined ? undefined : round((full.states.Plan ?? 0) / full.seconds);
  add(
    'planning share of the full run',
    '≤ 0.05',
    planShare,
    planShare === undefined ? undefined : planShare <= 0.05,
  );
  const incrementalShare =
    full === undefined || incremental === undefined ? undefined : round(incremental.seconds / full.seconds);
  add(
    'incremental run (1% changed) / full run',
    '≤ 0.10',
    incrementalShare,
    incrementalShare === undefined ? undefined : incrementalShare <= 0.1,
  );
  add(
    'run that reads nothing: wall time (s)',
    '≤ 5',
    noop?.seconds,
    noop === undefined ? undefined : noop.seconds <= 5,
  );
  const newSnapshots =
    noop === undefined || incremental === undefined ? undefined : noop.snapshots - incremental.snapshots;
  add(
    'run that reads nothing: snapshots committed',
    '0',
    newSnapshots,
    newSnapshots === undefined ? undefined : newSnapshots === 0,
  );
  const synthesis = r.synthesis;
  add(
    'repeated run: state machine from the synthesis cache (s; synthesis takes the second figure)',
    'read from the cache',
    synthesis === undefined ? undefined : `${synthesis.cached.seconds} (${synthesis.synthesized.seconds})`,
    synthesis === undefined ? undefined : synthesis.cached.source === 'disk',
  );
  const curateRatio = r.engine?.curateVsRawAppend;
  add(
    'curate of the full load / raw append',
    '≤ 5',
    curateRatio,
    curateRatio === undefined ? undefined : curateRatio <= 5,
  );
  const silver = r.engine?.incremental.tables.journal_entries_silver;
  add(
    'incremental MERGE: journal_entries_silver files rewritten / files',
    '< all (only files holding touched keys)',
    silver === undefined ? undefined : `${silver.filesRewritten}/${silver.filesRewritten + silver.filesKept}`,
    silver === undefined ? undefined : silver.filesRewritten < silver.filesRewritten + silver.filesKept,
  );
  add(
    'cost model from measured Glue durations and Lambda GB-s',
    'present',
    r.cost?.glue === null || r.cost?.glue === undefined
      ? undefined
      : `$${r.cost.glue.deltaRunDollars} per delta run`,
    r.cost?.glue === null || r.cost?.glue === undefined ? undefined : true,
  );
  return targets;
}

/** The targets as a table for a terminal or a README. */
export function describeTargets(r: Results): string {
  const rows = r.targets.map((t) => [
    t.target,
    String(t.value),
    t.goal,
    t.pass === null ? '—' : t.pass ? 'pass' : 'FAIL',
  ]);
  const header = ['target', 'measured', 'goal', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [
    `ledgerlake benchmark, ${r.date.slice(0, 10)}: ${r.documents.toLocaleString('en-US')} journal entries, ${r.machine.cpus} cores, Node ${r.machine.node}`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}
