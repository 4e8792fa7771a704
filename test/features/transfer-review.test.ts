import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';

/** The review workflow over HTTP: submit → changes asked on a section → resubmit → edited and approved → results → confirmed. */
let ctx: TestContext;
let people: DemoPeople;
let enrollmentId: string;
let rep: SignedIn;
let manager: SignedIn;

const form = `id: script
title: Call script
steps:
  - id: opening
    title: Opening
    fields:
      - id: opening
        label: Your opening
        type: longText
        required: true
  - id: ask
    title: The ask
    fields:
      - id: ask
        label: Your ask
        type: longText
        required: true
review:
  dueBusinessDays: 3
  checklist: [The opening asks permission]
activityLog:
  periodDays: 10
  fields:
    - id: metWithManager
      label: I met my manager about it
      type: boolean
    - id: calls
      label: Calls
      type: number
      target: 50
    - id: contacts
      label: Contacts
      type: number
      target: 20
    - id: appointments
      label: Appointments set
      type: number
      target: 8
`;

const doc = async () => (await ctx.container.models.Submission.findOne({ enrollmentId }).lean<SubmissionDoc>())!;
const stateOf = async () => (await ctx.container.enrollments.view({ id: people.rep1.id, role: 'rep' }, enrollmentId)).roadmap.modules.find((m) => m.id === 'script')!.state;

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
  manager = await signIn(ctx.app, people.manager1.email);
  await rep.agent.get(`/learn/${enrollmentId}/modules/script/build`).expect(200);
  const d = await doc();
  await rep.agent.put(`/api/submissions/${String(d._id)}/draft`).set('X-CSRF-Token', rep.csrf).set('Accept', 'application/json').send({ rev: d.rev, answers: { opening: 'Hi Dana, this is Sam.', ask: 'Can we meet Tuesday at 10?' } }).expect(200);
  await rep.agent.post(`/submissions/${String(d._id)}/submit`).type('form').send({ _csrf: rep.csrf }).expect(303);
});
afterAll(() => ctx?.close());

describe('the review workflow', () => {
  it("lists the submission in its manager's queue only", async () => {
    const id = String((await doc())._id);
    const queue = await manager.agent.get('/reviews').expect(200);
    expect(queue.text).toContain(people.rep1.name);
    expect(queue.text).toContain(`/reviews/${id}`);
    const page = await manager.agent.get(`/reviews/${id}`).expect(200);
    expect(page.text).toContain('Hi Dana, this is Sam.');
    expect(page.text).toContain('The opening asks permission');
    const other = await signIn(ctx.app, people.manager2.email);
    expect((await other.agent.get(`/reviews/${id}`)).status).toBe(404);
    expect((await other.agent.get('/reviews')).text).not.toContain(id);
    expect((await other.agent.post(`/reviews/${id}/decision`).type('form').send({ _csrf: other.csrf, action: 'approve' })).status).toBe(404);
    expect((await rep.agent.get(`/reviews/${id}`)).status).toBe(403);
  });

  it('asks for changes on a section (a comment is required), the rep sees it and resubmits', async () => {
    const id = String((await doc())._id);
    const none = await manager.agent.post(`/reviews/${id}/decision`).type('form').send({ _csrf: manager.csrf, action: 'return' });
    expect(none.status).toBe(422);
    expect(none.text).toContain('say what to change in at least one section');
    expect((await doc()).status).toBe('submitted');
    await manager.agent.post(`/reviews/${id}/decision`).type('form').send({ _csrf: manager.csrf, action: 'return', c_opening: 'Ask for 30 seconds before you pitch.' }).expect(303);
    expect((await doc()).status).toBe('returned');
    expect(await stateOf()).toBe('in_progress');
    const builder = await rep.agent.get(`/learn/${enrollmentId}/modules/script/build?step=opening`).expect(200);
    expect(builder.text).toContain('Your manager asked for changes');
    expect(builder.text).toContain('Ask for 30 seconds before you pitch.');
    const d = await doc();
    await rep.agent.put(`/api/submissions/${id}/draft`).set('X-CSRF-Token', rep.csrf).set('Accept', 'application/json').send({ rev: d.rev, answers: { opening: 'Hi Dana, this is Sam. Can I take 30 seconds to tell you why I called?', ask: 'Can we meet Tuesday at 10?' } }).expect(200);
    await rep.agent.post(`/submissions/${id}/submit`).type('form').send({ _csrf: rep.csrf }).expect(303);
    const after = await doc();
    expect(after.status).toBe('submitted');
    expect(after.versions.map((v) => v.n)).toEqual([1, 2]);
  });

  it('edits and approves: a new version, and the rep sees what changed', async () => {
    const id = String((await doc())._id);
    await manager.agent.post(`/reviews/${id}/decision`).type('form').send({ _csrf: manager.csrf, action: 'edit', f_opening: 'Hi Dana, this is Sam. Can I take 30 seconds to tell you why I called?', f_ask: 'Can we meet Tuesday at 10 or Thursday at 2?' }).expect(303);
    const d = await doc();
    expect(d.status).toBe('approved');
    expect(d.versions.at(-1)).toMatchObject({ n: 3, kind: 'manager-edit' });
    expect(d.decisions!.map((x) => x.kind)).toEqual(['returned', 'edited-approved']);
    expect(await stateOf()).toBe('in_progress'); // approved: results still to log
    const page = await rep.agent.get(`/learn/${enrollmentId}/modules/script/build`).expect(200);
    expect(page.text).toContain('Approved by your manager');
    expect(page.text).toMatch(/<ins>[^<]*Thursday at 2/);
    expect(page.text).toContain('Log your results');
  });

  it('takes the results with consistency checks, the coaching record, and completes the module when confirmed', async () => {
    const id = String((await doc())._id);
    const url = `/learn/${enrollmentId}/modules/script/results`;
    const bad = await rep.agent.post(url).type('form').send({ _csrf: rep.csrf, r_metWithManager: 'on', r_calls: '10', r_contacts: '12', r_appointments: '3' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('contacts cannot be more than calls (12 &gt; 10)');
    const negative = await rep.agent.post(url).type('form').send({ _csrf: rep.csrf, r_calls: '-1', r_contacts: '0', r_appointments: '0' });
    expect(negative.status).toBe(422);
    expect(negative.text).toContain('Calls: a whole number, 0 or more');
    expect((await doc()).results ?? null).toBeNull();
    await rep.agent.post(url).type('form').send({ _csrf: rep.csrf, r_metWithManager: 'on', r_calls: '52', r_contacts: '18', r_appointments: '6' }).expect(303);
    expect((await doc()).results).toEqual({ metWithManager: true, calls: 52, contacts: 18, appointments: 6 });

    const future = await manager.agent.post(`/reviews/${id}/coaching`).type('form').send({ _csrf: manager.csrf, metAt: '2999-01-01' });
    expect(future.status).toBe(422);
    await manager.agent.post(`/reviews/${id}/coaching`).type('form').send({ _csrf: manager.csrf, metAt: '2026-11-20', observedAt: '2026-11-24' }).expect(303);
    expect((await doc()).coaching).toEqual({ metAt: '2026-11-20', observedAt: '2026-11-24' });
    expect((await manager.agent.get('/reviews')).text).toContain('Results to confirm (1)');
    await manager.agent.post(`/reviews/${id}/confirm`).type('form').send({ _csrf: manager.csrf }).expect(303);
    expect(await stateOf()).toBe('completed');
    const late = await rep.agent.post(url).type('form').send({ _csrf: rep.csrf, r_calls: '60', r_contacts: '20', r_appointments: '8' });
    expect(late.status).toBe(303);
    expect((await doc()).results).toMatchObject({ calls: 52 }); // confirmed results no longer change
  });

  it('emailed the manager on each submission and the rep on each decision (to the outbox: no SMTP here)', async () => {
    const mails = await ctx.container.models.EmailMessage.find({}).sort({ createdAt: 1 }).lean();
    expect(mails.map((m) => `${m.template}→${String(m.to).replace(/.*<|>/g, '')}`)).toEqual([
      `review-requested→${people.manager1.email}`,
      `changes-requested→${people.rep1.email}`,
      `review-requested→${people.manager1.email}`,
      `submission-approved→${people.rep1.email}`,
    ]);
    expect(mails[1]!.text).toContain('Ask for 30 seconds before you pitch.');
  });

  it('recorded every step as xAPI: submitted twice, returned, approved (adjusted) by the manager, the logged activity', async () => {
    const all = (await ctx.container.statements.query({ limit: 100, ascending: true, registration: (await import('../../src/xapi/catalogue.js')).registrationOf(enrollmentId) }, 'exact', [], '', new URLSearchParams())).statements as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const transfer = all.filter((s) => /forms|results/.test(String(s.object.id)));
    expect(transfer.map((s) => String(s.verb.id).split('/').pop())).toEqual(['submit', 'return', 'submit', 'approve', 'submit']);
    const [first, ret, , approve, logged] = transfer;
    expect(ret!.actor.account.name).toBe(people.manager1.id);
    expect(ret!.context.statement).toEqual({ objectType: 'StatementRef', id: first!.id });
    const ext = (o: Record<string, unknown>, name: string) => Object.entries(o).find(([k]) => k.endsWith(`/${name}`))?.[1];
    expect(approve!.actor.account.name).toBe(people.manager1.id);
    expect(ext(approve!.context.extensions, 'adjusted')).toBe(true);
    expect(ext(logged!.result.extensions, 'calls')).toBe(52);
    expect(ext(logged!.result.extensions, 'appointments')).toBe(6);
    // the approved version's PDF is kept with the submission and travels with the approved statement
    expect(approve!.attachments).toEqual([expect.objectContaining({ contentType: 'application/pdf', sha2: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    const [part] = await ctx.container.statements.attachmentsFor([approve!]);
    expect(part!.content.subarray(0, 5).toString()).toBe('%PDF-');
    const id = String((await doc())._id);
    const download = await manager.agent.get(`/submissions/${id}/script.pdf`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(download.status).toBe(200);
    expect((download.body as Buffer).equals(part!.content)).toBe(true); // the kept file, byte for byte
  });
});
