import { PLAN_STATUS } from '../../contracts/index.ts';
import type { ClosePeriodResult, TableMaintenance } from '../engine/index.ts';
import type { LocalRunSummary, RunEvent } from './run-pipeline.ts';

const number = (n: number) => n.toLocaleString('en-US');

/** Progress lines for a terminal: each state as it ends (with its time), each chunk, retries and failures. */
export function progressPrinter(write: (line: string) => void): (event: RunEvent) => void {
  const entered = new Map<string, number>();
  return (event) => {
    switch (event.type) {
      case 'note':
        write(event.message);
        return;
      case 'mutated': {
        const c = event.counts;
        write(
          `source changed: ${number(c.correctedEntries)} entries corrected (${c.linesRemoved} lost a line), ${c.newEntries} new, ${c.closeTasksAdvanced} close tasks moved on, ${c.accountsRenamed} account renamed`,
        );
        return;
      }
      case 'state-entered':
        if (event.index === undefined) entered.set(event.state, performance.now());
        return;
      case 'state-exited': {
        if (event.index !== undefined) return;
        const since = entered.get(event.state);
        const seconds = since === undefined ? '' : ` ${((performance.now() - since) / 1000).toFixed(1)} s`;
        write(`✓ ${event.state}${seconds}`);
        return;
      }
      case 'chunk-done':
        write(
          event.chunk.kind === 'keys'
            ? `  ${event.chunk.collection}: ${number(event.documents)} keys listed for delete detection in ${event.seconds.toFixed(1)} s`
            : `  ${event.chunk.collection} chunk ${event.chunk.index}${event.chunk.kind === 'irregular' ? ' (irregular watermarks)' : ''}: ${number(event.documents)} documents in ${event.seconds.toFixed(1)} s`,
        );
        return;
      case 'state-retried':
        write(`↻ ${event.state}: retry ${event.attempt}`);
        return;
      case 'state-failed':
        write(`✗ ${event.state}: ${event.error}: ${event.cause}`);
        return;
    }
  };
}

/** The run summary as a person reads it. */
export function describeRun(summary: LocalRunSummary, dir: string): string {
  if (summary.status === PLAN_STATUS.alreadyRunning) {
    return `run ${summary.runId}: another local run holds the lease; nothing done`;
  }
  if (summary.status === PLAN_STATUS.alreadyCommitted) {
    return `run ${summary.runId} was committed before; nothing done (replaying a committed run changes nothing)`;
  }
  const lines = [
    `run ${summary.runId} (${summary.mode}, Glue tasks on ${summary.engine}) in ${summary.seconds} s; state in ${dir}/`,
  ];
  for (const [name, c] of Object.entries(summary.collections)) {
    lines.push(
      `  ${name.padEnd(38)} ${number(c.read).padStart(10)} read  ${number(c.staged).padStart(10)} staged  ${number(c.quarantined).padStart(6)} quarantined  ${number(c.deleted).padStart(6)} deleted${c.unchanged > 0 ? `  (${number(c.unchanged)} unchanged since the last reload: not staged)` : ''}`,
    );
  }
  for (const [name, t] of Object.entries(summary.tables)) {
    lines.push(
      `  ${name.padEnd(38)} ${number(t.rows).padStart(10)} rows  ${String(t.files).padStart(4)} files  ${String(t.snapshots).padStart(3)} snapshots`,
    );
  }
  if (Array.isArray(summary.maintenance)) {
    for (const m of summary.maintenance as TableMaintenance[]) {
      lines.push(
        `  maintenance ${m.table}: ${m.filesCompacted} files compacted into ${m.filesAfterCompaction}, ${m.expiredSnapshots} snapshots expired, ${m.orphanFilesRemoved} orphans removed`,
      );
    }
  }
  const close = summary.close as Partial<ClosePeriodResult> | undefined;
  if (close?.period !== undefined) {
    lines.push(
      `  closed ${close.period} (close ${close.closeNumber}${close.status === 'already-closed' ? ', recorded before by this run' : ''}): ${close.accounts} accounts in trial_balance_closed_gold; ${close.snapshots?.length} tables tagged ${close.tag}`,
    );
  }
  if (summary.reconciled === false) {
    lines.push('  NOT RECONCILED: documents read differ from what the plan counted (see the run summary)');
  }
  const issues = Object.entries(summary.dataQuality ?? {}).filter(([, n]) => n > 0);
  if (issues.length > 0) {
    lines.push(`  open data-quality issues: ${issues.map(([code, n]) => `${code} ${number(n)}`).join(', ')}`);
  }
  const undeclared = summary.run?.collections.filter((c) => c.undeclaredFields.length > 0) ?? [];
  for (const c of undeclared)
    lines.push(`  fields not in the model (${c.collection}): ${c.undeclaredFields.join(', ')}`);
  return lines.join('\n');
}
