import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { PackageSource } from '../../src/xapi/cmi5/package.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/** cmi5 launch end to end over HTTP: launch, fetch, LMS.LaunchData, the AU's statements, moveOn. */
let ctx: TestContext;
let people: DemoPeople;
let enrollmentId: string;

const AU = 'https://example.com/drill/au';
const COURSE = 'https://example.com/drill';
const xml = `<?xml version="1.0"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="${COURSE}"><title><langstring lang="en-US">Drill</langstring></title></course>
  <block id="${COURSE}/block">
    <title><langstring lang="en-US">Block</langstring></title>
    <au id="${AU}" moveOn="CompletedAndPassed" masteryScore="0.75"><title><langstring lang="en-US">Drill AU</langstring></title><url>index.html?lang=en</url></au>
  </block>
</courseStructure>`;
const pkg: PackageSource = { name: 'drill', origin: 'demo/cmi5/drill', files: new Map([['cmi5.xml', Buffer.from(xml)], ['index.html', Buffer.from('<!doctype html><title>Drill</title>')]]) };
const drillModule = `---
id: drill
title: Drill
phase: basics
modality: elearning
minutes: 5
cmi5:
  package: drill
---
Launch the drill.
`;

const V = (v: string) => `http://adlnet.gov/expapi/verbs/${v}`;
const CAT = { cmi5: { id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' }, moveOn: { id: 'https://w3id.org/xapi/cmi5/context/categories/moveon' } };
const SESSION = 'https://w3id.org/xapi/cmi5/context/extensions/sessionid';
const MASTERY = 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore';

interface Launch {
  url: URL;
  endpoint: string;
  fetchUrl: string;
  actor: { objectType: string; account: { homePage: string; name: string } };
  registration: string;
  activityId: string;
}

async function launch(): Promise<Launch> {
  const rep = await signIn(ctx.app, people.rep1.email);
  await rep.agent.get(`/learn/${enrollmentId}/modules/drill`).expect(200);
  const res = await rep.agent.post(`/learn/${enrollmentId}/modules/drill/launch`).type('form').send({ _csrf: rep.csrf });
  expect(res.status).toBe(303);
  const url = new URL(res.headers.location!);
  const p = url.searchParams;
  return { url, endpoint: p.get('endpoint')!, fetchUrl: p.get('fetch')!, actor: JSON.parse(p.get('actor')!), registration: p.get('registration')!, activityId: p.get('activityId')! };
}

const path = (absolute: string) => new URL(absolute).pathname + new URL(absolute).search;

/** What an AU does first: fetch its token, read LMS.LaunchData and the learner preferences. */
async function start(l: Launch) {
  const fetched = await supertest(ctx.app).post(path(l.fetchUrl)).expect(200);
  const auth = `Basic ${fetched.body['auth-token']}`;
  const h = { Authorization: auth, 'X-Experience-API-Version': '1.0.3' };
  const agent = encodeURIComponent(JSON.stringify(l.actor));
  const state = await supertest(ctx.app).get(`/xapi/activities/state?stateId=LMS.LaunchData&activityId=${encodeURIComponent(l.activityId)}&agent=${agent}&registration=${l.registration}`).set(h);
  expect(state.status).toBe(200);
  const launchData = state.body as { contextTemplate: { extensions: Record<string, string> }; launchMode: string; moveOn: string; masteryScore: number; returnURL: string };
  const prefs = await supertest(ctx.app).get(`/xapi/agents/profile?profileId=cmi5LearnerPreferences&agent=${agent}`).set(h);
  expect(prefs.status).toBe(404);
  const sessionId = launchData.contextTemplate.extensions[SESSION]!;
  const statement = (verb: string, extra: { result?: Record<string, unknown>; moveOn?: boolean; extensions?: Record<string, unknown>; cmi5?: boolean } = {}) => ({
    id: randomUUID(),
    actor: l.actor,
    verb: { id: V(verb) },
    object: { objectType: 'Activity', id: l.activityId },
    ...(extra.result ? { result: extra.result } : {}),
    context: {
      registration: l.registration,
      contextActivities: { grouping: [{ id: AU }], ...(extra.cmi5 === false ? {} : { category: [CAT.cmi5, ...(extra.moveOn ? [CAT.moveOn] : [])] }) },
      extensions: { [SESSION]: sessionId, ...(extra.extensions ?? {}) },
    },
    timestamp: new Date().toISOString(),
  });
  const send = (s: unknown) => supertest(ctx.app).post('/xapi/statements').set(h).send(s as object);
  return { auth, h, launchData, sessionId, statement, send, fetched };
}

async function facts() {
  return (await ctx.container.enrollments.view({ id: people.rep1.id, role: 'rep' }, enrollmentId)).enrollment.facts;
}

async function lmsStatements(verb: string) {
  const docs = await ctx.container.mongo.db!.collection('xapi_statements').find({ verb }).toArray();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- statements read back as plain JSON, checked by the test
  return docs.map((d) => JSON.parse(d.json as string) as Record<string, any>);
}

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  const { content, packages, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/modules/00-drill.md': drillModule }), [pkg]);
  expect(problems).toEqual([]);
  await ctx.container.curricula.publish('cli', content!, packages);
  ({ enrollment: { _id: enrollmentId } } = (await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' })) as never);
  enrollmentId = String(enrollmentId);
});
afterAll(async () => ctx?.close());

describe('cmi5 launch', () => {
  it('launches with the five parameters, a one-time fetch URL and LMS.LaunchData', async () => {
    const l = await launch();
    expect(l.url.pathname).toMatch(/^\/cmi5\/content\/[0-9a-f-]{36}\/index\.html$/);
    expect(l.url.searchParams.get('lang')).toBe('en'); // the AU's own query parameter is kept
    expect(l.url.origin).not.toBe(new URL(ctx.config.publicUrl).origin); // content runs in an origin of its own
    expect(new URL(l.endpoint).origin).toBe(new URL(ctx.config.publicUrl).origin);
    expect(l.endpoint).toMatch(/\/xapi$/);
    expect(l.actor).toMatchObject({ objectType: 'Agent', account: { name: people.rep1.id } });
    expect(l.registration).toMatch(/^[0-9a-f-]{36}$/);
    expect(l.activityId).not.toBe(AU);

    const page = await supertest(ctx.app).get(path(l.url.href)).expect(200);
    expect(page.headers['content-security-policy']).toMatch(/unsafe-inline/);
    expect(page.text).toContain('<title>Drill</title>');

    const a = await start(l);
    expect(a.launchData).toMatchObject({ launchMode: 'Normal', moveOn: 'CompletedAndPassed', masteryScore: 0.75, returnURL: expect.stringContaining(`/learn/${enrollmentId}/modules/drill`) });
    const again = await supertest(ctx.app).post(path(l.fetchUrl)).expect(200);
    expect(again.body).toMatchObject({ 'error-code': '1' });
    expect(again.body['auth-token']).toBeUndefined();
    const bogus = await supertest(ctx.app).post('/cmi5/fetch/nope.nope').expect(200);
    expect(bogus.body['error-code']).toBe('2');

    const launched = (await lmsStatements(V('launched'))).find((s) => s.context.extensions[SESSION] === a.sessionId)!;
    expect(launched.context.extensions['https://w3id.org/xapi/cmi5/context/extensions/launchmode']).toBe('Normal');
    expect(launched.context.extensions['https://w3id.org/xapi/cmi5/context/extensions/launchurl']).not.toContain('fetch=');
    expect(launched.context.contextActivities.grouping[0].id).toBe(AU);
    expect(launched.context.registration).toBe(l.registration);
  });

  it('applies the cmi5 rules to the AU and completes the module when moveOn is met', async () => {
    const l = await launch();
    const a = await start(l);
    // not initialized yet
    expect((await a.send(a.statement('completed', { moveOn: true, result: { completion: true, duration: 'PT1M' } }))).status).toBe(403);
    expect((await a.send(a.statement('initialized'))).status).toBe(200);
    const wrongActor = { ...a.statement('experienced', { cmi5: false }), actor: { objectType: 'Agent', mbox: 'mailto:someone@example.com' } };
    expect((await a.send(wrongActor)).status).toBe(403);
    expect((await a.send(a.statement('experienced', { cmi5: false }))).status).toBe(200); // cmi5 "allowed"
    const lowPass = a.statement('passed', { moveOn: true, result: { success: true, score: { scaled: 0.5 }, duration: 'PT2M' }, extensions: { [MASTERY]: 0.75 } });
    const low = await a.send(lowPass);
    expect(low.status).toBe(403);
    expect(low.body.error.message).toMatch(/masteryScore 0.75/);
    expect((await a.send(a.statement('failed', { moveOn: true, result: { success: false, score: { scaled: 0.5 }, duration: 'PT2M' }, extensions: { [MASTERY]: 0.75 } }))).status).toBe(200);
    expect((await a.send(a.statement('completed', { moveOn: true, result: { completion: true, duration: 'PT2M' } }))).status).toBe(200);
    expect((await facts()).completed.drill).toBeUndefined(); // completed, not passed
    // the AU may read LMS.LaunchData but not change it, and may not read others' statements
    const agent = encodeURIComponent(JSON.stringify(l.actor));
    expect((await supertest(ctx.app).put(`/xapi/activities/state?stateId=LMS.LaunchData&activityId=${encodeURIComponent(l.activityId)}&agent=${agent}&registration=${l.registration}`).set(a.h).send({ launchMode: 'Normal' })).status).toBe(403);
    expect((await supertest(ctx.app).get('/xapi/statements').set(a.h)).status).toBe(403);
    expect((await supertest(ctx.app).get(`/xapi/statements?agent=${agent}`).set(a.h)).status).toBe(200);
    expect((await a.send(a.statement('terminated', { result: { duration: 'PT3M' } }))).status).toBe(200);
    const after = await a.send(a.statement('experienced', { cmi5: false }));
    expect(after.status).toBe(401); // the session is over: its token is no longer valid

    // a second try passes: now moveOn (CompletedAndPassed, across sessions) is met
    const l2 = await launch();
    const b = await start(l2);
    expect(b.launchData.launchMode).toBe('Normal');
    expect((await b.send(b.statement('initialized'))).status).toBe(200);
    expect((await b.send(b.statement('completed', { moveOn: true, result: { completion: true, duration: 'PT1M' } }))).body.error.message).toMatch(/already has a "completed"/);
    expect((await b.send(b.statement('passed', { moveOn: true, result: { success: true, score: { scaled: 1 }, duration: 'PT1M' }, extensions: { [MASTERY]: 0.75 } }))).status).toBe(200);
    expect((await facts()).completed.drill).toBeTruthy();
    const satisfied = await lmsStatements('https://w3id.org/xapi/adl/verbs/satisfied');
    expect(satisfied.map((s) => s.context.contextActivities.grouping[0].id).sort()).toEqual([COURSE, `${COURSE}/block`]);
    expect(satisfied.every((s) => s.context.extensions[SESSION] === b.sessionId)).toBe(true);
    expect((await b.send(b.statement('terminated', { result: { duration: 'PT2M' } }))).status).toBe(200);

    // satisfied: a relaunch is for review, and a launch left open is abandoned by the next one
    const l3 = await launch();
    const c3 = await start(l3);
    expect(c3.launchData.launchMode).toBe('Review');
    expect((await c3.send(c3.statement('initialized'))).status).toBe(200);
    const review = await c3.send(c3.statement('passed', { moveOn: true, result: { success: true, duration: 'PT1M' } }));
    expect(review.status).toBe(403);
    await launch();
    const abandoned = await lmsStatements('https://w3id.org/xapi/adl/verbs/abandoned');
    expect(abandoned.map((s) => s.context.extensions[SESSION])).toContain(c3.sessionId);
    expect((await c3.send(c3.statement('terminated', { result: { duration: 'PT1M' } }))).status).toBe(401);
  });

  it('refuses a launch of a module that is not cmi5, and content without a session', async () => {
    const rep = await signIn(ctx.app, people.rep1.email);
    const res = await rep.agent.post(`/learn/${enrollmentId}/modules/intro/launch`).type('form').send({ _csrf: rep.csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/learn/${enrollmentId}/modules/intro`);
    await supertest(ctx.app).get(`/cmi5/content/${randomUUID()}/index.html`).expect(404);
    const other = await signIn(ctx.app, people.rep2.email);
    expect((await other.agent.post(`/learn/${enrollmentId}/modules/drill/launch`).type('form').send({ _csrf: other.csrf })).status).toBe(404);
  });
});
