import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import session, { type SessionData } from 'express-session';
import type { Redis } from 'ioredis';

type Callback<T = unknown> = (err?: unknown, value?: T) => void;

/**
 * Sessions live in Redis (AOF on), one key per session with the session's lifetime as its TTL:
 * expired sessions vanish on their own, and a read always sees the last write. (They were in
 * MongoDB: on FerretDB v1 a GET right after a POST could read the session as it was before the
 * POST — a lost flash message, a sign-in that seemed not to have happened.)
 */
export class RedisSessionStore extends session.Store {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {
    super();
  }

  private key(sid: string): string {
    return `${this.prefix}${sid}`;
  }

  /** The cookie's own expiry when it has one, else the configured lifetime. */
  private ttlOf(sess: SessionData): number {
    const expires = sess.cookie?.expires ? new Date(sess.cookie.expires).getTime() : undefined;
    return expires ? Math.max(1, Math.ceil((expires - Date.now()) / 1000)) : this.ttlSeconds;
  }

  override get(sid: string, cb: Callback<SessionData | null>): void {
    this.redis.get(this.key(sid)).then(
      (raw) => cb(undefined, raw ? (JSON.parse(raw) as SessionData) : null),
      (err: unknown) => cb(err),
    );
  }

  override set(sid: string, sess: SessionData, cb?: Callback): void {
    this.redis.set(this.key(sid), JSON.stringify(sess), 'EX', this.ttlOf(sess)).then(
      () => cb?.(),
      (err: unknown) => cb?.(err),
    );
  }

  override touch(sid: string, sess: SessionData, cb?: Callback): void {
    this.redis.expire(this.key(sid), this.ttlOf(sess)).then(
      () => cb?.(),
      (err: unknown) => cb?.(err),
    );
  }

  override destroy(sid: string, cb?: Callback): void {
    this.redis.del(this.key(sid)).then(
      () => cb?.(),
      (err: unknown) => cb?.(err),
    );
  }
}

export function createSessionStore(redis: Redis, redisPrefix: string, ttlSeconds: number): RedisSessionStore {
  return new RedisSessionStore(redis, `${redisPrefix}:sess:`, ttlSeconds);
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
