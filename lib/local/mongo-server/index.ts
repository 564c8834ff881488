import { createServer, type Socket } from 'node:net';
import { runCommand } from './commands.ts';
import { CursorRegistry } from './cursors.ts';
import { MemoryStore } from './store.ts';
import { encodeReply, MessageFramer, parseMessage } from './wire.ts';

export { MemoryCollection } from './collection.ts';
export { MemoryStore } from './store.ts';

export interface MongoServerOptions {
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 - a free port */
  readonly port?: number;
}

export interface RunningMongoServer {
  /** `mongodb://host:port/?directConnection=true` */
  readonly uri: string;
  readonly port: number;
  /** The data, for loading documents without the wire protocol. */
  readonly store: MemoryStore;
  close(): Promise<void>;
}

/**
 * A small MongoDB-compatible server (OP_MSG) with its data in memory: the
 * embedded source for `npm run local` and a second conformance target in
 * tests. The pipeline reaches it through the official driver like any server.
 */
export async function startMongoServer(options: MongoServerOptions = {}): Promise<RunningMongoServer> {
  const store = new MemoryStore();
  const cursors = new CursorRegistry();
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const state = { store, cursors, connectionId: ++connections };
    const framer = new MessageFramer();
    socket.on('data', (chunk) => {
      try {
        for (const message of framer.push(chunk)) {
          const command = parseMessage(message);
          socket.write(encodeReply(command, runCommand(command, state)));
        }
      } catch {
        // A message that cannot be framed leaves the stream unreadable: close, as mongod does.
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    uri: `mongodb://${host}:${port}/?directConnection=true`,
    port,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          store.close();
          resolve();
        });
      }),
  };
}
