import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import supertest from 'supertest';
import { SESSION_COOKIE } from '../../src/http/cookies.js';
import { createTestContext, csrfFrom, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { captureLog } from '../support/log-capture.js';

/**
 * What the app logs (its real logger at `trace`, redaction included) while secrets go through it:
 * passwords at sign-in and when changed, API tokens when created and used, an xAPI client's Basic
 * credentials (as a header and in the Alternate Request Syntax's form), session cookies, and
 * requests that fail (bad JSON, a 500 in the middle of a password change or a token creation).
 * None of those values may appear in any log line.
 */
let ctx: TestContext;
let people: DemoPeople;
const logs = captureLog();
const secrets = new Map<string, string>();

const PASSWORD = 'Cobalt-Heron-Lantern-4417';
const NEW_PASSWORD = 'Quartz-Meadow-Falcon-9053';
const WRONG_PASSWORD = 'Wrong-Guess-Walrus-2268';
const LRS = { key: 'logs-test-client', secret: 'Saffron-Kettle-Orbit-7720-secret' };

beforeAll(async () => {
  ctx = await createTestContext({}, { log: logs.logger });
  people = await seedPeople(ctx.container);
  await ctx.container.accounts.create('system', { email: 'logged@example.com', name: 'Logged Person', role: 'admin', managerId: null, password: PASSWORD });
  await ctx.container.lrsCredentials.issue('system', { name: 'logs', scopes: ['all'], ...LRS });
  for (const [name, value] of Object.entries({ PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, lrsSecret: LRS.secret })) secrets.set(name, value);
  secrets.set('lrsAuthorization', Buffer.from(`${LRS.key}:${LRS.secret}`).toString('base64'));
});
afterAll(() => ctx?.close());

/** Each secret that shows up in a log line, with the line. */
function leaks(): string[] {
  const found: string[] = [];
  for (const line of logs.lines) for (const [name, value] of secrets) if (line.includes(value)) found.push(`${name} in ${line.slice(0, 300)}`);
  return found;
}

/** The cookie's value as sent, as decoded, and the session id inside it. */
function rememberCookie(name: string, setCookie: string[] | undefined): string {
  const line = (setCookie ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!line) throw new Error(`no session cookie for ${name}`);
  const raw = line.split(';')[0]!.slice(SESSION_COOKIE.length + 1);
  secrets.set(`${name} cookie`, raw);
  secrets.set(`${name} cookie (decoded)`, decodeURIComponent(raw).slice(2));
  secrets.set(`${name} session id`, /^s:([^.]+)\./.exec(decodeURIComponent(raw))![1]!);
  return `${SESSION_COOKIE}=${raw}`;
}

describe('secrets in the logs', () => {
  it('never logs a password, a token, a session cookie or an Authorization header, also when requests fail', async () => {
    // signing in: a wrong password, then the right one
    const page = await supertest(ctx.app).get('/login').expect(200);
    const anonymous = rememberCookie('anonymous', page.headers['set-cookie'] as unknown as string[]);
    const csrf = csrfFrom(page.text);
    await supertest(ctx.app).post('/login').set('Cookie', anonymous).type('form').send({ _csrf: csrf, email: 'logged@example.com', password: WRONG_PASSWORD }).expect(401);
    const login = await supertest(ctx.app).post('/login').set('Cookie', anonymous).type('form').send({ _csrf: csrf, email: 'logged@example.com', password: PASSWORD }).expect(303);
    const session = rememberCookie('signed-in', login.headers['set-cookie'] as unknown as string[]);
    const signedIn = (req: supertest.Test) => req.set('Cookie', session);
    const formCsrf = csrfFrom((await signedIn(supertest(ctx.app).get('/account')).expect(200)).text);

    // changing the password: once while the database write fails (a 500), then for real
    const write = vi.spyOn(ctx.container.models.User, 'updateOne').mockRejectedValueOnce(new Error('connection reset by peer'));
    try {
      await signedIn(supertest(ctx.app).post('/account/password')).type('form').send({ _csrf: formCsrf, currentPassword: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }).expect(500);
    } finally {
      write.mockRestore();
    }
    await signedIn(supertest(ctx.app).post('/account/password')).type('form').send({ _csrf: formCsrf, currentPassword: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }).expect(303);

    // an API token, made on the page and used as a bearer token
    const created = await signedIn(supertest(ctx.app).post('/account/tokens')).type('form').send({ _csrf: formCsrf, name: 'logs' }).expect(201);
    const token = /<code class="secret">(onr_[^<]+)<\/code>/.exec(created.text)![1]!;
    secrets.set('token', token);
    secrets.set('token (random part)', token.slice(4));
    const bearer = (req: supertest.Test) => req.set('Authorization', `Bearer ${token}`);
    await bearer(supertest(ctx.app).get('/api/me')).expect(200);
    const second = await bearer(supertest(ctx.app).post('/api/tokens')).send({ name: 'second' }).expect(201);
    secrets.set('second token', second.body.token as string);
    // a user created and a password reset over the API: the temporary passwords are in the answers only
    const made = await bearer(supertest(ctx.app).post('/api/users')).send({ email: 'new.person@example.com', name: 'New Person', role: 'trainer' }).expect(201);
    secrets.set('temporary password', made.body.temporaryPassword as string);
    const reset = await bearer(supertest(ctx.app).post(`/api/users/${people.rep1.id}/password-reset`)).expect(200);
    secrets.set('reset password', reset.body.temporaryPassword as string);

    // failing requests that carry secrets: bad JSON with a password in it, a 500 while a token is made, a revoked token
    await bearer(supertest(ctx.app).post('/api/users')).set('Content-Type', 'application/json').send(`{"email":"x@example.com","password":"${PASSWORD}"`).expect(400);
    const create = vi.spyOn(ctx.container.models.ApiToken, 'create').mockRejectedValueOnce(new Error('not primary'));
    try {
      await bearer(supertest(ctx.app).post('/api/tokens')).send({ name: 'third' }).expect(500);
    } finally {
      create.mockRestore();
    }
    await supertest(ctx.app).get('/api/me').set('Authorization', 'Bearer onr_not-a-token-Violet-Anchor-5512').expect(401);
    secrets.set('made-up token', 'onr_not-a-token-Violet-Anchor-5512');

    // an xAPI client: Basic credentials in a header, wrong ones, and in the Alternate Request Syntax's form
    const basic = `Basic ${secrets.get('lrsAuthorization')}`;
    await supertest(ctx.app).get('/xapi/statements?limit=1').set('Authorization', basic).set('X-Experience-API-Version', '1.0.3').expect(200);
    const wrong = `Basic ${Buffer.from(`${LRS.key}:Wrong-Secret-Pebble-3391`).toString('base64')}`;
    secrets.set('wrong lrs authorization', wrong.slice(6));
    await supertest(ctx.app).get('/xapi/statements').set('Authorization', wrong).set('X-Experience-API-Version', '1.0.3').expect(401);
    await supertest(ctx.app).post('/xapi/statements?method=GET').type('form').send({ Authorization: basic, 'X-Experience-API-Version': '1.0.3', limit: '1' }).expect(200);

    // signing out with the cookie, and the cookie replayed afterwards
    await signedIn(supertest(ctx.app).post('/logout')).type('form').send({ _csrf: formCsrf }).expect(303);
    await signedIn(supertest(ctx.app).get('/account')).expect(303);

    // the log did record all of this (not an empty stream): the requests, and the two failures with their errors
    const records = logs.records();
    expect(records.filter((r) => r.req).length).toBeGreaterThanOrEqual(19); // one per request
    expect(records.filter((r) => r.msg === 'request failed').map((r) => (r.err as { message: string }).message)).toEqual(['connection reset by peer', 'not primary']);
    expect(leaks()).toEqual([]);
  });

  it("never logs the email addresses the audit log's filters (or an xAPI agent) name in a query string", async () => {
    const from = logs.lines.length;
    const admin = await signIn(ctx.app, people.admin.email);
    const actor = people.manager1.email;
    const target = people.rep1.email;
    await admin.agent.get(`/admin/audit?actor=${encodeURIComponent(actor)}&action=user`).expect(200);
    await admin.agent.get(`/admin/audit.csv?actor=${actor}&target=${encodeURIComponent(target)}`).expect(200);
    await admin.agent.get('/admin/audit?actor=nobody%40example.com').expect(422);
    const agent = encodeURIComponent(JSON.stringify({ mbox: `mailto:${target}` }));
    await supertest(ctx.app).get(`/xapi/statements?agent=${agent}&limit=1`).set('Authorization', `Basic ${secrets.get('lrsAuthorization')}`).set('X-Experience-API-Version', '1.0.3').expect(200);

    const lines = logs.lines.slice(from);
    for (const email of [actor, target, 'nobody@example.com']) {
      for (const form of [email, encodeURIComponent(email), email.split('@')[0]!]) expect(lines.filter((l) => l.includes(form))).toEqual([]);
    }
    // the requests are logged, with the filters' names and the rest of the query as sent
    const urls = logs.records().slice(from).flatMap((r) => ((r.req as { url?: string } | undefined)?.url ? [(r.req as { url: string }).url] : []));
    expect(urls).toEqual(
      expect.arrayContaining([
        '/admin/audit?actor=[redacted]&action=user',
        '/admin/audit.csv?actor=[redacted]&target=[redacted]',
        '/admin/audit?actor=[redacted]',
        '/xapi/statements?agent=[redacted]&limit=1',
      ]),
    );
  });

  it('censors the redacted paths wherever a log call puts them', () => {
    logs.lines.length = 0;
    const log = logs.logger(ctx.config);
    log.error({ req: { headers: { authorization: `Bearer ${secrets.get('token')}`, cookie: `${SESSION_COOKIE}=${secrets.get('signed-in cookie')}` } }, res: { headers: { 'set-cookie': secrets.get('signed-in cookie') } } }, 'headers');
    log.warn({ body: { password: PASSWORD, token: secrets.get('token') }, user: { passwordHash: '$argon2id$v=19$m=65536' } }, 'bodies');
    expect(leaks()).toEqual([]);
    expect(logs.lines.join('')).not.toContain('$argon2id');
    expect(logs.records().map((r) => JSON.stringify(r))).toEqual([expect.stringContaining('"authorization":"[redacted]"'), expect.stringContaining('"password":"[redacted]"')]);
  });
});
