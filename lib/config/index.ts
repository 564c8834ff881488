export { DEFAULT_CONFIG } from './defaults.ts';
export type { CollectionConfig, LedgerlakeConfig, RetentionConfig } from './schema.ts';
export { configSchema, MAX_CHUNK_DOCS, MIN_CHUNK_DOCS } from './schema.ts';
export { ConfigError, resolveConfig, validateConfig } from './validate.ts';
