import type { Db, Document } from 'mongodb';
import { generateAccounts } from './accounts.ts';
import { generateCloseTasks } from './close-tasks.ts';
import { generateJournalEntries } from './journal-entries.ts';
import { resolveBatchSize, resolveSampleDataOptions, type SeedDatabaseOptions } from './options.ts';

export { type AccountDocument, generateAccounts } from './accounts.ts';
export { type AccountSeed, type AccountType, chartOfAccounts } from './chart-of-accounts.ts';
export { type CloseTaskDocument, type CloseTaskStatus, generateCloseTasks } from './close-tasks.ts';
export { generateJournalEntries, type JournalEntryDocument, type JournalLine } from './journal-entries.ts';
export {
  type ResolvedSampleDataOptions,
  resolveSampleDataOptions,
  SAMPLE_DATA_DEFAULTS,
  SampleDataOptionError,
  type SampleDataOptions,
  type SeedDatabaseOptions,
} from './options.ts';

export interface SeedCounts {
  readonly accounts: number;
  readonly journalEntries: number;
  readonly closeTasks: number;
}

/** The sample collections, each ordered for extraction by `updatedAt` with `_id` breaking ties. */
export const SAMPLE_COLLECTIONS = ['accounts', 'journal_entries', 'close_tasks'] as const;

/** The index each sample collection gets, as each incremental collection has one on Atlas. */
export const SAMPLE_INDEX = { key: { updatedAt: 1, _id: 1 }, name: 'updatedAt_1__id_1' } as const;

/**
 * Inserts the sample collections `accounts`, `journal_entries` and
 * `close_tasks` into `db` in ordered `insertMany` batches, at most two
 * batches in memory, and indexes each on `{updatedAt: 1, _id: 1}`. Drops
 * and deletes nothing: seeding a database that already holds these
 * documents fails on the duplicate `_id`.
 */
export async function seedDatabase(db: Db, options: SeedDatabaseOptions = {}): Promise<SeedCounts> {
  resolveSampleDataOptions(options);
  const batchSize = resolveBatchSize(options);
  const counts = {
    accounts: await insertAll(db, 'accounts', generateAccounts(options), batchSize),
    journalEntries: await insertAll(db, 'journal_entries', generateJournalEntries(options), batchSize),
    closeTasks: await insertAll(db, 'close_tasks', generateCloseTasks(options), batchSize),
  };
  for (const name of SAMPLE_COLLECTIONS)
    await db.collection(name).createIndex(SAMPLE_INDEX.key, { name: SAMPLE_INDEX.name });
  return counts;
}

/**
 * Sends batch k while batch k + 1 is generated; batch k + 1 is sent only
 * after batch k was acknowledged, so inserts stay in order and at most two
 * batches are in memory.
 */
async function insertAll(
  db: Db,
  collectionName: string,
  documents: Iterable<Document>,
  batchSize: number,
): Promise<number> {
  const collection = db.collection(collectionName);
  let inserted = 0;
  let inFlight: Promise<number> | undefined;
  const send = async (batch: Document[]): Promise<void> => {
    if (inFlight !== undefined) inserted += await inFlight;
    inFlight = collection.insertMany(batch, { ordered: true }).then((result) => result.insertedCount);
    // Marked handled here; the rejection is still raised by the next await of inFlight.
    inFlight.catch(() => undefined);
  };
  let batch: Document[] = [];
  for (const document of documents) {
    batch.push(document);
    if (batch.length === batchSize) {
      await send(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await send(batch);
  if (inFlight !== undefined) inserted += await inFlight;
  return inserted;
}
