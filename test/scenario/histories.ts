import {
  type Collection,
  type Db,
  Decimal128,
  type Document,
  Double,
  Int32,
  Long,
  MaxKey,
  MongoClient,
  ObjectId,
  Timestamp,
  UUID,
} from 'mongodb';
import { idText } from '../../lambdas/shared/row-mapper.ts';
import {
  generateAccounts,
  generateCloseTasks,
  generateJournalEntries,
} from '../../lib/local/sample-data/index.ts';
import { Prng } from '../../lib/local/sample-data/prng.ts';

/**
 * Random histories of a source, applied through the mongodb driver: what an
 * accounting team does between two runs (edits, deletes, inserts, renames)
 * and the bad cases of issue 9 (watermarks that are not Dates or lie in the
 * future, `_id`s of other BSON types tying the newest watermark, duplicate and
 * missing entry ids, empty entries, dates that are not dates, negative
 * amounts, unknown accounts). Every operation stamps `updatedAt = now` unless
 * spoiling the watermark is its point. A seed gives the same history.
 */

/** How money is written: Decimal128 (the embedded server), or doubles and ints (FerretDB 1.24 cannot store Decimal128). */
export type MoneyKind = 'decimal128' | 'double';

export const OPERATIONS = [
  // The books as they are kept.
  'edit-amounts',
  'remove-line',
  'add-line',
  'delete-entry',
  'insert-entry',
  'rename-account',
  'retype-account',
  'delete-account',
  'insert-account-sharing-id',
  'edit-close-task',
  'delete-close-task',
  'insert-close-task',
  // Watermarks that are not Dates, or lie in the future.
  'watermark-timestamp',
  'watermark-maxkey',
  'watermark-2099',
  'watermark-string',
  'watermark-double',
  'watermark-missing',
  'fix-watermark',
  // `_id`s of other types whose updatedAt ties the newest watermark of the collection.
  'id-string',
  'id-int',
  'id-int64',
  'id-uuid',
  // Ledger problems.
  'duplicate-entry-id',
  'rename-entry-id',
  'empty-lines',
  'missing-entry-id',
  'invalid-date',
  'invalid-due-date',
  'unmappable-account',
  'negative-amount',
  'unknown-account',
  'line-without-amount',
  'unmappable-amount',
  'fix-entry',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface AppliedOperation {
  readonly operation: Operation;
  readonly collection: string;
  /** The document's `_id` as the tables show it. */
  readonly id: string;
}

export interface HistoryOptions {
  readonly seed: number;
  readonly money: MoneyKind;
  /** Operations the server cannot do (see `unsupportedOperations`). @default none */
  readonly skip?: readonly Operation[];
}

const ACCOUNT_TYPES = ['Asset', 'Liability', 'Equity', 'Revenue', 'Expense'] as const;
const STATUSES = ['Not Started', 'In Progress', 'Complete', 'Blocked'] as const;
const FAR_FUTURE = new Date('2099-01-01T00:00:00Z');
const READ = { promoteValues: false } as const;

export class History {
  private readonly rng: Prng;
  private readonly skip: ReadonlySet<Operation>;
  private readonly applied = new Set<Operation>();
  private serial = 0;

  constructor(
    private readonly db: Db,
    private readonly options: HistoryOptions,
  ) {
    this.rng = new Prng(options.seed, 7);
    this.skip = new Set(options.skip ?? []);
  }

  /** Operations of this history that the server can do. */
  get operations(): readonly Operation[] {
    return OPERATIONS.filter((op) => !this.skip.has(op));
  }

  /**
   * Applies `count` operations: first those not applied yet (in the order
   * listed), so a few rounds cover every kind, then random ones.
   */
  async round(count: number): Promise<AppliedOperation[]> {
    const done: AppliedOperation[] = [];
    for (let i = 0; i < count; i++) {
      const pending = this.operations.filter((op) => !this.applied.has(op));
      const operation = pending[0] ?? this.rng.pick(this.operations);
      const result = await this.apply(operation);
      if (result !== undefined) done.push(result);
    }
    return done;
  }

  /** Applies one operation; undefined when the source has nothing it applies to. */
  async apply(operation: Operation): Promise<AppliedOperation | undefined> {
    this.applied.add(operation);
    return this.dispatch(operation);
  }

  /**
   * Edits the description of `count` journal entries at once (`updatedAt = now`),
   * so the next run reads enough documents for several extraction chunks.
   */
  async touchMany(count: number): Promise<number> {
    const entries = this.entries();
    const ids = (await this.idsOf(entries)).slice(0, count);
    const now = new Date();
    for (const id of ids) {
      await entries.updateOne(
        { _id: id as never },
        { $set: { description: `Touched ${this.serial++}`, updatedAt: now } },
      );
    }
    return ids.length;
  }

  /** Deletes the document an operation applied to; how many documents were deleted. */
  async deleteById(applied: AppliedOperation): Promise<number> {
    const collection = this.db.collection(applied.collection);
    const ids = await this.idsOf(collection, (doc) => idText(doc._id) === applied.id);
    let deleted = 0;
    for (const id of ids) deleted += (await collection.deleteOne({ _id: id as never })).deletedCount;
    return deleted;
  }

  private async dispatch(operation: Operation): Promise<AppliedOperation | undefined> {
    switch (operation) {
      case 'edit-amounts':
        return this.editLines(operation, (lines) => {
          const line = this.rng.pick(lines);
          const side = this.rng.chance(0.5) ? 'debit' : 'credit';
          line[side] = this.money(this.cents());
          return lines;
        });
      case 'remove-line':
        return this.editLines(operation, (lines) => {
          lines.splice(this.rng.int(0, lines.length - 1), 1);
          return lines;
        });
      case 'add-line':
        return this.editLines(operation, async (lines) => {
          const cents = this.cents();
          lines.push(this.line(await this.accountId(), cents, 0));
          if (this.rng.chance(0.7)) lines.push(this.line(await this.accountId(), 0, cents));
          return lines;
        });
      case 'delete-entry':
        return this.deleteOne(this.entries(), operation);
      case 'insert-entry':
        return this.insertEntry(operation, new ObjectId(), new Date());
      case 'rename-account':
        return this.setFields(this.accounts(), operation, () => ({
          account_name: `Account renamed ${this.serial++}`,
        }));
      case 'retype-account':
        return this.setFields(this.accounts(), operation, () => ({
          account_type: this.rng.pick(ACCOUNT_TYPES),
        }));
      case 'delete-account':
        return this.deleteOne(this.accounts(), operation);
      case 'insert-account-sharing-id':
        return this.insertAccountSharingId(operation);
      case 'edit-close-task':
        return this.setFields(this.closeTasks(), operation, () => ({ status: this.rng.pick(STATUSES) }));
      case 'delete-close-task':
        return this.deleteOne(this.closeTasks(), operation);
      case 'insert-close-task':
        return this.insertCloseTask(operation);
      case 'watermark-timestamp':
        return this.spoilWatermark(operation, new Timestamp({ t: Math.floor(Date.now() / 1000), i: 1 }));
      case 'watermark-maxkey':
        return this.spoilWatermark(operation, new MaxKey());
      case 'watermark-2099':
        return this.spoilWatermark(operation, FAR_FUTURE);
      case 'watermark-string':
        return this.spoilWatermark(operation, new Date().toISOString());
      case 'watermark-double':
        return this.spoilWatermark(operation, new Double(Date.now() + 0.5));
      case 'watermark-missing':
        return this.spoilWatermark(operation, undefined);
      case 'fix-watermark':
        return this.fixWatermark(operation);
      case 'id-string':
        return this.insertEntry(
          operation,
          `je-${this.options.seed}-${this.serial++}`,
          await this.newestWatermark(),
        );
      case 'id-int':
        return this.insertEntry(
          operation,
          new Int32(1_000_000 + this.serial++),
          await this.newestWatermark(),
        );
      case 'id-int64':
        return this.insertEntry(
          operation,
          Long.fromBigInt(2n ** 40n + BigInt(this.serial++)),
          await this.newestWatermark(),
        );
      case 'id-uuid':
        return this.insertEntry(operation, this.uuid(), await this.newestWatermark());
      case 'duplicate-entry-id':
        return this.duplicateEntryId(operation);
      case 'rename-entry-id':
        return this.setFields(this.entries(), operation, () => ({ entry_id: this.newEntryId() }));
      case 'empty-lines':
        return this.emptyLines(operation);
      case 'missing-entry-id':
        return this.missingEntryId(operation);
      case 'invalid-date':
        return this.setFields(this.entries(), operation, () => ({ date: '2024-02-30' }));
      case 'invalid-due-date':
        return this.setFields(this.closeTasks(), operation, () => ({ due_date: '2025-02-29' }));
      case 'unmappable-account':
        // A name that is not a string: the account leaves the chart, its lines' accounts become unknown.
        return this.setFields(this.accounts(), operation, () => ({ account_name: { text: 'Cash' } }));
      case 'negative-amount':
        return this.editLines(operation, (lines) => {
          this.rng.pick(lines)[this.rng.chance(0.5) ? 'debit' : 'credit'] = this.money(-this.cents());
          return lines;
        });
      case 'unknown-account':
        return this.editLines(operation, (lines) => {
          this.rng.pick(lines).account_id = this.rng.pick([new Int32(9999), '9999-99', null]);
          return lines;
        });
      case 'line-without-amount':
        return this.editLines(operation, async (lines) => {
          const accountId = await this.accountId();
          const empty = this.rng.pick([
            this.line(accountId, 0, 0),
            { account_id: new Int32(accountId) },
            { account_id: new Int32(accountId), debit: null, credit: this.money(0) },
          ]);
          lines.push(empty);
          return lines;
        });
      case 'unmappable-amount':
        return this.editLines(operation, (lines) => {
          // Five decimal places: decimal(18, 4) cannot hold it without rounding.
          this.rng.pick(lines).credit =
            this.options.money === 'decimal128' ? Decimal128.fromString('1.00001') : new Double(1.00001);
          return lines;
        });
      case 'fix-entry':
        return this.fixEntry(operation);
    }
  }

  // --- collections and picks

  private entries(): Collection {
    return this.db.collection('journal_entries');
  }

  private accounts(): Collection {
    return this.db.collection('accounts');
  }

  private closeTasks(): Collection {
    return this.db.collection('close_tasks');
  }

  /**
   * The `_id`s of a collection's documents that `where` accepts, in the order of their text (the
   * same on every server). Filtering here, not in the query, keeps to what every server supports.
   */
  private async idsOf(
    collection: Collection,
    where: (doc: Document) => boolean = () => true,
  ): Promise<unknown[]> {
    const docs = await collection.find({}, READ).toArray();
    return docs
      .filter(where)
      .map((d) => d._id as unknown)
      .sort((a, b) => compareText(idText(a), idText(b)));
  }

  private async pick(
    collection: Collection,
    where: (doc: Document) => boolean = () => true,
  ): Promise<Document | undefined> {
    const ids = await this.idsOf(collection, where);
    if (ids.length === 0) return undefined;
    const id = this.rng.pick(ids);
    return (await collection.findOne({ _id: id as never }, READ)) ?? undefined;
  }

  private async accountId(): Promise<number> {
    const account = await this.pick(this.accounts());
    const value = account?.account_id;
    const n = Number(typeof value === 'object' && value !== null ? String(value) : value);
    return Number.isInteger(n) ? n : 1000;
  }

  /**
   * A watermark the next run's upper bound will have: an existing entry is edited at `now` and the
   * new document gets the same instant, so the two tie on `updatedAt` and only `_id` (of another
   * BSON type) orders them. (Tying an instant an earlier run already passed would be a backdated
   * write, which no incremental read can see.)
   */
  private async newestWatermark(): Promise<Date> {
    const now = new Date();
    const entries = this.entries();
    const doc = await this.pick(entries, (d) => d._id instanceof ObjectId);
    if (doc !== undefined) {
      await entries.updateOne(
        { _id: doc._id },
        { $set: { description: `Edited ${this.serial++}`, updatedAt: now } },
      );
    }
    return now;
  }

  // --- values

  private cents(): number {
    return this.rng.int(1, 500_000);
  }

  /** Cents as the source's money type: Decimal128 text, or a double / an int. */
  private money(cents: number): unknown {
    if (this.options.money === 'decimal128') return Decimal128.fromString(centsText(cents));
    return cents % 100 === 0 && this.rng.chance(0.5) ? new Int32(cents / 100) : new Double(cents / 100);
  }

  private line(accountId: number, debitCents: number, creditCents: number): Document {
    return {
      account_id: new Int32(accountId),
      debit: this.money(debitCents),
      credit: this.money(creditCents),
    };
  }

  private newEntryId(): string {
    return `JE${900_000 + this.options.seed * 1000 + this.serial++}`;
  }

  private uuid(): UUID {
    const hex = (this.options.seed * 1_000_000 + this.serial++).toString(16).padStart(12, '0');
    return new UUID(`00000000-0000-4000-8000-${hex.slice(-12)}`);
  }

  /** A day of 2025: a Date, or now and then the 'YYYY-MM-DD' text some applications store. */
  private entryDate(): Date | string {
    const day = new Date(Date.UTC(2025, this.rng.int(0, 11), this.rng.int(1, 28)));
    return this.rng.chance(0.25) ? day.toISOString().slice(0, 10) : day;
  }

  // --- operations

  private async setFields(
    collection: Collection,
    operation: Operation,
    fields: () => Document,
  ): Promise<AppliedOperation | undefined> {
    const doc = await this.pick(collection);
    if (doc === undefined) return undefined;
    await collection.updateOne({ _id: doc._id }, { $set: { ...fields(), updatedAt: new Date() } });
    return { operation, collection: collection.collectionName, id: idText(doc._id) };
  }

  private async editLines(
    operation: Operation,
    edit: (lines: Document[]) => Document[] | Promise<Document[]>,
  ): Promise<AppliedOperation | undefined> {
    const entries = this.entries();
    const doc = await this.pick(entries, (d) => Array.isArray(d.lines) && d.lines.length > 0);
    if (doc === undefined) return undefined;
    const lines = await edit((doc.lines as Document[]).map((line) => ({ ...line })));
    await entries.updateOne({ _id: doc._id }, { $set: { lines, updatedAt: new Date() } });
    return { operation, collection: entries.collectionName, id: idText(doc._id) };
  }

  private async deleteOne(
    collection: Collection,
    operation: Operation,
  ): Promise<AppliedOperation | undefined> {
    const doc = await this.pick(collection);
    if (doc === undefined) return undefined;
    await collection.deleteOne({ _id: doc._id });
    return { operation, collection: collection.collectionName, id: idText(doc._id) };
  }

  private async insertEntry(operation: Operation, id: unknown, updatedAt: Date): Promise<AppliedOperation> {
    const entries = this.entries();
    const cents = this.cents();
    const credit = await this.accountId();
    await entries.insertOne({
      _id: id as never,
      entry_id: this.newEntryId(),
      date: this.entryDate(),
      description: `History entry ${this.serial++}`,
      lines: [this.line(await this.accountId(), cents, 0), this.line(credit, 0, cents)],
      updatedAt,
    });
    return { operation, collection: entries.collectionName, id: idText(id) };
  }

  private async insertAccountSharingId(operation: Operation): Promise<AppliedOperation | undefined> {
    const accounts = this.accounts();
    const twin = await this.pick(accounts);
    if (twin === undefined) return undefined;
    const id = new ObjectId();
    await accounts.insertOne({
      _id: id,
      account_id: twin.account_id,
      account_name: `Second account ${this.serial++}`,
      account_type: this.rng.pick(ACCOUNT_TYPES),
      is_active: true,
      updatedAt: new Date(),
    });
    return { operation, collection: accounts.collectionName, id: idText(id) };
  }

  private async insertCloseTask(operation: Operation): Promise<AppliedOperation> {
    const tasks = this.closeTasks();
    const id = new ObjectId();
    await tasks.insertOne({
      _id: id,
      task_id: `TH${this.serial++}`,
      name: 'Review accruals',
      assigned_to: 'Dana',
      status: this.rng.pick(STATUSES),
      due_date: this.entryDate(),
      updatedAt: new Date(),
    });
    return { operation, collection: tasks.collectionName, id: idText(id) };
  }

  /** A content edit whose `updatedAt` is not a Date (or is far ahead), on a document of any collection. */
  private async spoilWatermark(operation: Operation, value: unknown): Promise<AppliedOperation | undefined> {
    const collection = this.rng.pick([
      this.entries(),
      this.entries(),
      this.entries(),
      this.closeTasks(),
      this.accounts(),
    ]);
    const doc = await this.pick(collection);
    if (doc === undefined) return undefined;
    const change: Document =
      collection.collectionName === 'accounts'
        ? { is_active: doc.is_active !== true }
        : collection.collectionName === 'close_tasks'
          ? { status: this.rng.pick(STATUSES) }
          : { description: `Edited ${this.serial++}` };
    await collection.updateOne(
      { _id: doc._id },
      value === undefined
        ? { $set: change, $unset: { updatedAt: '' } }
        : { $set: { ...change, updatedAt: value } },
    );
    return { operation, collection: collection.collectionName, id: idText(doc._id) };
  }

  private async fixWatermark(operation: Operation): Promise<AppliedOperation | undefined> {
    for (const collection of [this.entries(), this.closeTasks(), this.accounts()]) {
      const now = new Date();
      const spoiled = await collection
        .find({}, { ...READ, projection: { updatedAt: 1 } })
        .toArray()
        .then((docs) => docs.filter((d) => !(d.updatedAt instanceof Date) || d.updatedAt > now));
      if (spoiled.length === 0) continue;
      const doc = this.rng.pick(spoiled.sort((a, b) => compareText(idText(a._id), idText(b._id))));
      await collection.updateOne({ _id: doc._id }, { $set: { updatedAt: now } });
      return { operation, collection: collection.collectionName, id: idText(doc._id) };
    }
    return undefined;
  }

  /** A new entry taking an existing entry_id, or an existing entry taking another's. */
  private async duplicateEntryId(operation: Operation): Promise<AppliedOperation | undefined> {
    const entries = this.entries();
    const holder = await this.pick(entries, (d) => typeof d.entry_id === 'string');
    if (holder === undefined) return undefined;
    if (this.rng.chance(0.5)) {
      const id = new ObjectId();
      const cents = this.cents();
      await entries.insertOne({
        _id: id,
        entry_id: holder.entry_id,
        date: this.entryDate(),
        description: `Same entry id ${this.serial++}`,
        // Often unbalanced the other way round, so a merge of the two would look balanced.
        lines: [
          this.line(await this.accountId(), cents, 0),
          this.line(await this.accountId(), 0, cents + 1000),
        ],
        updatedAt: new Date(),
      });
      return { operation, collection: entries.collectionName, id: idText(id) };
    }
    const taker = await this.pick(entries);
    if (taker === undefined) return undefined;
    await entries.updateOne(
      { _id: taker._id },
      { $set: { entry_id: holder.entry_id, updatedAt: new Date() } },
    );
    return { operation, collection: entries.collectionName, id: idText(taker._id) };
  }

  private async emptyLines(operation: Operation): Promise<AppliedOperation | undefined> {
    const entries = this.entries();
    const doc = await this.pick(entries);
    if (doc === undefined) return undefined;
    const how = this.rng.int(0, 2);
    const now = new Date();
    await entries.updateOne(
      { _id: doc._id },
      how === 0
        ? { $set: { lines: [], updatedAt: now } }
        : how === 1
          ? { $set: { lines: null, updatedAt: now } }
          : { $set: { updatedAt: now }, $unset: { lines: '' } },
    );
    return { operation, collection: entries.collectionName, id: idText(doc._id) };
  }

  private async missingEntryId(operation: Operation): Promise<AppliedOperation | undefined> {
    const entries = this.entries();
    const doc = await this.pick(entries);
    if (doc === undefined) return undefined;
    const how = this.rng.int(0, 2);
    const now = new Date();
    await entries.updateOne(
      { _id: doc._id },
      how === 0
        ? { $set: { updatedAt: now }, $unset: { entry_id: '' } }
        : { $set: { entry_id: how === 1 ? null : '', updatedAt: now } },
    );
    return { operation, collection: entries.collectionName, id: idText(doc._id) };
  }

  /** Makes an entry whole again: a calendar date, its own entry id, two balanced lines. */
  private async fixEntry(operation: Operation): Promise<AppliedOperation | undefined> {
    const entries = this.entries();
    const doc = await this.pick(entries);
    if (doc === undefined) return undefined;
    const cents = this.cents();
    await entries.updateOne(
      { _id: doc._id },
      {
        $set: {
          entry_id: this.newEntryId(),
          date: this.entryDate(),
          description: `Fixed ${this.serial++}`,
          lines: [this.line(1000, cents, 0), this.line(2000, 0, cents)],
          updatedAt: new Date(),
        },
      },
    );
    return { operation, collection: entries.collectionName, id: idText(doc._id) };
  }
}

/** Code-unit order, as the tables compare `_id` text. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function centsText(cents: number): string {
  const negative = cents < 0;
  const digits = String(Math.abs(cents)).padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/**
 * Operations the server refuses, found by trying each unusual value in a
 * scratch collection (FerretDB 1.24 has no Decimal128, for one).
 */
export async function unsupportedOperations(uri: string, database: string): Promise<Operation[]> {
  // A client of its own: a server may drop the connection on a value it cannot store.
  const client = await new MongoClient(uri, {
    retryWrites: false,
    serverSelectionTimeoutMS: 5_000,
  }).connect();
  try {
    return await probeOperations(client.db(database));
  } finally {
    await client.close();
  }
}

async function probeOperations(db: Db): Promise<Operation[]> {
  const probe = db.collection(`probe_${new ObjectId().toHexString()}`);
  const tries: [Operation[], Document][] = [
    [['watermark-timestamp'], { updatedAt: new Timestamp({ t: 1, i: 1 }) }],
    [['watermark-maxkey'], { updatedAt: new MaxKey() }],
    [['id-string'], { _id: 'probe' }],
    [['id-int'], { _id: new Int32(1) }],
    [['id-int64'], { _id: Long.fromBigInt(2n ** 40n) }],
    [['id-uuid'], { _id: new UUID('00000000-0000-4000-8000-000000000001') }],
  ];
  const unsupported: Operation[] = [];
  for (const [operations, doc] of tries) {
    try {
      await probe.insertOne({ ...doc });
      const back = await probe.findOne(doc._id === undefined ? {} : { _id: doc._id }, READ);
      if (back === null) unsupported.push(...operations);
      await probe.deleteMany({});
    } catch {
      unsupported.push(...operations);
    }
  }
  await probe.drop().catch(() => undefined);
  return unsupported;
}

/**
 * Seeds the sample collections with money as doubles instead of Decimal128,
 * for servers without Decimal128 (FerretDB 1.24).
 */
export async function seedWithDoubles(db: Db, journalEntries: number): Promise<void> {
  const asDouble = (value: unknown) => new Double(Number(String(value)));
  await db.collection('accounts').insertMany([...generateAccounts()] as Document[]);
  const entries = [...generateJournalEntries({ journalEntries })].map((entry) => ({
    ...entry,
    lines: entry.lines.map((line) => ({
      ...line,
      debit: asDouble(line.debit),
      credit: asDouble(line.credit),
    })),
  }));
  await db.collection('journal_entries').insertMany(entries as Document[]);
  await db.collection('close_tasks').insertMany([...generateCloseTasks({ closeTasks: 24 })] as Document[]);
}
