import mongoose, { type Connection } from 'mongoose';

/**
 * One Mongoose connection per process (tests make one per file, each on its own database).
 * Fail fast when the server is away rather than queueing requests for minutes.
 */
export async function connectMongo(url: string): Promise<Connection> {
  const conn = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: 5_000,
    maxPoolSize: 20,
    // Commands wait at most this long for a connection instead of piling up when the server is down.
    waitQueueTimeoutMS: 5_000,
    bufferCommands: false,
    autoIndex: true,
  });
  await conn.asPromise();
  return conn;
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
