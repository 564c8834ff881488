/**
 * Per-step timings of the local engine's jobs, printed to stderr when
 * LEDGERLAKE_PROFILE=1: where a slow job spends its time, without a profiler.
 * CPU time is the whole process's (DuckDB's threads included), so with steps
 * run one at a time it is the step's own; it stays meaningful on a busy machine
 * where wall time does not.
 */
const enabled = process.env.LEDGERLAKE_PROFILE === '1';

/** Runs `work`; with profiling on, prints `[profile] <job> <step> <wall> s cpu <cpu> s rss <MiB> MiB` when it ends. */
export async function timed<T>(job: string, step: string, work: () => Promise<T>): Promise<T> {
  if (!enabled) return await work();
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    return await work();
  } finally {
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const rss = Math.round(process.memoryUsage.rss() / 1048576);
    process.stderr.write(
      `[profile] ${job} ${step} ${wall.toFixed(3)} s cpu ${((used.user + used.system) / 1e6).toFixed(3)} s rss ${rss} MiB\n`,
    );
  }
}
