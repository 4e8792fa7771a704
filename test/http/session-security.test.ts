import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { DEMO_PASSWORD } from '../../src/features/accounts/demo-seed.js';
import { SESSION_COOKIE } from '../../src/http/cookies.js';
import { createTestContext, csrfFrom, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';

/**
 * Session fixation, sign-out and the cookie's flags, read where they take effect: the Set-Cookie
 * header and the session keys in Redis. (test/http/sign-in.test.ts has the everyday cases.)
 */
let ctx: TestContext;
let secure: TestContext;
let people: DemoPeople;

beforeAll(async () => {
  ctx = await createTestContext({ SESSION_MAX_AGE_HOURS: '12' });
  // behind an HTTPS proxy, as in production
  secure = await createTestContext({ COOKIE_SECURE: 'true', TRUST_PROXY: '1' });
  people = await seedPeople(ctx.container);
  await seedPeople(secure.container);
});
afterAll(async () => {
  await ctx?.close();
  await secure?.close();
});

/** The session cookie a response sets (the whole header line), if any. */
function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  return ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
}
/** `onramp.sid=…` of a Set-Cookie line: what a browser sends back. */
const pair = (cookie: string) => cookie.split(';')[0]!;
/** The session id inside a signed cookie value (`s:<id>.<signature>`). */
const sidOf = (cookie: string) => /^s:([^.]+)\./.exec(decodeURIComponent(pair(cookie).slice(SESSION_COOKIE.length + 1)))![1]!;
const sessionKey = (c: TestContext, sid: string) => `${c.config.redisPrefix}:sess:${sid}`;

describe('session fixation', () => {
  it('signs the victim in under a new session id: the id an attacker planted is not signed in afterwards', async () => {
    // the attacker gets a session from the sign-in page and plants its cookie in the victim's browser
    const attacker = supertest.agent(ctx.app);
    const page = await attacker.get('/login').expect(200);
    const planted = sessionCookie(page);
    expect(planted).toBeDefined();
    const plantedSid = sidOf(planted!);
    expect(await ctx.container.redis.exists(sessionKey(ctx, plantedSid))).toBe(1);

    const login = await supertest(ctx.app).post('/login').set('Cookie', pair(planted!)).type('form').send({ _csrf: csrfFrom(page.text), email: people.rep1.email, password: DEMO_PASSWORD }).expect(303);
    const issued = sessionCookie(login);
    expect(issued).toBeDefined();
    expect(sidOf(issued!)).not.toBe(plantedSid);
    // the planted session is gone from the store, the new one is the victim's
    expect(await ctx.container.redis.exists(sessionKey(ctx, plantedSid))).toBe(0);
    expect(JSON.parse((await ctx.container.redis.get(sessionKey(ctx, sidOf(issued!))))!)).toMatchObject({ userId: people.rep1.id });

    const asAttacker = await attacker.get('/account');
    expect(asAttacker.status).toBe(303);
    expect(asAttacker.headers.location).toBe('/login?next=%2Faccount');
    await attacker.get('/api/me').expect(401);
    await supertest(ctx.app).get('/account').set('Cookie', pair(issued!)).expect(200);
  });

  it('ignores a session cookie it did not sign: a made-up id gets a fresh session, never that id', async () => {
    for (const forged of [`${SESSION_COOKIE}=${encodeURIComponent('s:chosen-by-attacker.bm90LWEtc2lnbmF0dXJl')}`, `${SESSION_COOKIE}=chosen-by-attacker`]) {
      const res = await supertest(ctx.app).get('/login').set('Cookie', forged).expect(200);
      const cookie = sessionCookie(res);
      expect(cookie).toBeDefined();
      expect(sidOf(cookie!)).not.toBe('chosen-by-attacker');
    }
    expect(await ctx.container.redis.exists(sessionKey(ctx, 'chosen-by-attacker'))).toBe(0);
  });
});

describe('signing out', () => {
  it('destroys the session in the store and clears the cookie; the old cookie, replayed, is not signed in', async () => {
    const browser = supertest.agent(ctx.app);
    const page = await browser.get('/login').expect(200);
    const login = await browser.post('/login').type('form').send({ _csrf: csrfFrom(page.text), email: people.rep2.email, password: DEMO_PASSWORD }).expect(303);
    const cookie = sessionCookie(login)!;
    const key = sessionKey(ctx, sidOf(cookie));
    expect(await ctx.container.redis.exists(key)).toBe(1);

    const account = await browser.get('/account').expect(200);
    const out = await browser.post('/logout').type('form').send({ _csrf: csrfFrom(account.text) }).expect(303);
    expect(await ctx.container.redis.exists(key)).toBe(0);
    expect(sessionCookie(out)).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Expires=Thu, 01 Jan 1970`, 'i'));

    // a copy of the cookie taken before sign-out (another tab, a stolen copy) opens nothing
    const replayed = await supertest(ctx.app).get('/account').set('Cookie', pair(cookie));
    expect(replayed.status).toBe(303);
    expect(replayed.headers.location).toBe('/login?next=%2Faccount');
    await supertest(ctx.app).get('/api/me').set('Cookie', pair(cookie)).expect(401);
    // and it does not come back to life: the replay did not recreate that session
    expect(await ctx.container.redis.exists(key)).toBe(0);
  });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Lax, for the whole site, lives SESSION_MAX_AGE_HOURS, and is not Secure unless configured', async () => {
    const page = await supertest(ctx.app).get('/login').expect(200);
    const login = await supertest(ctx.app).post('/login').set('Cookie', pair(sessionCookie(page)!)).type('form').send({ _csrf: csrfFrom(page.text), email: people.rep3.email, password: DEMO_PASSWORD }).expect(303);
    const cookie = sessionCookie(login)!;
    const attributes = cookie.split(';').slice(1).map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/']));
    expect(attributes).not.toContain('secure');
    const expires = Date.parse(cookie.match(/Expires=([^;]+)/i)![1]!);
    expect(expires - Date.now()).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(12 * 3600_000);
  });

  it('is Secure with COOKIE_SECURE, and is not set at all on a request that did not come over HTTPS', async () => {
    const page = await supertest(secure.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200);
    expect(sessionCookie(page)).toMatch(/;\s*Secure(;|$)/i);
    const login = await supertest(secure.app)
      .post('/login')
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', pair(sessionCookie(page)!))
      .type('form')
      .send({ _csrf: csrfFrom(page.text), email: people.rep4.email, password: DEMO_PASSWORD })
      .expect(303);
    const cookie = sessionCookie(login)!;
    expect(cookie.split(';').map((a) => a.trim().toLowerCase())).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=lax']));
    await supertest(secure.app).get('/account').set('X-Forwarded-Proto', 'https').set('Cookie', pair(cookie)).expect(200);
    // plain HTTP (or a proxy that is not trusted): express-session will not send a Secure cookie over it
    expect(sessionCookie(await supertest(secure.app).get('/login').expect(200))).toBeUndefined();
  });
});
