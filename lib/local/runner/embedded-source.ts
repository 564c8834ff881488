import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BSON, type Document, MongoClient } from 'mongodb';
import { type MemoryCollection, type RunningMongoServer, startMongoServer } from '../mongo-server/index.ts';
import { SAMPLE_COLLECTIONS, SAMPLE_INDEX, seedDatabase } from '../sample-data/index.ts';

/** What the state folder remembers about the embedded source. */
export interface SourceState {
  /** Journal entries seeded on the first run. */
  readonly scale: number;
  /** Mutation batches applied so far (each one between two runs). */
  readonly mutations: number;
  /** Journal entries inserted by mutations, so new entry ids never repeat. */
  readonly insertedEntries: number;
}

export interface EmbeddedSource {
  readonly uri: string;
  readonly state: SourceState;
  /**
   * Writes the data and the state back to the folder in mongodump's format:
   * concatenated BSON per collection, its indexes in `<name>.metadata.json`.
   */
  save(state: SourceState): Promise<void>;
  close(): Promise<void>;
}

const STATE_FILE = 'source.json';

/**
 * The embedded MongoDB wire-protocol server, seeded on first use with the
 * deterministic sample data at `scale` journal entries and kept in `folder`
 * between runs, so a later run sees the same documents (and any mutations)
 * and can be incremental.
 */
export async function openEmbeddedSource(
  folder: string,
  database: string,
  scale: number,
): Promise<EmbeddedSource> {
  const server = await startMongoServer();
  try {
    const saved = await readState(folder);
    let state: SourceState;
    if (saved === undefined) {
      const client = await new MongoClient(server.uri).connect();
      try {
        await seedDatabase(client.db(database), { journalEntries: scale });
      } finally {
        await client.close();
      }
      state = { scale, mutations: 0, insertedEntries: 0 };
      // A real server maintains its indexes as documents are inserted: the first query finds them built.
      buildIndexes(server, database);
      await saveSource(server, folder, database, state);
    } else {
      if (saved.scale !== scale) {
        throw new Error(
          `the source in ${folder} was seeded with --scale ${saved.scale}, not ${scale}; use --fresh to start over at another scale`,
        );
      }
      await loadSource(server, folder, database);
      state = saved;
    }
    return {
      uri: server.uri,
      state,
      save: (next) => saveSource(server, folder, database, next),
      close: () => server.close(),
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}

async function readState(folder: string): Promise<SourceState | undefined> {
  try {
    return JSON.parse(await readFile(join(folder, STATE_FILE), 'utf8')) as SourceState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function saveSource(
  server: RunningMongoServer,
  folder: string,
  database: string,
  state: SourceState,
): Promise<void> {
  const dbFolder = join(folder, database);
  await mkdir(dbFolder, { recursive: true });
  for (const name of server.store.collectionNames(database)) {
    const collection = server.store.existing(database, name);
    if (collection === undefined) continue;
    // A new file renamed over the one the collection was loaded from, which it (and any cursor) reads until then.
    await collection.saveDump(join(dbFolder, `${name}.bson`));
    const metadata = BSON.EJSON.stringify(
      { indexes: collection.indexes, collectionName: name },
      { relaxed: false },
    );
    await writeFile(join(dbFolder, `.${name}.metadata.json.tmp`), metadata);
    await rename(join(dbFolder, `.${name}.metadata.json.tmp`), join(dbFolder, `${name}.metadata.json`));
  }
  // The state is written last: a folder with a state file holds a whole dump.
  const temporary = join(folder, `.${STATE_FILE}.tmp`);
  await writeFile(temporary, JSON.stringify(state, null, 2));
  await rename(temporary, join(folder, STATE_FILE));
}

/** Loads the dump and builds its indexes, as mongorestore does, so no query pays for building one. */
async function loadSource(server: RunningMongoServer, folder: string, database: string): Promise<void> {
  for (const name of SAMPLE_COLLECTIONS) {
    const collection = server.store.collection(database, name);
    await insertDump(collection, join(folder, database, `${name}.bson`));
    for (const index of await readIndexes(join(folder, database, `${name}.metadata.json`)))
      collection.createIndex(index);
  }
  buildIndexes(server, database);
}

function buildIndexes(server: RunningMongoServer, database: string): void {
  for (const name of server.store.collectionNames(database))
    server.store.existing(database, name)?.buildIndexes();
}

/** The documents of a dump file, served from the file by the collection; a missing file holds none. */
async function insertDump(collection: MemoryCollection, path: string): Promise<void> {
  try {
    await collection.insertDump(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The indexes a dump recorded; a dump written before indexes were recorded had the sample index. */
async function readIndexes(path: string): Promise<Document[]> {
  try {
    const metadata = BSON.EJSON.parse(await readFile(path, 'utf8'), { relaxed: true }) as Document;
    return (metadata.indexes as Document[] | undefined) ?? [];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [{ v: 2, ...SAMPLE_INDEX }];
    throw error;
  }
}

/** The documents of a BSON dump file (each starts with its int32 length), streamed. */
export async function* readBsonDocuments(path: string): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of createReadStream(path)) {
      pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
      let offset = 0;
      while (pending.length - offset >= 4) {
        const size = pending.readInt32LE(offset);
        if (size < 5) throw new Error(`${path}: corrupt BSON document length ${size} at byte ${offset}`);
        if (pending.length - offset < size) break;
        yield Buffer.from(pending.subarray(offset, offset + size));
        offset += size;
      }
      pending = pending.subarray(offset);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (pending.length > 0)
    throw new Error(`${path}: ${pending.length} bytes of a truncated BSON document at the end`);
}

/** Removes the saved source (for --fresh). */
export async function removeSource(folder: string): Promise<void> {
  await rm(folder, { recursive: true, force: true });
}
