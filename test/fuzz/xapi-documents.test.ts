import fc from 'fast-check';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENTS_COLLECTION } from '../../src/xapi/lrs/documents.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { anyJson, corpus, countDocuments, listen, NASTY_STRINGS, Tally } from './support.js';

/**
 * The LRS's document resources (State, Activity Profile, Agent Profile) with junk parameters and
 * bodies: operators and broken JSON in `agent`, ids that are not IRIs or UUIDs, bodies that are
 * not what their Content-Type says, JSON nested thousands deep. Never a 5xx; a refused write
 * stores nothing.
 */
let ctx: TestContext;
let http: Awaited<ReturnType<typeof listen>>;
let auth: string;
const tally = new Tally('xapi-documents');

const RESOURCES = {
  '/xapi/activities/state': ['activityId', 'agent', 'stateId', 'registration'],
  '/xapi/activities/profile': ['activityId', 'profileId'],
  '/xapi/agents/profile': ['agent', 'profileId'],
} as const;
const GOOD: Record<string, string> = { activityId: 'https://example.com/a', agent: '{"mbox":"mailto:a@example.com"}', stateId: 'bookmark', profileId: 'prefs', registration: '6a1e5a0e-2f44-4c8a-9c5e-1d3b1f4a7b21' };
const deep = (pairs: number) => `${'{"a":['.repeat(pairs)}1${']}'.repeat(pairs)}`;

const param = (name: string) => fc.oneof({ arbitrary: fc.constant(GOOD[name]!), weight: 12 }, fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length < 200)), fc.constantFrom('{"mbox":{"$ne":null}}', '{"$ne":null}', '{"mbox":"a@b.c"}', '{"account":{"homePage":"x","name":1}}', 'not json', 'http://', 'not a uuid'));
const body = fc.oneof(
  anyJson.map((v) => ({ type: 'application/json', text: JSON.stringify(v) })),
  fc.constantFrom('{', '{"a":1,}', 'NaN', deep(20_000), deep(40)).map((text) => ({ type: 'application/json', text })),
  fc.string({ maxLength: 40 }).map((text) => ({ type: 'text/plain', text })),
  fc.tuple(fc.constantFrom('application/octet-stream', 'application/json; charset=latin1', 'multipart/mixed', ''), fc.string({ maxLength: 20 })).map(([type, text]) => ({ type, text })),
);
const request = fc.record({
  method: fc.constantFrom('get' as const, 'put' as const, 'post' as const, 'delete' as const),
  path: fc.constantFrom(...(Object.keys(RESOURCES) as (keyof typeof RESOURCES)[])),
  params: fc.oneof({ arbitrary: fc.constant({}), weight: 3 }, fc.dictionary(fc.constantFrom('activityId', 'agent', 'stateId', 'profileId', 'registration', 'since', 'stateId[$ne]', '__proto__'), fc.constant(''), { maxKeys: 2 })),
  values: fc.record(Object.fromEntries(['activityId', 'agent', 'stateId', 'profileId', 'registration'].map((k) => [k, param(k)]))),
  drop: fc.oneof({ arbitrary: fc.constant([] as string[]), weight: 3 }, fc.subarray(['activityId', 'agent', 'stateId', 'profileId', 'registration'])),
  body,
  precondition: fc.constantFrom('', '', '*', '"nope"'),
});

interface DocumentRequest {
  method: 'get' | 'put' | 'post' | 'delete';
  path: keyof typeof RESOURCES;
  query: string;
  body: { type: string; text: string };
  /** '' none, '*' as If-None-Match, else as If-Match */
  precondition: string;
}

type RandomRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

async function send(label: string, r: DocumentRequest): Promise<void> {
  const before = await countDocuments(ctx.container.mongo, [DOCUMENTS_COLLECTION]);
  let req = supertest(http.server)[r.method](`${r.path}?${r.query}`).set('Authorization', auth).set('X-Experience-API-Version', '1.0.3');
  if (r.precondition) req = req.set(r.precondition === '*' ? 'If-None-Match' : 'If-Match', r.precondition);
  const res = r.method === 'put' || r.method === 'post' ? await req.set('Content-Type', r.body.type || 'application/octet-stream').send(r.body.text) : await req;
  const after = await countDocuments(ctx.container.mongo, [DOCUMENTS_COLLECTION]);
  const message = (res.body as { error?: { message?: string } } | undefined)?.error?.message ?? '';
  tally.check(`${r.method.toUpperCase()} ${r.path}?${r.query.slice(0, 120)} ${r.body.type} ${r.body.text.slice(0, 40)} → ${label}`, { status: res.status, message }, { before, after });
}

/** The resource's parameters (some dropped), plus extra ones it does not take. */
function requestOf(v: RandomRequest): DocumentRequest {
  const q = new URLSearchParams();
  for (const name of RESOURCES[v.path]) if (!v.drop.includes(name)) q.set(name, v.values[name]!);
  for (const name of Object.keys(v.params)) q.append(name, v.values[name] ?? 'x');
  return { method: v.method, path: v.path, query: q.toString(), body: v.body, precondition: v.precondition };
}

beforeAll(async () => {
  ctx = await createTestContext();
  http = await listen(ctx.app);
  const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Fuzz', scopes: ['all'] });
  auth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
});
afterAll(async () => {
  await http?.close();
  await ctx?.close();
});

describe('fuzz: xAPI document resources', () => {
  it('never answers junk parameters or bodies with a 5xx, and stores nothing for a refused write', async () => {
    const state = `activityId=${encodeURIComponent(GOOD.activityId!)}&agent=${encodeURIComponent(GOOD.agent!)}&stateId=deep`;
    const json = (text: string) => ({ type: 'application/json', text });
    // a deep document may be stored as bytes (PUT), but not merged into or with (POST): 400, never a stack overflow
    await send('PUT deep', { method: 'put', path: '/xapi/activities/state', query: state, body: json(deep(20_000)), precondition: '' });
    await send('POST onto deep', { method: 'post', path: '/xapi/activities/state', query: state, body: json('{"b":1}'), precondition: '' });
    await send('POST deep', { method: 'post', path: '/xapi/activities/state', query: `${state}2`, body: json('{"b":1}'), precondition: '' });
    await send('POST deep onto shallow', { method: 'post', path: '/xapi/activities/state', query: `${state}2`, body: json(deep(20_000)), precondition: '' });
    const merged = await supertest(http.server).post(`/xapi/activities/state?${state}`).set('Authorization', auth).set('X-Experience-API-Version', '1.0.3').type('json').send('{"b":1}');
    expect(merged.status).toBe(400);
    expect(merged.body.error.message).toMatch(/nested at most 64 levels deep, and the stored document is deeper/);
    for (const [i, v] of corpus(request, 300).entries()) await send(`#${i}`, requestOf(v));
    tally.report();
  });
});
