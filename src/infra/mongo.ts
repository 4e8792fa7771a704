import { createRequire } from 'node:module';
import { MongoNetworkError } from 'mongodb';
import mongoose, { type Connection } from 'mongoose';

/**
 * One Mongoose connection per process (tests make one per file, each on its own database).
 * Fail fast when the server is away rather than queueing requests for minutes: an operation waits
 * at most 2 s for a server (then a 503 with Retry-After, see http/middleware/errors.ts), and the
 * driver looks for a server that went away every 2 s, so the app is back within seconds of it
 * (measured in test/faults/ferretdb-restart.test.ts).
 */
export async function connectMongo(url: string): Promise<Connection> {
  failWritesToDestroyedSockets();
  const conn = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: 2_000,
    heartbeatFrequencyMS: 2_000,
    maxPoolSize: 20,
    // Commands wait at most this long for a connection instead of piling up when the server is down.
    waitQueueTimeoutMS: 5_000,
    bufferCommands: false,
    autoIndex: true,
  });
  await conn.asPromise();
  return conn;
}

interface DriverConnection {
  id: number | '<monitor>';
  address: string;
  socket: { destroyed: boolean };
  onError(err: Error): void;
  writeCommand(...args: unknown[]): Promise<void>;
}

let writesGuarded = false;

/**
 * Works around a race in the MongoDB driver (7.8 and 7.9): when the server closes a pooled
 * connection, Node destroys its socket at once but tells the driver only with the 'close' event a
 * moment later; a command written in between goes to a destroyed socket, whose write() returns
 * false and never emits 'drain' or 'error', so the operation waits for ever and its connection is
 * never returned to the pool. Seen when FerretDB was SIGKILLed under load (1–2 requests hung in one
 * crash of five; test/faults/ferretdb-restart.test.ts). Here such a write fails as the driver fails
 * a write that throws: a network error, which it retries or reports (→ 503).
 */
function failWritesToDestroyedSockets(): void {
  if (writesGuarded) return;
  writesGuarded = true;
  const driver = createRequire(import.meta.url)('mongodb/lib/cmap/connection.js') as { Connection?: { prototype: DriverConnection } };
  const proto = driver.Connection?.prototype;
  if (typeof proto?.writeCommand !== 'function' || typeof proto.onError !== 'function') return; // another driver layout: the fault test tells
  const write = proto.writeCommand;
  proto.writeCommand = function (this: DriverConnection, ...args: unknown[]) {
    if (!this.socket?.destroyed) return write.apply(this, args);
    const err = new MongoNetworkError(`connection ${this.id} to ${this.address} closed`);
    this.onError(err);
    return Promise.reject(err);
  };
}

/**
 * Whether the driver knows a server that holds data right now: false from the moment it lost the
 * last one (a failed operation or heartbeat) until its monitor finds one again (every heartbeat).
 * The web app answers 503 at once while it is false, instead of letting each request wait for a
 * server (http/middleware/database.ts).
 */
export function databaseReachability(conn: Connection): () => boolean {
  let reachable = true; // connectMongo returned: a server was found
  conn.getClient().on('topologyDescriptionChanged', (ev) => {
    reachable = ev.newDescription.hasDataBearingServers;
  });
  return () => reachable;
}

/** Whether the server behind the connection is FerretDB (it reports itself in buildInfo). */
export async function describeMongo(conn: Connection): Promise<{ product: 'FerretDB' | 'MongoDB'; version: string }> {
  const info = (await conn.db!.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string };
  if (info.ferretdbVersion) return { product: 'FerretDB', version: info.ferretdbVersion };
  return { product: 'MongoDB', version: info.version ?? 'unknown' };
}

export async function pingMongo(conn: Connection, timeoutMs = 1_000): Promise<void> {
  await withTimeout(conn.db!.admin().command({ ping: 1 }), timeoutMs, 'MongoDB did not answer');
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
    }),
  ]);
}
