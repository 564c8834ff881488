import { Template } from 'aws-cdk-lib/assertions';
import type { LedgerlakeConfig } from '../../config/index.ts';
import { type AslDefinition, type AslState, ingestDefinition } from '../../stacks/ingest-definition.ts';
import { addLedgerlakeStacks, createLedgerlakeApp } from '../../stacks/ledgerlake-app.ts';
import { LONGEST_LOCAL_TIMEOUT_SECONDS } from './service-limits.ts';

/**
 * The ingest state machine exactly as `cdk synth` produces it for `config`:
 * the pipeline stack is synthesized in process (function bundling skipped,
 * since the local runner calls the handlers' code directly) and the
 * definition is read back from the template, intrinsics replaced by
 * placeholder ARNs. Nothing is copied or rewritten by hand.
 */
export function synthesizedIngestDefinition(config: LedgerlakeConfig): AslDefinition {
  const app = createLedgerlakeApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = addLedgerlakeStacks(app, config);
  return ingestDefinition(
    Template.fromStack(stacks.pipeline).toJSON() as Parameters<typeof ingestDefinition>[0],
  );
}

/** What Step Functions does with a Task that sets no TimeoutSeconds: it waits (99999999 s, the service default). */
export const SERVICE_DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999;

/**
 * The state timeouts the service applies, written into each Task state:
 * aws-local-stepfunctions times out a Task without `TimeoutSeconds` after 60
 * seconds, where Step Functions waits. A Glue `.sync` task without one ends
 * when the job run's own `Timeout` (minutes) ends it, so that becomes its
 * state timeout; any other Task gets the service default (both at most
 * LONGEST_LOCAL_TIMEOUT_SECONDS).
 */
export function withServiceTimeouts(definition: AslDefinition): AslDefinition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => [name, withTimeout(state)]),
  );
  return { ...definition, States: states };
}

function withTimeout(state: AslState): AslState {
  const nested = (machine: unknown) =>
    machine !== null && typeof machine === 'object' && 'States' in machine
      ? withServiceTimeouts(machine as AslDefinition)
      : machine;
  let out: AslState = { ...state };
  if (out.ItemProcessor !== undefined) out = { ...out, ItemProcessor: nested(out.ItemProcessor) };
  if (out.Iterator !== undefined) out = { ...out, Iterator: nested(out.Iterator) };
  if (Array.isArray(out.Branches)) out = { ...out, Branches: out.Branches.map(nested) };
  if (out.Type !== 'Task' || out.TimeoutSeconds !== undefined || out.TimeoutSecondsPath !== undefined) {
    return out;
  }
  const jobTimeoutMinutes = (out.Parameters as { Timeout?: unknown } | undefined)?.Timeout;
  const glueSync = String(out.Resource).startsWith('arn:aws:states:::glue:startJobRun.sync');
  const seconds =
    glueSync && typeof jobTimeoutMinutes === 'number'
      ? jobTimeoutMinutes * 60
      : SERVICE_DEFAULT_TASK_TIMEOUT_SECONDS;
  return { ...out, TimeoutSeconds: Math.min(seconds, LONGEST_LOCAL_TIMEOUT_SECONDS) };
}

const synthesized = new Map<string, AslDefinition>();

/**
 * The synthesized definition for `config` with the service's timeouts
 * (withServiceTimeouts), synthesized once per process (CDK
 * synthesis takes seconds, and a test process runs many pipelines); each
 * caller gets its own copy. `cached` says whether this call synthesized.
 */
export function ingestDefinitionFor(config: LedgerlakeConfig): {
  definition: AslDefinition;
  cached: boolean;
} {
  const key = JSON.stringify(config);
  let definition = synthesized.get(key);
  const cached = definition !== undefined;
  if (definition === undefined) {
    definition = withServiceTimeouts(synthesizedIngestDefinition(config));
    synthesized.set(key, definition);
  }
  return { definition: structuredClone(definition), cached };
}
