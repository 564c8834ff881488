import { RAW_OP } from '../model/tables/raw.ts';
import type { SqlDialect } from './dialect.ts';

/**
 * Delete reconciliation in the raw append, written once for both engines.
 * A run lists every `_id` of a collection (its key listing); a document whose
 * latest raw version is a live row from an earlier run and whose `_id` the
 * listing lacks has been deleted from the source, and gets a tombstone.
 * Documents this run read are never tombstoned by it: one deleted after it
 * was read is caught by the next run.
 */
export interface DeleteRelations {
  /** The raw table as it is (every version). */
  readonly raw: string;
  /** The rows this run is about to append (`_id`, `ingest_ts`, `_op` at least). */
  readonly staged: string;
}

/** Per `_id`: the ingest time and `_op` of its latest raw version, counting this run's rows. */
export function latestRawKeys(d: SqlDialect, r: DeleteRelations): string {
  const id = d.ident('_id');
  const op = d.ident('_op');
  return `SELECT ${id}, max(ingest_ts) AS ingest_ts, max_by(${op}, ingest_ts) AS ${op}
FROM (SELECT ${id}, ingest_ts, ${op} FROM ${r.raw} UNION ALL SELECT ${id}, ingest_ts, ${op} FROM ${r.staged}) versions
GROUP BY ${id}`;
}

/**
 * The `_id`s to tombstone: live in raw before this run, missing from the
 * listing. `runIngestTs` is a SQL expression of the run's ingest time.
 */
export function deletedKeys(d: SqlDialect, latest: string, keys: string, runIngestTs: string): string {
  const id = d.ident('_id');
  return `SELECT l.${id} FROM ${latest} l
LEFT JOIN ${keys} k ON k.${id} = l.${id}
WHERE k.${id} IS NULL AND l.${d.ident('_op')} = '${RAW_OP.upsert}' AND l.ingest_ts < ${runIngestTs}`;
}

/**
 * How many `_id`s are live in raw (their latest version is not a tombstone),
 * this run's rows counted and its tombstones not yet: the raw append subtracts
 * those. The next plan compares it with the source's document count.
 * `latest` is latestRawKeys' relation (a view, or a parenthesized query with an alias).
 */
export function liveRawKeys(d: SqlDialect, latest: string): string {
  return `SELECT count(*) AS live FROM ${latest} WHERE ${d.ident('_op')} = '${RAW_OP.upsert}'`;
}

/** How many listed `_id`s have no raw row at all: documents in the source that extraction never read. */
export function unreadSourceKeys(d: SqlDialect, latest: string, keys: string): string {
  const id = d.ident('_id');
  return `SELECT count(*) AS unread FROM ${keys} k LEFT JOIN ${latest} l ON l.${id} = k.${id} WHERE l.${id} IS NULL`;
}
