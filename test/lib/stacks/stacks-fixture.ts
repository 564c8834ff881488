import { Template } from 'aws-cdk-lib/assertions';
import { type LedgerlakeConfig, resolveConfig } from '../../../lib/config/index.ts';
import {
  addLedgerlakeStacks,
  createLedgerlakeApp,
  type LedgerlakeStacks,
} from '../../../lib/stacks/ledgerlake-app.ts';

export interface SynthesizedStacks {
  readonly config: LedgerlakeConfig;
  readonly stacks: LedgerlakeStacks;
  readonly data: Template;
  readonly pipeline: Template;
  readonly analytics: Template;
}

const cache = new Map<string, SynthesizedStacks>();

/**
 * Synthesizes the three stacks once per configuration and test process.
 * Lambda bundling is skipped (`aws:cdk:bundling-stacks: []`) to keep tests
 * fast; the `cdk synth` test bundles for real.
 */
export function synthesize(overrides: unknown = {}): SynthesizedStacks {
  const cacheKey = JSON.stringify(overrides);
  const cached = cache.get(cacheKey);
  if (cached !== undefined) return cached;
  const config = resolveConfig(overrides);
  const app = createLedgerlakeApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = addLedgerlakeStacks(app, config);
  app.synth();
  const result = {
    config,
    stacks,
    data: Template.fromStack(stacks.data),
    pipeline: Template.fromStack(stacks.pipeline),
    analytics: Template.fromStack(stacks.analytics),
  };
  cache.set(cacheKey, result);
  return result;
}

/** Resource counts by type, for reports and for tests that pin the shape of a stack. */
export function resourceCounts(template: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const resource of Object.values(template.toJSON().Resources as Record<string, { Type: string }>)) {
    counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
  }
  return counts;
}
