import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { createTestContext, seedPeople, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';
import { browserOn, listen, messageOf, Tally } from './support.js';

/**
 * MongoDB operators and prototype keys where a string is expected: in sign-in bodies (JSON and
 * form), query strings, JSON API bodies, API tokens, xAPI parameters and credentials. Each is
 * refused with a 4xx or read as a literal string; none matches another record, signs anyone in,
 * changes a record it should not, or pollutes Object.prototype.
 * (test/http/sign-in.test.ts has `?role[$ne]=rep` and one `$ne` sign-in; this goes wider.)
 */
let ctx: TestContext;
let http: Awaited<ReturnType<typeof listen>>;
let people: DemoPeople;
let admin: SignedIn;
let rep1: SignedIn;
let xapiAuth: string;
const ids: Record<string, string> = {};
const tally = new Tally('operator-injection');
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

const xapi = (method: 'get' | 'put' | 'post', url: string) => supertest(http.server)[method](url).set('Authorization', xapiAuth).set('X-Experience-API-Version', '1.0.3');

/** One case: the answer's status must be one of `statuses`; a refusal must say what was wrong. */
function judge(label: string, res: { status: number; text: string; body?: unknown; headers: Record<string, string> }, statuses: number[]): void {
  tally.check(label, { status: res.status, message: res.status >= 400 ? messageOf(res) : '' }, statuses.length === 1 ? { expectStatus: statuses[0]! } : {});
  if (statuses.length > 1 && !statuses.includes(res.status)) tally.fail(`${label}: ${res.status}, expected one of ${statuses.join(', ')}`);
}

beforeAll(async () => {
  ctx = await createTestContext({ LOGIN_RATE_LIMIT: '1000' });
  people = await seedPeople(ctx.container);
  http = await listen(ctx.app);
  const c = ctx.container;
  await c.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  const enrollmentId = String((await c.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' })).enrollment._id);
  const actor = { id: people.rep1.id, role: 'rep' as const };
  await c.enrollments.acknowledge(actor, enrollmentId, 'intro');
  ids.attempt = await c.assessments.start(actor, enrollmentId, 'check');
  await unlockTransfer(c.enrollments, enrollmentId);
  ids.draft = String((await c.transfer.workspace(actor, enrollmentId, 'script')).submission._id);
  admin = await browserOn(http.server, 'admin@demo.onramp.dev');
  rep1 = await browserOn(http.server, 'rep1@demo.onramp.dev');
  const { key, secret } = await c.lrsCredentials.issue('system', { name: 'Fuzz', scopes: ['all'] });
  xapiAuth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
  // one statement and one state document that an operator must not reach
  await xapi('post', '/xapi/statements').send({ actor: { mbox: 'mailto:rep1@demo.onramp.dev' }, verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' }, object: { id: 'https://example.com/a' } }).expect(200);
  await xapi('put', `/xapi/activities/state?activityId=${encodeURIComponent('https://example.com/a')}&agent=${encodeURIComponent('{"mbox":"mailto:rep1@demo.onramp.dev"}')}&stateId=secret`).send({ secret: true }).expect(204);
});
afterAll(async () => {
  await http?.close();
  await ctx?.close();
});

describe('fuzz: MongoDB operator and prototype-key injection', () => {
  it('signs nobody in with operators, arrays or prototype keys in the sign-in form', async () => {
    const json = [
      { email: { $ne: null }, password: { $ne: null } },
      { email: { $gt: '' }, password: 'onramp-demo' },
      { email: { $regex: '^admin' }, password: 'onramp-demo' },
      { email: { $in: ['admin@demo.onramp.dev'] }, password: 'onramp-demo' },
      { email: ['admin@demo.onramp.dev'], password: 'onramp-demo' },
      { email: 'admin@demo.onramp.dev', password: { $ne: 'x' } },
      { email: 'admin@demo.onramp.dev', password: ['onramp-demo'] },
      { email: '{"$ne":null}', password: 'onramp-demo' },
      { email: { $where: 'true' }, password: 'onramp-demo' },
      JSON.parse('{"__proto__":{"email":"admin@demo.onramp.dev","password":"onramp-demo"}}') as object,
      JSON.parse('{"constructor":{"prototype":{"email":"admin@demo.onramp.dev"}},"password":"onramp-demo"}') as object,
    ];
    const forms = ['email[$ne]=x&password=onramp-demo', 'email[$gt]=&password[$gt]=', 'email=admin%40demo.onramp.dev&email=rep1%40demo.onramp.dev&password=onramp-demo', '__proto__[email]=admin%40demo.onramp.dev&password=onramp-demo', 'email=admin%40demo.onramp.dev&password[$ne]=x'];
    for (const [i, body] of [...json.map((b) => ['json', b] as const), ...forms.map((b) => ['form', b] as const)].entries()) {
      const anon = await browserOn(http.server);
      const req = anon.agent.post('/login').set('X-CSRF-Token', anon.csrf).set('Accept', 'text/html');
      const res = body[0] === 'json' ? await req.type('json').send(JSON.stringify(body[1])) : await req.type('form').send(body[1]);
      judge(`sign-in ${body[0]} #${i} ${JSON.stringify(body[1])}`, res, [401]);
      expect(res.text).toContain('Email or password is incorrect.');
      // and the session is still anonymous
      expect((await anon.agent.get('/api/me')).status).toBe(401);
    }
  });

  it('refuses operators in query strings and path ids, and finds nothing with them', async () => {
    const get = async (who: SignedIn, url: string, statuses: number[], mentions?: RegExp) => {
      const res = await who.agent.get(url).set('Accept', url.startsWith('/api/') ? 'application/json' : 'text/html');
      judge(`GET ${url}`, res, statuses);
      if (mentions) expect(messageOf(res)).toMatch(mentions);
      return res;
    };
    await get(admin, '/api/users?email[$ne]=x', [422], /email\[\$ne\]/);
    await get(admin, '/api/users?role[$in]=admin&role[$in]=rep', [422], /role\[\$in\]/);
    await get(admin, '/api/users?role[$regex]=.*', [422], /role\[\$regex\]/);
    await get(admin, '/api/users?__proto__[role]=admin', [422], /__proto__/);
    await get(admin, '/api/users?constructor[prototype][role]=admin', [422]);
    await get(admin, '/api/users?role={"$ne":"rep"}', [422], /role/);
    await get(admin, '/users?role[$ne]=rep', [422]);
    await get(admin, '/enrollments?cohort[$ne]=x', [422]);
    await get(admin, '/enrollments?curriculumId={"$gt":""}', [200]); // a literal curriculum id: no rows
    for (const id of ['{"$ne":null}', '[object Object]', '{"$gt":""}', '.*', '$where']) {
      const res = await get(admin, `/api/users/${encodeURIComponent(id)}`, [404]);
      expect(JSON.stringify(res.body)).not.toContain('@demo.onramp.dev');
      await get(rep1, `/api/attempts/${encodeURIComponent(id)}`, [404]);
      await get(admin, `/enrollments/${encodeURIComponent(id)}`, [404]);
    }
  });

  it('refuses operators and prototype keys in JSON API bodies, and changes nothing with them', async () => {
    const send = async (who: SignedIn, method: 'post' | 'patch' | 'put', url: string, body: string, statuses: number[], mentions?: RegExp) => {
      const res = await who.agent[method](url).set('X-CSRF-Token', who.csrf).set('Accept', 'application/json').type('json').send(body);
      judge(`${method.toUpperCase()} ${url} ${body}`, res, statuses);
      if (mentions && res.status >= 400) expect(messageOf(res)).toMatch(mentions);
      return res;
    };
    const users = () => ctx.container.models.User.countDocuments();
    const before = await users();
    await send(admin, 'post', '/api/users', '{"email":{"$gt":""},"name":"Inj","role":"rep"}', [422], /email/);
    await send(admin, 'post', '/api/users', '{"email":"inj@example.com","name":{"$ne":null},"role":{"$in":["admin"]}}', [422], /name.*role|role.*name/);
    await send(admin, 'post', '/api/users', '{"email":"inj@example.com","name":"Inj","role":"rep","managerId":{"$ne":null}}', [422], /managerId/);
    expect(await users()).toBe(before);

    const rep3 = `/api/users/${people.rep3.id}`;
    await send(admin, 'patch', rep3, '{"$set":{"role":"admin"}}', [422], /\$set/);
    await send(admin, 'patch', rep3, '{"role":{"$ne":"rep"}}', [422], /role/);
    await send(admin, 'patch', rep3, '{"managerId":{"$ne":null}}', [422], /managerId/);
    await send(admin, 'patch', rep3, '{"__proto__":{"role":"admin"}}', [200, 422]);
    await send(admin, 'patch', rep3, '{"constructor":{"prototype":{"role":"admin"}}}', [422]);
    const after = (await ctx.container.accounts.findByEmail('rep3@demo.onramp.dev'))!;
    expect(after.role).toBe('rep');
    expect(after.managerId).toBe(people.rep3.managerId);

    await send(admin, 'post', '/api/tokens', '{"name":{"$gt":""}}', [422], /name/);
    const draft = await ctx.container.models.Submission.findById(ids.draft).lean<{ rev: number; answers: unknown }>();
    await send(rep1, 'put', `/api/submissions/${ids.draft}/draft`, '{"rev":{"$gte":0},"answers":{"opening":"changed by an operator"}}', [422], /rev/);
    await send(rep1, 'put', `/api/submissions/${ids.draft}/draft`, '{"rev":{"$ne":-1},"answers":{}}', [422], /rev/);
    await send(rep1, 'put', `/api/submissions/${ids.draft}/draft`, `{"rev":${draft!.rev},"answers":{"$set":{"status":"approved"},"__proto__":{"x":1}}}`, [200, 422]);
    const after2 = await ctx.container.models.Submission.findById(ids.draft).lean<{ status: string; answers: Record<string, unknown> }>();
    expect(after2!.status).toBe('draft');
    expect(JSON.stringify(after2!.answers)).not.toContain('changed by an operator');
    await send(rep1, 'put', `/api/attempts/${ids.attempt}/answers`, '{"answers":{"$where":"1"}}', [422]);
    await send(rep1, 'put', `/api/attempts/${ids.attempt}/answers`, '{"answers":{"__proto__":{"polluted":true}}}', [200, 422]);
    await send(rep1, 'put', `/api/attempts/${ids.attempt}/answers`, '{"$set":{"status":"submitted"}}', [422]);
    expect((await ctx.container.models.Attempt.findById(ids.attempt).lean<{ status: string }>())!.status).toBe('in_progress');
  });

  it('refuses operator-shaped API tokens and LRS credentials', async () => {
    for (const token of ['{"$ne":null}', 'onr_{"$ne":null}', 'onr_[object Object]', 'onr_.*']) {
      judge(`Bearer ${token}`, await supertest(http.server).get('/api/me').set('Authorization', `Bearer ${token}`), [401]);
    }
    for (const pair of ['{"$ne":null}:{"$ne":null}', 'lrs_x:{"$gt":""}', '[object Object]:x']) {
      judge(`Basic ${pair}`, await supertest(http.server).get('/xapi/statements').set('Authorization', `Basic ${Buffer.from(pair).toString('base64')}`).set('X-Experience-API-Version', '1.0.3'), [401]);
    }
  });

  it('reads xAPI parameters as literals or refuses them: an operator never matches a statement or document', async () => {
    const q = (params: string) => xapi('get', `/xapi/statements?${params}`);
    judge('agent with an operator', await q(`agent=${encodeURIComponent('{"mbox":{"$ne":null}}')}`), [400]);
    judge('agent that is an operator', await q(`agent=${encodeURIComponent('{"$ne":null}')}`), [400]);
    judge('verb[$ne]', await q('verb[$ne]=x'), [400]);
    judge('statementId operator', await q(`statementId=${encodeURIComponent('{"$ne":null}')}`), [400]);
    judge('since[$gt]', await q('since[$gt]=2020'), [400]);
    for (const literal of [`verb=${encodeURIComponent('{"$ne":null}')}`, `activity=${encodeURIComponent('{"$regex":".*"}')}`, `registration=${encodeURIComponent('{"$ne":null}')}`]) {
      const res = await q(literal);
      judge(`literal ${literal}`, res, [200, 400]);
      if (res.status === 200) expect((res.body as { statements: unknown[] }).statements).toEqual([]);
    }
    const state = (params: string) => xapi('get', `/xapi/activities/state?activityId=${encodeURIComponent('https://example.com/a')}&${params}`);
    const agent = `agent=${encodeURIComponent('{"mbox":"mailto:rep1@demo.onramp.dev"}')}`;
    judge('stateId that is an operator', await state(`${agent}&stateId=${encodeURIComponent('{"$ne":null}')}`), [404]);
    judge('stateId[$ne]', await state(`${agent}&stateId[$ne]=x`), [400]);
    judge('state agent with an operator', await state(`agent=${encodeURIComponent('{"mbox":{"$ne":null}}')}&stateId=secret`), [400]);
    const list = await xapi('get', `/xapi/activities/state?activityId=${encodeURIComponent('{"$ne":null}')}&${agent}`);
    judge('state list under an operator activityId', list, [200, 400]);
    if (list.status === 200) expect(list.body).toEqual([]);
  });

  it('left Object.prototype as it was', () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).role).toBeUndefined();
    tally.report();
  });
});
