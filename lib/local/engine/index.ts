export { type ClosePeriodResult, closePeriod } from './close-period.ts';
export { type EngineContext, openTable } from './context.ts';
export { type CurateResult, curate } from './curate.ts';
export { compact, type MaintenanceOptions, maintain, type TableMaintenance } from './maintenance.ts';
export { type RawAppendResult, rawAppend } from './raw-append.ts';
