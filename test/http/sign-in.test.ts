import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { anonymous, createTestContext, csrfFrom, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { SESSION_COOKIE } from '../../src/http/cookies.js';

let ctx: TestContext;
let people: DemoPeople;

beforeAll(async () => {
  ctx = await createTestContext({ LOGIN_RATE_LIMIT: '3' });
  people = await seedPeople(ctx.container);
});
afterAll(() => ctx.close());

describe('signing in', () => {
  it.each([
    ['admin@demo.onramp.dev', 'Admin', 'People, roles and the state of the system'],
    ['trainer@demo.onramp.dev', 'Trainer', 'Author and publish curricula'],
    ['manager1@demo.onramp.dev', 'Manager', 'Your team'],
    ['rep1@demo.onramp.dev', 'Rep', 'Your roadmap'],
  ])('%s lands on the %s home', async (email, label, text) => {
    const { agent } = await signIn(ctx.app, email);
    const home = await agent.get('/').expect(200);
    expect(home.text).toContain(`badge-${label.toLowerCase()}`);
    expect(home.text).toContain(text);
  });

  it("shows a manager their own reps and nobody else's", async () => {
    const { agent } = await signIn(ctx.app, 'manager1@demo.onramp.dev');
    const home = await agent.get('/').expect(200);
    for (const r of [people.rep1, people.rep2, people.rep3]) expect(home.text).toContain(r.name);
    for (const r of [people.rep4, people.rep5, people.rep6]) expect(home.text).not.toContain(r.name);
  });

  it('sends anonymous visitors to the sign-in page and back where they were going', async () => {
    const res = await supertest(ctx.app).get('/users').expect(303);
    expect(res.headers.location).toBe('/login?next=%2Fusers');
    const { agent, csrf } = await anonymous(ctx.app);
    const login = await agent.post('/login').type('form').send({ _csrf: csrf, email: 'trainer@demo.onramp.dev', password: 'onramp-demo', next: '/users' });
    expect(login.headers.location).toBe('/users');
  });

  it('never redirects off-site after sign-in', async () => {
    const { agent, csrf } = await anonymous(ctx.app);
    const login = await agent.post('/login').type('form').send({ _csrf: csrf, email: 'trainer@demo.onramp.dev', password: 'onramp-demo', next: '//evil.example/x' });
    expect(login.headers.location).toBe('/');
  });

  it('refuses a wrong password with one message for unknown and known emails', async () => {
    const { agent, csrf } = await anonymous(ctx.app);
    const wrong = await agent.post('/login').type('form').send({ _csrf: csrf, email: 'rep2@demo.onramp.dev', password: 'not-the-password' }).expect(401);
    const unknown = await agent.post('/login').type('form').send({ _csrf: csrf, email: 'nobody@demo.onramp.dev', password: 'not-the-password' }).expect(401);
    expect(wrong.text).toContain('Email or password is incorrect.');
    expect(unknown.text).toContain('Email or password is incorrect.');
    expect(wrong.text).toContain('value="rep2@demo.onramp.dev"'); // the email stays filled in
  });

  it('rate-limits repeated failed sign-ins for one email, then refuses even the right password', async () => {
    const { agent, csrf } = await anonymous(ctx.app);
    const attempt = (password: string) => agent.post('/login').type('form').send({ _csrf: csrf, email: 'rep3@demo.onramp.dev', password });
    for (let i = 0; i < 3; i++) expect((await attempt('wrong-password-x')).status).toBe(401);
    const limited = await attempt('onramp-demo');
    expect(limited.status).toBe(429);
    expect(limited.text).toContain('Too many sign-in attempts');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // another account from the same address is not locked by it
    const other = await agent.post('/login').type('form').send({ _csrf: csrf, email: 'rep4@demo.onramp.dev', password: 'onramp-demo' });
    expect(other.status).toBe(303);
  });

  it('gives a new session id at sign-in (no session fixation) and forgets the session at sign-out', async () => {
    const { agent, csrf } = await anonymous(ctx.app);
    const cookieOf = (res: { headers: Record<string, unknown> }) =>
      ([] as string[]).concat((res.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    const before = cookieOf(await agent.get('/login'));
    const login = await agent.post('/login').type('form').send({ _csrf: csrf, email: 'rep5@demo.onramp.dev', password: 'onramp-demo' }).expect(303);
    const after = cookieOf(login);
    expect(after).toBeDefined();
    expect(after!.split(';')[0]).not.toBe(before?.split(';')[0]);
    expect(after).toMatch(/HttpOnly/i);
    expect(after).toMatch(/SameSite=Lax/i);

    const page = await agent.get('/').expect(200);
    const out = await agent.post('/logout').type('form').send({ _csrf: csrfFrom(page.text) }).expect(303);
    expect(out.headers.location).toBe('/login?signedOut=1');
    await agent.get('/').expect(303);

    // replaying the old cookie after sign-out gets nothing
    await supertest(ctx.app).get('/').set('Cookie', after!.split(';')[0]!).expect(303);
  });

  it('refuses a state-changing form without its CSRF token', async () => {
    const { agent } = await signIn(ctx.app, 'admin@demo.onramp.dev');
    const res = await agent.post('/users').type('form').send({ name: 'X', email: 'x@example.com', role: 'trainer' }).expect(403);
    expect(res.text).toContain('This form has expired');
    expect(await ctx.container.accounts.findByEmail('x@example.com')).toBeUndefined();
  });

  it('signs out a user who was deactivated while signed in', async () => {
    const { agent } = await signIn(ctx.app, 'rep6@demo.onramp.dev');
    await agent.get('/').expect(200);
    await ctx.container.models.User.updateOne({ email: 'rep6@demo.onramp.dev' }, { $set: { active: false } });
    await agent.get('/').expect(303);
    await ctx.container.models.User.updateOne({ email: 'rep6@demo.onramp.dev' }, { $set: { active: true } });
  });
});

describe('reading other people', () => {
  it("gives a rep 404 for another rep's profile and 403 for the people list", async () => {
    const { agent } = await signIn(ctx.app, 'rep1@demo.onramp.dev');
    await agent.get(`/api/users/${people.rep1.id}`).expect(200);
    const other = await agent.get(`/api/users/${people.rep2.id}`).expect(404);
    expect(other.body.error.code).toBe('not_found');
    expect(JSON.stringify(other.body)).not.toContain(people.rep2.email);
    await agent.get(`/users/${people.rep4.id}`).expect(404);
    await agent.get('/api/users').expect(403);
  });

  it('lets a manager read their own reps only', async () => {
    const { agent } = await signIn(ctx.app, 'manager1@demo.onramp.dev');
    const list = await agent.get('/api/users').expect(200);
    expect(list.body.users.map((u: { email: string }) => u.email).sort()).toEqual(['rep1@demo.onramp.dev', 'rep2@demo.onramp.dev', 'rep3@demo.onramp.dev']);
    await agent.get(`/api/users/${people.rep2.id}`).expect(200);
    await agent.get(`/api/users/${people.rep4.id}`).expect(404);
  });

  it('never sends a password hash', async () => {
    const { agent } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const list = await agent.get('/api/users').expect(200);
    expect(list.body.users).toHaveLength(10);
    expect(JSON.stringify(list.body)).not.toMatch(/argon2|passwordHash/);
  });

  it('rejects MongoDB operators smuggled into a query string', async () => {
    const { agent } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const res = await agent.get('/api/users?role[$ne]=rep').expect(422);
    expect(res.body.error.message).toContain('role[$ne]');
    const nested = await agent.get('/api/users?role=rep&role=admin').expect(422);
    expect(nested.body.error.problems[0].path).toBe('role');
  });

  it('rejects operators in a JSON sign-in body', async () => {
    const { agent, csrf } = await anonymous(ctx.app);
    const res = await agent.post('/login').set('X-CSRF-Token', csrf).send({ email: { $ne: 'x' }, password: { $ne: 'x' } });
    expect(res.status).toBe(401);
  });
});
