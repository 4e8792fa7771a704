import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { validateCurriculum } from '../../src/content/validate.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/**
 * A seeded set of attempts at the fixture's check: q1, q2, q4, q5 are sound (a rep of ability k
 * gets the first k right), q3 is planted bad — the reps who know the material get it wrong, the
 * others get it right.
 */
let ctx: TestContext;
let people: DemoPeople;

const bank = `id: basics
title: Basics bank
questions:
  - id: q1
    type: single
    module: intro
    prompt: Which is right?
    options:
      - text: This one
        correct: true
      - text: That one
  - id: q2
    type: truefalse
    prompt: True?
    options:
      - text: "True"
        correct: true
      - text: "False"
  - id: q3
    type: single
    prompt: The planted question
    options:
      - text: The keyed answer
        correct: true
      - text: What strong reps choose
  - id: q4
    type: truefalse
    prompt: Also true?
    options:
      - text: "True"
        correct: true
      - text: "False"
  - id: q5
    type: truefalse
    prompt: Still true?
    options:
      - text: "True"
        correct: true
      - text: "False"
`;

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles({ 'demo/banks/basics.yaml': bank })).content!);
  const version = (await ctx.container.curricula.latest('demo')).latestVersionId;
  const QUESTIONS = ['q1', 'q2', 'q3', 'q4', 'q5'];
  const abilities = [4, 4, 3, 3, 2, 1, 1, 0];
  let i = 0;
  for (const ability of abilities) {
    const good = [0, 1, 2, 3].map((k) => (k < ability ? 1 : 0));
    const credits = [good[0]!, good[1]!, ability <= 1 ? 1 : 0, good[2]!, good[3]!];
    const { user } = await ctx.container.accounts.create('system', { email: `seeded${i}@example.com`, name: `Seeded ${i}`, role: 'rep', managerId: people.manager1.id, password: 'seeded passphrase' });
    const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: user.id, curriculumId: 'demo', cohort: i < 4 ? 'North' : 'South', startDate: '2026-01-05' });
    const earned = credits.reduce((a, b) => a + b, 0);
    const percent = Math.floor((1000 * earned) / credits.length) / 10;
    await ctx.container.models.Attempt.create({
      enrollmentId: enrollment._id,
      userId: new Types.ObjectId(user.id),
      curriculumId: 'demo',
      versionId: version,
      moduleId: 'check',
      number: 1,
      seed: `s${i}`,
      drawn: { items: [], pools: [] },
      answers: [],
      status: 'submitted',
      startedAt: new Date('2026-01-06T09:00:00Z'),
      submittedAt: new Date('2026-01-06T09:10:00Z'),
      submittedBy: 'rep',
      score: {
        items: QUESTIONS.map((id, k) => ({ key: id, bankId: 'basics', questionId: id, type: 'single', pool: 0, credit: credits[k], correct: credits[k] === 1, chosen: [credits[k] ? 0 : 1], tags: [] })),
        earned,
        possible: credits.length,
        percent,
        pools: [],
      },
      percent,
      passed: percent >= 80,
      testedOut: [],
    });
    i++;
  }
});
afterAll(() => ctx.close());

describe('assessment analytics', () => {
  it('flags the planted question and only it', async () => {
    const d = await ctx.container.assessmentAnalytics.detail({ id: people.trainer.id, role: 'trainer' }, 'demo', 'check');
    const byId = new Map(d.items.map((s) => [s.questionId, s]));
    expect(byId.get('q3')!.flags).toContain('negative_discrimination');
    expect(byId.get('q3')!.discrimination!).toBeLessThan(0);
    for (const id of ['q1', 'q2', 'q4', 'q5']) expect(byId.get(id)!.discrimination!, id).toBeGreaterThan(0.3);
    expect(d.items.filter((s) => s.flags.includes('negative_discrimination')).map((s) => s.questionId)).toEqual(['q3']);
    expect(byId.get('q1')!.difficulty).toBeCloseTo(7 / 8, 3);
    expect(d.passRate).toEqual({ passed: 2, total: 8, percent: 25 });
    expect(d.distribution.reduce((n, b) => n + b.count, 0)).toBe(8);
  });

  it('shows it on the trainer page and in the CSV', async () => {
    const { agent } = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const overview = await agent.get('/assessments').expect(200);
    expect(overview.text).toContain('Basics check');
    const page = await agent.get('/assessments/demo/check').expect(200);
    expect(page.text).toContain('strong reps miss it');
    expect(page.text).toContain('<caption class="visually-hidden">Attempts per score band</caption>');
    const south = await agent.get('/assessments/demo/check?cohort=South').expect(200);
    expect(south.text).toContain('4 submitted attempt(s)');
    const csv = await agent.get('/assessments/demo/check/items.csv').expect(200).expect('content-type', /text\/csv/);
    const q3 = csv.text.split('\r\n').find((l) => l.startsWith('q3,'))!;
    expect(q3).toContain('negative_discrimination');
    const attempts = await agent.get('/assessments/demo/check/attempts.csv').expect(200);
    expect(attempts.text.split('\r\n')[0]).toBe('rep,cohort,attempt,percent,passed');
    expect(attempts.text).toContain('Seeded 0,North,1,80,yes');
  });
});
