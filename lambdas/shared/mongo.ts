import { MongoClient } from 'mongodb';

const clients = new Map<string, Promise<MongoClient>>();

/**
 * One connected MongoClient per URI per container, reused across invocations
 * (connection setup to Atlas costs more than a small chunk's read).
 */
export function sharedMongoClient(uri: string): Promise<MongoClient> {
  let pending = clients.get(uri);
  if (pending === undefined) {
    pending = new MongoClient(uri, { appName: 'ledgerlake', maxPoolSize: 4 }).connect();
    clients.set(uri, pending);
    pending.catch(() => clients.delete(uri));
  }
  return pending;
}
