import { createHash, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import XAPIModule from '@xapi/xapi';
import express, { type ErrorRequestHandler, type Express } from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteSummary } from '../../src/http/route.js';
import { DOCUMENTS_COLLECTION, documentRoutes } from '../../src/xapi/lrs/documents.js';
import { lrsRoutes } from '../../src/xapi/lrs/routes.js';
import { serve } from '../support/browser.js';
import { createTestContext, type TestContext } from '../support/context.js';

// The package's types describe its CommonJS build; its class is also its own static `default`.
const XAPI = XAPIModule.default;
type XAPI = InstanceType<typeof XAPI>;

/**
 * The Document Resources (State, Activity Profile, Agent Profile) and the Activities and Agents
 * resources, spoken to over real HTTP by a third-party client (@xapi/xapi) and, for the edge
 * cases it cannot express, by supertest.
 */
let ctx: TestContext;
let server: Server;
let xapi: XAPI;
let auth: string;

/**
 * The real app once documentRoutes is wired into createApp; until then an app that parses bodies
 * and mounts routes the way createApp does (global urlencoded + JSON parsers, then `before`, then
 * the handler), so the body handling under test is the same.
 */
function appFor(c: TestContext): Express {
  if ((c.app.locals.routes as RouteSummary[]).some((r) => r.path === '/xapi/activities/state')) return c.app;
  const app = express();
  app.set('query parser', 'simple');
  app.use(express.urlencoded({ extended: false, limit: '1mb' }));
  app.use(express.json({ limit: '1mb' }));
  for (const r of [...lrsRoutes(c.container), ...documentRoutes(c.container)]) {
    app[r.method](r.path, ...(r.before ?? []), async (req, res, next) => {
      try {
        await r.handler(req, res, next);
      } catch (err) {
        next(err);
      }
    });
  }
  const errors: ErrorRequestHandler = (err: { status?: number; message?: string }, _req, res, _next) => {
    res.status(err.status ?? 500).json({ error: { message: err.message } });
  };
  app.use(errors);
  return app;
}

const sha1 = (data: string | Buffer) => createHash('sha1').update(data).digest('hex');
const agent = { objectType: 'Agent' as const, name: 'Riley Chen', mbox: 'mailto:riley@example.com' };
/** a fresh activity per test, so that lists and bulk deletes see only that test's documents */
const newActivity = () => `https://lms.example.com/activities/${randomUUID()}`;
const xapiHeaders = () => ({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' });
const query = (params: Record<string, unknown>) =>
  new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString();
/** a supertest parser that keeps the body as bytes (its typings do not say the response is a stream; it is) */
const binary = (res: unknown, done: (err: Error | null, body: Buffer) => void) => {
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const statusOf = (p: Promise<unknown>) => p.then(
  () => 200,
  (err: { response?: { status: number } }) => err.response?.status ?? 0,
);

beforeAll(async () => {
  ctx = await createTestContext();
  const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Course player', scopes: ['all'] });
  let base: string;
  ({ server, base } = await serve(appFor(ctx)));
  auth = XAPI.toBasicAuth(key, secret);
  xapi = new XAPI({ endpoint: `${base}/xapi/`, auth, version: '1.0.3' });
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await ctx?.close();
});

describe('the State resource', () => {
  it('stores a document, returns it with ETag and Last-Modified, lists, merges and deletes it', async () => {
    const activityId = newActivity();
    const state = { page: 3, 'https://lms.example.com/ext/last.section': { $where: 'not an operator' } };
    await xapi.setState({ agent, activityId, stateId: 'bookmark', state });

    const got = await xapi.getState({ agent, activityId, stateId: 'bookmark' });
    expect(got.data).toEqual(state);
    expect(got.headers.etag).toBe(`"${sha1(JSON.stringify(state))}"`);
    expect(Math.abs(Date.parse(got.headers['last-modified']) - Date.now())).toBeLessThan(60_000);
    expect(got.headers['content-type']).toMatch(/^application\/json/);
    expect((await xapi.getStates({ agent, activityId })).data).toEqual(['bookmark']);

    await xapi.createState({ agent, activityId, stateId: 'bookmark', state: { progress: 0.5, page: 4 } });
    expect((await xapi.getState({ agent, activityId, stateId: 'bookmark' })).data).toEqual({ ...state, page: 4, progress: 0.5 });

    await xapi.deleteState({ agent, activityId, stateId: 'bookmark' });
    expect(await statusOf(xapi.getState({ agent, activityId, stateId: 'bookmark' }))).toBe(404);
    // deleting what is not there is not an error
    await xapi.deleteState({ agent, activityId, stateId: 'bookmark' });
  });

  it('keeps registrations apart: reads and lists by registration, deletes by scope', async () => {
    const activityId = newActivity();
    const [reg1, reg2] = [randomUUID(), randomUUID()];
    await xapi.setState({ agent, activityId, stateId: 'plain', state: { n: 0 } });
    await xapi.setState({ agent, activityId, stateId: 'first', registration: reg1, state: { n: 1 } });
    await xapi.setState({ agent, activityId, stateId: 'second', registration: reg2, state: { n: 2 } });
    await xapi.setState({ agent, activityId, stateId: 'plain', registration: reg2, state: { n: 22 } });

    expect((await xapi.getState({ agent, activityId, stateId: 'plain' })).data).toEqual({ n: 0 });
    expect((await xapi.getState({ agent, activityId, stateId: 'plain', registration: reg2.toUpperCase() })).data).toEqual({ n: 22 });
    expect(await statusOf(xapi.getState({ agent, activityId, stateId: 'first' }))).toBe(404);
    expect((await xapi.getStates({ agent, activityId, registration: reg1 })).data).toEqual(['first']);
    expect((await xapi.getStates({ agent, activityId })).data.sort()).toEqual(['first', 'plain', 'second']);
    // another agent sees none of them
    expect((await xapi.getStates({ agent: { mbox: 'mailto:sam@example.com' }, activityId })).data).toEqual([]);

    await xapi.deleteStates({ agent, activityId, registration: reg2 });
    expect((await xapi.getStates({ agent, activityId })).data.sort()).toEqual(['first', 'plain']);
    expect((await xapi.getState({ agent, activityId, stateId: 'plain' })).data).toEqual({ n: 0 });
    await xapi.deleteStates({ agent, activityId });
    expect((await xapi.getStates({ agent, activityId })).data).toEqual([]);
  });

  it('identifies the agent by its identifier, whatever else the agent JSON says', async () => {
    const activityId = newActivity();
    await xapi.setState({ agent: { mbox: 'mailto:Riley@EXAMPLE.com' }, activityId, stateId: 's', state: { ok: true } });
    const same = { objectType: 'Agent' as const, name: 'R. Chen', mbox: 'mailto:Riley@example.com' };
    expect((await xapi.getState({ agent: same, activityId, stateId: 's' })).data).toEqual({ ok: true });
    const account = { objectType: 'Agent' as const, account: { homePage: 'https://crm.example.com', name: 'rchen' } };
    await xapi.setState({ agent: account, activityId, stateId: 's', state: { other: true } });
    expect((await xapi.getState({ agent: { account: account.account }, activityId, stateId: 's' })).data).toEqual({ other: true });
    expect((await xapi.getState({ agent: same, activityId, stateId: 's' })).data).toEqual({ ok: true });
  });

  it('lists only the documents changed after since (State, Activity Profile, Agent Profile)', async () => {
    const activityId = newActivity();
    const someone = { mbox: `mailto:${randomUUID()}@example.com` };
    await xapi.setState({ agent, activityId, stateId: 'early', state: { a: 1 } });
    await xapi.setState({ agent, activityId, stateId: 'touched', state: { a: 1 } });
    await xapi.setActivityProfile({ activityId, profileId: 'early', profile: { a: 1 }, etag: '*', matchHeader: 'If-None-Match' });
    await xapi.setAgentProfile({ agent: someone, profileId: 'early', profile: { a: 1 }, etag: '*', matchHeader: 'If-None-Match' });
    await sleep(25);
    const since = new Date().toISOString();
    await sleep(25);
    await xapi.setState({ agent, activityId, stateId: 'late', state: { b: 2 } });
    await xapi.createState({ agent, activityId, stateId: 'touched', state: { b: 2 } });
    await xapi.createActivityProfile({ activityId, profileId: 'late', profile: { b: 2 } });
    await xapi.createAgentProfile({ agent: someone, profileId: 'late', profile: { b: 2 } });

    expect((await xapi.getStates({ agent, activityId, since })).data.sort()).toEqual(['late', 'touched']);
    expect((await xapi.getStates({ agent, activityId })).data.sort()).toEqual(['early', 'late', 'touched']);
    expect((await xapi.getActivityProfiles({ activityId, since })).data).toEqual(['late']);
    expect((await xapi.getAgentProfiles({ agent: someone, since })).data).toEqual(['late']);
    expect((await xapi.getAgentProfiles({ agent: someone })).data.sort()).toEqual(['early', 'late']);
    // since does not filter a single document
    expect((await xapi.getState({ agent, activityId, stateId: 'early' })).data).toEqual({ a: 1 });
    const one = `/xapi/activities/state?${query({ agent, activityId, stateId: 'early', since })}`;
    await supertest(server).get(one).set(xapiHeaders()).expect(200);
  });
});

describe('documents that are not JSON', () => {
  const url = (activityId: string, stateId: string) => `/xapi/activities/state?${query({ agent, activityId, stateId })}`;
  const getBytes = (path: string) => supertest(server).get(path).set(xapiHeaders()).buffer(true).parse(binary);

  it('stores text and binary documents byte for byte and returns them with their content type', async () => {
    const activityId = newActivity();
    const text = Buffer.from('Grüße,\r\n  second line\twith a tab\n', 'utf8');
    await supertest(server).put(url(activityId, 'notes')).set(xapiHeaders()).set('Content-Type', 'text/plain; charset=utf-8').send(text).expect(204);
    const got = await getBytes(url(activityId, 'notes')).expect(200);
    expect(got.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(Buffer.compare(got.body as Buffer, text)).toBe(0);
    expect(got.headers.etag).toBe(`"${sha1(text)}"`);
    expect(got.headers['last-modified']).toBeTruthy();

    const bytes = Buffer.from([0, 255, 10, 13, 0x80, 0x7f, 0x24, 0x2e, 0]);
    await supertest(server).put(url(activityId, 'blob')).set(xapiHeaders()).set('Content-Type', 'application/octet-stream').send(bytes).expect(204);
    const blob = await getBytes(url(activityId, 'blob')).expect(200);
    expect(blob.headers['content-type']).toBe('application/octet-stream');
    expect(Buffer.compare(blob.body as Buffer, bytes)).toBe(0);
    expect(blob.headers.etag).toBe(`"${sha1(bytes)}"`);

    // HEAD answers the headers without the body
    const head = await supertest(server).head(url(activityId, 'blob')).set(xapiHeaders()).expect(200);
    expect(head.headers.etag).toBe(`"${sha1(bytes)}"`);
    // stored as bytes, never as an object with the client's keys
    const col = ctx.container.mongo.db!.collection(DOCUMENTS_COLLECTION);
    expect(await col.findOne({ docId: 'blob', activityId })).toMatchObject({ resource: 'state', contentType: 'application/octet-stream', etag: sha1(bytes) });
    // the list indexes exist (created on first use)
    expect((await col.indexes()).map((i) => Object.keys(i.key as object).join(','))).toEqual(
      expect.arrayContaining(['resource,activityId,agent,registration,updated', 'resource,agent,updated']),
    );
  });

  it('refuses to merge when either document is not a JSON object, and changes nothing', async () => {
    const activityId = newActivity();
    await supertest(server).put(url(activityId, 'text')).set(xapiHeaders()).set('Content-Type', 'text/plain').send('plain words').expect(204);
    const intoText = await supertest(server).post(url(activityId, 'text')).set(xapiHeaders()).send({ a: 1 }).expect(400);
    expect(intoText.body.error.message).toContain('text/plain');
    expect((await getBytes(url(activityId, 'text'))).body.toString()).toBe('plain words');

    await xapi.setState({ agent, activityId, stateId: 'json', state: { a: 1 } });
    await supertest(server).post(url(activityId, 'json')).set(xapiHeaders()).set('Content-Type', 'application/octet-stream').send(Buffer.from('abc')).expect(400);
    await supertest(server).post(url(activityId, 'json')).set(xapiHeaders()).send([1, 2]).expect(400);
    expect((await xapi.getState({ agent, activityId, stateId: 'json' })).data).toEqual({ a: 1 });

    // a JSON array stored by PUT is JSON, but not an object: no merging into it either
    await supertest(server).put(url(activityId, 'list')).set(xapiHeaders()).send([1, 2]).expect(204);
    await supertest(server).post(url(activityId, 'list')).set(xapiHeaders()).send({ a: 1 }).expect(400);

    // with nothing stored, a POST stores any document as a PUT would
    await supertest(server).post(url(activityId, 'new')).set(xapiHeaders()).set('Content-Type', 'application/octet-stream').send(Buffer.from('xyz')).expect(204);
    expect((await getBytes(url(activityId, 'new'))).body.toString()).toBe('xyz');
    // form-encoded bodies (parsed by the app's global parser) are stored re-encoded, with their type
    await supertest(server).post(url(activityId, 'form')).set(xapiHeaders()).type('form').send('a=1&b=two+words&a=3').expect(204);
    const form = await getBytes(url(activityId, 'form')).expect(200);
    expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(form.body.toString()).getAll('a')).toEqual(['1', '3']);
    expect(new URLSearchParams(form.body.toString()).get('b')).toBe('two words');
  });

  it('refuses a document larger than 10 MB', async () => {
    const activityId = newActivity();
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);
    const res = await supertest(server).put(url(activityId, 'big')).set(xapiHeaders()).set('Content-Type', 'application/octet-stream').send(big);
    expect(res.status).toBe(413);
    expect((await xapi.getStates({ agent, activityId })).data).toEqual([]);
  });

  it('refuses a document labelled application/json that is not JSON', async () => {
    const activityId = newActivity();
    for (const method of ['put', 'post'] as const) {
      await supertest(server)[method](url(activityId, 'broken')).set(xapiHeaders()).set('Content-Type', 'application/json').send('{"a": 1').expect(400);
    }
    expect((await xapi.getStates({ agent, activityId })).data).toEqual([]);
  });
});

describe('concurrency (ETags, If-Match, If-None-Match)', () => {
  const stale = '"1111111111111111111111111111111111111111"';

  it('guards Activity Profile writes: 412 on a failed precondition, 409 for a blind overwrite, 400 for a blind create', async () => {
    const activityId = newActivity();
    const profileId = 'settings';
    const path = (id = profileId) => `/xapi/activities/profile?${query({ activityId, profileId: id })}`;
    await xapi.setActivityProfile({ activityId, profileId, profile: { v: 1 }, etag: '*', matchHeader: 'If-None-Match' });
    expect(await statusOf(xapi.setActivityProfile({ activityId, profileId, profile: { v: 9 }, etag: '*', matchHeader: 'If-None-Match' }))).toBe(412);

    const first = await xapi.getActivityProfile({ activityId, profileId });
    expect(first.data).toEqual({ v: 1 });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{40}"$/);

    const blind = await supertest(server).put(path()).set(xapiHeaders()).send({ v: 9 }).expect(409);
    expect(blind.body.error.message).toContain('If-Match');
    const create = await supertest(server).put(path('other')).set(xapiHeaders()).send({ v: 9 }).expect(400);
    expect(create.body.error.message).toContain('If-None-Match');
    expect(await statusOf(xapi.setActivityProfile({ activityId, profileId, profile: { v: 9 }, etag: stale, matchHeader: 'If-Match' }))).toBe(412);
    expect(await statusOf(xapi.setActivityProfile({ activityId, profileId: 'missing', profile: { v: 9 }, etag: '*', matchHeader: 'If-Match' }))).toBe(412);
    expect((await xapi.getActivityProfile({ activityId, profileId })).data).toEqual({ v: 1 });

    await xapi.setActivityProfile({ activityId, profileId, profile: { v: 2 }, etag, matchHeader: 'If-Match' });
    const second = await xapi.getActivityProfile({ activityId, profileId });
    expect(second.data).toEqual({ v: 2 });
    // a merge with the old ETag fails; without a precondition it merges
    expect(await statusOf(xapi.createActivityProfile({ activityId, profileId, profile: { w: 1 }, etag, matchHeader: 'If-Match' }))).toBe(412);
    await xapi.createActivityProfile({ activityId, profileId, profile: { w: 1 } });
    const merged = await xapi.getActivityProfile({ activityId, profileId });
    expect(merged.data).toEqual({ v: 2, w: 1 });
    expect((await xapi.getActivityProfiles({ activityId })).data).toEqual([profileId]);

    expect(await statusOf(xapi.deleteActivityProfile({ activityId, profileId, etag: second.headers.etag as string }))).toBe(412);
    await xapi.deleteActivityProfile({ activityId, profileId, etag: merged.headers.etag as string });
    expect(await statusOf(xapi.getActivityProfile({ activityId, profileId }))).toBe(404);
    expect((await xapi.getActivityProfiles({ activityId })).data).toEqual([]);
  });

  it('exempts State from the required header, but honours the ones given', async () => {
    const activityId = newActivity();
    const path = `/xapi/activities/state?${query({ agent, activityId, stateId: 's' })}`;
    await supertest(server).put(path).set(xapiHeaders()).send({ v: 1 }).expect(204);
    const put = await supertest(server).put(path).set(xapiHeaders()).send({ v: 2 }).expect(204);
    expect(put.headers.etag).toBe(`"${sha1(JSON.stringify({ v: 2 }))}"`);
    await supertest(server).put(path).set(xapiHeaders()).set('If-Match', stale).send({ v: 3 }).expect(412);
    await supertest(server).put(path).set(xapiHeaders()).set('If-None-Match', '*').send({ v: 3 }).expect(412);
    await supertest(server).post(path).set(xapiHeaders()).set('If-Match', stale).send({ w: 3 }).expect(412);
    await supertest(server).delete(path).set(xapiHeaders()).set('If-Match', stale).expect(412);
    expect((await xapi.getState({ agent, activityId, stateId: 's' })).data).toEqual({ v: 2 });
    // the current ETag, quoted or not, and If-Match: *
    await supertest(server).put(path).set(xapiHeaders()).set('If-Match', put.headers.etag as string).send({ v: 3 }).expect(204);
    await supertest(server).put(path).set(xapiHeaders()).set('If-Match', sha1(JSON.stringify({ v: 3 }))).send({ v: 4 }).expect(204);
    await supertest(server).put(path).set(xapiHeaders()).set('If-Match', '*').send({ v: 5 }).expect(204);
    // a GET with the current ETag in If-None-Match is answered 304
    const current = `"${sha1(JSON.stringify({ v: 5 }))}"`;
    await supertest(server).get(path).set(xapiHeaders()).set('If-None-Match', current).expect(304);
    await supertest(server).delete(path).set(xapiHeaders()).set('If-Match', current).expect(204);
    await supertest(server).get(path).set(xapiHeaders()).expect(404);
  });
});

describe('the Agent Profile resource', () => {
  it('stores, merges, lists and deletes an agent profile through @xapi/xapi', async () => {
    const who = { objectType: 'Agent' as const, account: { homePage: 'https://crm.example.com', name: randomUUID() } };
    await xapi.setAgentProfile({ agent: who, profileId: 'prefs', profile: { theme: 'dark' }, etag: '*', matchHeader: 'If-None-Match' });
    await xapi.createAgentProfile({ agent: who, profileId: 'prefs', profile: { locale: 'de-DE' } });
    const got = await xapi.getAgentProfile({ agent: who, profileId: 'prefs' });
    expect(got.data).toEqual({ theme: 'dark', locale: 'de-DE' });
    expect(got.headers.etag).toBe(`"${sha1(JSON.stringify({ theme: 'dark', locale: 'de-DE' }))}"`);
    expect((await xapi.getAgentProfiles({ agent: who })).data).toEqual(['prefs']);
    // the same account without objectType is the same agent
    expect((await xapi.getAgentProfiles({ agent: { account: who.account } })).data).toEqual(['prefs']);
    const path = `/xapi/agents/profile?${query({ agent: who, profileId: 'prefs' })}`;
    await supertest(server).put(path).set(xapiHeaders()).send({ theme: 'light' }).expect(409);
    await xapi.deleteAgentProfile({ agent: who, profileId: 'prefs' });
    expect(await statusOf(xapi.getAgentProfile({ agent: who, profileId: 'prefs' }))).toBe(404);
  });
});

describe('the Activities and Agents resources', () => {
  it('returns the activity definition seen in statements, or just the id', async () => {
    const id = `https://lms.example.com/activities/${randomUUID()}`;
    const definition = { name: { 'en-US': 'Discovery call' }, type: 'http://adlnet.gov/expapi/activities/simulation' };
    await xapi.sendStatement({ statement: { actor: agent, verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' }, object: { objectType: 'Activity', id, definition } } });
    // a later statement without a definition does not hide it
    await xapi.sendStatement({ statement: { actor: agent, verb: { id: 'http://adlnet.gov/expapi/verbs/attempted' }, object: { objectType: 'Activity', id } } });
    expect((await xapi.getActivity({ activityId: id })).data).toEqual({ objectType: 'Activity', id, definition });
    const unknown = `https://lms.example.com/activities/${randomUUID()}`;
    expect((await xapi.getActivity({ activityId: unknown })).data).toEqual({ objectType: 'Activity', id: unknown });
  });

  it('returns a Person for an agent, with the names statements gave it', async () => {
    const mbox = `mailto:${randomUUID()}@example.com`;
    await xapi.sendStatement({
      statement: { actor: { objectType: 'Agent', name: 'Jordan Lee', mbox }, verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' }, object: { id: newActivity() } },
    });
    expect((await xapi.getAgent({ agent: { objectType: 'Agent', mbox } })).data).toEqual({ objectType: 'Person', name: ['Jordan Lee'], mbox: [mbox] });
    expect((await xapi.getAgent({ agent: { objectType: 'Agent', name: 'J. Lee', mbox } })).data).toEqual({ objectType: 'Person', name: ['J. Lee', 'Jordan Lee'], mbox: [mbox] });
    const account = { homePage: 'https://crm.example.com', name: 'nobody' };
    expect((await xapi.getAgent({ agent: { objectType: 'Agent', account } })).data).toEqual({ objectType: 'Person', account: [account] });
  });

  it('answers 405 to methods the read-only resources do not have', async () => {
    for (const method of ['post', 'put', 'delete'] as const) {
      const res = await supertest(server)[method](`/xapi/activities?${query({ activityId: newActivity() })}`).set('X-Experience-API-Version', '1.0.3').expect(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      await supertest(server)[method](`/xapi/agents?${query({ agent })}`).set(xapiHeaders()).expect(405);
    }
  });
});

describe('bad requests', () => {
  const activityId = 'https://lms.example.com/activities/validation';
  const cases: [string, 'get' | 'put' | 'post' | 'delete', string, Record<string, unknown>, string][] = [
    ['no activityId', 'get', '/xapi/activities/state', { agent, stateId: 's' }, 'activityId'],
    ['activityId not an IRI', 'put', '/xapi/activities/state', { activityId: 'not an iri', agent, stateId: 's' }, 'activityId'],
    ['activityId a JSON object', 'get', '/xapi/activities/state', { activityId: { key: 'value' }, agent }, 'activityId'],
    ['no agent', 'post', '/xapi/activities/state', { activityId, stateId: 's' }, 'agent'],
    ['agent not JSON', 'delete', '/xapi/activities/state', { activityId, agent: 'not JSON' }, 'agent'],
    ['agent without an identifier', 'get', '/xapi/activities/state', { activityId, agent: { objectType: 'Agent', name: 'Nobody' } }, 'agent needs exactly one'],
    ['agent with a foreign property', 'get', '/xapi/activities/state', { activityId, agent: { key: 'value' } }, '"key"'],
    ['agent with two identifiers', 'get', '/xapi/activities/state', { activityId, agent: { mbox: 'mailto:a@b.c', openid: 'https://id.example.com/a' } }, 'mbox and openid'],
    ['agent with a bad mbox', 'get', '/xapi/agents/profile', { agent: { mbox: 'a@b.c' } }, 'mbox'],
    ['agent a number', 'get', '/xapi/agents', { agent: 1 }, 'agent'],
    ['no stateId on PUT', 'put', '/xapi/activities/state', { activityId, agent }, 'stateId'],
    ['no stateId on POST', 'post', '/xapi/activities/state', { activityId, agent }, 'stateId'],
    ['registration not a UUID', 'get', '/xapi/activities/state', { activityId, agent, registration: 'not-a-uuid' }, 'registration'],
    ['since not a timestamp', 'get', '/xapi/activities/state', { activityId, agent, since: 'yesterday' }, 'since'],
    ['since without a zone', 'get', '/xapi/activities/profile', { activityId, since: '2024-05-18T09:30:00' }, 'since'],
    ['no profileId on DELETE', 'delete', '/xapi/activities/profile', { activityId }, 'profileId'],
    ['no profileId on PUT', 'put', '/xapi/agents/profile', { agent }, 'profileId'],
    ['no agent for an agent profile', 'get', '/xapi/agents/profile', { profileId: 'p' }, 'agent'],
    ['a parameter in the wrong case', 'get', '/xapi/activities/state', { activityId, agent, StateId: 's' }, 'StateId'],
    ['a parameter the resource does not take', 'get', '/xapi/activities/profile', { activityId, agent }, 'agent'],
    ['since on a PUT', 'put', '/xapi/activities/state', { activityId, agent, stateId: 's', since: '2024-05-18T09:30:00Z' }, 'since'],
    ['no activityId for Activities', 'get', '/xapi/activities', {}, 'activityId'],
    ['no agent for Agents', 'get', '/xapi/agents', {}, 'agent'],
  ];
  for (const [name, method, path, params, message] of cases) {
    it(`answers 400 naming the parameter: ${name}`, async () => {
      const res = await supertest(server)[method](`${path}?${query(params)}`).set(xapiHeaders()).set('If-None-Match', '*').send({ a: 1 }).expect(400);
      expect(res.body.error.message).toContain(message);
      expect(res.headers['x-experience-api-version']).toBe('1.0.3');
    });
  }

  it('answers 400 when a parameter is given twice', async () => {
    const res = await supertest(server).get(`/xapi/activities/state?${query({ activityId, agent })}&activityId=${encodeURIComponent(activityId)}`).set(xapiHeaders()).expect(400);
    expect(res.body.error.message).toContain('activityId');
  });
});

describe('credentials and scopes', () => {
  const path = () => `/xapi/activities/state?${query({ agent, activityId: 'https://lms.example.com/activities/scoped', stateId: 's' })}`;

  it('needs Basic credentials and the version header', async () => {
    const res = await supertest(server).get(path()).set('X-Experience-API-Version', '1.0.3').expect(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    await supertest(server).put(path()).set('X-Experience-API-Version', '1.0.3').send({ a: 1 }).expect(401);
    await supertest(server).get(path()).set('Authorization', auth).expect(400);
  });

  it('lets reading credentials read, and only state (or all) credentials write', async () => {
    const reader = await ctx.container.lrsCredentials.issue('system', { name: 'Reader', scopes: ['statements/read'] });
    const stateful = await ctx.container.lrsCredentials.issue('system', { name: 'State only', scopes: ['state'] });
    const writer = await ctx.container.lrsCredentials.issue('system', { name: 'Statements writer', scopes: ['statements/write'] });
    const as = (k: { key: string; secret: string }) => ({ Authorization: XAPI.toBasicAuth(k.key, k.secret), 'X-Experience-API-Version': '1.0.3' });

    await supertest(server).put(path()).set(as(stateful)).send({ a: 1 }).expect(204);
    await supertest(server).get(path()).set(as(stateful)).expect(200);
    await supertest(server).get(path()).set(as(reader)).expect(200);
    const refused = await supertest(server).put(path()).set(as(reader)).send({ a: 2 }).expect(403);
    expect(refused.body.error.message).toContain('state');
    await supertest(server).post(path()).set(as(writer)).send({ a: 2 }).expect(403);
    await supertest(server).delete(path()).set(as(reader)).expect(403);
    await supertest(server).get(`/xapi/activities?${query({ activityId: newActivity() })}`).set(as(stateful)).expect(200);
    expect((await supertest(server).get(path()).set(as(reader))).body).toEqual({ a: 1 });
  });
});
