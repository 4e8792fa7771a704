import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import type { Express } from 'express';
import { createApp } from '../../src/http/app.js';
import { DEMO_PASSWORD } from '../../src/features/accounts/demo-seed.js';
import { createTestContext, csrfFrom, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';

/**
 * The sign-in lockout: LOGIN_RATE_LIMIT failed attempts for one email from one address, then 429
 * even for the right password until the window ends. The app trusts one proxy, so each test signs
 * in from addresses of its own (X-Forwarded-For); `shortWindow` is the same app with a 3-second
 * window (the config's, shortened: LOGIN_RATE_WINDOW_MINUTES counts whole minutes).
 */
const WINDOW_MS = 3000;
let ctx: TestContext;
let app: Express;
let shortWindow: Express;
let people: DemoPeople;

beforeAll(async () => {
  ctx = await createTestContext({ LOGIN_RATE_LIMIT: '3', TRUST_PROXY: '1', LOGIN_RATE_WINDOW_MINUTES: '10' });
  app = ctx.app;
  shortWindow = createApp({ ...ctx.container, config: { ...ctx.config, loginRateWindowMs: WINDOW_MS } });
  people = await seedPeople(ctx.container);
});
afterAll(() => ctx?.close());

/** A browser at one address: its sign-in attempts (a success signs it in: take another browser after one). */
async function browserAt(address: string, on = app) {
  const agent = supertest.agent(on);
  const csrf = csrfFrom((await agent.get('/login').set('X-Forwarded-For', address).expect(200)).text);
  return (email: string, password: string) => agent.post('/login').set('X-Forwarded-For', address).type('form').send({ _csrf: csrf, email, password });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the sign-in lockout', () => {
  it('locks one email at one address after N failures, even for the right password, with a clear message and Retry-After; it opens again after the window', async () => {
    const attempt = await browserAt('203.0.113.1', shortWindow);
    for (let i = 0; i < 3; i++) expect((await attempt(people.rep1.email, 'not the password')).status).toBe(401);
    const locked = await attempt(people.rep1.email, DEMO_PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.text).toMatch(/Too many sign-in attempts\. Try again in [1-3] second\(s\)\./);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(locked.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^onramp\.sid=/)])); // not signed in

    // the email, typed differently, is the same email
    expect((await attempt(` ${people.rep1.email.toUpperCase()} `, DEMO_PASSWORD)).status).toBe(429);
    await sleep(Number(locked.headers['retry-after']) * 1000 + 200);
    const open = await attempt(people.rep1.email, DEMO_PASSWORD);
    expect(open.status).toBe(303);
    expect(open.headers.location).toBe('/');
  });

  it('answers an API client with JSON and the same Retry-After', async () => {
    const attempt = await browserAt('203.0.113.2');
    for (let i = 0; i < 3; i++) await attempt(people.rep2.email, 'not the password');
    const locked = await attempt(people.rep2.email, DEMO_PASSWORD).set('Accept', 'application/json');
    expect(locked.status).toBe(429);
    expect(locked.body.error).toMatchObject({ code: 'too_many_requests', message: expect.stringMatching(/^Too many sign-in attempts\. Try again in (9|10) minute\(s\)\.$/) });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(590);
  });

  it("does not lock the email's owner at their own address, nor other emails at the guessing address", async () => {
    const guesser = await browserAt('198.51.100.7');
    for (let i = 0; i < 4; i++) await guesser(people.rep3.email, 'not the password');
    expect((await guesser(people.rep3.email, DEMO_PASSWORD)).status).toBe(429);
    const owner = await browserAt('203.0.113.3');
    expect((await owner(people.rep3.email, DEMO_PASSWORD)).status).toBe(303);
    expect((await guesser(people.rep4.email, DEMO_PASSWORD)).status).toBe(303);
  });

  it("counts on after someone else's successful sign-in, and after one's own (a success takes back only itself)", async () => {
    const office = await browserAt('203.0.113.4');
    expect((await office(people.rep5.email, 'not the password')).status).toBe(401);
    expect((await office(people.rep5.email, 'not the password')).status).toBe(401);
    // a colleague signs in from the same address: rep5's two failures still count
    expect((await (await browserAt('203.0.113.4'))(people.rep6.email, DEMO_PASSWORD)).status).toBe(303);
    // and so does rep5's own success from elsewhere (another address, another count)
    expect((await (await browserAt('203.0.113.5'))(people.rep5.email, DEMO_PASSWORD)).status).toBe(303);
    expect((await office(people.rep5.email, 'not the password')).status).toBe(401); // the third
    expect((await office(people.rep5.email, DEMO_PASSWORD)).status).toBe(429);

    // one's own success in between does not wipe earlier failures either
    const desk = await browserAt('203.0.113.6');
    await desk(people.manager1.email, 'not the password');
    await desk(people.manager1.email, 'not the password');
    expect((await (await browserAt('203.0.113.6'))(people.manager1.email, DEMO_PASSWORD)).status).toBe(303);
    expect((await desk(people.manager1.email, 'not the password')).status).toBe(401);
    expect((await desk(people.manager1.email, DEMO_PASSWORD)).status).toBe(429);
  });

  it('limits one address across all emails at five times the limit', async () => {
    const sprayer = await browserAt('198.51.100.9');
    for (let i = 0; i < 15; i++) expect((await sprayer(`nobody${i}@example.com`, 'not the password')).status).toBe(401);
    const limited = await sprayer(people.trainer.email, DEMO_PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.text).toContain('Too many sign-in attempts');
    expect((await (await browserAt('198.51.100.10'))(people.trainer.email, DEMO_PASSWORD)).status).toBe(303);
  });
});
