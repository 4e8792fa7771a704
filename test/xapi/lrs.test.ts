import type { Server } from 'node:http';
import XAPIModule, { type Statement, type StatementsResponse } from '@xapi/xapi';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../support/browser.js';
import { createTestContext, type TestContext } from '../support/context.js';

// The package's types describe its CommonJS build; its class is also its own static `default`.
const XAPI = XAPIModule.default;
type XAPI = InstanceType<typeof XAPI>;

/** The LRS at /xapi, spoken to by a third-party client (@xapi/xapi) over real HTTP. */
let ctx: TestContext;
let server: Server;
let xapi: XAPI;
let base: string;
let auth: string;

const actor = { objectType: 'Agent' as const, name: 'Riley Chen', mbox: 'mailto:riley@example.com' };
const statement = (verb: string, activity: string, extra: Partial<Statement> = {}): Statement => ({
  actor,
  verb: { id: `http://adlnet.gov/expapi/verbs/${verb}`, display: { 'en-US': verb } },
  object: { objectType: 'Activity', id: `https://lms.example.com/activities/${activity}` },
  ...extra,
});

beforeAll(async () => {
  ctx = await createTestContext();
  const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Test client', scopes: ['all'] });
  ({ server, base } = await serve(ctx.app));
  auth = XAPI.toBasicAuth(key, secret);
  xapi = new XAPI({ endpoint: `${base}/xapi/`, auth, version: '1.0.3' });
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await ctx?.close();
});

describe('the LRS with a third-party client', () => {
  it('answers /xapi/about with its versions and the version header', async () => {
    const res = await xapi.getAbout();
    expect(res.data.version).toContain('1.0.3');
    const raw = await fetch(`${base}/xapi/about`);
    expect(raw.headers.get('x-experience-api-version')).toBe('1.0.3');
  });

  it('stores a statement, sets id, stored and authority, and returns it by id', async () => {
    const sent = await xapi.sendStatement({ statement: statement('experienced', 'intro') });
    const id = sent.data[0]!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const got = (await xapi.getStatement({ statementId: id })).data;
    expect(got).toMatchObject({ id, verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' }, version: '1.0.0' });
    expect(got.stored).toBeTruthy();
    expect(got.authority).toMatchObject({ objectType: 'Agent', account: { name: expect.stringMatching(/^lrs_/) } });
  });

  it('queries with filters and pages with "more"', async () => {
    await xapi.sendStatements({ statements: [1, 2, 3, 4, 5].map((n) => statement('attempted', `quiz-${n}`)) });
    const page1 = (await xapi.getStatements({ verb: 'http://adlnet.gov/expapi/verbs/attempted', agent: actor, limit: 2 })).data as StatementsResponse;
    expect(page1.statements).toHaveLength(2);
    expect(page1.more).toMatch(/^\/xapi\/statements\?/);
    const page2 = (await xapi.getMoreStatements({ more: page1.more })).data as StatementsResponse;
    const page3 = (await xapi.getMoreStatements({ more: page2.more })).data as StatementsResponse;
    const seen = [...page1.statements, ...page2.statements, ...page3.statements].map((s) => (s.object as { id: string }).id);
    expect(seen).toEqual([5, 4, 3, 2, 1].map((n) => `https://lms.example.com/activities/quiz-${n}`));
    expect(page3.more).toBe('');
    const ascending = (await xapi.getStatements({ verb: 'http://adlnet.gov/expapi/verbs/attempted', ascending: true, limit: 1 })).data;
    expect((ascending.statements[0]!.object as { id: string }).id).toBe('https://lms.example.com/activities/quiz-1');
  });

  it('voids a statement: gone from queries (the voiding statement that targets it is returned), found as voided', async () => {
    const [id] = (await xapi.sendStatement({ statement: statement('failed', 'to-void') })).data;
    await xapi.voidStatement({ actor, statementId: id! });
    await expect(xapi.getStatement({ statementId: id! })).rejects.toMatchObject({ response: { status: 404 } });
    expect((await xapi.getVoidedStatement({ voidedStatementId: id! })).data.id).toBe(id);
    const q = (await xapi.getStatements({ activity: 'https://lms.example.com/activities/to-void' })).data;
    expect(q.statements.map((s) => s.object)).toEqual([{ objectType: 'StatementRef', id }]);
  });

  it('accepts a re-sent statement once, and refuses the same id with other content', async () => {
    const id = '0e5b1a1c-3f8e-4d2a-9c61-8d7f2b8a1e55';
    await xapi.sendStatement({ statement: statement('completed', 'same', { id }) });
    await xapi.sendStatement({ statement: statement('completed', 'same', { id }) });
    expect(await ctx.container.statements.one(id, false)).toMatchObject({ id });
    await expect(xapi.sendStatement({ statement: statement('completed', 'other', { id }) })).rejects.toMatchObject({ response: { status: 409 } });
  });
});

describe('the LRS refuses bad requests and changes nothing', () => {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    supertest(server).post('/xapi/statements').set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3', ...headers }).send(body as object);

  it('answers 400 naming the bad property, and stores none of the batch', async () => {
    const before = await ctx.container.statements['store'].col.countDocuments();
    const bad = { ...statement('answered', 'bad-one'), actor: { mbox: 'riley@example.com' } };
    const res = await post([statement('answered', 'good-one'), bad]).expect(400);
    expect(res.body.error.message).toContain('[1].actor.mbox');
    expect(await ctx.container.statements['store'].col.countDocuments()).toBe(before);
    expect((await xapi.getStatements({ activity: 'https://lms.example.com/activities/good-one' })).data.statements).toHaveLength(0);
  });

  it('needs credentials, a 1.0.x version header and the write scope', async () => {
    await supertest(server).post('/xapi/statements').set('X-Experience-API-Version', '1.0.3').send(statement('x', 'y')).expect(401);
    await post(statement('experienced', 'v'), { 'X-Experience-API-Version': '0.95' }).expect(400);
    await post(statement('experienced', 'v102'), { 'X-Experience-API-Version': '1.0.2' }).expect(200);
    const reader = await ctx.container.lrsCredentials.issue('system', { name: 'Reader', scopes: ['statements/read'] });
    await supertest(server).post('/xapi/statements').set({ Authorization: XAPI.toBasicAuth(reader.key, reader.secret), 'X-Experience-API-Version': '1.0.3' }).send(statement('x', 'y')).expect(403);
    await ctx.container.lrsCredentials.revoke({ id: 'admin', role: 'admin' }, reader.key);
    await supertest(server).get('/xapi/statements').set({ Authorization: XAPI.toBasicAuth(reader.key, reader.secret), 'X-Experience-API-Version': '1.0.3' }).expect(401);
  });

  it('refuses voiding a voiding statement', async () => {
    const [id] = (await xapi.sendStatement({ statement: statement('failed', 'void-twice') })).data;
    const [voiding] = (await xapi.voidStatement({ actor, statementId: id! })).data;
    const res = await post({ actor, verb: { id: 'http://adlnet.gov/expapi/verbs/voided' }, object: { objectType: 'StatementRef', id: voiding } }).expect(400);
    expect(res.body.error.message).toContain('cannot be voided');
  });

  it('answers the consistency header and refuses unknown parameters', async () => {
    const res = await supertest(server).get('/xapi/statements?foo=1').set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' }).expect(400);
    expect(res.body.error.message).toContain('foo');
    const ok = await supertest(server).get('/xapi/statements').set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' }).expect(200);
    expect(ok.headers['x-experience-api-consistent-through']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});
