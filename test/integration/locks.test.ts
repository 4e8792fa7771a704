import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalLocker, RedisLocker, type Locker } from '../../src/infra/locks.js';
import { Conflict } from '../../src/errors.js';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

async function overlapOf(locker: Locker, n: number): Promise<number> {
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: n }, () =>
      locker.withLock('k', async () => {
        inside++;
        most = Math.max(most, inside);
        await sleep(5);
        inside--;
      }),
    ),
  );
  return most;
}

describe('locks', () => {
  it('let one holder in at a time, in Redis and in-process', async () => {
    expect(await overlapOf(new RedisLocker(ctx.container.redis, ctx.config.redisPrefix), 8)).toBe(1);
    expect(await overlapOf(new LocalLocker(), 8)).toBe(1);
  });

  it('release the lock when the work fails', async () => {
    const locker = new RedisLocker(ctx.container.redis, ctx.config.redisPrefix);
    await expect(locker.withLock('f', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await locker.withLock('f', async () => 'next')).toBe('next');
  });

  it('give up with a Conflict when the lock stays taken', async () => {
    const patient = new RedisLocker(ctx.container.redis, ctx.config.redisPrefix, 10_000, 5_000);
    const hasty = new RedisLocker(ctx.container.redis, ctx.config.redisPrefix, 10_000, 50);
    let release!: () => void;
    const held = patient.withLock('busy', () => new Promise<void>((r) => (release = r)));
    await sleep(20);
    await expect(hasty.withLock('busy', async () => 'never')).rejects.toThrow(Conflict);
    release();
    await held;
  });

  it('with renew, stay held past their TTL for as long as the work runs', async () => {
    const hasty = new RedisLocker(ctx.container.redis, ctx.config.redisPrefix, 10_000, 0);
    const hold = (locker: RedisLocker, key: string, ms: number) => locker.withLock(key, () => sleep(ms));
    // without renewal the lock lapses after its TTL, though the work still runs
    const lapsing = hold(new RedisLocker(ctx.container.redis, ctx.config.redisPrefix, 150, 0), 'short', 600);
    await sleep(400);
    await expect(hasty.withLock('short', async () => 'in')).resolves.toBe('in');
    await lapsing;
    // renewed, it is held for as long as the work runs
    const renewed = hold(new RedisLocker(ctx.container.redis, ctx.config.redisPrefix, 150, 0, { renew: true }), 'long', 600);
    await sleep(400);
    await expect(hasty.withLock('long', async () => 'never')).rejects.toThrow(Conflict);
    await renewed;
    await expect(hasty.withLock('long', async () => 'after')).resolves.toBe('after');
  });
});
