import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { localParts } from '../../src/engine/reinforcement.js';
import { registrationOf } from '../../src/xapi/catalogue.js';
import { deliveryJobId } from '../../src/features/reinforcement/scheduler.js';
import type { DeckDoc, DeliveryDoc } from '../../src/features/reinforcement/model.js';
import { connectRedis } from '../../src/infra/redis.js';
import { jobDepsOf, startWorker } from '../../src/jobs/worker.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { until } from '../support/until.js';

/**
 * The whole loop against the real worker and Redis, on a clock the test moves forward: a rep
 * completes a module, its questions enter the deck, the delayed job delivers them (in the app and
 * by email) when the clock reaches the slot, the rep answers, and the next delivery moves by the
 * answers. "Fast-forward" = move the services' clock to the slot and promote the delayed job,
 * which is what Redis would do when real time got there.
 */

const DAY = 86_400_000;
const BANK = `id: basics
title: Basics bank
questions:
  - id: q1
    type: single
    module: intro
    reinforcement: true
    prompt: Which opening earns the next minute?
    feedback: Lead with the prospect's problem, not your product.
    options:
      - text: A problem the prospect recognises
        correct: true
      - text: Our product's features
  - id: q2
    type: truefalse
    prompt: True?
    options:
      - text: "True"
        correct: true
      - text: "False"
  - id: q3
    type: single
    module: intro
    reinforcement: true
    prompt: When do you ask for the appointment?
    options:
      - text: After the value statement
        correct: true
      - text: Before saying who you are
  - id: q4
    type: numeric
    module: intro
    reinforcement: true
    prompt: How many concerns should your script answer, at least?
    answer: 4
`;

let ctx: TestContext;
let people: DemoPeople;
let worker: Worker;
let workerRedis: ReturnType<typeof connectRedis>;
let now = new Date();
let rep: SignedIn;
let enrollmentId: string;

const deck = async () => (await ctx.container.models.Deck.findById(people.rep1.id).lean<DeckDoc>())!;
const deliveries = async () => ctx.container.models.Delivery.find({ userId: people.rep1.id }).sort({ slot: 1 }).lean<DeliveryDoc[]>();

/** When the rep's job runs (real ms), from the delayed set's score. */
async function runsAt(): Promise<number> {
  const score = await ctx.container.redis.zscore(ctx.container.queue.keys.delayed!, deliveryJobId(people.rep1.id));
  return Math.floor(Number(score) / 0x1000);
}

/** Moves the clock to the rep's next slot and lets Redis fire the job now; waits for the delivery. */
async function fastForwardToNextDelivery(): Promise<DeliveryDoc> {
  const before = (await deliveries()).length;
  const slot = (await deck()).nextDeliveryAt!;
  now = new Date(slot.getTime() + 1000);
  const job = await ctx.container.queue.getJob(deliveryJobId(people.rep1.id));
  expect(await job!.getState()).toBe('delayed');
  await job!.promote();
  const all = await until('the delivery', async () => {
    const list = await deliveries();
    return list.length > before && list;
  });
  await until('the job to move to the next slot', async () => (await job!.getState()) === 'delayed' || (await deck()).nextDeliveryAt === null);
  return all.at(-1)!;
}

async function answer(deliveryId: string, key: string, field: string, value: string) {
  const res = await rep.agent.post(`/reinforcement/deliveries/${deliveryId}/answers`).type('form').send({ _csrf: rep.csrf, key, [`answer:${field}`]: value });
  expect(res.status, res.text.slice(0, 300)).toBe(303);
  return rep.agent.get(res.headers.location as string).expect(200);
}

/** The option position (as shown) of an option text in a delivered question. */
function positionOf(page: string, key: string, text: string): string {
  const section = page.slice(page.indexOf(`id="q-${key}"`));
  const m = new RegExp(`value="(\\d+)"[^>]*>\\s*<label[^>]*>${text}`).exec(section);
  if (!m) throw new Error(`no option "${text}" for ${key}`);
  return m[1]!;
}

beforeAll(async () => {
  ctx = await createTestContext({}, { now: () => new Date(now) });
  people = await seedPeople(ctx.container);
  const { content, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/banks/basics.yaml': BANK }));
  expect(problems).toEqual([]);
  await ctx.container.curricula.publish('cli', content!);
  enrollmentId = String((await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' })).enrollment._id);
  workerRedis = connectRedis(ctx.config.redisUrl!, 'reinforcement-test-worker');
  worker = startWorker(workerRedis, ctx.config.redisPrefix, jobDepsOf(ctx.container), 2);
  await worker.waitUntilReady();
  rep = await signIn(ctx.app, people.rep1.email);
});

afterAll(async () => {
  await worker?.close();
  workerRedis?.disconnect();
  await ctx?.close();
});

describe('spaced reinforcement, end to end', () => {
  let first: DeliveryDoc;
  let nextAfterFirst: Date;

  it('completing a module puts its questions in the deck and schedules one delayed job for the rep', async () => {
    const learned = new Date();
    now = learned;
    await ctx.container.enrollments.acknowledge({ id: people.rep1.id, role: 'rep' }, enrollmentId, 'intro');
    const d = await deck();
    expect(d.items.map((i) => i.key).sort()).toEqual(['basics.q1', 'basics.q3', 'basics.q4']);
    expect(d.retention).toBe(0.9);
    const slot = d.nextDeliveryAt!;
    expect(slot.getTime()).toBeGreaterThanOrEqual(learned.getTime() + DAY - 1000); // the day after learning
    const local = localParts(slot, d.schedule.timeZone);
    expect(local.weekday).toBeLessThanOrEqual(5); // never a weekend by default
    expect(local.hour).toBeGreaterThanOrEqual(9);
    expect(local.hour).toBeLessThan(17);
    const job = await ctx.container.queue.getJob(deliveryJobId(people.rep1.id));
    expect(await job!.getState()).toBe('delayed');
    expect(job!.data).toEqual({ userId: people.rep1.id }); // ids only
    expect(Math.abs((await runsAt()) - (Date.now() + (slot.getTime() - now.getTime())))).toBeLessThan(5000);
    // completing again, or another module without questions, adds nothing and keeps one job
    await ctx.container.reinforcement.addModules({ enrollmentId, curriculum: { id: 'demo' } as never, versionId: (await ctx.container.curricula.latest('demo')).latestVersionId, rep: { id: people.rep1.id, name: 'x', email: people.rep1.email } }, [{ moduleId: 'intro', at: learned.toISOString() }]);
    expect((await deck()).items).toHaveLength(3);
    expect((await ctx.container.queue.getJobs(['delayed'])).filter((j) => j.data.userId === people.rep1.id)).toHaveLength(1);
  });

  it('delivers at the slot: at most three questions in the app, one email linking each, and the job moves on', async () => {
    first = await fastForwardToNextDelivery();
    expect(first.items.map((i) => i.key).sort()).toEqual(['basics.q1', 'basics.q3', 'basics.q4']);
    expect(first.status).toBe('open');
    const mails = await ctx.container.models.EmailMessage.find({ template: 'reinforcement-delivery' }).lean();
    expect(mails).toHaveLength(1);
    expect(mails[0]!.dedupeKey).toBe(`reinforcement:${first._id}`);
    expect(mails[0]!.to).toContain(people.rep1.email);
    for (const key of ['basics.q1', 'basics.q3', 'basics.q4']) expect(mails[0]!.text).toContain(`/reinforcement/deliveries/${first._id}?via=email#q-${key}`);
    const d = await deck();
    nextAfterFirst = d.nextDeliveryAt!;
    // unanswered questions come back: the next delivery is the next allowed day, not sooner
    expect(localParts(nextAfterFirst, d.schedule.timeZone).day > localParts(first.slot, d.schedule.timeZone).day).toBe(true);
    const home = await rep.agent.get('/').expect(200);
    expect(home.text).toMatch(/<strong>3<\/strong> questions waiting/);
  });

  it('the rep answers: feedback with a link back to the lesson, FSRS moves each item, xAPI records each answer', async () => {
    const page = await rep.agent.get(`/reinforcement/deliveries/${first._id}`).expect(200);
    expect(page.text).toContain('Which opening earns the next minute?');
    expect(page.text).not.toMatch(/correct|✓/); // nothing given away before answering
    const right = await answer(first._id, 'basics.q1', 'q1', positionOf(page.text, 'basics.q1', 'A problem the prospect recognises'));
    expect(right.text).toContain('Right — well remembered.');
    expect(right.text).toContain("Lead with the prospect&#x27;s problem, not your product.");
    expect(right.text).toContain(`href="/learn/${enrollmentId}/modules/intro"`);
    const wrong = await answer(first._id, 'basics.q3', 'q3', positionOf(page.text, 'basics.q3', 'Before saying who you are'));
    expect(wrong.text).toContain('Not quite. This one comes back soon');
    // a bad answer is refused with the reason and changes nothing
    const bad = await rep.agent.post(`/reinforcement/deliveries/${first._id}/answers`).type('form').send({ _csrf: rep.csrf, key: 'basics.q4', 'answer:q4': 'four' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Enter a number.');
    expect((await deliveries())[0]!.items.find((i) => i.key === 'basics.q4')!.answeredAt).toBeNull();
    await answer(first._id, 'basics.q4', 'q4', '4');
    // answering again changes nothing
    await answer(first._id, 'basics.q1', 'q1', '1');

    const d = await deck();
    const item = (k: string) => d.items.find((i) => i.key === k)!;
    expect(item('basics.q1').history.map((h) => h.correct)).toEqual([true]);
    expect(item('basics.q3').history.map((h) => h.correct)).toEqual([false]);
    expect(new Date(item('basics.q1').card.due).getTime() - now.getTime()).toBeGreaterThan(DAY); // right → further out
    expect(new Date(item('basics.q3').card.due).getTime() - now.getTime()).toBeLessThanOrEqual(DAY); // missed → back the next day
    expect((await deliveries())[0]!.status).toBe('answered');
    const answers = await ctx.container.models.Answer.find({ userId: people.rep1.id }).lean();
    expect(answers.map((a) => [a.key, a.correct]).sort()).toEqual([['basics.q1', true], ['basics.q3', false], ['basics.q4', true]]);
    const { statements } = (await ctx.container.statements.query({ limit: 100, ascending: true, registration: registrationOf(enrollmentId) }, 'exact', [], '', new URLSearchParams())) as { statements: Record<string, any>[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const answered = statements.filter((st) => st.verb.id === 'http://adlnet.gov/expapi/verbs/answered');
    expect(answered.map((st) => [st.object.id.split('/').at(-1), st.result.success]).sort()).toEqual([['basics.q1', true], ['basics.q3', false], ['basics.q4', true]]);
    expect(answered.every((st) => Object.values(st.context.extensions as object).includes(first._id))).toBe(true);
  });

  it('the next delivery follows the answers: only the missed question, the next day; right answers push it out', async () => {
    const second = await fastForwardToNextDelivery();
    expect(second.items.map((i) => i.key)).toEqual(['basics.q3']);
    const waiting = (await deck()).nextDeliveryAt!; // the unanswered question would come back the next day
    const page = await rep.agent.get(`/reinforcement/deliveries/${second._id}`).expect(200);
    await answer(second._id, 'basics.q3', 'q3', positionOf(page.text, 'basics.q3', 'After the value statement'));
    const d = await deck();
    expect(new Date(d.items.find((i) => i.key === 'basics.q3')!.card.due).getTime()).toBeGreaterThan(now.getTime() + DAY);
    expect(d.nextDeliveryAt!.getTime()).toBeGreaterThan(waiting.getTime()); // answered right: the next set moves later
    const job = await ctx.container.queue.getJob(deliveryJobId(people.rep1.id));
    expect(await job!.getState()).toBe('delayed');
    expect(Math.abs((await runsAt()) - (Date.now() + (d.nextDeliveryAt!.getTime() - now.getTime())))).toBeLessThan(5000); // the job moved with it
    const overview = await rep.agent.get('/reinforcement').expect(200);
    expect(overview.text).toMatch(/class="big-number">2</); // two sets answered in full
    expect(overview.text).toContain('1 of 1');
  });

  it('a pause moves the next delivery past the vacation, and bad settings are refused with the field named', async () => {
    const before = (await deck()).nextDeliveryAt!;
    const day = (t: Date) => t.toISOString().slice(0, 10);
    const pause = { from: day(new Date(before.getTime() - DAY)), to: day(new Date(before.getTime() + 10 * DAY)) };
    const saved = await rep.agent
      .post('/reinforcement/settings')
      .type('form')
      .send({ _csrf: rep.csrf, timeZone: 'UTC', windowFrom: '9', windowTo: '17', days: ['1', '2', '3', '4', '5'], pauseFrom: pause.from, pauseTo: pause.to, email: 'on' });
    expect(saved.status).toBe(303);
    const after = (await deck()).nextDeliveryAt!;
    expect(day(after) > pause.to).toBe(true);
    expect(Math.abs((await runsAt()) - (Date.now() + (after.getTime() - now.getTime())))).toBeLessThan(5000);

    const bad = await rep.agent.post('/reinforcement/settings').type('form').send({ _csrf: rep.csrf, timeZone: 'Mars/Olympus', windowFrom: '17', windowTo: '9', pauseFrom: '2026-05-10', pauseTo: '2026-05-01' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('is not a time zone');
    expect(bad.text).toContain('the window starts before it ends');
    expect(bad.text).toContain('choose at least one weekday');
    expect(bad.text).toContain('the pause ends before it starts');
    expect((await deck()).nextDeliveryAt!.getTime()).toBe(after.getTime()); // nothing changed
  });

  it('a job Redis lost is put back by the sweep, and its slot is delivered once', async () => {
    const before = (await deliveries()).length;
    const slot = (await deck()).nextDeliveryAt!;
    await (await ctx.container.queue.getJob(deliveryJobId(people.rep1.id)))!.remove(); // as if Redis lost it
    now = new Date(slot.getTime() + 30_000);
    expect(await ctx.container.reinforcement.reconcile()).toMatchObject({ restored: 0 }); // within the grace period: maybe just busy
    now = new Date(slot.getTime() + 120_000);
    expect(await ctx.container.reinforcement.reconcile()).toMatchObject({ overdue: 1, restored: 1 });
    await until('the recovered delivery', async () => (await deliveries()).length === before + 1);
    await until('the job to wait for the next slot', async () => (await (await ctx.container.queue.getJob(deliveryJobId(people.rep1.id)))?.getState()) === 'delayed');
    expect(await ctx.container.reinforcement.reconcile()).toMatchObject({ overdue: 0, restored: 0 });
    expect(await deliveries()).toHaveLength(before + 1);
    expect((await deliveries()).at(-1)!._id).toBe(`${people.rep1.id}-${slot.getTime()}`);
  });

  it('someone else cannot see or answer a rep’s delivery', async () => {
    const other = await signIn(ctx.app, people.rep2.email);
    await other.agent.get(`/reinforcement/deliveries/${first._id}`).expect(404);
    const res = await other.agent.post(`/reinforcement/deliveries/${first._id}/answers`).type('form').send({ _csrf: other.csrf, key: 'basics.q1', 'answer:q1': '0' });
    expect(res.status).toBe(404);
  });
});
