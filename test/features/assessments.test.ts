import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { validateCurriculum } from '../../src/content/validate.js';
import { Conflict, GateLocked, ValidationFailed } from '../../src/errors.js';
import { AssessmentService, type AttemptTimer } from '../../src/features/assessments/service.js';
import type { AttemptDoc } from '../../src/features/assessments/model.js';
import { EnrollmentService } from '../../src/features/enrollment/service.js';
import { RedisLocker } from '../../src/infra/locks.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/**
 * Assessments end to end on the real database: a check with a cooldown and a timed pre-test that
 * tests reps out of the introduction.
 */
let ctx: TestContext;
let people: DemoPeople;
let now = new Date('2026-06-01T09:00:00Z');
let enrollments: EnrollmentService;
let svc: AssessmentService;
const timers: { attemptId: string; at: Date }[] = [];
const rep = (p: { id: string }) => ({ id: p.id, role: 'rep' as const });

const pretest = `---
id: pretest
title: Pre-test
phase: basics
modality: assessment
minutes: 10
assessment:
  purpose: pretest
  timeLimitMinutes: 15
  pools:
    - bank: basics
      tags: [intro]
  testOut:
    - pool: 0
      modules: [intro]
---
What do you know already?
`;

function files() {
  return fixtureFiles({
    'demo/modules/00-pretest.md': pretest,
    'demo/modules/02-check.md': fixtureFiles()
      .find((f) => f.path === 'demo/modules/02-check.md')!
      .text.replace('purpose: check', 'purpose: check\n  cooldownHours: 2\n  maxAttempts: 3'),
    'demo/banks/basics.yaml': fixtureFiles()
      .find((f) => f.path === 'demo/banks/basics.yaml')!
      .text.replace('    module: intro\n', '    module: intro\n    tags: [intro]\n'),
  });
}

/** The presented positions of the right (or a wrong) option for every item, read on the server. */
async function answersFor(attemptId: string, right: boolean): Promise<Record<string, number[]>> {
  const a = (await ctx.container.models.Attempt.findById(attemptId).lean()) as AttemptDoc;
  const version = await ctx.container.curricula.version(a.versionId);
  const banks = version.content.banks as unknown as Record<string, { questions: { id: string; options: { correct: boolean }[] }[] }>;
  return Object.fromEntries(
    a.drawn.items.map((item) => {
      const q = banks[item.bankId]!.questions.find((x) => x.id === item.questionId)!;
      const correctIndex = q.options.findIndex((o) => o.correct);
      const wrongIndex = q.options.findIndex((o) => !o.correct);
      return [item.questionId, [item.optionOrder.indexOf(right ? correctIndex : wrongIndex)]];
    }),
  );
}

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', files()).content!);
  const locks = new RedisLocker(ctx.container.redis, ctx.config.redisPrefix);
  enrollments = new EnrollmentService(ctx.container.models, ctx.container.curricula, ctx.container.accounts, locks, () => now);
  const timer: AttemptTimer = { expireAt: async (attemptId, at) => void timers.push({ attemptId, at }) };
  svc = new AssessmentService(ctx.container.models, ctx.container.curricula, enrollments, locks, timer, () => now);
  for (const p of [people.rep1, people.rep2, people.rep3]) await enrollments.enroll('system', { userId: p.id, curriculumId: 'demo', startDate: '2026-06-01' });
});
afterAll(() => ctx.close());

const enrollmentOf = async (p: { id: string }) => String((await enrollments.mine(rep(p)))[0]!.enrollment._id);

describe('a check that gates the next module', () => {
  it('fails, shows what to review and when to retry, passes the next time, and unlocks what follows', async () => {
    const e = await enrollmentOf(people.rep1);
    await expect(svc.start(rep(people.rep1), e, 'check')).rejects.toThrow(GateLocked);
    await enrollments.acknowledge(rep(people.rep1), e, 'intro');

    const first = await svc.start(rep(people.rep1), e, 'check');
    const failed = await svc.submit(rep(people.rep1), first, await answersFor(first, false));
    expect(failed).toMatchObject({ status: 'submitted', percent: 0, passed: false, submittedBy: 'rep' });
    const result = await svc.forRep(rep(people.rep1), first);
    expect(result.toReview).toEqual([{ id: 'intro', title: 'Introduction' }]);
    expect(result.window).toMatchObject({ canStart: false, reason: 'You can try again after Mon 1 Jun, 11:00 UTC.', attemptsLeft: 2 });
    expect(result.review![0]).toMatchObject({ correct: false });
    expect((await enrollments.mine(rep(people.rep1)))[0]!.roadmap.modules.find((m) => m.id === 'script')!.reasons).toContain("Pass 'Basics check' at 80% — your best so far is 0%.");

    await expect(svc.start(rep(people.rep1), e, 'check')).rejects.toThrow(/try again after/);
    now = new Date('2026-06-01T11:01:00Z');
    const second = await svc.start(rep(people.rep1), e, 'check');
    expect(second).not.toBe(first);
    const passed = await svc.submit(rep(people.rep1), second, await answersFor(second, true));
    expect(passed).toMatchObject({ percent: 100, passed: true });
    const roadmap = (await enrollments.mine(rep(people.rep1)))[0]!.roadmap;
    expect(roadmap.modules.find((m) => m.id === 'check')!.state).toBe('completed');
    expect(roadmap.modules.find((m) => m.id === 'script')!.state).toBe('available');
  });

  it('takes a second submission as harmless: the first result stands', async () => {
    const e = await enrollmentOf(people.rep2);
    await enrollments.acknowledge(rep(people.rep2), e, 'intro');
    const id = await svc.start(rep(people.rep2), e, 'check');
    const right = await answersFor(id, true);
    const [a, b] = await Promise.all([svc.submit(rep(people.rep2), id, right), svc.submit(rep(people.rep2), id, await answersFor(id, false))]);
    expect(a.percent).toBe(b.percent);
    expect(await ctx.container.models.Attempt.countDocuments({ enrollmentId: (await ctx.container.models.Attempt.findById(id))!.enrollmentId, moduleId: 'check' })).toBe(1);
  });

  it('saves answers for resuming elsewhere and refuses malformed ones', async () => {
    const e = await enrollmentOf(people.rep3);
    await enrollments.acknowledge(rep(people.rep3), e, 'intro');
    const id = await svc.start(rep(people.rep3), e, 'check');
    expect(await svc.start(rep(people.rep3), e, 'check')).toBe(id); // resumes, does not start another
    await svc.save(rep(people.rep3), id, { q1: [0] });
    expect((await svc.forRep(rep(people.rep3), id)).answers).toEqual({ q1: [0] });
    await expect(svc.save(rep(people.rep3), id, { q1: [7] })).rejects.toThrow(ValidationFailed);
    await expect(svc.save(rep(people.rep3), id, { nope: 1 })).rejects.toThrow(ValidationFailed);
    await expect(svc.forRep(rep(people.rep2), id)).rejects.toThrow(/No such attempt/);
  });
});

describe('a timed pre-test', () => {
  it('tests a rep out of the modules of a passed section, and scores a late attempt as it stood', async () => {
    now = new Date('2026-06-02T09:00:00Z');
    const e2 = await enrollmentOf(people.rep2);
    // rep2 already did the intro; give rep3 the pre-test instead, and let time run out on rep1
    const e3 = await enrollmentOf(people.rep3);
    const id = await svc.start(rep(people.rep3), e3, 'pretest');
    expect(timers.at(-1)).toEqual({ attemptId: id, at: new Date('2026-06-02T09:15:00Z') });
    const done = await svc.submit(rep(people.rep3), id, await answersFor(id, true));
    expect(done.testedOut).toEqual(['intro']);
    const roadmap = (await enrollments.mine(rep(people.rep3)))[0]!.roadmap;
    // rep3 had already acknowledged the intro: completed stays completed
    expect(roadmap.modules.find((m) => m.id === 'intro')!.state).toBe('completed');
    expect(roadmap.modules.find((m) => m.id === 'pretest')!.state).toBe('completed');
    expect(e2).toBeTruthy();

    const fresh = await ctx.container.accounts.create('system', { email: 'newcomer@example.com', name: 'Newcomer', role: 'rep', managerId: people.manager1.id, password: 'a sunny morning' });
    await enrollments.enroll('system', { userId: fresh.user.id, curriculumId: 'demo', startDate: '2026-06-01' });
    const ef = await enrollmentOf(fresh.user);
    const t = await svc.start(rep(fresh.user), ef, 'pretest');
    await svc.save(rep(fresh.user), t, await answersFor(t, true));
    now = new Date('2026-06-02T09:16:00Z');
    await expect(svc.save(rep(fresh.user), t, {})).rejects.toThrow(Conflict);
    const late = (await svc.forRep(rep(fresh.user), t)).attempt;
    expect(late).toMatchObject({ status: 'submitted', submittedBy: 'time-limit', percent: 100, testedOut: ['intro'] });
    const freshRoadmap = (await enrollments.mine(rep(fresh.user)))[0]!.roadmap;
    expect(freshRoadmap.modules.find((m) => m.id === 'intro')!.state).toBe('tested_out');
    expect(freshRoadmap.modules.find((m) => m.id === 'check')!.state).toBe('available');
  });

  it('lets the worker score an attempt nobody came back to', async () => {
    now = new Date('2026-06-03T09:00:00Z');
    const other = await ctx.container.accounts.create('system', { email: 'idle@example.com', name: 'Idle', role: 'rep', managerId: people.manager1.id, password: 'a quiet afternoon' });
    await enrollments.enroll('system', { userId: other.user.id, curriculumId: 'demo', startDate: '2026-06-01' });
    const id = await svc.start(rep(other.user), await enrollmentOf(other.user), 'pretest');
    await svc.expire(id); // too early: nothing happens
    expect((await ctx.container.models.Attempt.findById(id).lean())!.status).toBe('in_progress');
    now = new Date('2026-06-03T10:00:00Z');
    await svc.expire(id);
    expect((await ctx.container.models.Attempt.findById(id).lean())).toMatchObject({ status: 'submitted', submittedBy: 'time-limit', percent: 0 });
  });
});

describe('scenario questions', () => {
  it('store and score answers to their parts (keys with a dot)', async () => {
    const scenarioBank = `id: cases
title: Cases
questions:
  - id: case1
    type: scenario
    case: A buyer says the budget is gone.
    questions:
      - id: a
        type: single
        prompt: First move?
        options:
          - text: Ask what changed
            correct: true
          - text: Offer a discount
      - id: b
        type: numeric
        prompt: Days until their year end?
        answer: 30
        tolerance: 1
`;
    const caseModule = '---\nid: cases\ntitle: Case check\nphase: basics\nmodality: assessment\nminutes: 5\nassessment:\n  purpose: check\n  pools:\n    - bank: cases\n---\nOne case.\n';
    const c2 = validateCurriculum('demo', fixtureFiles({ 'demo/banks/cases.yaml': scenarioBank, 'demo/modules/05-cases.md': caseModule })).content!;
    const other = { ...c2, definition: { ...c2.definition, id: 'cases-demo' } };
    await ctx.container.curricula.publish('cli', other);
    const { user } = await ctx.container.accounts.create('system', { email: 'cases@example.com', name: 'Case Rep', role: 'rep', managerId: people.manager1.id, password: 'a rainy sunday' });
    await enrollments.enroll('system', { userId: user.id, curriculumId: 'cases-demo', startDate: '2026-06-01' });
    const e = await enrollmentOf(user);
    const id = await svc.start(rep(user), e, 'cases');
    const a = (await ctx.container.models.Attempt.findById(id).lean()) as AttemptDoc;
    const right = a.drawn.items[0]!.parts![0]!.optionOrder.indexOf(0);
    await svc.save(rep(user), id, { 'case1.a': [right] });
    const done = await svc.submit(rep(user), id, { 'case1.b': 30.5 });
    expect(done).toMatchObject({ percent: 100, passed: true });
    expect((await svc.forRep(rep(user), id)).answers).toEqual({ 'case1.a': [right], 'case1.b': 30.5 });
  });
});

describe('what reaches the browser', () => {
  it('never contains a correct answer or feedback before submission, in HTML or JSON', async () => {
    const { user } = await ctx.container.accounts.create('system', { email: 'browser@example.com', name: 'Browser Rep', role: 'rep', managerId: people.manager1.id, password: 'a windy evening' });
    const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: user.id, curriculumId: 'demo', startDate: '2026-01-05' });
    const { agent, csrf } = await signIn(ctx.app, 'browser@example.com', 'a windy evening');
    const start = await agent.post(`/learn/${String(enrollment._id)}/modules/pretest/attempts`).type('form').send({ _csrf: csrf }).expect(303);
    const attemptUrl = start.headers.location!;
    const page = await agent.get(attemptUrl).expect(200);
    const json = await agent.get(`/api${attemptUrl}`).expect(200);
    for (const text of [page.text, JSON.stringify(json.body)]) {
      expect(text).not.toMatch(/"?correct"?\s*[:=]/i);
      expect(text).not.toMatch(/feedback|tolerance/i);
    }
    expect(page.text).toContain('<fieldset class="question">');
    expect(page.text).toContain('<legend>Which is right?');
    expect(json.body.items[0].options.map((o: { text: string }) => o.text).sort()).toEqual(['That one', 'This one']);

    // submitting through the form, then the result shows the review with feedback
    const positions = json.body.items[0].options as { position: number; text: string }[];
    const right = positions.find((o) => o.text === 'This one')!.position;
    const submitted = await agent.post(attemptUrl).type('form').send({ _csrf: csrf, action: 'submit', 'answer:q1': String(right) }).expect(303);
    const result = await agent.get(submitted.headers.location!).expect(200);
    expect(result.text).toContain('Attempt 1: 100%');
    expect(result.text).toContain('✓ correct');
    await supertest(ctx.app).get(`/api${attemptUrl}`).expect(401);
  });
});
