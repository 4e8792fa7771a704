import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';

/** Sessions in Redis: one key per session, with the session's lifetime as its TTL. */
let ctx: TestContext;
let people: DemoPeople;

beforeAll(async () => {
  ctx = await createTestContext({ SESSION_MAX_AGE_HOURS: '2' });
  people = await seedPeople(ctx.container);
});
afterAll(() => ctx?.close());

const keys = () => ctx.container.redis.keys(`${ctx.config.redisPrefix}:sess:*`);

describe('the session store', () => {
  it('keeps a signed-in session in Redis with the session lifetime as TTL, and a read sees the last write', async () => {
    const before = (await keys()).length;
    const rep = await signIn(ctx.app, people.rep1.email);
    const after = await keys();
    expect(after.length).toBeGreaterThan(before);
    const ttls = await Promise.all(after.map((k) => ctx.container.redis.ttl(k)));
    expect(Math.max(...ttls)).toBeGreaterThan(2 * 3600 - 60);
    expect(Math.max(...ttls)).toBeLessThanOrEqual(2 * 3600);
    await rep.agent.get('/account').expect(200);
    // what was written is what the next read gets (a flash set by a POST, read by the next GET)
    const store = ctx.container.sessionStore;
    const cookie = { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000), httpOnly: true, path: '/' };
    for (let i = 0; i < 50; i++) {
      await new Promise<void>((resolve, reject) => store.set('probe', { cookie, flash: [{ kind: 'success', message: `m${i}` }] } as never, (err) => (err ? reject(err as Error) : resolve())));
      const got = await new Promise<{ flash: { message: string }[] } | null>((resolve, reject) => store.get('probe', (err, v) => (err ? reject(err as Error) : resolve(v as never))));
      expect(got!.flash[0]!.message).toBe(`m${i}`);
    }
    expect(await ctx.container.redis.ttl(`${ctx.config.redisPrefix}:sess:probe`)).toBeLessThanOrEqual(60);
  });

  it('forgets the session on sign-out', async () => {
    const rep = await signIn(ctx.app, people.rep2.email);
    const withRep2 = await keys();
    await rep.agent.post('/logout').type('form').send({ _csrf: rep.csrf });
    const after = await keys();
    expect(after.length).toBeLessThan(withRep2.length);
    await rep.agent.get('/account').expect(303);
  });

  it('ignores a cookie for a session that no longer exists', async () => {
    const rep = await signIn(ctx.app, people.rep3.email);
    for (const k of await keys()) await ctx.container.redis.del(k);
    const res = await rep.agent.get('/account');
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login/);
    await supertest(ctx.app).get('/login').expect(200);
  });
});
