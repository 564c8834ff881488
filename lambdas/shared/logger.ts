import { Logger } from '@aws-lambda-powertools/logger';

/** Structured logger for every function; keys such as `runId`, `collection`, `chunk` are appended per call. */
export const logger = new Logger({ serviceName: 'ledgerlake' });
