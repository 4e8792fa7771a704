import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import supertest from 'supertest';
import { errorHandler, notFoundHandler } from '../../src/http/middleware/errors.js';
import { setUpViews } from '../../src/http/views.js';
import { createLogger } from '../../src/infra/logger.js';
import { createTestContext, csrfFrom, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';

let ctx: TestContext;
let people: DemoPeople;

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
});
afterAll(() => ctx.close());

describe('admin user pages', () => {
  it('creates a rep from the form and shows the temporary password once', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'admin@demo.onramp.dev');
    const res = await agent
      .post('/users')
      .type('form')
      .send({ _csrf: csrf, name: 'Quinn Form', email: 'quinn@example.com', role: 'rep', managerId: people.manager2.id, password: '' })
      .expect(201);
    const temp = /<code class="secret">([^<]+)<\/code>/.exec(res.text)?.[1];
    expect(temp).toMatch(/^[a-z2-9-]{19}$/);
    const quinn = await ctx.container.accounts.findByEmail('quinn@example.com');
    expect(quinn).toMatchObject({ role: 'rep', managerId: people.manager2.id, mustChangePassword: true });
    // the profile page does not show it again
    const profile = await agent.get(`/users/${quinn!.id}`).expect(200);
    expect(profile.text).not.toContain(temp);
  });

  it('shows problems next to the fields and keeps what was typed', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'admin@demo.onramp.dev');
    const res = await agent
      .post('/users')
      .type('form')
      .send({ _csrf: csrf, name: 'Half Done', email: 'not-an-email', role: 'rep', managerId: '' })
      .expect(422);
    expect(res.text).toContain('Please correct the highlighted fields.');
    expect(res.text).toContain('must be an email address');
    expect(res.text).toContain('value="Half Done"');
    expect(res.text).toMatch(/id="email"[^>]*aria-invalid="true"/);
  });

  it('escapes what users typed (no stored markup)', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'admin@demo.onramp.dev');
    await agent
      .post('/users')
      .type('form')
      .send({ _csrf: csrf, name: '<script>alert(1)</script>', email: 'xss@example.com', role: 'trainer', password: 'long enough password' })
      .expect(303);
    const list = await agent.get('/users').expect(200);
    expect(list.text).not.toContain('<script>alert(1)</script>');
    expect(list.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('moves a rep to another manager from the profile page', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'admin@demo.onramp.dev');
    await agent.post(`/users/${people.rep5.id}`).type('form').send({ _csrf: csrf, name: people.rep5.name, role: 'rep', managerId: people.manager1.id, active: 'true' }).expect(303);
    const { agent: m1 } = await signIn(ctx.app, 'manager1@demo.onramp.dev');
    expect((await m1.get('/').expect(200)).text).toContain(people.rep5.name);
  });
});

describe('API tokens', () => {
  it('creates a token on the page, shows it once, and it works as a bearer token without a cookie or CSRF', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'manager2@demo.onramp.dev');
    const res = await agent.post('/account/tokens').type('form').send({ _csrf: csrf, name: 'CRM sync' }).expect(201);
    const token = /<code class="secret">(onr_[^<]+)<\/code>/.exec(res.text)?.[1];
    expect(token).toBeDefined();
    expect((await agent.get('/account/tokens').expect(200)).text).not.toContain(token);

    const me = await supertest(ctx.app).get('/api/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(me.body.user.email).toBe('manager2@demo.onramp.dev');
    expect(me.headers['set-cookie']).toBeUndefined();
    const team = await supertest(ctx.app).get('/api/users').set('Authorization', `Bearer ${token}`).expect(200);
    expect(team.body.users).toHaveLength(3);
    const tokenId = (await supertest(ctx.app).get('/api/tokens').set('Authorization', `Bearer ${token}`)).body.tokens[0].id;
    await supertest(ctx.app).delete(`/api/tokens/${tokenId}`).set('Authorization', `Bearer ${token}`).expect(204);
    const after = await supertest(ctx.app).get('/api/me').set('Authorization', `Bearer ${token}`).expect(401);
    expect(after.body.error.message).toContain('revoked');
  });

  it('refuses a made-up token', async () => {
    await supertest(ctx.app).get('/api/me').set('Authorization', 'Bearer onr_madeup').expect(401);
    await supertest(ctx.app).get('/api/me').set('Authorization', 'Basic abc').expect(401);
  });

  it('lets an admin create users through the API with clear validation errors', async () => {
    const { token } = await ctx.container.accounts.createToken({ id: people.admin.id, role: 'admin' }, 'provisioning');
    const api = () => supertest(ctx.app).post('/api/users').set('Authorization', `Bearer ${token}`);
    const bad = await api().send({ email: 'x', role: 'boss', extra: { $gt: '' } }).expect(422);
    const paths = bad.body.error.problems.map((p: { path: string }) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['email', 'name', 'role']));
    const ok = await api().send({ email: 'api.rep@example.com', name: 'Api Rep', role: 'rep', managerId: people.manager1.id }).expect(201);
    expect(ok.body.user.email).toBe('api.rep@example.com');
    expect(ok.body.temporaryPassword).toBeTypeOf('string');
    expect(ok.headers.location).toBe(`/api/users/${ok.body.user.id}`);
    await api().send({ email: 'api.rep@example.com', name: 'Again', role: 'trainer' }).expect(409);
  });

  it('answers malformed JSON with 400 and a message', async () => {
    const { token } = await ctx.container.accounts.createToken({ id: people.admin.id, role: 'admin' }, 'json');
    const res = await supertest(ctx.app).post('/api/users').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send('{"email":').expect(400);
    expect(res.body.error.message).toBe('The request body is not valid JSON.');
  });
});

describe('pages for errors and health', () => {
  it('answers 404 as a page for browsers and as JSON for the API', async () => {
    const { agent } = await signIn(ctx.app, 'rep1@demo.onramp.dev');
    const html = await agent.get('/no/such/page').set('Accept', 'text/html').expect(404);
    expect(html.text).toContain('Page not found');
    expect(html.text).toContain('Sign out'); // the layout still knows who is signed in
    const json = await agent.get('/api/nothing').expect(404);
    expect(json.body.error.code).toBe('not_found');
  });

  it('shows a 500 page without a stack trace and logs the error with the request id', async () => {
    const lines: string[] = [];
    const log = createLogger({ logLevel: 'error', logPretty: false });
    const spy = log.child({});
    spy.error = ((obj: unknown) => lines.push(JSON.stringify(obj))) as typeof spy.error;
    const app = express();
    setUpViews(app, false);
    app.use((req, _res, next) => {
      (req as { id?: string }).id = 'req-123';
      next();
    });
    app.get('/boom', () => {
      throw new Error('database password is hunter2');
    });
    app.use(notFoundHandler);
    app.use(errorHandler(spy));
    const res = await supertest(app).get('/boom').set('Accept', 'text/html').expect(500);
    expect(res.text).toContain('Something went wrong');
    expect(res.text).toContain('req-123');
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    const json = await supertest(app).get('/boom').set('Accept', 'application/json').expect(500);
    expect(JSON.stringify(json.body)).not.toContain('hunter2');
    expect(lines.join('\n')).toContain('req-123');
  });

  it('reports readiness, and 503 when Redis is away', async () => {
    const ok = await supertest(ctx.app).get('/readyz').expect(200);
    expect(ok.body).toEqual({ status: 'ready', mongo: 'ok', redis: 'ok' });
    await supertest(ctx.app).get('/healthz').expect(200, { status: 'ok' });

    const broken = await createTestContext({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const res = await supertest(broken.app).get('/readyz').expect(503);
      expect(res.body.status).toBe('unavailable');
      expect(res.body.mongo).toBe('ok');
      expect(res.body.redis).not.toBe('ok');
    } finally {
      await broken.container.mongo.dropDatabase();
      broken.container.redis.disconnect();
      await broken.container.mongo.close();
    }
  });

  it('tells admins which database and Redis they run on', async () => {
    const { token } = await ctx.container.accounts.createToken({ id: people.admin.id, role: 'admin' }, 'status');
    const res = await supertest(ctx.app).get('/api/system').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body.database.product).toBe(process.env.TEST_MONGODB_URL ? 'MongoDB' : 'FerretDB');
    expect(res.body.redis.version).toMatch(/^\d+\.\d+/);
    expect(res.body.ready.ok).toBe(true);
  });

  it('sends security headers and a CSP without unsafe-inline', async () => {
    const res = await supertest(ctx.app).get('/login').expect(200);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(csrfFrom(res.text)).toHaveLength(64);
  });
});
