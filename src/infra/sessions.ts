import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import MongoStore from 'connect-mongo';
import type { Connection } from 'mongoose';

export const SESSIONS_COLLECTION = 'sessions';

/**
 * Sessions live in MongoDB. FerretDB v1 has no TTL indexes, so expired sessions are never
 * returned (connect-mongo checks `expires` on read) and the worker purges them hourly.
 */
export function createSessionStore(conn: Connection, ttlSeconds: number): MongoStore {
  return MongoStore.create({
    client: conn.getClient(),
    dbName: conn.name,
    collectionName: SESSIONS_COLLECTION,
    ttl: ttlSeconds,
    autoRemove: 'disabled',
    stringify: false,
  });
}

export async function purgeExpiredSessions(conn: Connection, now = new Date()): Promise<number> {
  const res = await conn.db!.collection(SESSIONS_COLLECTION).deleteMany({ expires: { $lt: now } });
  return res.deletedCount;
}

/**
 * Outside production a missing SESSION_SECRET is generated once and kept in the data folder,
 * so restarts keep people signed in.
 */
export function sessionSecretFor(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
