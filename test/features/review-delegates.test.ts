import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';

/** An admin lets another manager review for one who is away; removing the delegate ends it. */
let ctx: TestContext;
let people: DemoPeople;
let submissionId: string;

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  const form = 'id: script\ntitle: Call script\nsteps:\n  - id: opening\n    title: Opening\n    fields:\n      - id: opening\n        label: Your opening\n        type: longText\n        required: true\n';
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles({ 'demo/forms/script.yaml': form })).content!);
  const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep2.id, curriculumId: 'demo', startDate: '2026-01-05' });
  await unlockTransfer(ctx.container.enrollments, String(enrollment._id));
  const rep = { id: people.rep2.id, role: 'rep' as const };
  const { submission } = await ctx.container.transfer.workspace(rep, String(enrollment._id), 'script');
  await ctx.container.transfer.saveDraft(rep, String(submission._id), { rev: 0, answers: { opening: 'Hi, this is Riley.' } });
  await ctx.container.transfer.submit(rep, String(submission._id));
  submissionId = String(submission._id);
});
afterAll(() => ctx?.close());

describe('review delegates', () => {
  it('a delegate sees and decides the away manager’s reviews until the admin removes them', async () => {
    const admin = await signIn(ctx.app, people.admin.email);
    const stand = await signIn(ctx.app, people.manager2.email);
    expect((await stand.agent.get(`/reviews/${submissionId}`)).status).toBe(404);

    const page = await admin.agent.get('/admin/review-delegates').expect(200);
    expect(page.text).toContain(people.manager1.name);
    await admin.agent.post('/admin/review-delegates').type('form').send({ _csrf: admin.csrf, managerId: people.manager1.id, delegateId: people.manager2.id }).expect(303);
    expect((await admin.agent.get('/admin/review-delegates')).text).toMatch(new RegExp(`${people.manager1.name}[\\s\\S]*${people.manager2.name}`));

    expect((await stand.agent.get('/reviews')).text).toContain(`/reviews/${submissionId}`);
    await stand.agent.get(`/reviews/${submissionId}`).expect(200);
    expect((await ctx.container.reviews.get({ id: people.manager1.id, role: 'manager' }, submissionId)).submission.status).toBe('submitted'); // the own manager still can

    await admin.agent.post('/admin/review-delegates').type('form').send({ _csrf: admin.csrf, managerId: people.manager1.id, delegateId: '' }).expect(303);
    expect((await stand.agent.get(`/reviews/${submissionId}`)).status).toBe(404);
    expect(((await ctx.container.models.Submission.findById(submissionId).lean()) as SubmissionDoc).status).toBe('submitted');
  });

  it('refuses a delegate who is not an active manager, or the manager themself', async () => {
    const admin = { id: people.admin.id, role: 'admin' as const };
    const problem = (p: Promise<unknown>) => p.then(() => '', (e: { problems?: { message: string }[] }) => e.problems?.map((x) => x.message).join('; ') ?? '');
    expect(await problem(ctx.container.reviewDelegates.set(admin, people.manager1.id, people.rep1.id))).toMatch(/choose an active manager/);
    expect(await problem(ctx.container.reviewDelegates.set(admin, people.manager1.id, people.manager1.id))).toMatch(/themselves/);
    await expect(ctx.container.reviewDelegates.set({ id: people.manager1.id, role: 'manager' }, people.manager1.id, people.manager2.id)).rejects.toThrow();
  });
});
