import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { jobDepsOf } from '../../src/jobs/worker.js';
import { JOBS } from '../../src/jobs/registry.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/** The overdue-review reminder job, run by hand, and the trainer's transfer report over HTTP. */
let ctx: TestContext;
let people: DemoPeople;
let enrollmentId: Types.ObjectId;
let versionId: string;

const DAY = 86_400_000;

async function submission(over: Partial<SubmissionDoc> & { repId: Types.ObjectId }): Promise<string> {
  const submittedAt = new Date(Date.now() - 5 * DAY);
  const doc = await ctx.container.models.Submission.create({
    enrollmentId: over.enrollmentId ?? new Types.ObjectId(),
    moduleId: 'script',
    formId: 'script',
    versionId,
    managerId: new Types.ObjectId(people.manager1.id),
    status: 'submitted',
    answers: {},
    savedAt: submittedAt,
    versions: [{ n: 1, answers: {}, by: over.repId, kind: 'rep', at: submittedAt }],
    submittedAt,
    reviewDueAt: new Date(Date.now() - 2 * DAY),
    ...over,
  });
  return String(doc._id);
}

const run = () => JOBS['reviews.remindOverdue'].handle(jobDepsOf(ctx.container), {}, {} as never);
const reminders = () => ctx.container.models.EmailMessage.find({ template: 'review-overdue' }).lean();

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  const { content, problems } = validateCurriculum('demo', fixtureFiles());
  expect(problems).toEqual([]);
  await ctx.container.curricula.publish('cli', content!);
  const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
  enrollmentId = enrollment._id;
  versionId = enrollment.versionId;
});
afterAll(() => ctx?.close());

describe('reviews.remindOverdue', () => {
  it('sends nothing when no review is overdue', async () => {
    await submission({ repId: new Types.ObjectId(people.rep2.id), reviewDueAt: new Date(Date.now() + DAY) });
    await submission({ repId: new Types.ObjectId(people.rep3.id), status: 'approved' });
    expect(await run()).toMatchObject({ overdue: 0, queued: 0 });
    expect(await reminders()).toHaveLength(0);
  });

  it('emails the manager once a day about an overdue review, however often it runs', async () => {
    const id = await submission({ repId: new Types.ObjectId(people.rep1.id), enrollmentId });
    expect(await run()).toMatchObject({ overdue: 1, queued: 1 });
    expect(await run()).toMatchObject({ overdue: 1, queued: 0, already: 1 });
    const mails = await reminders();
    expect(mails).toHaveLength(1);
    const today = new Date().toISOString().slice(0, 10);
    expect(mails[0]).toMatchObject({ to: `${people.manager1.name} <${people.manager1.email}>`, dedupeKey: `review-overdue:${id}:v1:${today}` });
    expect(mails[0]!.subject).toContain('Call script');
    expect(mails[0]!.subject).toContain(people.rep1.name);
    expect(mails[0]!.text).toContain(`/reviews/${id}`);
  });
});

describe('the transfer report', () => {
  it('shows trainers the overdue review, and exports both tables as CSV', async () => {
    const trainer = await signIn(ctx.app, people.trainer.email);
    const page = await trainer.agent.get('/reports/transfer?waiting=3').expect(200);
    expect(page.text).toContain(people.manager1.name);
    expect(page.text).toContain('row-overdue');
    expect(page.text).toMatch(/<caption[^>]*>Manager participation/);
    expect(page.text).toContain('href="/reports/transfer"');

    const managers = await trainer.agent.get('/reports/transfer/managers.csv?curriculum=demo').expect(200);
    expect(managers.headers['content-type']).toMatch(/text\/csv/);
    const [header, ...rows] = managers.text.trim().split('\r\n');
    expect(header).toContain('reps_waiting_over_3_days');
    // only the submission of the demo enrollment belongs to the demo curriculum (the others have no enrollment)
    expect(rows).toEqual([`${people.manager1.name},0,0,,1,1,1,0,0`]);

    const reps = await trainer.agent.get('/reports/transfer/reps.csv').expect(200);
    expect(reps.text).toContain(`${people.rep1.name},${people.manager1.name},`);

    await trainer.agent.get('/reports/transfer?waiting=abc').expect(422);
  });
});
