import { readFileSync } from 'node:fs';
import type { LedgerlakeConfig } from './schema.ts';
import { ConfigError, resolveConfig } from './validate.ts';

/**
 * The configuration a CDK app runs with: the defaults, then the JSON file
 * named by context `config` (`-c config=ledgerlake.prod.json`), then context
 * `stage` (`-c stage=prod`). Validated as a whole.
 */
export function configFromContext(context: (key: string) => unknown): LedgerlakeConfig {
  const file = context('config');
  let overrides: Record<string, unknown> = {};
  if (file !== undefined) {
    if (typeof file !== 'string' || file === '') {
      throw new ConfigError([`context config must be the path of a JSON file, got ${JSON.stringify(file)}`]);
    }
    try {
      overrides = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError([`context config: cannot read ${file} as JSON: ${(error as Error).message}`]);
    }
  }
  const stage = context('stage');
  if (stage !== undefined) {
    const aws = (overrides.aws ?? {}) as Record<string, unknown>;
    overrides = { ...overrides, aws: { ...aws, stage } };
  }
  return resolveConfig(overrides);
}
