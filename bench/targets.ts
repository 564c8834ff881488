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
    /** The median of `fullRuns` and of `incrementalRuns` by execution time. */
    full: PipelineMeasurement;
    incremental: PipelineMeasurement;
    /** Every full run, each followed by its 1% change (absent from results written before they were repeated). */
    fullRuns?: PipelineMeasurement[];
    incrementalRuns?: PipelineMeasurement[];
    /** 1% new entries and nothing else: the count check spares the key listing. */
    appended: PipelineMeasurement;
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
      tables: Record<
        string,
        { status: string; filesRewritten: number; deleteFilesWritten: number; filesKept: number }
      >;
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

/** The run of median execution time (the lower of the middle two for an even count). */
export function medianRun(runs: readonly PipelineMeasurement[]): PipelineMeasurement {
  const sorted = [...runs].sort((a, b) => a.executionSeconds - b.executionSeconds);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('no pipeline runs to take the median of');
  return median;
}

/** The issue's targets, each from figures of this run. */
export function targetsOf(r: Partial<Results>): Target[] {
  const targets: Target[] = [];
  const add = (target: string, goal: string, value: number | string | undefined, pass: boolean | undefined) =>
    targets.push({ target, goal, value: value ?? 'not measured', pass: pass ?? null });

  const atMost = (target: string, limit: number, value: number | undefined, goal = `≤ ${limit}`) =>
    add(target, goal, value, value === undefined ? undefined : value <= limit);
  const atLeast = (target: string, limit: number, value: number | undefined) =>
    add(target, `≥ ${limit}`, value, value === undefined ? undefined : value >= limit);
  for (const [server, e] of [
    ['embedded server', r.extraction?.embedded],
    ['FerretDB', r.extraction?.ferretdb ?? undefined],
  ] as const) {
    const ratio = e === undefined ? undefined : round(e.extract.docsPerSecond / e.cursor.docsPerSecond);
    atLeast(`extraction rate / bare cursor rate, one thread as on Lambda (${server})`, 0.8, ratio);
    const threaded =
      e === undefined ? undefined : round(e.extractThreads.docsPerSecond / e.cursor.docsPerSecond);
    atLeast(
      `extraction rate / bare cursor rate, a worker thread per core as locally (${server})`,
      0.8,
      threaded,
    );
    const growth = e === undefined ? undefined : round(e.extract.peakRssMiB / e.extractTenth.peakRssMiB);
    atMost(
      `extraction peak RSS, one chunk of N / of N/10 (${server})`,
      1.25,
      growth,
      '≤ 1.25 (flat in chunk size)',
    );
  }
  const cursor = r.extraction?.embedded.cursor;
  const { full, incremental, appended, noop } = r.pipeline ?? {};
  const fullVsCursor =
    full === undefined || cursor === undefined ? undefined : round(full.seconds / cursor.seconds);
  atMost('full local run wall time / bare cursor time', 3, fullVsCursor);
  // Memory is not a median: the largest of the full runs.
  const fullRss = r.pipeline?.fullRuns?.reduce((most, run) => Math.max(most, run.peakRssMiB), 0);
  atMost('full local run peak RSS (MiB)', 1536, fullRss ?? full?.peakRssMiB);
  const planShare = full === undefined ? undefined : round((full.states.Plan ?? 0) / full.seconds);
  atMost('planning share of the full run', 0.05, planShare);
  // The execution's time: `--mutate` first changes the source, which is the harness's work, not the run's.
  const incrementalShare =
    full === undefined || incremental === undefined
      ? undefined
      : round(incremental.executionSeconds / full.executionSeconds);
  atMost('incremental run (1% changed) / full run, execution time', 0.1, incrementalShare);
  const appendedShare =
    full === undefined || appended === undefined
      ? undefined
      : round(appended.executionSeconds / full.executionSeconds);
  atMost('incremental run (1% new entries only) / full run, execution time', 0.1, appendedShare);
  atMost('run that reads nothing: wall time (s)', 5, noop?.seconds);
  const newSnapshots =
    noop === undefined || appended === undefined ? undefined : noop.snapshots - appended.snapshots;
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
  atMost('curate of the full load / raw append (local engine)', 5, curateRatio);
  // The engine that runs on AWS: the generated Glue scripts on PySpark, at the bench's Glue scale.
  const glueFull = r.glue?.full.states;
  const glueRatio =
    glueFull?.Curate === undefined || glueFull.RawAppend === undefined || glueFull.RawAppend === 0
      ? undefined
      : round(glueFull.Curate / glueFull.RawAppend);
  atMost(
    `curate of the full load / raw append (Glue scripts on PySpark, ${n(r.glue?.documents ?? 0)} entries)`,
    5,
    glueRatio,
  );
  const silver = r.engine?.incremental.tables.journal_entries_silver;
  add(
    'incremental MERGE: journal_entries_silver data files rewritten / delete files written / files',
    '< all rewritten (merge-on-read: none)',
    silver === undefined
      ? undefined
      : `${silver.filesRewritten}/${silver.deleteFilesWritten}/${silver.filesRewritten + silver.filesKept}`,
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

/** A Markdown table with columns padded to their widest cell. */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const cell = (c: string, i: number) =>
    right.includes(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number);
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right.includes(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const n = (value: number) => value.toLocaleString('en-US');

/** The whole run as Markdown: the targets with pass/fail, then the figures they come from, then the cost model. */
export function describeReport(r: Results): string {
  const out: string[] = [
    `Measured ${r.date.slice(0, 10)} on ${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ${n(r.documents)} journal entries${r.skipped.length > 0 ? `; skipped: ${r.skipped.join(', ')}` : ''}.`,
    '',
    table(
      ['target', 'measured', 'goal', 'result'],
      r.targets.map((t) => [
        t.target,
        String(t.value),
        t.goal,
        t.pass === null ? '—' : t.pass ? 'pass' : 'FAIL',
      ]),
    ),
  ];
  for (const [server, e] of [
    ['the embedded server', r.extraction?.embedded],
    ['FerretDB', r.extraction?.ferretdb ?? undefined],
  ] as const) {
    if (e === undefined) continue;
    out.push(
      '',
      `Extraction from ${server}, ${n(e.documents)} journal entries, each measurement in its own process:`,
      '',
      table(
        ['measurement', 'seconds', 'docs/s', 'peak RSS MiB'],
        [
          ['bare driver cursor', e.cursor],
          ['extractChunk, one chunk, one thread (Lambda)', e.extract],
          ['extractChunk, one chunk of a tenth', e.extractTenth],
          ['extractChunk, one chunk, a worker thread per core (local)', e.extractThreads],
          ['planRun into 50,000-document chunks', e.plan],
          ['listKeys (delete detection)', e.keys],
        ].map(([label, m]) => {
          const x = m as ExtractMeasurement;
          return [label as string, String(x.seconds), n(x.docsPerSecond), n(x.peakRssMiB)];
        }),
        [1, 2, 3],
      ),
    );
  }
  const p = r.pipeline;
  if (p !== undefined) {
    const states = ['Plan', 'ExtractChunks', 'RawAppend', 'CheckDeletes', 'ListKeys', 'Curate', 'Commit'];
    out.push(
      '',
      `\`npm run local\` at ${n(r.documents)} journal entries (source seeded beforehand in ${p.seedSeconds} s):`,
      '',
      table(
        [
          'run',
          'wall s',
          'execution s',
          'documents read',
          ...states.map((s) => `${s} s`),
          'peak RSS MiB',
          'snapshots',
        ],
        (
          [
            ['full', p.full],
            ['incremental, 1% changed', p.incremental],
            ['incremental, 1% new entries', p.appended],
            ['nothing new', p.noop],
          ] as const
        ).map(([label, m]) => [
          label,
          String(m.seconds),
          String(m.executionSeconds),
          n(m.documents),
          ...states.map((s) => String(m.states[s] ?? 0)),
          n(m.peakRssMiB),
          String(m.snapshots),
        ]),
        // Every column but the run's name is a number.
        Array.from({ length: 5 + states.length }, (_, i) => i + 1),
      ),
    );
    const executions = (runs: readonly PipelineMeasurement[]) =>
      runs.map((m) => m.executionSeconds).join(', ');
    if (p.fullRuns !== undefined && p.incrementalRuns !== undefined && p.fullRuns.length > 1)
      out.push(
        '',
        `The full and 1% changed rows are the medians of ${p.fullRuns.length} runs, each pair on its own copy of the seeded source; execution s of the full runs: ${executions(p.fullRuns)}; of the 1% changed runs: ${executions(p.incrementalRuns)}. The full run's peak RSS target takes the largest of the full runs.`,
      );
  }
  const engine = r.engine;
  if (engine !== undefined) {
    out.push(
      '',
      `Local engine jobs at ${n(r.documents)} entries: raw append ${engine.rawAppend.seconds} s (${n(engine.rawAppend.rows)} rows), curate of the full load ${engine.curateFull.seconds} s.`,
    );
  }
  const cost = r.cost;
  if (cost !== undefined) {
    out.push('', 'Cost model (from the figures above):', '');
    const rows: string[][] = [];
    if (cost.lambda !== null)
      rows.push([
        `Lambda extraction at ${n(cost.lambda.memoryMiB)} MiB, ${n(cost.lambda.docsPerSecond)} docs/s`,
        `${cost.lambda.gbSecondsPerMillionDocs} GB-s per million documents`,
        `$${cost.lambda.dollarsPerMillionDocs} per million documents`,
      ]);
    if (cost.glue !== null) {
      const jobs = Object.entries(cost.glue.jobs)
        .map(([job, t]) => `${job} ${t.fullSeconds} s / ${t.deltaSeconds} s`)
        .join(', ');
      rows.push(
        [
          `Glue full load (${cost.glue.workers} × ${cost.glue.workerType}; ${jobs})`,
          `${cost.glue.fullLoadDpuHours} DPU-hours`,
          `$${cost.glue.fullLoadDollars}`,
        ],
        [
          `Glue delta run (1% changed)`,
          `${cost.glue.deltaRunDpuHours} DPU-hours`,
          `$${cost.glue.deltaRunDollars}`,
        ],
      );
    }
    if (cost.stepFunctions !== null)
      rows.push([
        'Step Functions per delta run',
        `${cost.stepFunctions.transitionsPerDeltaRun} transitions`,
        `$${cost.stepFunctions.dollarsPerDeltaRun}`,
      ]);
    if (cost.month !== null)
      rows.push([
        `A month of the ingest schedule (${cost.month.runs} delta runs)`,
        '',
        `$${cost.month.dollars}`,
      ]);
    out.push(table(['item', 'quantity', 'cost'], rows), '', ...cost.assumptions.map((a) => `- ${a}`));
  }
  return out.join('\n');
}
