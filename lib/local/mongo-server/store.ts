import { MemoryCollection } from './collection.ts';

/** Databases and collections (in memory, or read from the dumps they were loaded from); also loaded directly by the local runner. */
export class MemoryStore {
  private readonly databases = new Map<string, Map<string, MemoryCollection>>();

  /** The collection, created on first use as MongoDB does. */
  collection(database: string, name: string): MemoryCollection {
    let db = this.databases.get(database);
    if (db === undefined) {
      db = new Map();
      this.databases.set(database, db);
    }
    let collection = db.get(name);
    if (collection === undefined) {
      collection = new MemoryCollection();
      db.set(name, collection);
    }
    return collection;
  }

  existing(database: string, name: string): MemoryCollection | undefined {
    return this.databases.get(database)?.get(name);
  }

  collectionNames(database: string): string[] {
    return [...(this.databases.get(database)?.keys() ?? [])];
  }

  databaseNames(): string[] {
    return [...this.databases.keys()];
  }

  drop(database: string, name: string): boolean {
    return this.databases.get(database)?.delete(name) ?? false;
  }

  dropDatabase(database: string): void {
    this.databases.delete(database);
  }

  /** Closes every collection's dump files (a dropped one's close when nothing reads them any more). */
  close(): void {
    for (const db of this.databases.values()) for (const collection of db.values()) collection.close();
  }
}
