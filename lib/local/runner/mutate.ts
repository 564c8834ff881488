import { type Collection, type Db, Decimal128, type Document, ObjectId } from 'mongodb';
import { toUnscaled } from '../../../lambdas/shared/decimal.ts';
import { Prng } from '../sample-data/prng.ts';
import type { SourceState } from './embedded-source.ts';

export interface MutationCounts {
  /** Entries edited: a cent added to their first debit and first credit line, description marked. */
  readonly correctedEntries: number;
  /** Of those, entries that also lost their last line (an edit that removes a line). */
  readonly linesRemoved: number;
  readonly newEntries: number;
  readonly closeTasksAdvanced: number;
  readonly accountsRenamed: number;
}

/** Prng stream for mutation batch k; far from the sample generator's streams. */
const MUTATION_STREAM = 1000;
const SEED = 42;
const NEXT_STATUS: Readonly<Record<string, string>> = {
  'Not Started': 'In Progress',
  'In Progress': 'Complete',
  Blocked: 'In Progress',
  Complete: 'Complete',
};

/**
 * Changes `count` journal entries of the source the way an accounting team
 * does between two runs, all stamped `updatedAt = now` so an incremental run
 * picks them up: corrections (some removing a line), new entries (a tenth of
 * `count`), close tasks moving on (a tenth) and one account renamed. The
 * choice is deterministic for a given batch number.
 */
export async function mutateSource(
  db: Db,
  state: SourceState,
  count: number,
  now: Date,
): Promise<{ counts: MutationCounts; state: SourceState }> {
  const rng = new Prng(SEED, MUTATION_STREAM + state.mutations);
  const entries = db.collection('journal_entries');
  const totalEntries = state.scale + state.insertedEntries;
  const picks = new Set<number>();
  while (picks.size < Math.min(count, totalEntries)) picks.add(rng.int(0, totalEntries - 1));
  // One pass over the _ids in _id order finds the documents at the drawn positions (a filter on
  // thousands of values would be evaluated document by document by the embedded server); each is
  // then read alone, so the pass holds no whole documents.
  const chosenIds: ObjectId[] = [];
  let position = 0;
  for await (const doc of entries.find({}, { sort: { _id: 1 }, projection: { _id: 1 } })) {
    if (picks.has(position++)) chosenIds.push(doc._id);
  }
  const chosen: Document[] = [];
  for (const _id of chosenIds) {
    const doc = await entries.findOne({ _id });
    if (doc !== null) chosen.push(doc);
  }
  let linesRemoved = 0;
  for (const [i, doc] of chosen.entries()) {
    const removeLine = i % 5 === 4 && (doc.lines as Document[]).length >= 3;
    if (removeLine) linesRemoved++;
    await entries.updateOne(
      { _id: doc._id },
      {
        $set: {
          lines: corrected(doc.lines as Document[], removeLine),
          description: `${String(doc.description)} (corrected)`,
          updatedAt: now,
        },
      },
    );
  }
  const templates = chosen.slice(0, Math.ceil(count / 10));
  await insertLatePostings(entries, templates, totalEntries, now);
  const tasks = db.collection('close_tasks');
  const taskCount = await tasks.countDocuments();
  const taskPicks = await tasks
    .find({})
    .sort({ _id: 1 })
    .skip(rng.int(0, Math.max(taskCount - 1, 0)))
    .limit(Math.ceil(count / 10))
    .toArray();
  for (const task of taskPicks) {
    await tasks.updateOne(
      { _id: task._id },
      { $set: { status: NEXT_STATUS[String(task.status)] ?? 'In Progress', updatedAt: now } },
    );
  }
  const accounts = db.collection('accounts');
  const account = await accounts
    .find({})
    .sort({ _id: 1 })
    .skip(rng.int(0, Math.max((await accounts.countDocuments()) - 1, 0)))
    .limit(1)
    .next();
  if (account !== null) {
    await accounts.updateOne(
      { _id: account._id },
      {
        $set: {
          account_name: `${String(account.account_name)} (renamed ${state.mutations + 1})`,
          updatedAt: now,
        },
      },
    );
  }
  await bringIndexesUpToDate(db, ['journal_entries', 'close_tasks', 'accounts'], now);
  return {
    counts: {
      correctedEntries: chosen.length,
      linesRemoved,
      newEntries: templates.length,
      closeTasksAdvanced: taskPicks.length,
      accountsRenamed: account === null ? 0 : 1,
    },
    state: {
      ...state,
      mutations: state.mutations + 1,
      insertedEntries: state.insertedEntries + templates.length,
    },
  };
}

/**
 * Posts `count` new journal entries and changes nothing else: an append-only
 * delta, as a ledger that corrects by reversing entries sees between runs.
 * The new entries copy the first entries in `_id` order, with new ids.
 */
export async function appendEntries(
  db: Db,
  state: SourceState,
  count: number,
  now: Date,
): Promise<{ counts: MutationCounts; state: SourceState }> {
  const entries = db.collection('journal_entries');
  const templates = await entries.find({}).sort({ _id: 1 }).limit(count).toArray();
  await insertLatePostings(entries, templates, state.scale + state.insertedEntries, now);
  await bringIndexesUpToDate(db, ['journal_entries'], now);
  return {
    counts: {
      correctedEntries: 0,
      linesRemoved: 0,
      newEntries: templates.length,
      closeTasksAdvanced: 0,
      accountsRenamed: 0,
    },
    state: {
      ...state,
      mutations: state.mutations + 1,
      insertedEntries: state.insertedEntries + templates.length,
    },
  };
}

/**
 * MongoDB updates a collection's indexes as it writes; the embedded server
 * brings its built indexes up to date at the next query that uses one
 * (hundreds of milliseconds at a million documents). One query on the
 * watermark index here puts that work where MongoDB does it, with the
 * writes, rather than in the next run's planning.
 */
async function bringIndexesUpToDate(db: Db, collections: readonly string[], now: Date): Promise<void> {
  for (const name of collections) await db.collection(name).countDocuments({ updatedAt: { $gte: now } });
}

/** Copies of `templates` as new entries (new `_id` and entry id, posted `now`). */
async function insertLatePostings(
  entries: Collection,
  templates: readonly Document[],
  totalEntries: number,
  now: Date,
): Promise<void> {
  if (templates.length === 0) return;
  await entries.insertMany(
    templates.map((template, k) => ({
      ...template,
      _id: new ObjectId(),
      entry_id: entryId(totalEntries + k),
      description: `${String(template.description)} (late posting)`,
      updatedAt: now,
    })),
  );
}

/** The sample generator's entry ids: JE1001 is entry 0. */
function entryId(n: number): string {
  return `JE${1001 + n}`;
}

/** A cent more on the first debit and the first credit line (the entry stays balanced), optionally without its last line. */
function corrected(lines: readonly Document[], removeLast: boolean): Document[] {
  const out = lines.map((line) => ({ ...line }));
  const firstDebit = out.find((line) => unscaled(line.debit) > 0n);
  const firstCredit = out.find((line) => unscaled(line.credit) > 0n);
  if (firstDebit !== undefined) firstDebit.debit = plusCent(firstDebit.debit);
  if (firstCredit !== undefined) firstCredit.credit = plusCent(firstCredit.credit);
  return removeLast ? out.slice(0, -1) : out;
}

function unscaled(value: unknown): bigint {
  const result = toUnscaled(String(value ?? '0'), 18, 4);
  if (!result.ok) throw new Error(`sample amount ${String(value)} is not a decimal: ${result.reason}`);
  return result.unscaled;
}

/** Exact: amounts are handled as unscaled integers at scale 4, never as floats. */
function plusCent(value: unknown): Decimal128 {
  const next = unscaled(value) + 100n;
  const sign = next < 0n ? '-' : '';
  const digits = (next < 0n ? -next : next).toString().padStart(5, '0');
  return Decimal128.fromString(`${sign}${digits.slice(0, -4)}.${digits.slice(-4)}`);
}
