import express from 'express';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum, type SourceFile } from '../../src/content/validate.js';
import { Conflict, Forbidden, GateLocked, NotFound, ValidationFailed } from '../../src/errors.js';
import { DEMO_PASSWORD } from '../../src/features/accounts/demo-seed.js';
import type { PublicUser } from '../../src/features/accounts/presenters.js';
import { EnrollmentService } from '../../src/features/enrollment/service.js';
import { liveSessionModels, type LiveSessionDoc } from '../../src/features/sessions/model.js';
import { sessionPageRoutes } from '../../src/features/sessions/pages.js';
import { sessionsForRep } from '../../src/features/sessions/presenters.js';
import { LiveSessionService, type ScheduleInput } from '../../src/features/sessions/service.js';
import { authorize } from '../../src/http/middleware/auth.js';
import { errorHandler } from '../../src/http/middleware/errors.js';
import { pageLocals, setUpViews } from '../../src/http/views.js';
import { RedisLocker } from '../../src/infra/locks.js';
import { createLogger } from '../../src/infra/logger.js';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';

/** A curriculum with a lesson that gates a virtual session and a classroom workshop scored on a rubric. */
function liveFixture(): SourceFile[] {
  const files: Record<string, string> = {
    'live/curriculum.yaml': `id: live
title: Live onboarding
description: A lesson, a virtual session and a scored workshop.
masteryThreshold: 80
phases:
  - id: skills
    title: Skills
`,
    'live/modules/01-intro.md': `---
id: intro
title: Introduction
phase: skills
modality: elearning
minutes: 10
---
Read this first.
`,
    'live/modules/02-webinar.md': `---
id: webinar
title: Discovery webinar
phase: skills
modality: vilt
minutes: 90
prerequisites: [intro]
---
A live virtual session.
`,
    'live/modules/03-workshop.md': `---
id: workshop
title: Role-play workshop
phase: skills
modality: ilt
minutes: 420
prerequisites: [intro]
completion:
  rule: attended
  rubricPass: 70
rubric:
  criteria:
    - id: opening
      title: Opening and agenda
      description: 0 = no agenda; 4 = the buyer adds a priority.
      max: 4
    - id: discovery
      title: Discovery
      max: 4
    - id: commitment
      title: Next step
      max: 2
---
The classroom day.
`,
    'live/modules/04-recap.md': `---
id: recap
title: Recap
phase: skills
modality: elearning
minutes: 5
---
A recap.
`,
  };
  return Object.entries(files).map(([path, text]) => ({ path, text }));
}

let ctx: TestContext;
let people: DemoPeople;
let now = new Date('2027-01-04T09:00:00Z');
let enrollments: EnrollmentService;
let svc: LiveSessionService;
/** rep email prefix → enrollment id */
const enrollmentOf = new Map<string, string>();
const reps = new Map<string, PublicUser>();

const trainer = () => ({ id: people.trainer.id, role: 'trainer' as const });
const rep = (name: string) => ({ id: reps.get(name)!.id, role: 'rep' as const });

function viltInput(overrides: Partial<ScheduleInput> = {}): ScheduleInput {
  return {
    curriculumId: 'live',
    moduleId: 'webinar',
    startsAt: '2027-01-12T14:00',
    endsAt: '2027-01-12T15:30',
    timeZone: 'Europe/Berlin',
    capacity: 2,
    meetingUrl: 'https://meet.example.com/discovery',
    instructorId: people.trainer.id,
    ...overrides,
  };
}

async function factsOf(name: string) {
  return (await enrollments.view(rep(name), enrollmentOf.get(name)!)).enrollment.facts;
}

async function moduleStatus(name: string, moduleId: string) {
  return (await enrollments.view(rep(name), enrollmentOf.get(name)!)).roadmap.modules.find((m) => m.id === moduleId)!;
}

async function sessionDoc(id: string): Promise<LiveSessionDoc> {
  return (await svc['m'].LiveSession.findById(id).lean<LiveSessionDoc>())!;
}

function problemsOf(err: unknown): Record<string, string> {
  expect(err).toBeInstanceOf(ValidationFailed);
  return Object.fromEntries((err as ValidationFailed).problems.map((p) => [p.path, p.message]));
}

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  const published = validateCurriculum('live', liveFixture());
  expect(published.problems).toEqual([]);
  await ctx.container.curricula.publish('cli', published.content!);
  const locker = new RedisLocker(ctx.container.redis, ctx.config.redisPrefix);
  // the container's services with a clock the tests move (the enrollments' "today" follows it too)
  enrollments = new EnrollmentService(ctx.container.models, ctx.container.curricula, ctx.container.accounts, locker, () => now);
  const models = { ...ctx.container.models, ...liveSessionModels(ctx.container.mongo) };
  await models.LiveSession.init();
  svc = new LiveSessionService(models, enrollments, locker, () => now, ctx.container.audit);

  for (const key of ['rep1', 'rep2', 'rep3', 'rep4', 'rep5', 'rep6'] as const) reps.set(key, people[key]);
  for (let i = 7; i <= 10; i++) {
    const { user } = await ctx.container.accounts.create('system', { email: `rep${i}@example.com`, name: `Extra Rep ${i}`, role: 'rep', managerId: people.manager1.id, password: DEMO_PASSWORD });
    reps.set(`rep${i}`, user);
  }
  for (const [name, user] of reps) {
    const { enrollment } = await enrollments.enroll(trainer(), { userId: user.id, curriculumId: 'live', startDate: '2027-01-04' });
    enrollmentOf.set(name, String(enrollment._id));
    // everyone but rep6 finishes the lesson that opens the live sessions
    if (name !== 'rep6') await enrollments.acknowledge(rep(name), String(enrollment._id), 'intro');
  }
});
afterAll(() => ctx.close());

describe('scheduling', () => {
  it('schedules a virtual session in its time zone, titled after the module', async () => {
    const s = await svc.schedule(trainer(), viltInput());
    expect(s).toMatchObject({
      title: 'Discovery webinar',
      moduleTitle: 'Discovery webinar',
      modality: 'vilt',
      startsAt: '2027-01-12T13:00:00.000Z',
      endsAt: '2027-01-12T14:30:00.000Z',
      when: 'Tue 12 Jan 2027, 14:00–15:30 CET',
      capacity: 2,
      booked: 0,
      seatsLeft: 2,
      full: false,
      state: 'scheduled',
      where: 'Online',
      instructor: { id: people.trainer.id, name: 'Tess Trainer' },
    });
  });

  it('names every problem at once', async () => {
    const err = await svc
      .schedule(trainer(), viltInput({ moduleId: 'recap', startsAt: '2027-01-03T10:00', endsAt: '2027-01-03T09:00', capacity: 0, meetingUrl: 'javascript:alert(1)', instructorId: people.rep1.id }))
      .catch((e: unknown) => e);
    const problems = problemsOf(err);
    expect(Object.keys(problems).sort()).toEqual(['capacity', 'endsAt', 'instructorId', 'meetingUrl', 'moduleId', 'startsAt']);
    expect(problems.moduleId).toMatch(/'Recap' is an eLearning module; only virtual \(vilt\) and classroom \(ilt\)/);
    expect(problems.startsAt).toBe('must be in the future');
    expect(problems.endsAt).toBe('must be after the start');
    expect(problems.instructorId).toMatch(/is a rep; instructors are trainers or admins/);
  });

  it('needs a meeting link for a virtual session and a room for a classroom one', async () => {
    expect(problemsOf(await svc.schedule(trainer(), viltInput({ meetingUrl: '' })).catch((e: unknown) => e))).toEqual({ meetingUrl: 'is required for a virtual session' });
    expect(problemsOf(await svc.schedule(trainer(), viltInput({ moduleId: 'workshop', meetingUrl: '' })).catch((e: unknown) => e))).toEqual({ location: 'is required for a classroom session' });
  });

  it('refuses unknown curricula and modules, unknown zones, and wall-clock times the clocks skip', async () => {
    expect(problemsOf(await svc.schedule(trainer(), viltInput({ curriculumId: 'nope' })).catch((e: unknown) => e))).toEqual({ curriculumId: 'is not a published curriculum' });
    expect(problemsOf(await svc.schedule(trainer(), viltInput({ moduleId: 'ghost' })).catch((e: unknown) => e)).moduleId).toMatch(/is not a module of the current version/);
    expect(problemsOf(await svc.schedule(trainer(), viltInput({ timeZone: 'Mars/Olympus' })).catch((e: unknown) => e))).toEqual({ timeZone: 'is not a known time zone (e.g. Europe/Berlin)' });
    const dst = problemsOf(await svc.schedule(trainer(), viltInput({ startsAt: '2027-03-28T02:30', endsAt: '2027-03-28T04:00' })).catch((e: unknown) => e));
    expect(dst.startsAt).toMatch(/does not exist in Europe\/Berlin/);
  });

  it('is for trainers and admins only', async () => {
    await expect(svc.schedule(rep('rep1'), viltInput())).rejects.toThrow(Forbidden);
    await expect(svc.schedule({ id: people.manager1.id, role: 'manager' }, viltInput())).rejects.toThrow(Forbidden);
  });
});

describe('booking', () => {
  let s1: string;
  let s2: string;

  beforeAll(async () => {
    s1 = (await svc.schedule(trainer(), viltInput({ title: 'Webinar A' }))).id;
    s2 = (await svc.schedule(trainer(), viltInput({ title: 'Webinar B', startsAt: '2027-01-14T10:00', endsAt: '2027-01-14T11:30' }))).id;
  });

  it('refuses a locked module with the roadmap reasons, and other reps’ enrollments', async () => {
    const err = await svc.book(rep('rep6'), enrollmentOf.get('rep6')!, s1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateLocked);
    expect((err as GateLocked).reasons).toEqual(["Complete 'Introduction' first."]);
    await expect(svc.book(rep('rep2'), enrollmentOf.get('rep1')!, s1)).rejects.toThrow(NotFound);
    await expect(svc.book(trainer(), enrollmentOf.get('rep1')!, s1)).rejects.toThrow(Forbidden);
    expect((await sessionDoc(s1)).seats).toEqual([]);
  });

  it('books while seats last, then waitlists in order, and writes the booking facts', async () => {
    const a = await svc.book(rep('rep1'), enrollmentOf.get('rep1')!, s1);
    const b = await svc.book(rep('rep2'), enrollmentOf.get('rep2')!, s1);
    const c = await svc.book(rep('rep3'), enrollmentOf.get('rep3')!, s1);
    const d = await svc.book(rep('rep4'), enrollmentOf.get('rep4')!, s1);
    expect([a, b, c, d].map((r) => r.seat.status)).toEqual(['booked', 'booked', 'waitlisted', 'waitlisted']);
    expect([c, d].map((r) => r.seat.waitlistPosition)).toEqual([1, 2]);
    expect(a.ics).toMatch(/METHOD:REQUEST/);
    expect(c.ics).toMatch(/STATUS:TENTATIVE/);
    expect(d.session).toMatchObject({ booked: 2, waitlisted: 2, seatsLeft: 0, full: true });

    const facts = await factsOf('rep1');
    expect(facts.bookings.webinar).toEqual({ sessionId: s1, status: 'booked', startsAt: '2027-01-12T13:00:00+00:00' });
    expect(facts.started.webinar).toBe(now.toISOString());
    expect((await factsOf('rep3')).bookings.webinar).toMatchObject({ sessionId: s1, status: 'waitlisted' });
    expect(await moduleStatus('rep1', 'webinar')).toMatchObject({ state: 'in_progress', hint: 'Booked: attend the session on Tue 12 Jan.' });
    expect(await moduleStatus('rep3', 'webinar')).toMatchObject({ state: 'in_progress', hint: 'On the waitlist for Tue 12 Jan.' });
  });

  it('treats a second click as the same booking', async () => {
    const rev = (await enrollments.view(rep('rep2'), enrollmentOf.get('rep2')!)).enrollment.rev;
    const again = await svc.book(rep('rep2'), enrollmentOf.get('rep2')!, s1);
    expect(again).toMatchObject({ already: true, seat: { status: 'booked', sequence: 0 } });
    expect((await sessionDoc(s1)).seats.filter((x) => String(x.userId) === reps.get('rep2')!.id)).toHaveLength(1);
    expect((await enrollments.view(rep('rep2'), enrollmentOf.get('rep2')!)).enrollment.rev).toBe(rev);
  });

  it('gives a freed seat to the first on the waitlist, with new invites for both', async () => {
    const left = await svc.cancel(rep('rep1'), s1);
    expect(left.seat).toMatchObject({ status: 'cancelled', sequence: 1 });
    expect(left.ics).toMatch(/METHOD:CANCEL/);
    expect(left.ics).toMatch(/STATUS:CANCELLED/);
    expect(left).toMatchObject({ enrollmentId: enrollmentOf.get('rep1'), moduleId: 'webinar' });
    expect(left.promoted.map((p) => p.userId)).toEqual([reps.get('rep3')!.id]);
    expect(left.promoted[0]!.ics).toMatch(/METHOD:REQUEST[\s\S]*SEQUENCE:1[\s\S]*STATUS:CONFIRMED/);

    const seats = (await sessionDoc(s1)).seats.map((x) => ({ user: String(x.userId), status: x.status, sequence: x.sequence }));
    expect(seats).toEqual([
      { user: reps.get('rep1')!.id, status: 'cancelled', sequence: 1 },
      { user: reps.get('rep2')!.id, status: 'booked', sequence: 0 },
      { user: reps.get('rep3')!.id, status: 'booked', sequence: 1 },
      { user: reps.get('rep4')!.id, status: 'waitlisted', sequence: 0 },
    ]);
    expect((await factsOf('rep1')).bookings.webinar).toBeUndefined();
    expect((await factsOf('rep3')).bookings.webinar).toMatchObject({ sessionId: s1, status: 'booked' });
    expect(await moduleStatus('rep3', 'webinar')).toMatchObject({ hint: 'Booked: attend the session on Tue 12 Jan.' });
    // leaving twice is harmless
    expect((await svc.cancel(rep('rep1'), s1)).promoted).toEqual([]);
    await expect(svc.cancel(rep('rep5'), s1)).rejects.toThrow(NotFound);
  });

  it('moves a rep to another session of the module, releasing the old seat', async () => {
    const moved = await svc.book(rep('rep2'), enrollmentOf.get('rep2')!, s2);
    expect(moved).toMatchObject({ released: [s1], seat: { status: 'booked' }, already: false });
    expect((await factsOf('rep2')).bookings.webinar).toEqual({ sessionId: s2, status: 'booked', startsAt: '2027-01-14T09:00:00+00:00' });
    const old = await sessionDoc(s1);
    expect(old.seats.find((x) => String(x.userId) === reps.get('rep2')!.id)).toMatchObject({ status: 'cancelled', sequence: 1 });
    // rep4 was next on the waitlist of A
    expect(old.seats.find((x) => String(x.userId) === reps.get('rep4')!.id)).toMatchObject({ status: 'booked', sequence: 1 });
    expect((await factsOf('rep4')).bookings.webinar).toMatchObject({ sessionId: s1, status: 'booked' });
  });

  it('rejoins at the end of the queue with a newer invite after leaving', async () => {
    const back = await svc.book(rep('rep1'), enrollmentOf.get('rep1')!, s1);
    expect(back.seat).toMatchObject({ status: 'waitlisted', sequence: 2, waitlistPosition: 1 });
    await svc.cancel(rep('rep1'), s1);
  });

  it('never overbooks the last seat when reps click at the same moment', async () => {
    const last = (await svc.schedule(trainer(), viltInput({ title: 'Webinar C', startsAt: '2027-01-15T10:00', endsAt: '2027-01-15T11:00', capacity: 1 }))).id;
    const racers = ['rep5', 'rep7', 'rep8', 'rep9', 'rep10'];
    const results = await Promise.all(racers.map((name) => svc.book(rep(name), enrollmentOf.get(name)!, last)));
    expect(results.filter((r) => r.seat.status === 'booked')).toHaveLength(1);
    expect(results.filter((r) => r.seat.status === 'waitlisted')).toHaveLength(4);
    const doc = await sessionDoc(last);
    expect(doc.seats).toHaveLength(5);
    expect(doc.seats.filter((x) => x.status === 'booked')).toHaveLength(1);
    expect(doc.rev).toBe(5);
    for (const name of racers) {
      const seat = doc.seats.find((x) => String(x.userId) === reps.get(name)!.id)!;
      expect((await factsOf(name)).bookings.webinar).toMatchObject({ sessionId: last, status: seat.status });
    }
  });

  it('lists sessions with counts, and what a rep sees on the module page', async () => {
    const list = await svc.upcoming(rep('rep1'), { moduleId: 'webinar' });
    expect(list.map((s) => [s.title, s.booked, s.waitlisted, s.seatsLeft])).toEqual([
      ['Discovery webinar', 0, 0, 2],
      ['Webinar A', 2, 0, 0],
      ['Webinar B', 1, 0, 1],
      ['Webinar C', 1, 4, 0],
    ]);
    const options = sessionsForRep(await svc.forModule('live', 'webinar'), reps.get('rep2')!.id);
    expect(options.map((o) => [o.title, o.mySeat, o.full, o.canBook])).toEqual([
      ['Discovery webinar', null, false, true],
      ['Webinar A', null, true, true],
      ['Webinar B', 'booked', false, false],
      ['Webinar C', null, true, true],
    ]);
    expect(options[2]).toMatchObject({
      when: 'Thu 14 Jan 2027, 10:00–11:30 CET',
      where: 'Online',
      seatsLeft: 1,
      meetingUrl: 'https://meet.example.com/discovery',
      inviteUrl: `/sessions/${s2}/invite.ics`,
      canLeave: true,
    });
    expect(options[0]!.meetingUrl).toBeNull();
  });
});

describe('attendance', () => {
  let s1: string;

  beforeAll(async () => {
    s1 = (await svc.upcoming(trainer(), { moduleId: 'webinar' })).find((s) => s.title === 'Webinar A')!.id;
  });

  it('waits for the session to start', async () => {
    await expect(svc.markAttendance(trainer(), s1, [{ userId: reps.get('rep3')!.id, status: 'attended' }])).rejects.toThrow(/once the session has started/);
  });

  it('completes a virtual module for those who attended; the absent can book again', async () => {
    now = new Date('2027-01-12T13:10:00Z');
    await expect(svc.cancel(rep('rep3'), s1)).rejects.toThrow(Conflict);
    const bad = await svc.markAttendance(trainer(), s1, [{ userId: reps.get('rep1')!.id, status: 'attended' }]).catch((e: unknown) => e);
    expect(problemsOf(bad)).toEqual({ [`attendance.${reps.get('rep1')!.id}`]: 'has no booked seat on this session' });

    const res = await svc.markAttendance(trainer(), s1, [
      { userId: reps.get('rep3')!.id, status: 'attended' },
      { userId: reps.get('rep4')!.id, status: 'absent' },
    ]);
    expect(res.marked).toBe(2);

    const done = await moduleStatus('rep3', 'webinar');
    expect(done).toMatchObject({ state: 'completed', doneAt: '2027-01-12T13:00:00+00:00' });
    expect((await factsOf('rep3')).bookings.webinar).toBeUndefined();
    expect((await factsOf('rep3')).attendance.webinar).toEqual({ status: 'attended', at: '2027-01-12T13:00:00+00:00' });

    expect(await moduleStatus('rep4', 'webinar')).toMatchObject({ state: 'available', hint: 'You missed the session — book another one.' });
    expect((await factsOf('rep4')).bookings.webinar).toBeUndefined();
    // a completed module is not booked again
    await expect(svc.book(rep('rep3'), enrollmentOf.get('rep3')!, (await svc.upcoming(trainer(), {})).find((s) => s.title === 'Webinar C')!.id)).rejects.toThrow(/already completed/);

    const again = await svc.book(rep('rep4'), enrollmentOf.get('rep4')!, (await svc.upcoming(trainer(), {})).find((s) => s.title === 'Webinar B')!.id);
    expect(again.seat.status).toBe('booked');
    expect(await moduleStatus('rep4', 'webinar')).toMatchObject({ state: 'in_progress', hint: 'Booked: attend the session on Thu 14 Jan.' });
  });

  it('refuses to book a session that has started', async () => {
    await expect(svc.book(rep('rep5'), enrollmentOf.get('rep5')!, s1)).rejects.toThrow(/already started/);
  });
});

describe('rubric scoring', () => {
  let w1: string;

  beforeAll(async () => {
    now = new Date('2027-01-13T08:00:00Z');
    w1 = (
      await svc.schedule(trainer(), {
        curriculumId: 'live',
        moduleId: 'workshop',
        startsAt: '2027-01-20T09:00',
        endsAt: '2027-01-20T17:00',
        timeZone: 'Europe/Berlin',
        capacity: 4,
        location: 'Berlin office, room Spree',
        instructorId: people.admin.id,
      })
    ).id;
    for (const name of ['rep1', 'rep2', 'rep7']) await svc.book(rep(name), enrollmentOf.get(name)!, w1);
  });

  it('only scores reps marked attended, against the module rubric', async () => {
    await expect(svc.scoreRubric(trainer(), w1, reps.get('rep1')!.id, { opening: 4, discovery: 4, commitment: 2 })).rejects.toThrow(/mark attendance first/);
    now = new Date('2027-01-20T08:30:00Z');
    await svc.markAttendance(trainer(), w1, [
      { userId: reps.get('rep1')!.id, status: 'attended' },
      { userId: reps.get('rep2')!.id, status: 'attended' },
      { userId: reps.get('rep7')!.id, status: 'absent' },
    ]);
    // attended, but a rubric pass is needed too
    expect(await moduleStatus('rep1', 'workshop')).toMatchObject({ state: 'in_progress', hint: 'You attended — waiting for the instructor to score your role play.' });
    await expect(svc.scoreRubric(trainer(), w1, reps.get('rep7')!.id, { opening: 4, discovery: 4, commitment: 2 })).rejects.toThrow(Conflict);

    const err = await svc.scoreRubric(trainer(), w1, reps.get('rep1')!.id, { opening: 5, discovery: 2.5, bonus: 1 }).catch((e: unknown) => e);
    expect(problemsOf(err)).toEqual({
      'scores.bonus': 'is not a criterion of this rubric',
      'scores.opening': 'must be a whole number from 0 to 4',
      'scores.discovery': 'must be a whole number from 0 to 4',
      'scores.commitment': 'is required',
    });
    await expect(svc.scoreRubric(rep('rep1'), w1, reps.get('rep1')!.id, { opening: 4, discovery: 4, commitment: 2 })).rejects.toThrow(Forbidden);
  });

  it('completes the classroom module with a passing score, not with a low one', async () => {
    const pass = await svc.scoreRubric(trainer(), w1, reps.get('rep1')!.id, { opening: 4, discovery: 3, commitment: 1 }, 'Strong opening.');
    expect(pass).toMatchObject({ points: 8, maxPoints: 10, rubricPercent: 80, passed: true, moduleState: 'completed' });
    expect((await factsOf('rep1')).attendance.workshop).toEqual({ status: 'attended', at: '2027-01-20T08:00:00+00:00', rubricPercent: 80 });

    const low = await svc.scoreRubric(trainer(), w1, reps.get('rep2')!.id, { opening: 2, discovery: 2, commitment: 1 });
    expect(low).toMatchObject({ rubricPercent: 50, passed: false, moduleState: 'in_progress' });
    expect(await moduleStatus('rep2', 'workshop')).toMatchObject({ state: 'in_progress', hint: 'Your role-play score was 50% — 70% passes. Book another session to try again.' });

    const detail = await svc.get(trainer(), w1);
    expect(detail.roster.find((r) => r.userId === reps.get('rep1')!.id)).toMatchObject({
      attendance: { status: 'attended', rubricScores: { opening: 4, discovery: 3, commitment: 1 }, rubricPercent: 80, feedback: 'Strong opening.' },
      rubricPass: 70,
    });
    expect(detail.roster[0]!.rubric!.map((c) => c.id)).toEqual(['opening', 'discovery', 'commitment']);
  });

  it('keeps the score when attendance is corrected; partial attendance does not complete', async () => {
    await svc.markAttendance(trainer(), w1, [{ userId: reps.get('rep1')!.id, status: 'partial' }]);
    expect((await factsOf('rep1')).attendance.workshop).toEqual({ status: 'partial', at: '2027-01-20T08:00:00+00:00', rubricPercent: 80 });
    expect((await moduleStatus('rep1', 'workshop')).state).toBe('available');
    await svc.markAttendance(trainer(), w1, [{ userId: reps.get('rep1')!.id, status: 'attended' }]);
    expect((await moduleStatus('rep1', 'workshop')).state).toBe('completed');
  });

  it('put every change of attendance and every score in the audit log, by who made it (none for refused ones)', async () => {
    const admin = { id: people.admin.id, role: 'admin' as const };
    const { entries } = await ctx.container.audit.page(admin, { action: 'session', targetId: reps.get('rep1')!.id }, 1, 50);
    const onWorkshop = entries.filter((e) => e.detail.sessionId === w1).reverse(); // oldest first
    expect(onWorkshop.map((e) => [e.action, e.actorId, e.actorRole])).toEqual([
      ['session.attendance.mark', people.trainer.id, 'trainer'],
      ['session.rubric.score', people.trainer.id, 'trainer'],
      ['session.attendance.mark', people.trainer.id, 'trainer'],
      ['session.attendance.mark', people.trainer.id, 'trainer'],
    ]);
    expect(onWorkshop.map((e) => e.detail.status ?? e.detail.rubricPercent)).toEqual(['attended', 80, 'partial', 'attended']);
    expect(onWorkshop[1]!.detail).toEqual({ sessionId: w1, moduleId: 'workshop', points: 8, maxPoints: 10, rubricPercent: 80, previousPercent: null, passed: true });
    expect(onWorkshop[2]!.detail).toMatchObject({ status: 'partial', previous: 'attended' });
    // the feedback the trainer wrote is not copied into the log
    expect(JSON.stringify(entries)).not.toContain('Strong opening.');
  });

  it('refuses scoring a module without a rubric', async () => {
    const s1 = (await svc.upcoming(trainer(), { moduleId: 'webinar', recentDays: 30 })).find((s) => s.title === 'Webinar A')!.id;
    await expect(svc.scoreRubric(trainer(), s1, reps.get('rep3')!.id, {})).rejects.toThrow(/has no rubric/);
  });
});

describe('cancelling a session', () => {
  it('takes everyone off, clears their booking facts and sends CANCEL invites', async () => {
    const s = (await svc.schedule(trainer(), viltInput({ title: 'Webinar D', startsAt: '2027-01-27T10:00', endsAt: '2027-01-27T11:00', capacity: 1 }))).id;
    await svc.book(rep('rep8'), enrollmentOf.get('rep8')!, s);
    await svc.book(rep('rep9'), enrollmentOf.get('rep9')!, s);
    expect((await factsOf('rep9')).bookings.webinar).toMatchObject({ sessionId: s, status: 'waitlisted' });

    await expect(svc.cancelSession(rep('rep8'), s)).rejects.toThrow(Forbidden);
    const res = await svc.cancelSession(trainer(), s);
    expect(res.session.state).toBe('cancelled');
    expect(res.invites.map((i) => i.userId).sort()).toEqual([reps.get('rep8')!.id, reps.get('rep9')!.id].sort());
    for (const invite of res.invites) {
      expect(invite.ics).toMatch(/METHOD:CANCEL/);
      expect(invite.ics).toMatch(/STATUS:CANCELLED/);
      expect(invite.ics).toMatch(/SEQUENCE:1/);
    }
    expect((await factsOf('rep8')).bookings.webinar).toBeUndefined();
    expect((await factsOf('rep9')).bookings.webinar).toBeUndefined();
    expect(await moduleStatus('rep8', 'webinar')).toMatchObject({ state: 'in_progress', hint: 'Book a session.' });

    await expect(svc.book(rep('rep10'), enrollmentOf.get('rep10')!, s)).rejects.toThrow(/has been cancelled/);
    expect((await svc.cancelSession(trainer(), s)).invites).toEqual([]); // twice is harmless
    expect((await svc.upcoming(trainer(), {})).some((x) => x.id === s)).toBe(false);
    expect(await svc.invite(s, reps.get('rep8')!.id)).toMatch(/METHOD:CANCEL/);
  });
});

describe('pages', () => {
  /** The session routes on a bare app: signed in as `user`, with a plain in-memory session. */
  function pageApp(user: PublicUser) {
    const app = express();
    setUpViews(app, false);
    app.use(express.urlencoded({ extended: false }));
    const session: Record<string, unknown> = {};
    app.use((req, _res, next) => {
      req.user = user;
      (req as unknown as { session: Record<string, unknown> }).session = session;
      next();
    });
    const deps = { sessions: svc, enrollments, accounts: ctx.container.accounts, curricula: ctx.container.curricula };
    for (const r of sessionPageRoutes(deps)) {
      app[r.method](r.path, authorize(r.access), pageLocals, async (req, res, next) => {
        try {
          await r.handler(req, res, next);
        } catch (err) {
          next(err);
        }
      });
    }
    app.use(errorHandler(createLogger({ logLevel: 'silent', logPretty: false })));
    return { agent: supertest(app), session };
  }

  it('lets a trainer list, schedule (with problems next to the fields) and open sessions', async () => {
    now = new Date('2027-01-20T12:00:00Z');
    const { agent, session } = pageApp(people.trainer);
    const list = await agent.get('/sessions').expect(200);
    expect(list.text).toContain('Schedule a session');
    expect(list.text).toContain('Webinar B');

    const form = await agent.get('/sessions/new').expect(200);
    expect(form.text).toContain('<optgroup label="Live onboarding">');
    expect(form.text).toContain('value="live/workshop"');
    expect(form.text).not.toContain('value="live/recap"');
    expect(form.text).toMatch(/type="datetime-local"/);

    const bad = await agent.post('/sessions').type('form').send({ module: 'live/workshop', startsAt: '2027-02-01T09:00', endsAt: '2027-02-01T08:00', timeZone: 'Europe/Berlin', capacity: '', instructorId: people.trainer.id }).expect(422);
    expect(bad.text).toMatch(/id="endsAt"[^>]*aria-invalid="true"/);
    expect(bad.text).toMatch(/id="location"[^>]*aria-invalid="true"/);
    expect(bad.text).toContain('must be a whole number from 1 to 1000');
    expect(bad.text).toContain('value="2027-02-01T09:00"');

    const ok = await agent
      .post('/sessions')
      .type('form')
      .send({ module: 'live/workshop', title: 'Workshop <Feb>', startsAt: '2027-02-01T09:00', endsAt: '2027-02-01T17:00', timeZone: 'Europe/Berlin', capacity: '8', location: 'Room 1', instructorId: people.trainer.id })
      .expect(303);
    expect(ok.headers.location).toMatch(/^\/sessions\/[a-f0-9]{24}$/);
    expect(session.flash).toEqual([{ kind: 'success', message: "Scheduled 'Workshop <Feb>' on Mon 1 Feb 2027, 09:00–17:00 CET." }]);
    const page = await agent.get(ok.headers.location!).expect(200);
    expect(page.text).toContain('Workshop &lt;Feb&gt;');
    expect(page.text).toContain('Cancel this session');
    expect(page.text).toContain('Nobody has booked yet');
  });

  it('shows the attendance radio groups and rubric forms on a running workshop', async () => {
    const { agent } = pageApp(people.trainer);
    const w1 = (await svc.upcoming(trainer(), { moduleId: 'workshop', recentDays: 30 })).find((s) => s.location === 'Berlin office, room Spree')!.id;
    const page = await agent.get(`/sessions/${w1}`).expect(200);
    expect(page.text).toContain(`<legend>${people.rep2.name}</legend>`);
    expect(page.text).toContain(`name="status.${people.rep2.id}" value="attended" checked`);
    expect(page.text).toContain(`id="score-${people.rep2.id}-opening" name="score.opening" type="number" inputmode="numeric" min="0" max="4"`);
    expect(page.text).not.toContain(`id="score-${reps.get('rep7')!.id}-opening"`); // absent: nothing to score

    const bad = await agent.post(`/sessions/${w1}/rubric/${people.rep2.id}`).type('form').send({ 'score.opening': '9', 'score.discovery': '3', 'score.commitment': '2', feedback: 'Again' }).expect(422);
    expect(bad.text).toMatch(new RegExp(`id="score-${people.rep2.id}-opening"[^>]*value="9"[^>]*aria-invalid="true"`));
    expect(bad.text).toContain('must be a whole number from 0 to 4');

    const good = await agent.post(`/sessions/${w1}/rubric/${people.rep2.id}`).type('form').send({ 'score.opening': '3', 'score.discovery': '3', 'score.commitment': '2', feedback: 'Much better' }).expect(303);
    expect(good.headers.location).toBe(`/sessions/${w1}#rubric-${people.rep2.id}`);
    expect((await moduleStatus('rep2', 'workshop')).state).toBe('completed');

    const att = await agent.post(`/sessions/${w1}/attendance`).type('form').send({ [`status.${people.rep2.id}`]: 'attended' }).expect(303);
    expect(att.headers.location).toBe(`/sessions/${w1}`);
  });

  it('books and leaves for a rep, back to the module page, and serves their invite', async () => {
    const { agent, session } = pageApp(people.rep5);
    const target = (await svc.upcoming(trainer(), { moduleId: 'workshop' })).find((s) => s.title === 'Workshop <Feb>')!.id;
    const booked = await agent.post(`/sessions/${target}/book`).type('form').send({ enrollmentId: enrollmentOf.get('rep5') }).expect(303);
    expect(booked.headers.location).toBe(`/learn/${enrollmentOf.get('rep5')}/modules/workshop`);
    expect(session.flash).toEqual([{ kind: 'success', message: "You are booked on 'Workshop <Feb>' on Mon 1 Feb 2027, 09:00–17:00 CET. Add it to your calendar with the invite link." }]);

    const trainerPage = await pageApp(people.trainer).agent.get(`/sessions/${target}`).expect(200);
    expect(trainerPage.text).toContain(people.rep5.name);
    expect(trainerPage.text).toContain('You can mark attendance once the session starts');

    const ics = await agent.get(`/sessions/${target}/invite.ics`).expect(200);
    expect(ics.headers['content-type']).toBe('text/calendar; charset=utf-8; method=REQUEST');
    expect(ics.headers['content-disposition']).toMatch(/^attachment; filename="?onramp-session\.ics"?$/);
    expect(ics.text).toContain(`UID:${target}@onramp`);
    expect(ics.text).toContain('LOCATION:Room 1');

    // someone else's enrollment is not found; a locked module comes back with the reasons
    await agent.post(`/sessions/${target}/book`).type('form').send({ enrollmentId: enrollmentOf.get('rep1') }).expect(404);
    const locked = pageApp(people.rep6);
    const refused = await locked.agent.post(`/sessions/${target}/book`).type('form').send({ enrollmentId: enrollmentOf.get('rep6') }).expect(303);
    expect(refused.headers.location).toBe(`/learn/${enrollmentOf.get('rep6')}/modules/workshop`);
    expect(locked.session.flash).toEqual([{ kind: 'error', message: "'Role-play workshop' is locked. Complete 'Introduction' first." }]);
    await locked.agent.get(`/sessions/${target}/invite.ics`).expect(404);

    session.flash = [];
    const left = await agent.post(`/sessions/${target}/leave`).type('form').send({ enrollmentId: enrollmentOf.get('rep5') }).expect(303);
    expect(left.headers.location).toBe(`/learn/${enrollmentOf.get('rep5')}/modules/workshop`);
    const cancelled = await agent.get(`/sessions/${target}/invite.ics`).expect(200);
    expect(cancelled.text).toMatch(/METHOD:CANCEL/);
    expect(cancelled.headers['content-type']).toContain('method=CANCEL');

    // reps do not reach the trainer pages
    await agent.get('/sessions').expect(403);
  });
});
