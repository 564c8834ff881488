import { type DuckDBConnection, DuckDBInstance, type DuckDBResult } from '@duckdb/node-api';
import type { SnapshotSelector } from '../iceberg/table-ops.ts';
import { findTimeTravel, replaceClauses, type TimeTravelClause, type TravelPoint } from './time-travel.ts';
import { namesOf, QueryInputError, Warehouse, type WarehouseTable } from './warehouse.ts';

/**
 * DuckDB over a local warehouse: every table is a view over its current
 * snapshot, under `<database>.<table>`, `<layer>.<table>` and its bare name.
 * Time-travel clauses become views over the snapshot they name, in a schema
 * `snapshot_<id>`, so `journal_entries_silver FOR VERSION AS OF 42` reads
 * as `snapshot_42.journal_entries_silver` and column references like
 * `journal_entries_silver.debit` keep working.
 */
export class QuerySession {
  private constructor(
    readonly warehouse: Warehouse,
    readonly connection: DuckDBConnection,
  ) {}

  /** Opens the warehouse under `dir` (the pipeline's state directory) for reading. */
  static async open(dir: string): Promise<QuerySession> {
    const warehouse = await Warehouse.open(dir);
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    // Timestamps without an offset mean UTC, as in Athena, whatever the laptop's zone.
    await connection.run(`SET TimeZone = 'UTC'`);
    const session = new QuerySession(warehouse, connection);
    for (const table of warehouse.tables) await session.createViews(table);
    return session;
  }

  /** Runs SQL (several statements allowed; the last one's rows are returned, streamed). */
  async stream(sql: string): Promise<DuckDBResult> {
    const rewritten = await this.rewrite(sql);
    try {
      return await this.connection.stream(rewritten);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** The SQL DuckDB runs: time-travel clauses replaced by views over their snapshots. */
  async rewrite(sql: string): Promise<string> {
    const clauses = findTimeTravel(sql);
    const replacements: string[] = [];
    for (const clause of clauses) replacements.push(await this.snapshotView(clause));
    return replaceClauses(sql, clauses, replacements);
  }

  close(): void {
    this.connection.closeSync();
  }

  private async createViews(table: WarehouseTable): Promise<void> {
    const relation = await table.iceberg.scanSql();
    for (const parts of namesOf(table.table)) {
      const ambiguous = this.warehouse.tables.some(
        (other) => other !== table && namesOf(other.table).some((n) => n.join('.') === parts.join('.')),
      );
      if (ambiguous) continue;
      if (parts.length === 2) await this.connection.run(`CREATE SCHEMA IF NOT EXISTS ${quote(parts[0])}`);
      await this.connection.run(
        `CREATE OR REPLACE VIEW ${parts.map(quote).join('.')} AS SELECT * FROM ${relation}`,
      );
    }
  }

  private async snapshotView(clause: TimeTravelClause): Promise<string> {
    const table = this.findForClause(clause);
    const snapshotId = await this.resolveSnapshot(table, clause);
    const schema = quote(`snapshot_${snapshotId}`);
    const view = `${schema}.${quote(table.table.name)}`;
    await this.connection.run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const relation = await table.iceberg.scanSql({ snapshotId });
    await this.connection.run(`CREATE OR REPLACE VIEW ${view} AS SELECT * FROM ${relation}`);
    return view;
  }

  private findForClause(clause: TimeTravelClause): WarehouseTable {
    try {
      return this.warehouse.find(clause.table);
    } catch (error) {
      if (error instanceof QueryInputError)
        throw new QueryInputError(`in "${clause.text}": ${error.message}`);
      throw error;
    }
  }

  private async resolveSnapshot(table: WarehouseTable, clause: TimeTravelClause): Promise<bigint> {
    const selector = await this.selectorFor(table, clause.point, clause);
    const fail = (reason: string) =>
      new QueryInputError(
        `in "${clause.text}": ${table.qualifiedName}: ${reason}; list its snapshots with \`npm run query -- --snapshots ${table.qualifiedName}\``,
      );
    let snapshot: Awaited<ReturnType<typeof table.iceberg.snapshot>>;
    try {
      snapshot = await table.iceberg.snapshot(selector);
    } catch (error) {
      throw fail((error as Error).message);
    }
    // The snapshot log can name a snapshot that expiry has since removed: its files are gone too.
    if (snapshot === undefined) throw fail('the snapshot current at that time has expired');
    return snapshot['snapshot-id'];
  }

  private async selectorFor(
    table: WarehouseTable,
    point: TravelPoint,
    clause: TimeTravelClause,
  ): Promise<SnapshotSelector> {
    switch (point.kind) {
      case 'version':
        return { snapshotId: point.snapshotId };
      case 'ref': {
        const { refs } = (await table.iceberg.load()).metadata;
        const ref = refs[point.name];
        if (ref === undefined) {
          throw new QueryInputError(
            `in "${clause.text}": ${table.qualifiedName} has no branch or tag named ${point.name} (it has: ${Object.keys(refs).join(', ') || 'none'}); a snapshot id is written without quotes`,
          );
        }
        return { snapshotId: ref['snapshot-id'] };
      }
      case 'timestamp':
        return { asOfMs: await this.epochMs(`CAST($1 AS TIMESTAMPTZ)`, clause, [point.literal]) };
      case 'timestamp-expression':
        return { asOfMs: await this.epochMs(`CAST(${point.sql} AS TIMESTAMPTZ)`, clause) };
    }
  }

  private async epochMs(expression: string, clause: TimeTravelClause, values?: string[]): Promise<number> {
    try {
      const reader = await this.connection.runAndReadAll(`SELECT epoch_ms(${expression}) AS ms`, values);
      const ms = reader.getRows()[0]?.[0];
      if (typeof ms !== 'bigint') throw new Error('the expression is NULL');
      return Number(ms);
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      throw new QueryInputError(
        `in "${clause.text}": not a point in time (${message}); write it as '2025-07-01T12:00:00Z' (no offset means UTC)`,
      );
    }
  }

  /** DuckDB's error, plus the tables that do exist when a name was not found. */
  private explain(error: unknown): unknown {
    if (!(error instanceof Error) || !/Table with name \S+ does not exist/.test(error.message)) return error;
    const missing = this.warehouse.missing.map((t) => `${t.database}.${t.name}`);
    const notYet =
      missing.length === 0 ? '' : `\nnot written yet (run \`npm run local\`): ${missing.join(', ')}`;
    // DuckDB's "Did you mean" points at its own system tables (pg_enum), not at ours.
    const message = error.message.replace(/\nDid you mean "[^"]*(?:pg_|duckdb_)[^"]*"\?/, '');
    return new QueryInputError(`${message}\n${this.warehouse.knownTablesText()}${notYet}`);
  }
}

function quote(name: string | undefined): string {
  return `"${(name ?? '').replaceAll('"', '""')}"`;
}
