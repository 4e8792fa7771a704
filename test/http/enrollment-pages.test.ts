import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

let ctx: TestContext;
let people: DemoPeople;
const header = 'email,name,manager_email,cohort,start_date\n';

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
});
afterAll(() => ctx.close());

describe('enrolling from the trainer pages', () => {
  it('enrolls one rep from the form', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const res = await agent.post('/enrollments').type('form').send({ _csrf: csrf, userId: people.rep1.id, curriculumId: 'demo', cohort: 'Pilot', startDate: '2026-01-05' }).expect(303);
    expect(res.headers.location).toMatch(/^\/enrollments\/[0-9a-f]{24}$/);
    const page = await agent.get(res.headers.location!).expect(200);
    expect(page.text).toContain('Riley Chen');
    expect(page.text).toContain('Introduction');
  });

  it('shows form problems next to the fields', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const res = await agent.post('/enrollments').type('form').send({ _csrf: csrf, userId: people.manager1.id, curriculumId: 'demo', startDate: 'soon' }).expect(422);
    expect(res.text).toContain('only reps are enrolled');
    expect(res.text).toContain('must be a date written YYYY-MM-DD');
  });

  it('uploads a CSV, shows every bad row, and imports nothing', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const csv = `${header}ok@example.com,Ok Rep,manager1@demo.onramp.dev,Spring,2026-03-02\nbad@example.com,Bad Rep,manager9@demo.onramp.dev,Spring,2026-03-02\n`;
    const res = await agent.post('/enrollments/import').field('_csrf', csrf).field('curriculumId', 'demo').attach('file', Buffer.from(csv), 'roster.csv').expect(422);
    expect(res.text).toContain('Line 3: manager_email &quot;manager9@demo.onramp.dev&quot; is not an active manager');
    expect(res.text).not.toContain('Import 2 row(s)');
    expect(await ctx.container.accounts.findByEmail('ok@example.com')).toBeUndefined();
  });

  it('previews a good CSV, then imports it on confirmation', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const csv = `${header}spring1@example.com,Spring One,manager2@demo.onramp.dev,Spring,2026-03-02\n`;
    const preview = await agent.post('/enrollments/import').field('_csrf', csrf).field('curriculumId', 'demo').attach('file', Buffer.from(csv), 'roster.csv').expect(200);
    expect(preview.text).toContain('create rep and enroll');
    expect(preview.text).toContain('Import 1 row(s)');
    expect(await ctx.container.accounts.findByEmail('spring1@example.com')).toBeUndefined();
    const done = await agent.post('/enrollments/import/confirm').type('form').send({ _csrf: csrf, curriculumId: 'demo', csv }).expect(200);
    expect(done.text).toContain('Imported.');
    expect(done.text).toMatch(/<code>[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}<\/code>/);
    const list = await agent.get('/enrollments?cohort=Spring').expect(200);
    expect(list.text).toContain('Spring One');
  });

  it('refuses a multipart upload without the CSRF token', async () => {
    const { agent } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    await agent.post('/enrollments/import').field('curriculumId', 'demo').attach('file', Buffer.from(`${header}`), 'r.csv').expect(403);
  });
});

describe('the rep walks the roadmap', () => {
  it('shows lock reasons, opens a lesson safely, marks it done and moves on', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'rep1@demo.onramp.dev');
    const roadmap = await agent.get('/roadmap').expect(200);
    expect(roadmap.text).toContain('Complete &#x27;Introduction&#x27; first.');
    expect(roadmap.text).toContain('Ready to start');

    const [, enrollmentId] = /\/learn\/([0-9a-f]{24})\/modules\/intro/.exec(roadmap.text)!;
    const lesson = await agent.get(`/learn/${enrollmentId}/modules/intro`).expect(200);
    expect(lesson.text).toContain('<h1>Welcome</h1>');
    expect(lesson.text).toContain("I've worked through this lesson");

    const locked = await agent.get(`/learn/${enrollmentId}/modules/check`).expect(200);
    expect(locked.text).toContain('This module is locked.');
    expect(locked.text).not.toContain('Two questions on the introduction.');

    const done = await agent.post(`/learn/${enrollmentId}/modules/intro/complete`).type('form').send({ _csrf: csrf }).expect(303);
    expect(done.headers.location).toBe(`/learn/${enrollmentId}/modules/check`);
    const home = await agent.get('/').expect(200);
    expect(home.text).toContain('1 of 3 modules done');
    expect(home.text).toContain('Basics check');

    // the manager sees the same progress on their home page
    const { agent: manager } = await signIn(ctx.app, 'manager1@demo.onramp.dev');
    expect((await manager.get('/').expect(200)).text).toContain('1/3 done');
  });

  it('refuses to complete a locked module, with the reasons', async () => {
    const { agent, csrf } = await signIn(ctx.app, 'rep1@demo.onramp.dev');
    const roadmap = await agent.get('/roadmap');
    const [, enrollmentId] = /\/learn\/([0-9a-f]{24})\/modules\/intro/.exec(roadmap.text)!;
    const res = await agent.post(`/learn/${enrollmentId}/modules/script/complete`).type('form').send({ _csrf: csrf }).expect(303);
    expect(res.headers.location).toBe(`/learn/${enrollmentId}/modules/script`);
    const page = await agent.get(res.headers.location!).expect(200);
    expect(page.text).toContain('&#x27;Build your script&#x27; is locked.');
  });
});
