import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { AttemptDoc } from '../../src/features/assessments/model.js';
import type { TimelineRow } from '../../src/features/timeline/present.js';
import { registrationOf } from '../../src/xapi/catalogue.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/**
 * The learner timeline on the real stack: rep1 (manager1's report) is enrolled, completes the
 * introduction and passes the check through the real services, which record the statements the
 * page reads back.
 */
let ctx: TestContext;
let people: DemoPeople;
let enrollmentId: string;
const repActor = () => ({ id: people.rep1.id, role: 'rep' as const });
const authority = { objectType: 'Agent', name: 'Tests', account: { homePage: 'https://tests.example', name: 'tests' } };

/** The presented positions of the right option of every drawn question, read on the server. */
async function rightAnswers(attemptId: string): Promise<Record<string, number[]>> {
  const a = (await ctx.container.models.Attempt.findById(attemptId).lean()) as AttemptDoc;
  const version = await ctx.container.curricula.version(a.versionId);
  const banks = version.content.banks as unknown as Record<string, { questions: { id: string; options: { correct: boolean }[] }[] }>;
  return Object.fromEntries(
    a.drawn.items.map((item) => {
      const q = banks[item.bankId]!.questions.find((x) => x.id === item.questionId)!;
      return [item.questionId, [item.optionOrder.indexOf(q.options.findIndex((o) => o.correct))]];
    }),
  );
}

async function api(email: string, query = ''): Promise<{ events: TimelineRow[]; next: string | null }> {
  const { agent } = await signIn(ctx.app, email);
  return (await agent.get(`/api/people/${people.rep1.id}/timeline${query}`).expect(200)).body as { events: TimelineRow[]; next: string | null };
}

/** Where each text first appears in the page: to check the order of events. */
function positions(html: string, texts: string[]): number[] {
  return texts.map((t) => {
    const at = html.indexOf(t);
    expect(at, `"${t}" in the page`).toBeGreaterThan(-1);
    return at;
  });
}

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  const c = ctx.container;
  enrollmentId = String((await c.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' })).enrollment._id);
  await c.enrollments.acknowledge(repActor(), enrollmentId, 'intro');
  const attemptId = await c.assessments.start(repActor(), enrollmentId, 'check');
  await c.assessments.submit(repActor(), attemptId, await rightAnswers(attemptId));
  // rep4 (manager2's) has a timeline of their own, which rep1's never shows
  await c.enrollments.enroll('system', { userId: people.rep4.id, curriculumId: 'demo', startDate: '2026-01-05' });
});
afterAll(() => ctx.close());

describe('the learner timeline', () => {
  it("lists the rep's events newest first, with names and results, for their manager", async () => {
    const { agent } = await signIn(ctx.app, 'manager1@demo.onramp.dev');
    const res = await agent.get(`/people/${people.rep1.id}/timeline`).expect(200);
    const html = res.text;
    expect(html).toContain(`<h1>${people.rep1.name}</h1>`);
    const [passed, completed, enrolled] = positions(html, ['Passed <a', 'Completed <a', 'Enrolled in <a']);
    expect(passed).toBeLessThan(completed!);
    expect(completed).toBeLessThan(enrolled!);
    expect(html).toContain(`Passed <a href="/learn/${enrollmentId}/modules/check">Basics check</a>`);
    expect(html).toContain(`Completed <a href="/learn/${enrollmentId}/modules/intro">Introduction</a>`);
    expect(html).toContain(`Enrolled in <a href="/enrollments/${enrollmentId}">Demo onboarding</a>`);
    expect(html).toContain('100% (2 of 2)');
    expect(html).toContain('Pass mark 80%');
    expect(html).toContain('Times in UTC');
    expect(html).not.toContain('Older events');
    expect(html).toContain('That is everything recorded so far.');
    expect(html).not.toContain('style=');
  });

  it('gives the same events as JSON, newest first, each with its category', async () => {
    const { events, next } = await api('trainer@demo.onramp.dev');
    expect(next).toBeNull();
    const lines = events.map((e) => `${e.category}: ${e.verb} ${e.object}`);
    expect(lines[0]).toBe('assessment: passed Basics check');
    expect(lines.at(-1)).toBe('enrollment: enrolled in Demo onboarding');
    expect(lines).toEqual(expect.arrayContaining(['assessment: was scored on Basics check', 'assessment: started an attempt at Basics check', 'module: completed Introduction', 'module: opened Introduction']));
    expect(lines.indexOf('assessment: started an attempt at Basics check')).toBeLessThan(lines.indexOf('module: completed Introduction'));
    expect(events.find((e) => e.verb === 'passed')).toMatchObject({ result: expect.stringMatching(/^100% \(2 of 2\)/), outcome: 'success', actor: null, curriculum: 'Demo onboarding' });
  });

  it('exports the same rows as CSV', async () => {
    const { events } = await api('trainer@demo.onramp.dev');
    const { agent } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const res = await agent.get(`/people/${people.rep1.id}/timeline.csv`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toContain('timeline-riley-chen.csv');
    const lines = res.text.trim().split('\r\n');
    expect(lines[0]).toBe('when,time_zone,timestamp,category,actor,verb,object,object_kind,result,outcome,response,context,curriculum,statement_id');
    expect(lines).toHaveLength(events.length + 1);
    const ids = lines.slice(1).map((l) => l.split(',').at(-1));
    expect(ids).toEqual(events.map((e) => e.id));
    expect(lines[1]).toContain(',assessment,,passed,Basics check,assessment,');
    // a category filter exports that kind only
    const modules = await agent.get(`/people/${people.rep1.id}/timeline.csv?category=module`).expect(200);
    expect(modules.text.trim().split('\r\n').slice(1).every((l) => l.includes(',module,'))).toBe(true);
  });

  it('pages with `before`: every event once, in order', async () => {
    const all = (await api('trainer@demo.onramp.dev')).events;
    const seen: TimelineRow[] = [];
    let query = '?limit=2';
    for (let page = 0; page < 20; page += 1) {
      const { events, next } = await api('trainer@demo.onramp.dev', query);
      expect(events.length).toBeLessThanOrEqual(2);
      seen.push(...events);
      if (!next) break;
      query = `?limit=2&before=${encodeURIComponent(next)}`;
    }
    expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));

    // the page follows the same cursor, and offers the way back to the newest events
    const first = await api('trainer@demo.onramp.dev', '?limit=3');
    const { agent } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const older = await agent.get(`/people/${people.rep1.id}/timeline?before=${encodeURIComponent(first.next!)}`).expect(200);
    expect(older.text).toContain('Back to the newest');
    expect(older.text).toContain('Enrolled in');
    expect(older.text).not.toContain('Passed <a');
    await agent.get(`/people/${people.rep1.id}/timeline?before=not-a-cursor`).expect(422);
  });

  it('filters by category, and says so when nothing matches', async () => {
    const { agent } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const assessment = await agent.get(`/people/${people.rep1.id}/timeline?category=assessment`).expect(200);
    expect(assessment.text).toContain('Passed <a');
    expect(assessment.text).not.toContain('Enrolled in <a');
    expect(assessment.text).toMatch(/<a class="timeline-chip chip-assessment" href="[^"]+" aria-current="page">Assessment<\/a>/);
    const transfer = await agent.get(`/people/${people.rep1.id}/timeline?category=transfer`).expect(200);
    expect(transfer.text).toContain('No transfer events');
    await agent.get(`/people/${people.rep1.id}/timeline?category=gossip`).expect(422);
  });

  it('shows statements from other tools: by email, and about the enrollment by someone else; voided ones are left out', async () => {
    const c = ctx.container;
    const stmt = (extra: Record<string, unknown>) => ({ id: randomUUID(), timestamp: new Date().toISOString(), ...extra });
    const byEmail = stmt({
      actor: { mbox: 'mailto:rep1@demo.onramp.dev' },
      verb: { id: 'https://coach.example/verbs/rehearsed', display: { 'en-US': 'rehearsed' } },
      object: { id: 'https://coach.example/pitches/1', definition: { name: { 'en-US': 'Discovery call pitch' } } },
      context: { platform: 'PitchCoach' },
    });
    const aboutEnrollment = stmt({
      actor: { name: 'Coach Bot', mbox: 'mailto:bot@coach.example' },
      verb: { id: 'http://adlnet.gov/expapi/verbs/commented', display: { 'en-US': 'commented' } },
      object: { id: 'https://coach.example/calls/7', definition: { name: { 'en-US': 'Call recording 7' } } },
      result: { response: 'Good pace.' },
      context: { registration: registrationOf(enrollmentId) },
    });
    const withdrawn = stmt({ actor: { mbox: 'mailto:rep1@demo.onramp.dev' }, verb: { id: 'https://coach.example/verbs/rehearsed' }, object: { id: 'https://coach.example/pitches/withdrawn', definition: { name: { 'en-US': 'Withdrawn pitch' } } } });
    const someoneElse = stmt({ actor: { mbox: 'mailto:rep4@demo.onramp.dev' }, verb: { id: 'https://coach.example/verbs/rehearsed' }, object: { id: 'https://coach.example/pitches/2', definition: { name: { 'en-US': 'Not my pitch' } } } });
    await c.statements.save([byEmail, aboutEnrollment, withdrawn, someoneElse], authority);
    await c.statements.save(stmt({ actor: authority, verb: { id: 'http://adlnet.gov/expapi/verbs/voided' }, object: { objectType: 'StatementRef', id: withdrawn.id } }), authority);

    const { events } = await api('manager1@demo.onramp.dev');
    expect(events.slice(0, 2).map((e) => e.summary)).toEqual(['Coach Bot commented on Call recording 7', 'Rehearsed Discovery call pitch']);
    expect(events[0]).toMatchObject({ category: 'other', actor: 'Coach Bot', response: 'Good pace.' });
    expect(events[1]!.context).toEqual(['From PitchCoach']);
    const texts = events.map((e) => e.summary).join('\n');
    expect(texts).not.toContain('Withdrawn pitch');
    expect(texts).not.toContain('Not my pitch');
    expect(texts).not.toMatch(/withdrew/);
  });

  it('shows times in the viewer’s own time zone', async () => {
    await ctx.container.accounts.update({ id: people.admin.id, role: 'admin' }, people.rep1.id, { timezone: 'America/New_York' });
    const { agent } = await signIn(ctx.app, 'rep1@demo.onramp.dev');
    const own = await agent.get(`/people/${people.rep1.id}/timeline`).expect(200);
    expect(own.text).toContain('<h1>My activity</h1>');
    expect(own.text).toContain('Times in America/New_York');
    expect(own.text).toContain('href="/roadmap"');
  });
});

describe('who may see a timeline', () => {
  const paths = () => [`/people/${people.rep1.id}/timeline`, `/people/${people.rep1.id}/timeline.csv`, `/api/people/${people.rep1.id}/timeline`];

  it('the rep, their manager, trainers and admins', async () => {
    for (const email of ['rep1@demo.onramp.dev', 'manager1@demo.onramp.dev', 'trainer@demo.onramp.dev', 'admin@demo.onramp.dev']) {
      const { agent } = await signIn(ctx.app, email);
      for (const path of paths()) await agent.get(path).expect(200);
    }
  });

  it('nobody else: another team’s manager and another rep get 404, as for someone who does not exist', async () => {
    for (const email of ['manager2@demo.onramp.dev', 'rep2@demo.onramp.dev']) {
      const { agent } = await signIn(ctx.app, email);
      for (const path of paths()) {
        const res = await agent.get(path).expect(404);
        expect(res.text).not.toContain(people.rep1.name);
      }
    }
    const { agent } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    await agent.get('/people/65f1c2a9e4b0a1b2c3d4e501/timeline').expect(404);
    await agent.get('/people/not-an-id/timeline').expect(404);
  });

  it('links from the pages where a manager or trainer looks at one rep, and from the roadmap', async () => {
    const { agent } = await signIn(ctx.app, 'manager1@demo.onramp.dev');
    const timeline = `href="/people/${people.rep1.id}/timeline"`;
    expect((await agent.get(`/enrollments/${enrollmentId}`).expect(200)).text).toContain(timeline);
    expect((await agent.get(`/users/${people.rep1.id}`).expect(200)).text).toContain(timeline);
    expect((await agent.get('/enrollments').expect(200)).text).toContain(timeline);
    const rep = await signIn(ctx.app, 'rep1@demo.onramp.dev');
    const roadmap = (await rep.agent.get('/roadmap').expect(200)).text;
    expect(roadmap).toContain(timeline);
    expect(roadmap).toContain('My activity');
  });
});
