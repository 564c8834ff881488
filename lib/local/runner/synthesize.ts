import { Template } from 'aws-cdk-lib/assertions';
import type { LedgerlakeConfig } from '../../config/index.ts';
import { type AslDefinition, ingestDefinition } from '../../stacks/ingest-definition.ts';
import { addLedgerlakeStacks, createLedgerlakeApp } from '../../stacks/ledgerlake-app.ts';

/**
 * The ingest state machine exactly as `cdk synth` produces it for `config`:
 * the pipeline stack is synthesized in process (function bundling skipped,
 * since the local runner calls the handlers' code directly) and the
 * definition is read back from the template, intrinsics replaced by
 * placeholder ARNs. Nothing is copied or rewritten by hand. Loading the CDK
 * takes seconds, so this module is imported only when a synthesis is needed.
 */
export function synthesizedIngestDefinition(config: LedgerlakeConfig): AslDefinition {
  const app = createLedgerlakeApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = addLedgerlakeStacks(app, config);
  return ingestDefinition(
    Template.fromStack(stacks.pipeline).toJSON() as Parameters<typeof ingestDefinition>[0],
  );
}
