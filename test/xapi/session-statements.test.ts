import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum, type SourceFile } from '../../src/content/validate.js';
import { EnrollmentService } from '../../src/features/enrollment/service.js';
import { LiveSessionService } from '../../src/features/sessions/service.js';
import { RedisLocker } from '../../src/infra/locks.js';
import { createLogger } from '../../src/infra/logger.js';
import { LearningRecorder } from '../../src/xapi/recorder.js';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';

/** Live-session events become statements: seats, waitlist promotion, attendance (re-marked), rubric scores. */
const files: SourceFile[] = Object.entries({
  'live/curriculum.yaml': 'id: live\ntitle: Live onboarding\ndescription: A lesson and a scored workshop.\nmasteryThreshold: 80\nphases:\n  - id: skills\n    title: Skills\n',
  'live/modules/01-intro.md': '---\nid: intro\ntitle: Introduction\nphase: skills\nmodality: elearning\nminutes: 10\n---\nRead this first.\n',
  'live/modules/02-workshop.md':
    '---\nid: workshop\ntitle: Role-play workshop\nphase: skills\nmodality: ilt\nminutes: 420\nprerequisites: [intro]\ncompletion:\n  rule: attended\n  rubricPass: 70\nrubric:\n  criteria:\n    - id: opening\n      title: Opening\n      max: 4\n    - id: discovery\n      title: Discovery\n      max: 4\n---\nThe classroom day.\n',
}).map(([path, text]) => ({ path, text }));

let ctx: TestContext;
let people: DemoPeople;
let now = new Date('2027-01-04T09:00:00Z');
let svc: LiveSessionService;
const enrollmentOf = new Map<string, string>();

async function statementsOf(userId: string) {
  const all = await ctx.container.statements.query({ limit: 100, ascending: true, agent: `account:${ctx.config.publicUrl}|${userId}`, relatedAgents: true }, 'exact', [], '', new URLSearchParams());
  return all.statements as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any -- statements as plain JSON
}
const verbs = (list: Record<string, any>[]) => list.map((s) => `${String(s.verb.id).split('/').pop()}${s.context?.extensions ? `:${Object.entries(s.context.extensions).filter(([k]) => /\/(seat|reason|attendance)$/.test(k)).map(([, v]) => v).join(',')}` : ''}`); // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('live', files).content!);
  const locker = new RedisLocker(ctx.container.redis, ctx.config.redisPrefix);
  const enrollments = new EnrollmentService(ctx.container.models, ctx.container.curricula, ctx.container.accounts, locker, () => now);
  svc = new LiveSessionService(ctx.container.models, enrollments, locker, () => now);
  svc.listen(new LearningRecorder(ctx.container.statements, { baseIri: ctx.config.xapiActivityBase, platform: 'Onramp', homePage: ctx.config.publicUrl }, createLogger(ctx.config)));
  for (const name of ['rep1', 'rep2'] as const) {
    const { enrollment } = await enrollments.enroll('system', { userId: people[name].id, curriculumId: 'live', startDate: '2027-01-04' });
    enrollmentOf.set(name, String(enrollment._id));
    await enrollments.acknowledge({ id: people[name].id, role: 'rep' }, String(enrollment._id), 'intro');
  }
});
afterAll(() => ctx?.close());

describe('live-session statements', () => {
  it('records seats, the waitlist promotion, a re-marked attendance (voiding the first mark) and the rubric score', async () => {
    const trainer = { id: people.trainer.id, role: 'trainer' as const };
    const session = await svc.schedule(trainer, { curriculumId: 'live', moduleId: 'workshop', startsAt: '2027-01-12T09:00', endsAt: '2027-01-12T16:00', timeZone: 'Europe/Berlin', capacity: 1, location: 'Berlin office', instructorId: people.trainer.id });
    await svc.book({ id: people.rep1.id, role: 'rep' }, enrollmentOf.get('rep1')!, session.id);
    await svc.book({ id: people.rep2.id, role: 'rep' }, enrollmentOf.get('rep2')!, session.id);
    await svc.cancel({ id: people.rep1.id, role: 'rep' }, session.id);

    now = new Date('2027-01-12T10:00:00Z');
    const rep2 = people.rep2.id;
    await svc.markAttendance(trainer, session.id, [{ userId: rep2, status: 'absent' }]);
    now = new Date('2027-01-12T10:05:00Z');
    await svc.markAttendance(trainer, session.id, [{ userId: rep2, status: 'attended' }]);
    await svc.markAttendance(trainer, session.id, [{ userId: rep2, status: 'attended' }]); // the same again: nothing new
    await svc.scoreRubric(trainer, session.id, rep2, { opening: 3, discovery: 3 }, 'Clear agenda.');

    expect(verbs(await statementsOf(people.rep1.id))).toEqual(['registered:booked', 'unregistered:rep']);
    const list = await statementsOf(rep2);
    // the first mark (absent → skipped) is voided: out of ordinary queries; the voiding statement
    // targets it, so it matches rep2 too (Communication 2.1.3, filter conditions for StatementRefs)
    expect(verbs(list)).toEqual(['registered:waitlisted', 'registered:booked', 'voided', 'attended:attended', 'scored']);
    const all = await ctx.container.mongo.db!.collection('xapi_statements').find({ relatedAgents: `account:${ctx.config.publicUrl}|${rep2}` }).toArray();
    const skipped = JSON.parse(all.find((d) => String(d.verb).endsWith('/skipped'))!.json as string) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect((await ctx.container.statements.one(skipped.id, true)).id).toBe(skipped.id); // still there by voidedStatementId
    const voiding = (await ctx.container.statements.query({ limit: 10, verb: 'http://adlnet.gov/expapi/verbs/voided' }, 'exact', [], '', new URLSearchParams())).statements as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(voiding).toHaveLength(1);
    expect(voiding[0]!.object).toEqual({ objectType: 'StatementRef', id: skipped.id });
    expect(voiding[0]!.actor.account.name).toBe(people.trainer.id); // who made the correction
    const attended = list.find((s) => s.verb.id.endsWith('/attended'))!;
    expect(attended.context.instructor).toMatchObject({ objectType: 'Agent', name: people.trainer.name, account: { name: people.trainer.id } });
    expect(attended.timestamp).toBe('2027-01-12T08:00:00.000Z'); // when the session took place (09:00 Berlin)
    const scored = list.find((s) => s.verb.id.endsWith('/scored'))!;
    expect(scored.result).toMatchObject({ score: { raw: 6, max: 8 }, success: true });
  });
});
