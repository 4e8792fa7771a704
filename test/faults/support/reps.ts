import { Types } from 'mongoose';
import { expect } from 'vitest';
import { validateCurriculum } from '../../../src/content/validate.js';
import type { CurriculumDef } from '../../../src/engine/curriculum.js';
import type { Container } from '../../../src/container.js';
import type { DeckDoc, DeliveryDoc } from '../../../src/features/reinforcement/model.js';
import { deliveryIdOf } from '../../../src/features/reinforcement/service.js';
import { deliveryJobId } from '../../../src/features/reinforcement/scheduler.js';
import { fixtureFiles } from '../../support/curriculum-fixture.js';

export const DAY = 86_400_000;

/** A Wednesday, 12:00 UTC: inside every rep's default window (weekdays 9–17, UTC), whenever the suite runs. */
export const FAKE_NOON = Date.UTC(2030, 0, 9, 12);

/** The services' clock: real time moved by `offsetMs` (the worker processes get the same offset). */
export class FakeClock {
  offsetMs = FAKE_NOON - Date.now();
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
}

const BANK = `id: basics
title: Basics bank
questions:
  - id: q1
    type: single
    module: intro
    reinforcement: true
    prompt: Which opening earns the next minute?
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
`;

export interface Curriculum {
  versionId: string;
  definition: CurriculumDef;
}

/** The fixture curriculum, with two reinforcement questions on module 'intro', published. */
export async function publishCurriculum(c: Container): Promise<Curriculum> {
  const { content, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/banks/basics.yaml': BANK }));
  expect(problems).toEqual([]);
  await c.curricula.publish('cli', content!);
  const versionId = (await c.curricula.latest('demo')).latestVersionId;
  return { versionId, definition: (await c.curricula.version(versionId)).content.definition };
}

export interface Rep {
  id: string;
  email: string;
  /** the planned slot of the delivery under test */
  slot: Date;
}

/**
 * `n` reps who completed module 'intro' a day before `slot`, so its questions fall due at `slot`:
 * their decks fill and their delivery jobs are scheduled by the real service (as a completed module
 * does). Every rep gets the same slot.
 */
export async function addReps(c: Container, curriculum: Curriculum, label: string, n: number, slot: Date): Promise<Rep[]> {
  const users = await c.models.User.insertMany(
    Array.from({ length: n }, (_, i) => ({ email: `${label}-${i}@faults.test`, name: `Rep ${label} ${i}`, role: 'rep', passwordHash: 'not-used', timezone: 'UTC' })),
  );
  const reps: Rep[] = [];
  const learned = new Date(slot.getTime() - DAY).toISOString();
  for (let i = 0; i < users.length; i += 10) {
    await Promise.all(
      users.slice(i, i + 10).map(async (u) => {
        const id = String(u._id);
        const rep = { id, name: u.name, email: u.email };
        await c.reinforcement.addModules({ enrollmentId: String(new Types.ObjectId()), curriculum: curriculum.definition, versionId: curriculum.versionId, rep }, [{ moduleId: 'intro', at: learned }]);
        const deck = await c.models.Deck.findById(id).lean<DeckDoc>();
        if (deck?.nextDeliveryAt?.getTime() !== slot.getTime()) throw new Error(`rep ${label}-${reps.length}: slot ${deck?.nextDeliveryAt?.toISOString()}, expected ${slot.toISOString()}`);
        reps.push({ id, email: u.email, slot });
      }),
    );
  }
  return reps;
}

/** When each rep's job runs (real ms), from the delayed set's score; null when it is not delayed. */
export async function delayedRunAt(c: Container, reps: Rep[]): Promise<(number | null)[]> {
  const pipe = c.redis.pipeline();
  for (const r of reps) pipe.zscore(`${c.config.redisPrefix}:bull:onramp:delayed`, deliveryJobId(r.id));
  const res = (await pipe.exec()) ?? [];
  return res.map(([, score]) => (score === null ? null : Math.floor(Number(score) / 0x1000)));
}

export interface Tally {
  reps: number;
  /** reps whose slot was delivered (its delivery document exists) */
  delivered: number;
  /** delivery documents beyond one per rep */
  duplicateDeliveries: number;
  emails: number;
  duplicateEmails: number;
  /** emails the email job handled (no SMTP in tests: 'outbox') */
  emailsHandled: number;
  /** reps whose deck moved on to the next slot */
  decksMoved: number;
  /** reps whose deck moved on and whose job waits, delayed, at the deck's next slot */
  jobsAtNextSlot: number;
  failedJobs: number;
  /** per rep, what is wrong (the first few) */
  problems: string[];
}

/** Everything "exactly once" means, counted per rep. */
export async function tally(c: Container, reps: Rep[], offsetMs: number): Promise<Tally> {
  const ids = reps.map((r) => new Types.ObjectId(r.id));
  const [deliveries, emails, decks, runAt, failed] = await Promise.all([
    c.models.Delivery.find({ userId: { $in: ids } }).lean<DeliveryDoc[]>(),
    c.models.EmailMessage.find({ template: 'reinforcement-delivery' }, { dedupeKey: 1, to: 1, status: 1 }).lean(),
    c.models.Deck.find({ _id: { $in: ids } }).lean<DeckDoc[]>(),
    delayedRunAt(c, reps),
    c.queue.getJobs(['failed']),
  ]);
  const problems: string[] = [];
  const t: Tally = { reps: reps.length, delivered: 0, duplicateDeliveries: 0, emails: 0, duplicateEmails: 0, emailsHandled: 0, decksMoved: 0, jobsAtNextSlot: 0, failedJobs: failed.length, problems };
  reps.forEach((rep, i) => {
    const id = deliveryIdOf(rep.id, rep.slot);
    // this slot's delivery and any later one (a rep's earlier deliveries are history)
    const mine = deliveries.filter((d) => String(d.userId) === rep.id && new Date(d.slot).getTime() >= rep.slot.getTime());
    const delivery = mine.find((d) => d._id === id);
    const mails = emails.filter((m) => m.to.includes(`<${rep.email}>`) && Number(m.dedupeKey.split('-').at(-1)) >= rep.slot.getTime());
    const deck = decks.find((d) => String(d._id) === rep.id);
    const say = (what: string) => problems.length < 12 && problems.push(`${rep.email}: ${what}`);
    if (delivery) t.delivered++;
    else say(`no delivery ${id}`);
    t.duplicateDeliveries += Math.max(0, mine.length - 1);
    if (mine.length > 1) say(`${mine.length} deliveries: ${mine.map((d) => d._id).join(', ')}`);
    if (delivery && delivery.status !== 'open') say(`delivery is ${delivery.status}`);
    if (delivery && delivery.emailKey !== `reinforcement:${id}`) say(`delivery's emailKey is ${delivery.emailKey}`);
    t.emails += mails.length;
    t.duplicateEmails += Math.max(0, mails.length - 1);
    if (mails.length !== 1) say(`${mails.length} emails`);
    if (mails[0] && mails[0].dedupeKey !== `reinforcement:${id}`) say(`email dedupe key ${mails[0].dedupeKey}`);
    t.emailsHandled += mails.filter((m) => m.status === 'outbox').length;
    const next = deck?.nextDeliveryAt;
    const due = runAt[i];
    const moved = deck?.lastDeliveryAt?.getTime() === rep.slot.getTime() && !!next && next > rep.slot;
    if (moved) t.decksMoved++;
    if (!moved) say(`deck not moved on (last ${deck?.lastDeliveryAt?.toISOString()}, next ${next?.toISOString()})`);
    else if (due === null || due === undefined) say('job not delayed');
    else if (Math.abs(due - (next.getTime() - offsetMs)) > 5_000) say(`job runs at ${new Date(due + offsetMs).toISOString()} (fake clock), deck says ${next.toISOString()}`);
    else t.jobsAtNextSlot++;
  });
  for (const j of failed.slice(0, 3)) problems.push(`failed job ${j.name} ${j.id}: ${j.failedReason}`);
  return t;
}

/**
 * Done: every rep delivered, emailed, moved on (what the tests wait for before they tally). Asks
 * Redis first (every job delayed past its slot), the database only then: polling must not slow
 * down the workers it waits for (FerretDB serialises writes).
 */
export async function settled(c: Container, reps: Rep[], offsetMs: number): Promise<Tally | false> {
  const runAt = await delayedRunAt(c, reps);
  if (runAt.some((at, i) => at === null || at + offsetMs < reps[i]!.slot.getTime() + 60_000)) return false;
  const t = await tally(c, reps, offsetMs);
  return t.delivered === t.reps && t.emailsHandled === t.reps && t.jobsAtNextSlot === t.reps && t;
}

export const line = (t: Tally): string =>
  `delivered ${t.delivered}/${t.reps}, duplicate deliveries ${t.duplicateDeliveries}, emails ${t.emails} (duplicates ${t.duplicateEmails}, handled ${t.emailsHandled}), jobs at the next slot ${t.jobsAtNextSlot}/${t.reps}, failed jobs ${t.failedJobs}`;
