import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';

/** The guided builder over HTTP: the draft autosaves (revision-guarded), only its rep reaches it, and a complete draft is submitted. */
let ctx: TestContext;
let people: DemoPeople;
let enrollmentId: string;
let rep: SignedIn;

const form = `id: script
title: Call script
steps:
  - id: opening
    title: Opening
    examples: ["Hi, it's Sam from Crewline."]
    fields:
      - id: opening
        label: Your opening
        type: longText
        required: true
  - id: discovery
    title: Discovery
    fields:
      - id: questions
        label: Questions
        type: list
        minItems: 2
        required: true
      - id: persona
        label: Persona
        type: choice
        options: [VP Operations, Dispatch Manager]
review:
  dueBusinessDays: 3
  checklist: [Opening asks permission]
`;

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  const { content, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/forms/script.yaml': form }));
  expect(problems).toEqual([]);
  await ctx.container.curricula.publish('cli', content!);
  const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
  enrollmentId = String(enrollment._id);
  await unlockTransfer(ctx.container.enrollments, enrollmentId);
  rep = await signIn(ctx.app, people.rep1.email);
});
afterAll(() => ctx?.close());

const submission = async () => (await ctx.container.models.Submission.findOne({ enrollmentId }).lean<SubmissionDoc>())!;

describe('the transfer builder', () => {
  it('opens on the first part, with the examples, the live preview and the draft', async () => {
    const page = await rep.agent.get(`/learn/${enrollmentId}/modules/script/build`).expect(200);
    expect(page.text).toContain('1. Opening');
    expect(page.text).toContain('Start from this example');
    expect(page.text).toContain('Your script so far');
    expect(page.text).toContain('/assets/js/builder.js');
    const s = await submission();
    expect(s).toMatchObject({ status: 'draft', rev: 0, formId: 'script', managerId: expect.anything() });
    const view = await ctx.container.enrollments.view({ id: people.rep1.id, role: 'rep' }, enrollmentId);
    expect(view.enrollment.facts.submissions.script?.status).toBe('draft');
  });

  it('autosaves through the JSON API, refusing a stale revision and bad answers', async () => {
    const id = String((await submission())._id);
    const put = (body: object) => rep.agent.put(`/api/submissions/${id}/draft`).set('X-CSRF-Token', rep.csrf).set('Accept', 'application/json').send(body);
    const ok = await put({ rev: 0, answers: { opening: "Hi Dana, it's Sam from Crewline." } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ rev: 1, savedAt: expect.any(String) });
    const stale = await put({ rev: 0, answers: { opening: 'older tab' } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/another window/);
    const bad = await put({ rev: 1, answers: { persona: 'CEO', nope: 1 } });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toMatch(/choose one of/);
    expect((await submission()).answers).toEqual({ opening: "Hi Dana, it's Sam from Crewline." });
    const noCsrf = await rep.agent.put(`/api/submissions/${id}/draft`).set('Accept', 'application/json').send({ rev: 1, answers: {} });
    expect(noCsrf.status).toBe(403);
  });

  it('works without JavaScript: a part is saved by posting the form, then the next part opens', async () => {
    const s = await submission();
    const res = await rep.agent.post(`/learn/${enrollmentId}/modules/script/build`).type('form').send({ _csrf: rep.csrf, step: 'discovery', rev: String(s.rev), f_questions: 'What happens today?\nWho decides?\n', f_persona: 'Dispatch Manager', go: 'preview' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/learn/${enrollmentId}/modules/script/build?step=preview`);
    expect((await submission()).answers).toMatchObject({ questions: ['What happens today?', 'Who decides?'], persona: 'Dispatch Manager' });
    const preview = await rep.agent.get(res.headers.location!).expect(200);
    expect(preview.text).toContain('Submit for my manager');
    expect(preview.text).toContain('Who decides?');
  });

  it('keeps other people out: another rep gets 404, a manager may not use the rep builder', async () => {
    const id = String((await submission())._id);
    const other = await signIn(ctx.app, people.rep2.email);
    expect((await other.agent.put(`/api/submissions/${id}/draft`).set('X-CSRF-Token', other.csrf).set('Accept', 'application/json').send({ rev: 2, answers: {} })).status).toBe(404);
    expect((await other.agent.get(`/learn/${enrollmentId}/modules/script/build`)).status).toBe(404);
    const manager = await signIn(ctx.app, people.manager1.email);
    expect((await manager.agent.get(`/learn/${enrollmentId}/modules/script/build`)).status).toBe(403);
  });

  it('submits a complete draft for review: due in 3 business days, the roadmap waits for the manager, no more edits', async () => {
    const id = String((await submission())._id);
    const res = await rep.agent.post(`/submissions/${id}/submit`).type('form').send({ _csrf: rep.csrf });
    expect(res.status).toBe(303);
    const s = await submission();
    expect(s.status).toBe('submitted');
    expect(s.versions).toHaveLength(1);
    expect(s.reviewDueAt!.getTime()).toBeGreaterThan(s.submittedAt!.getTime() + 2 * 86_400_000);
    const view = await ctx.container.enrollments.view({ id: people.rep1.id, role: 'rep' }, enrollmentId);
    expect(view.roadmap.modules.find((m) => m.id === 'script')!.state).toBe('awaiting_review');
    const again = await rep.agent.put(`/api/submissions/${id}/draft`).set('X-CSRF-Token', rep.csrf).set('Accept', 'application/json').send({ rev: s.rev, answers: {} });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/with your manager/);
  });
});

describe('submitting an incomplete draft', () => {
  it('is refused with what is missing, and changes nothing', async () => {
    const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep2.id, curriculumId: 'demo', startDate: '2026-01-05' });
    await unlockTransfer(ctx.container.enrollments, String(enrollment._id));
    const rep2 = await signIn(ctx.app, people.rep2.email);
    await rep2.agent.get(`/learn/${String(enrollment._id)}/modules/script/build`).expect(200);
    const s = (await ctx.container.models.Submission.findOne({ enrollmentId: enrollment._id }).lean<SubmissionDoc>())!;
    const res = await rep2.agent.post(`/submissions/${String(s._id)}/submit`).type('form').send({ _csrf: rep2.csrf });
    expect(res.status).toBe(303);
    const page = await rep2.agent.get(res.headers.location!).expect(200);
    expect(page.text).toMatch(/Not ready to submit yet: Your opening: required/);
    expect((await ctx.container.models.Submission.findById(s._id).lean<SubmissionDoc>())!.status).toBe('draft');
  });
});
