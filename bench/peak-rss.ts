/**
 * This process's peak resident memory, sampled every `intervalMs` from now
 * on. Sampled rather than read from getrusage: a forked child's maxRSS starts
 * at its parent's (Linux keeps it across exec), and a benchmark process is
 * one. `stop()` ends the sampling; the peak includes a last sample.
 */
export function sampleRss(intervalMs: number): { peakMiB(): number; stop(): void } {
  let peak = process.memoryUsage.rss();
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, intervalMs);
  return {
    peakMiB: () => {
      sample();
      return Math.round(peak / 1048576);
    },
    stop: () => clearInterval(timer),
  };
}
