import type { z } from 'zod';
import { DEFAULT_CONFIG } from './defaults.ts';
import { configSchema, type LedgerlakeConfig } from './schema.ts';

/** Thrown when configuration is invalid; `problems` has one line per invalid field. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid ledgerlake configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Validates a complete configuration object. Every problem names the field,
 * the value received and what is allowed; all problems are reported at once.
 */
export function validateConfig(input: unknown): LedgerlakeConfig {
  const result = configSchema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map(describeIssue));
}

/**
 * Applies overrides on top of the defaults (objects merge field by field,
 * arrays replace) and validates the result.
 */
export function resolveConfig(overrides: unknown = {}): LedgerlakeConfig {
  if (!isPlainObject(overrides)) {
    throw new ConfigError([`config must be an object, got ${show(overrides)}`]);
  }
  return validateConfig(mergeDeep(DEFAULT_CONFIG, overrides));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = formatPath(issue.path);
  if (issue.input === undefined && issue.code !== 'unrecognized_keys' && issue.code !== 'custom') {
    return `${field} is required: ${issue.code === 'invalid_type' ? `expected ${article(issue.expected)}` : issue.message}`;
  }
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'invalid_type':
      return `${field} must be ${article(issue.expected)}, got ${show(issue.input)}`;
    default:
      return `${field} ${issue.message}, got ${show(issue.input)}`;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = 'config';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  }
  return out;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeDeep(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = mergeDeep(base[key], value);
  }
  return out;
}
