import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { Conflict } from '../errors.js';

/**
 * Mutual exclusion per aggregate (one enrollment, one live session) across every process.
 *
 * Why: FerretDB v1's SQLite backend applies an update as read → modify → write without holding a
 * lock, so concurrent updates of one document lose writes — even a guarded
 * `updateOne({_id, rev}, …)` lets several callers "win" (measured: 29 of 30 trials). On MongoDB
 * the revision guard alone is enough; the lock makes the same code correct on both.
 */
export interface Locker {
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

export interface RedisLockerOptions {
  /**
   * Extend the lock every third of its TTL while the work runs: for work of unknown length (an
   * erasure), held as long as the process lives, and freed one TTL after it dies.
   */
  renew?: boolean;
}

export class RedisLocker implements Locker {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = 10_000,
    private readonly waitMs = 5_000,
    private readonly options: RedisLockerOptions = {},
  ) {}

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const name = `${this.prefix}:lock:${key}`;
    const token = randomUUID();
    const deadline = Date.now() + this.waitMs;
    let delay = 5;
    while ((await this.redis.set(name, token, 'PX', this.ttlMs, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new Conflict('This is being changed by another request right now. Please try again.');
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 100);
    }
    const renewal = this.options.renew
      ? setInterval(() => void this.redis.eval(RENEW, 1, name, token, this.ttlMs).catch(() => undefined), Math.max(1, Math.floor(this.ttlMs / 3)))
      : undefined;
    renewal?.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renewal);
      await this.redis.eval(RELEASE, 1, name, token).catch(() => undefined);
    }
  }
}

/** For tests and single-process tools: the same contract inside one process. */
export class LocalLocker implements Locker {
  private readonly tails = new Map<string, Promise<unknown>>();

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
