export { configFromContext } from './context.ts';
export { DEFAULT_CONFIG } from './defaults.ts';
export type { AwsConfig, CollectionConfig, LedgerlakeConfig, RetentionConfig } from './schema.ts';
export {
  configSchema,
  DELETE_DETECTION,
  GLUE_WORKER_TYPES,
  LOG_RETENTION_DAYS,
  MAX_CHUNK_DOCS,
  MIN_BYTES_SCANNED_CUTOFF,
  MIN_CHUNK_DOCS,
} from './schema.ts';
export { ConfigError, resolveConfig, validateConfig } from './validate.ts';
