import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { slug } from '../../src/features/transfer/document-routes.js';
import { PdfPool } from '../../src/features/transfer/pdf-pool.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';
import { readPdf } from '../support/pdf-text.js';
import { SAMPLE_INPUT } from '../support/transfer-sample.js';

/** The script and workbook downloads: who gets which PDF of a submission, and which version. */
let ctx: TestContext;
let people: DemoPeople;
let submissionId: string;
const browsers = new Map<string, SignedIn>();
const as = async (who: keyof DemoPeople) => {
  if (!browsers.has(who)) browsers.set(who, await signIn(ctx.app, people[who].email));
  return browsers.get(who)!;
};
const squash = (s: string) => s.replace(/\s+/g, '');
const textOf = async (pdf: Buffer) => squash((await readPdf(pdf)).map((p) => p.text).join(' '));

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
review:
  dueBusinessDays: 3
  checklist: [Opening asks permission]
  workbookPrompts: [What did the rep do well on the call?]
`;
const V1 = "Hi Dana, it's Sam from Crewline. First try.";
const V2 = "Hi Dana, it's Sam from Crewline. I saw Harbor is hiring two more dispatchers; can I take 30 seconds?";

beforeAll(async () => {
  ctx = await createTestContext({ PUBLIC_URL: 'https://onramp.example.com' });
  people = await seedPeople(ctx.container);
  const { content, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/forms/script.yaml': form }));
  expect(problems).toEqual([]);
  const published = await ctx.container.curricula.publish('cli', content!);
  const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
  const repId = new Types.ObjectId(people.rep1.id);
  const at = new Date('2027-02-03T15:30:00Z');
  const doc = await ctx.container.models.Submission.create({
    enrollmentId: enrollment._id,
    moduleId: 'script',
    formId: 'script',
    versionId: enrollment.versionId,
    repId,
    managerId: new Types.ObjectId(people.manager1.id),
    status: 'submitted',
    answers: { opening: V2 },
    rev: 3,
    savedAt: at,
    versions: [
      { n: 1, answers: { opening: V1 }, by: repId, kind: 'rep', at: new Date('2027-02-01T10:00:00Z') },
      { n: 2, answers: { opening: V2 }, by: repId, kind: 'rep', at },
    ],
    submittedAt: at,
    reviewDueAt: new Date('2027-02-08T15:30:00Z'),
  });
  submissionId = String(doc._id);
  expect(published).toBeDefined();
});
afterAll(() => ctx?.close());

describe('GET /submissions/:id/script.pdf', () => {
  it('gives the rep their latest submitted version as an attachment, with the answers and the review link', async () => {
    const res = await (await as('rep1')).agent.get(`/submissions/${submissionId}/script.pdf`).responseType('blob').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/pdf/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="script-${slug(people.rep1.name)}-v2.pdf"`);
    const body = res.body as Buffer;
    expect(body.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await textOf(body);
    expect(text).toContain(squash(V2));
    expect(text).not.toContain(squash(V1));
    expect(text).toContain(squash(people.rep1.name));
    expect(text).toContain(squash(people.manager1.name));
    const links = (await readPdf(body)).flatMap((p) => p.links);
    expect(links).toContain(`https://onramp.example.com/reviews/${submissionId}`);
  });

  it('picks a submitted version with ?version=N, and says so when there is no such version', async () => {
    const rep = await as('rep1');
    const v1 = await rep.agent.get(`/submissions/${submissionId}/script.pdf?version=1`).responseType('blob').expect(200);
    expect(v1.headers['content-disposition']).toContain('-v1.pdf"');
    expect(await textOf(v1.body as Buffer)).toContain(squash(V1));
    const missing = await rep.agent.get(`/submissions/${submissionId}/script.pdf?version=9`).set('Accept', 'application/json');
    expect(missing.status).toBe(404);
    expect((missing.body as { error: { message: string } }).error.message).toBe('This submission has no version 9: it has versions 1, 2.');
    const html = await rep.agent.get(`/submissions/${submissionId}/script.pdf?version=9`).expect(404);
    expect(html.text).toContain('This submission has no version 9');
  });

  it("lets the rep's manager, trainers and admins download it; not another manager or a teammate", async () => {
    for (const who of ['manager1', 'trainer', 'admin'] as const) {
      const res = await (await as(who)).agent.get(`/submissions/${submissionId}/script.pdf`).responseType('blob');
      expect(res.status, who).toBe(200);
      expect(await textOf(res.body as Buffer), who).toContain(squash(V2));
    }
    for (const who of ['manager2', 'rep2'] as const) {
      await (await as(who)).agent.get(`/submissions/${submissionId}/script.pdf`).expect(404);
    }
  });

  it('serves the draft (as the next version) before anything is submitted', async () => {
    const draft = await ctx.container.models.Submission.create({
      enrollmentId: new Types.ObjectId(),
      moduleId: 'script',
      formId: 'script',
      versionId: (await ctx.container.models.Submission.findById(submissionId).lean())!.versionId,
      repId: new Types.ObjectId(people.rep1.id),
      managerId: new Types.ObjectId(people.manager1.id),
      status: 'draft',
      answers: { opening: 'Work in progress opening line' },
      rev: 1,
      savedAt: new Date(),
      versions: [],
    });
    const res = await (await as('rep1')).agent.get(`/submissions/${String(draft._id)}/script.pdf`).responseType('blob').expect(200);
    expect(res.headers['content-disposition']).toContain('-v1.pdf"');
    expect(await textOf(res.body as Buffer)).toContain(squash('Work in progress opening line'));
    await (await as('rep1')).agent.get(`/submissions/${String(draft._id)}/script.pdf?version=1`).expect(404);
  });
});

describe('GET /submissions/:id/workbook.pdf', () => {
  it("is the manager's: the rep's manager, trainers and admins download it", async () => {
    const res = await (await as('manager1')).agent.get(`/submissions/${submissionId}/workbook.pdf`).responseType('blob').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/pdf/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="script-workbook-${slug(people.rep1.name)}-v2.pdf"`);
    const text = await textOf(res.body as Buffer);
    expect(text).toContain(squash('What did the rep do well on the call?'));
    expect(text).toContain(squash(people.rep1.name));
    for (const who of ['trainer', 'admin'] as const) {
      await (await as(who)).agent.get(`/submissions/${submissionId}/workbook.pdf`).expect(200);
    }
  });

  it('is not for the rep, another manager or a teammate', async () => {
    for (const who of ['rep1', 'manager2', 'rep2'] as const) {
      const res = await (await as(who)).agent.get(`/submissions/${submissionId}/workbook.pdf`);
      expect(res.status, who).toBe(404);
    }
  });
});

describe('the PDF thread pool', () => {
  it('renders 10 documents at once, survives bad input and a crashed thread, and closes', async () => {
    const pool = new PdfPool({ threads: 1 });
    try {
      const pdfs = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.render(i % 2 ? 'workbook' : 'script', SAMPLE_INPUT)));
      expect(pdfs).toHaveLength(10);
      for (const pdf of pdfs) expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect(squash((await readPdf(pdfs[0]!))[0]!.text)).toContain(squash('Riley Chen'));
      expect(pool.running).toBe(1);

      await expect(pool.render('script', { ...SAMPLE_INPUT, form: undefined as never })).rejects.toThrow(/^PDF rendering \(script\) failed: Cannot read properties of undefined/);
      await expect(pool.render('script', { ...SAMPLE_INPUT, rep: { name: 'x', email: 'y', oops: () => 1 } as never })).rejects.toThrow(/cannot be sent to the PDF thread/);
      expect((await pool.render('script', SAMPLE_INPUT)).subarray(0, 5).toString()).toBe('%PDF-');

      // a thread that dies takes only its own job with it; the next job gets a new thread
      const doomed = pool.render('script', SAMPLE_INPUT);
      await pool.terminateThreads();
      await expect(doomed).rejects.toThrow(/the PDF thread stopped unexpectedly/);
      expect((await pool.render('workbook', SAMPLE_INPUT)).subarray(0, 5).toString()).toBe('%PDF-');

      const waiting = [pool.render('script', SAMPLE_INPUT), pool.render('script', SAMPLE_INPUT)].map((w) => expect(w).rejects.toThrow(/stopped \(shutting down\)/));
      await pool.close();
      await Promise.all(waiting);
      expect(pool.running).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
