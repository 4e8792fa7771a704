import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';
import { deliverLater, fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';
import { FormFuzzer, jsonJunk, listen, NASTY_STRINGS, Tally, type FuzzForm } from './support.js';

/**
 * The learning forms (and their JSON APIs) with random and wrong-typed fields: enrolling a rep,
 * assessment answers, the transfer builder and its autosave, the manager's review decision, a
 * reinforcement answer and the delivery settings. A refusal is a 4xx that says what was wrong (or
 * a redirect to a page that says so), writes no document and changes no watched one.
 */
let ctx: TestContext;
let http: Awaited<ReturnType<typeof listen>>;
let people: DemoPeople;
let fuzz: FormFuzzer;
const ids: Record<string, string> = {};
let answerKeys: string[] = [];
const restore: Record<string, () => Promise<void>> = {};

/** The draft's revision now, where the corpus asked for it: so that a valid save is possible. */
const CURRENT_REV = '<current rev>';
async function withCurrentRev(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (body.rev !== CURRENT_REV) return body;
  return { ...body, rev: (await ctx.container.models.Submission.findById(ids.draft).lean<{ rev: number }>())!.rev };
}

function forms(): FuzzForm[] {
  const id = fc.constantFrom(people.rep3.id, people.manager1.id, '0'.repeat(24), 'not-an-id');
  const date = fc.constantFrom('2026-03-02', '2026-02-30', '9999-12-31', '0000-01-01', '03/02/2026');
  const text = fc.oneof(fc.constantFrom('Fine text', ...NASTY_STRINGS.slice(0, 12)), fc.string({ maxLength: 30 }));
  return [
    {
      name: 'enrollment',
      as: 'trainer@demo.onramp.dev',
      method: 'post',
      url: () => '/enrollments',
      fields: { userId: id, curriculumId: fc.constantFrom('demo', 'nope'), cohort: text, startDate: date },
      writes: ['enrollments', 'users'],
      cases: 40,
    },
    {
      name: 'assessment answers',
      as: 'rep1@demo.onramp.dev',
      method: 'post',
      url: () => `/attempts/${ids.attempt}`,
      fields: { ...Object.fromEntries(answerKeys.map((k) => [`answer:${k}`, fc.oneof(fc.constantFrom('0', '1', '2', '99', '-1'), fc.array(fc.constantFrom('0', '1'), { maxLength: 3 }))])), action: fc.constantFrom('save', 'later') },
      writes: ['attempts', 'enrollments'],
      watch: fuzz.watch('attempts', ids.attempt!),
      reset: () => restore.attempt!(),
      cases: 36,
    },
    {
      name: 'assessment answers api',
      as: 'rep1@demo.onramp.dev',
      method: 'put',
      url: () => `/api/attempts/${ids.attempt}/answers`,
      json: true,
      fields: { answers: fc.dictionary(fc.constantFrom(...answerKeys, '__proto__', '$set', 'a.b'), fc.oneof(fc.constant([0]), fc.constant(null), jsonJunk), { maxKeys: 3 }) },
      writes: ['attempts'],
      watch: fuzz.watch('attempts', ids.attempt!),
      reset: () => restore.attempt!(),
      cases: 30,
    },
    {
      name: 'transfer draft api',
      as: 'rep1@demo.onramp.dev',
      method: 'put',
      url: () => `/api/submissions/${ids.draft}/draft`,
      json: true,
      fields: { rev: fc.constantFrom(CURRENT_REV, 0, -1, 1.5, '0'), answers: fc.oneof(fc.record({ opening: text }), fc.dictionary(fc.constantFrom('opening', 'nope', '__proto__', '$set'), jsonJunk, { maxKeys: 3 })) },
      writes: ['submissions'],
      watch: fuzz.watch('submissions', ids.draft!),
      prepare: withCurrentRev,
      cases: 36,
    },
    {
      name: 'transfer builder',
      as: 'rep1@demo.onramp.dev',
      method: 'post',
      url: () => `/learn/${ids.rep1Enrollment}/modules/script/build`,
      fields: { step: fc.constantFrom('opening', 'nope'), rev: fc.constantFrom(CURRENT_REV, '-1', 'x'), go: fc.constantFrom('preview', 'opening', '//evil'), f_opening: text },
      writes: ['submissions'],
      watch: fuzz.watch('submissions', ids.draft!),
      prepare: withCurrentRev,
      cases: 36,
    },
    {
      name: 'review decision',
      as: 'manager1@demo.onramp.dev',
      method: 'post',
      url: () => `/reviews/${ids.review}/decision`,
      fields: { action: fc.constantFrom('approve', 'return', 'edit', 'reject'), note: text, c_opening: text, f_opening: text },
      writes: ['submissions', 'enrollments'],
      watch: fuzz.watch('submissions', ids.review!),
      reset: async () => {
        await restore.review!();
        await restore.rep2Enrollment!();
      },
      cases: 36,
    },
    {
      name: 'reinforcement answer',
      as: 'rep1@demo.onramp.dev',
      method: 'post',
      url: () => `/reinforcement/deliveries/${ids.delivery}/answers`,
      fields: { key: fc.constantFrom('basics.q1', 'basics.q2', 'nope'), 'answer:q1': fc.constantFrom('0', '1', '7', '-1'), channel: fc.constantFrom('email', 'in-app', 'sms') },
      writes: ['reinforcement_answers', 'reinforcement_deliveries'],
      watch: fuzz.watch('reinforcement_deliveries', ids.delivery!),
      cases: 30,
    },
    {
      name: 'reinforcement settings',
      as: 'rep1@demo.onramp.dev',
      method: 'post',
      url: () => '/reinforcement/settings',
      fields: {
        timeZone: fc.constantFrom('Europe/Paris', 'UTC', 'Mars/Olympus'),
        windowFrom: fc.constantFrom('9', '25', '-1', 'nine'),
        windowTo: fc.constantFrom('17', '8', '24'),
        days: fc.oneof(fc.constant(['1', '2', '3']), fc.constant(['0', '8']), fc.constant('5')),
        quietFrom: fc.constantFrom('', '12', '30'),
        quietTo: fc.constantFrom('', '13'),
        pauseFrom: fc.constantFrom('', '2026-05-01', '2026-02-30'),
        pauseTo: fc.constantFrom('', '2026-05-10', '2026-04-01'),
        email: fc.constantFrom('on', 'off'),
      },
      writes: ['reinforcement_decks'],
      watch: fuzz.watch('reinforcement_decks', people.rep1.id),
      reset: () => restore.deck!(),
      cases: 30,
    },
  ];
}

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  http = await listen(ctx.app);
  fuzz = new FormFuzzer(ctx, http.server, new Tally('forms-learning'));
  const c = ctx.container;
  await c.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  const enroll = async (p: { id: string }) => String((await c.enrollments.enroll('system', { userId: p.id, curriculumId: 'demo', startDate: '2026-01-05' })).enrollment._id);
  const rep1 = { id: people.rep1.id, role: 'rep' as const };
  const rep2 = { id: people.rep2.id, role: 'rep' as const };
  ids.rep1Enrollment = await enroll(people.rep1);
  ids.rep2Enrollment = await enroll(people.rep2);
  await c.enrollments.acknowledge(rep1, ids.rep1Enrollment, 'intro');
  ids.attempt = await c.assessments.start(rep1, ids.rep1Enrollment, 'check');
  answerKeys = (await c.assessments.forRep(rep1, ids.attempt)).items.map((i) => (i as { key: string }).key);
  ids.delivery = await deliverLater(c, people.rep1.id);
  // rep1 has a draft to work on; rep2's is with manager1 for review
  await unlockTransfer(c.enrollments, ids.rep1Enrollment);
  ids.draft = String((await c.transfer.workspace(rep1, ids.rep1Enrollment, 'script')).submission._id);
  await unlockTransfer(c.enrollments, ids.rep2Enrollment);
  const review = await c.transfer.workspace(rep2, ids.rep2Enrollment, 'script');
  ids.review = String(review.submission._id);
  await c.transfer.saveDraft(rep2, ids.review, { rev: review.submission.rev, answers: { opening: 'Hello, this is my opening.' } });
  await c.transfer.submit(rep2, ids.review);
  restore.attempt = await fuzz.snapshot('attempts', ids.attempt);
  restore.review = await fuzz.snapshot('submissions', ids.review);
  restore.rep2Enrollment = await fuzz.snapshot('enrollments', ids.rep2Enrollment);
  restore.deck = await fuzz.snapshot('reinforcement_decks', people.rep1.id);
});
afterAll(async () => {
  await http?.close();
  await ctx?.close();
});

describe('fuzz: learning forms', () => {
  it('refuses every bad form with a 4xx that says what was wrong and changes nothing, and every form without its CSRF token', async () => {
    await fuzz.run(forms());
    fuzz.tally.report();
    expect(fuzz.tally.refused).toBeGreaterThan(fuzz.tally.cases / 2);
    expect(fuzz.tally.accepted).toBeGreaterThan(10); // valid input still gets through
  });
});
