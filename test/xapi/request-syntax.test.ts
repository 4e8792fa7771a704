import { randomUUID } from 'node:crypto';
import XAPIModule from '@xapi/xapi';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';

const XAPI = XAPIModule.default;

/** The Alternate Request Syntax (Communication 1.3), CORS and methods the LRS does not allow. */
let ctx: TestContext;
let auth: string;

const statement = () => ({
  actor: { objectType: 'Agent', mbox: 'mailto:sam@example.com' },
  verb: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { 'en-US': 'experienced' } },
  object: { objectType: 'Activity', id: 'https://lms.example.com/activities/alt' },
});
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

beforeAll(async () => {
  ctx = await createTestContext();
  const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Alt client', scopes: ['all'] });
  auth = XAPI.toBasicAuth(key, secret);
});
afterAll(async () => ctx?.close());

describe('the Alternate Request Syntax', () => {
  const alt = (method: string, fields: Record<string, string>, headers: Record<string, string> = { Authorization: auth, 'X-Experience-API-Version': '1.0.3' }) =>
    supertest(ctx.app).post(`/xapi/statements?method=${method}`).set(headers).type('form').send(form(fields));

  it('PUTs a statement whose headers and statementId come as form fields', async () => {
    const id = randomUUID();
    const res = await alt('PUT', { statementId: id, content: JSON.stringify(statement()), Authorization: auth, 'X-Experience-API-Version': '1.0.3' }, {});
    expect(res.status).toBe(204);
    expect((await ctx.container.statements.one(id, false)).verb).toMatchObject({ id: 'http://adlnet.gov/expapi/verbs/experienced' });
  });

  it('GETs statements with the filters as form fields', async () => {
    const res = await alt('GET', { limit: '1' });
    expect(res.status).toBe(200);
    expect(res.body).toHaveProperty('statements');
    expect(res.body).toHaveProperty('more');
    expect(res.body.statements).toHaveLength(1);
  });

  it('works for document resources too (a state document)', async () => {
    const agent = JSON.stringify({ mbox: 'mailto:sam@example.com' });
    const put = await supertest(ctx.app).post('/xapi/activities/state?method=PUT').type('form').send(form({ activityId: 'https://lms.example.com/activities/alt', agent, stateId: 'bookmark', content: '{"page":3}', Authorization: auth, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json' }));
    expect(put.status).toBe(204);
    const got = await supertest(ctx.app).get(`/xapi/activities/state?activityId=${encodeURIComponent('https://lms.example.com/activities/alt')}&agent=${encodeURIComponent(agent)}&stateId=bookmark`).set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' });
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ page: 3 });
  });

  const refused: [string, () => supertest.Test, RegExp][] = [
    ['it is not issued as a POST', () => supertest(ctx.app).get('/xapi/statements?method=POST').set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' }), /sent as a POST/],
    ['parameters other than method are in the query string', () => supertest(ctx.app).post(`/xapi/statements?method=PUT&statementId=${randomUUID()}`).set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' }).type('form').send(form({ content: JSON.stringify(statement()) })), /form body, not the query string/],
    ['a PUT has no content field', () => alt('PUT', { statementId: randomUUID() }), /form field "content"/],
    ['the body is not form-encoded', () => supertest(ctx.app).post('/xapi/statements?method=PUT').set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' }).set('Content-Type', 'application/x-www-form-urlencoded').send(JSON.stringify({ statementId: randomUUID(), content: statement() })), /./],
    ['the content is not JSON', () => alt('PUT', { statementId: randomUUID(), content: '{not json' }), /not valid JSON/],
  ];
  it.each(refused)('answers 400 when %s, and stores nothing', async (_name, send, message) => {
    const before = await ctx.container.mongo.db!.collection('xapi_statements').countDocuments();
    const res = await send();
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
    expect(await ctx.container.mongo.db!.collection('xapi_statements').countDocuments()).toBe(before);
  });
});

describe('methods and cross-origin access', () => {
  it('DELETE /xapi/statements is 405 with an Allow header', async () => {
    const res = await supertest(ctx.app).delete('/xapi/statements').set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, PUT, POST');
    expect(res.body.error.message).toMatch(/voided/);
  });

  it('answers a CORS preflight for the LRS, and never allows credentials (cookies) cross-origin', async () => {
    const res = await supertest(ctx.app).options('/xapi/statements').set('Origin', 'https://cdn.example.com').set('Access-Control-Request-Method', 'POST').set('Access-Control-Request-Headers', 'authorization,content-type,x-experience-api-version');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toMatch(/X-Experience-API-Version/);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const get = await supertest(ctx.app).get('/xapi/about').set('Origin', 'https://cdn.example.com');
    expect(get.headers['access-control-expose-headers']).toMatch(/ETag/);
  });

  it('does not open the rest of Onramp to other origins', async () => {
    const res = await supertest(ctx.app).options('/sign-in').set('Origin', 'https://evil.example.com').set('Access-Control-Request-Method', 'POST');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
