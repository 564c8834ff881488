import type { LedgerlakeConfig } from '../config/index.ts';

/** Unique per stage in an account and region; prefixes the names of pipeline resources (`fq-app-dev`). */
export function resourcePrefix(config: LedgerlakeConfig): string {
  return `${config.app.replaceAll('_', '-')}-${config.aws.stage}`;
}

/**
 * How every pipeline alarm's name starts. The pipeline stack names its alarms
 * so, and the data stack's key policy lets only those alarms use the key (it
 * cannot refer to resources of a stack deployed after it).
 */
export function alarmNamePrefix(config: LedgerlakeConfig): string {
  return `${resourcePrefix(config)}-`;
}
