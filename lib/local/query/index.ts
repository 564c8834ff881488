export {
  namedQueriesCommand,
  namedQueryCommand,
  type QueryCommandOptions,
  queryCommand,
  snapshotsCommand,
  tablesCommand,
} from './commands.ts';
export { listSnapshots, listTables, type SnapshotListing, type TableListing } from './inspect.ts';
export {
  DEFAULT_TEXT_OPTIONS,
  type TextOptions,
  type Write,
  writeCsv,
  writeJson,
  writeText,
} from './output.ts';
export { QuerySession } from './session.ts';
export { SqlSyntaxError } from './sql-tokens.ts';
export { findTimeTravel, replaceClauses, type TimeTravelClause, type TravelPoint } from './time-travel.ts';
export { QueryInputError, Warehouse, type WarehouseTable } from './warehouse.ts';
