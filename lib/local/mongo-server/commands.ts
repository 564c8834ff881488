import { Aggregator } from 'mingo';
import { BSON, type Document, ObjectId } from 'mongodb';
import { exact } from './collection.ts';
import type { CursorRegistry, DocumentList } from './cursors.ts';
import { CommandError } from './errors.ts';
import { cursorReply, longId, serialize } from './raw-bson.ts';
import type { MemoryStore } from './store.ts';
import type { Command } from './wire.ts';

export interface ServerState {
  readonly store: MemoryStore;
  readonly cursors: CursorRegistry;
  readonly connectionId: number;
}

type Handler = (command: Command, state: ServerState) => Buffer;

/** Aggregation stages the embedded server evaluates; like FerretDB, it refuses the rest (e.g. $bucketAuto). */
const SUPPORTED_STAGES = new Set([
  '$match',
  '$sort',
  '$skip',
  '$limit',
  '$project',
  '$group',
  '$count',
  '$unwind',
  '$addFields',
  '$set',
]);

const ok = (extra: Document = {}) => serialize({ ...extra, ok: 1 });
const dbOf = (command: Command) => String(command.body.$db ?? 'test');
const num = (value: unknown): number | undefined =>
  value === undefined || value === null ? undefined : Number(value);

const hello: Handler = (_command, state) =>
  ok({
    helloOk: true,
    isWritablePrimary: true,
    ismaster: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: state.connectionId,
    minWireVersion: 0,
    maxWireVersion: 17,
    readOnly: false,
  });

const find: Handler = (command, state) => {
  const { body } = command;
  const name = String(body.find);
  const collection = state.store.existing(dbOf(command), name);
  const docs: DocumentList =
    collection?.find({
      filter: body.filter,
      sort: body.sort,
      projection: body.projection,
      skip: num(body.skip),
      limit: num(body.limit),
    }) ?? [];
  const singleBatch = body.singleBatch === true || (num(body.limit) ?? 0) < 0;
  const ns = `${dbOf(command)}.${name}`;
  if (singleBatch) return cursorReply(0n, ns, 'firstBatch', docs.slice(0, docs.length));
  const { id, batch } = state.cursors.start(ns, docs, num(body.batchSize));
  return cursorReply(id, ns, 'firstBatch', batch);
};

const getMore: Handler = (command, state) => {
  const id = BigInt(String(command.body.getMore));
  const next = state.cursors.next(id, num(command.body.batchSize));
  if (next === undefined) throw new CommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
  return cursorReply(next.id, next.ns, 'nextBatch', next.batch);
};

const killCursors: Handler = (command, state) => {
  const ids = ((command.body.cursors as unknown[]) ?? []).map((id) => BigInt(String(id)));
  const { killed, notFound } = state.cursors.kill(ids);
  return ok({
    cursorsKilled: killed.map(longId),
    cursorsNotFound: notFound.map(longId),
    cursorsAlive: [],
    cursorsUnknown: [],
  });
};

const count: Handler = (command, state) => {
  const collection = state.store.existing(dbOf(command), String(command.body.count));
  let n = collection?.count(command.body.query ?? {}) ?? 0;
  n = Math.max(0, n - (num(command.body.skip) ?? 0));
  const limit = num(command.body.limit);
  if (limit !== undefined && limit > 0) n = Math.min(n, limit);
  return ok({ n });
};

const aggregate: Handler = (command, state) => {
  const { body } = command;
  const name = String(body.aggregate);
  const pipeline = (body.pipeline as Document[]) ?? [];
  for (const stage of pipeline) {
    const op = Object.keys(stage)[0] ?? '';
    if (!SUPPORTED_STAGES.has(op)) {
      throw new CommandError(
        238,
        'NotImplemented',
        `aggregation stage "${op}" is not implemented by the embedded server`,
      );
    }
  }
  const first = pipeline[0];
  const hasMatch = first !== undefined && '$match' in first;
  const collection = state.store.existing(dbOf(command), name);
  const match = hasMatch ? (first.$match as Document) : {};
  const rest = hasMatch ? pipeline.slice(1) : pipeline;
  const counted = countOnly(rest);
  const results =
    counted !== undefined
      ? countResult(counted, collection?.count(match) ?? 0)
      : runStages(rest, collection?.matchDocuments(match) ?? []);
  const ns = `${dbOf(command)}.${name}`;
  const { id, batch } = state.cursors.start(
    ns,
    results.map(serialize),
    num((body.cursor as Document | undefined)?.batchSize),
  );
  return cursorReply(id, ns, 'firstBatch', batch);
};

function runStages(stages: Document[], input: Document[]): Document[] {
  return stages.length === 0 ? input : (new Aggregator(stages).run(input) as Document[]);
}

/**
 * The driver's countDocuments pipeline after its `$match`
 * (`[{$group: {_id: 1, n: {$sum: 1}}}]`, or with `$skip`/`$limit`), answered
 * without decoding the documents: planning counts ranges of a million.
 */
function countOnly(stages: Document[]): { skip: number; limit?: number; group: Document } | undefined {
  let skip = 0;
  let limit: number | undefined;
  for (const [i, stage] of stages.entries()) {
    const [op, value] = Object.entries(stage)[0] ?? [];
    if (op === '$skip' && limit === undefined) skip += Number(value);
    else if (op === '$limit') limit = Math.min(limit ?? Number.POSITIVE_INFINITY, Number(value));
    else if (op === '$group' && i === stages.length - 1 && isCountGroup(value as Document)) {
      return { skip, ...(limit === undefined ? {} : { limit }), group: value as Document };
    } else return undefined;
  }
  return undefined;
}

function isCountGroup(group: Document): boolean {
  const fields = Object.entries(group).filter(([key]) => key !== '_id');
  if (fields.length !== 1) return false;
  const [, accumulator] = fields[0] as [string, unknown];
  const sum = (accumulator as Document | null)?.$sum;
  return (
    typeof group._id !== 'object' &&
    Object.keys(accumulator as Document).length === 1 &&
    typeof sum === 'number' &&
    sum === 1
  );
}

function countResult(
  counted: { skip: number; limit?: number; group: Document },
  matched: number,
): Document[] {
  const n = Math.min(Math.max(matched - counted.skip, 0), counted.limit ?? Number.POSITIVE_INFINITY);
  if (n === 0) return [];
  const [field] = Object.keys(counted.group).filter((key) => key !== '_id');
  return [{ _id: counted.group._id, [field as string]: n }];
}

const insert: Handler = (command, state) => {
  const collection = state.store.collection(dbOf(command), String(command.body.insert));
  const docs =
    command.sequences.get('documents') ?? (exact(command.rawBody).documents as Document[]).map(serialize);
  const ordered = command.body.ordered !== false;
  const writeErrors: Document[] = [];
  let n = 0;
  for (const [index, raw] of docs.entries()) {
    try {
      collection.insertRaw(raw);
      n++;
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      writeErrors.push({ index, code: error.code, errmsg: error.message });
      if (ordered) break;
    }
  }
  return ok(writeErrors.length > 0 ? { n, writeErrors } : { n });
};

const update: Handler = (command, state) => {
  const collection = state.store.collection(dbOf(command), String(command.body.update));
  const statements = exactStatements(command, 'updates');
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  for (const [index, statement] of statements.entries()) {
    const filter = BSON.deserialize(BSON.serialize(statement.q as Document));
    const u = statement.u as Document;
    const matched = collection.modify(filter, statement.multi === true, (current) =>
      serialize(applyUpdate(current, u)),
    );
    n += matched;
    nModified += matched;
    if (matched === 0 && statement.upsert === true) {
      const base = Object.fromEntries(
        Object.entries(statement.q as Document).filter(([k]) => !k.startsWith('$')),
      );
      const created = applyUpdate(base, u);
      if (created._id === undefined) created._id = new ObjectId();
      collection.insertRaw(serialize(created));
      upserted.push({ index, _id: created._id });
      n++;
    }
  }
  return ok(upserted.length > 0 ? { n, nModified, upserted } : { n, nModified });
};

const remove: Handler = (command, state) => {
  const collection = state.store.existing(dbOf(command), String(command.body.delete));
  let n = 0;
  for (const statement of exactStatements(command, 'deletes')) {
    const filter = BSON.deserialize(BSON.serialize(statement.q as Document));
    n += collection?.modify(filter, Number(statement.limit) !== 1, () => undefined) ?? 0;
  }
  return ok({ n });
};

function exactStatements(command: Command, field: string): Document[] {
  const sequence = command.sequences.get(field);
  return sequence !== undefined ? sequence.map(exact) : ((exact(command.rawBody)[field] as Document[]) ?? []);
}

/** Applies `$set`, `$unset` and `$inc`, or replaces the document (keeping `_id`). */
function applyUpdate(current: Document, u: Document): Document {
  const operators = Object.keys(u).filter((k) => k.startsWith('$'));
  if (operators.length === 0) return { _id: current._id, ...u };
  const next: Document = { ...current };
  for (const [op, fields] of Object.entries(u)) {
    for (const [path, value] of Object.entries(fields as Document)) {
      if (path.includes('.'))
        throw new CommandError(238, 'NotImplemented', `dotted update paths are not implemented: ${path}`);
      if (op === '$set') next[path] = value;
      else if (op === '$unset') delete next[path];
      else if (op === '$inc') next[path] = Number(next[path] ?? 0) + Number(value);
      else
        throw new CommandError(
          238,
          'NotImplemented',
          `update operator ${op} is not implemented by the embedded server`,
        );
    }
  }
  return next;
}

const listCollections: Handler = (command, state) => {
  const db = dbOf(command);
  const wanted = (command.body.filter as Document | undefined)?.name;
  const names = state.store.collectionNames(db).filter((n) => wanted === undefined || n === wanted);
  const docs = names.map((name) =>
    serialize(
      command.body.nameOnly === true
        ? { name, type: 'collection' }
        : { name, type: 'collection', options: {}, info: { readOnly: false } },
    ),
  );
  return cursorReply(0n, `${db}.$cmd.listCollections`, 'firstBatch', docs);
};

const listDatabases: Handler = (_command, state) =>
  ok({
    databases: state.store.databaseNames().map((name) => ({ name, sizeOnDisk: 0, empty: false })),
    totalSize: 0,
  });

const createIndexes: Handler = (command, state) => {
  const collection = state.store.collection(dbOf(command), String(command.body.createIndexes));
  const before = collection.indexes.length;
  for (const index of (command.body.indexes as Document[]) ?? []) {
    const key = index.key as Document | undefined;
    if (key === null || typeof key !== 'object' || Object.keys(key).length === 0 || index.name === undefined)
      throw new CommandError(2, 'BadValue', `an index needs a key and a name, got ${JSON.stringify(index)}`);
    collection.createIndex({ v: 2, ...index });
  }
  return ok({
    numIndexesBefore: before,
    numIndexesAfter: collection.indexes.length,
    createdCollectionAutomatically: false,
  });
};

const listIndexes: Handler = (command, state) => {
  const name = String(command.body.listIndexes);
  const collection = state.store.existing(dbOf(command), name);
  if (collection === undefined) throw new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${name}`);
  return cursorReply(0n, `${dbOf(command)}.${name}`, 'firstBatch', collection.indexes.map(serialize));
};

const dropIndexes: Handler = (command, state) => {
  const name = String(command.body.dropIndexes);
  const collection = state.store.existing(dbOf(command), name);
  if (collection === undefined) throw new CommandError(26, 'NamespaceNotFound', `ns not found: ${name}`);
  const before = collection.indexes.length;
  const wanted = command.body.index;
  const names = (Array.isArray(wanted) ? wanted : [wanted]).map((index) =>
    typeof index === 'string'
      ? index
      : collection.indexes.find((i) => JSON.stringify(i.key) === JSON.stringify(index))?.name,
  );
  for (const index of names) {
    if (index === '_id_') throw new CommandError(72, 'InvalidOptions', 'cannot drop _id index');
    if (typeof index !== 'string' || !collection.dropIndex(index))
      throw new CommandError(27, 'IndexNotFound', `index not found with name [${String(index)}]`);
  }
  return ok({ nIndexesWas: before });
};

export const HANDLERS: Readonly<Record<string, Handler>> = {
  hello,
  ismaster: hello,
  isMaster: hello,
  ping: () => ok(),
  buildInfo: () => ok({ version: '7.0.0', versionArray: [7, 0, 0, 0], maxBsonObjectSize: 16 * 1024 * 1024 }),
  buildinfo: () => ok({ version: '7.0.0', versionArray: [7, 0, 0, 0] }),
  getParameter: () => ok(),
  endSessions: () => ok(),
  find,
  getMore,
  killCursors,
  count,
  aggregate,
  insert,
  update,
  delete: remove,
  listCollections,
  listDatabases,
  createIndexes,
  listIndexes,
  dropIndexes,
  create: (command, state) => {
    state.store.collection(dbOf(command), String(command.body.create));
    return ok();
  },
  drop: (command, state) => {
    if (!state.store.drop(dbOf(command), String(command.body.drop)))
      throw new CommandError(26, 'NamespaceNotFound', 'ns not found');
    return ok();
  },
  dropDatabase: (command, state) => {
    state.store.dropDatabase(dbOf(command));
    return ok();
  },
};

/** Runs a command and encodes its reply; failures become `{ ok: 0 }` replies, never dropped connections. */
export function runCommand(command: Command, state: ServerState): Buffer {
  const name = Object.keys(command.body)[0] ?? '';
  const handler = HANDLERS[name];
  try {
    if (handler === undefined) throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
    return handler(command, state);
  } catch (error) {
    if (error instanceof CommandError)
      return serialize({ ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName });
    return serialize({ ok: 0, errmsg: (error as Error).message, code: 1, codeName: 'InternalError' });
  }
}
