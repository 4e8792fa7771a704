import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { computeRoadmap } from '../../src/engine/sequencing.js';
import { Conflict, GateLocked, NotFound, ValidationFailed } from '../../src/errors.js';
import { EnrollmentService } from '../../src/features/enrollment/service.js';
import { RedisLocker } from '../../src/infra/locks.js';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

let ctx: TestContext;
let people: DemoPeople;
let now = new Date('2027-01-04T09:00:00Z');
let svc: EnrollmentService;
const trainer = () => ({ id: people.trainer.id, role: 'trainer' as const });
const rep = (p: { id: string }) => ({ id: p.id, role: 'rep' as const });

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  // the same services, with a clock the tests move
  svc = new EnrollmentService(ctx.container.models, ctx.container.curricula, ctx.container.accounts, new RedisLocker(ctx.container.redis, ctx.config.redisPrefix), () => now);
});
afterAll(() => ctx.close());

describe('enrolling', () => {
  it('enrolls a rep once, pinned to the current version', async () => {
    const first = await svc.enroll(trainer(), { userId: people.rep1.id, curriculumId: 'demo', cohort: 'Jan 2027', startDate: '2027-01-04' });
    expect(first.created).toBe(true);
    expect(first.enrollment.versionId).toMatch(/^demo@[0-9a-f]{12}$/);
    expect(first.enrollment.roadmap.modules.map((m) => m.state)).toEqual(['available', 'locked', 'locked']);
    const again = await svc.enroll(trainer(), { userId: people.rep1.id, curriculumId: 'demo', cohort: 'Other', startDate: '2027-02-01' });
    expect(again.created).toBe(false);
    expect(String(again.enrollment._id)).toBe(String(first.enrollment._id));
    expect(again.enrollment.cohort).toBe('Jan 2027');
    expect(await ctx.container.models.Enrollment.countDocuments({ userId: first.enrollment.userId })).toBe(1);
  });

  it('keeps existing enrollments on their version when a new one is published', async () => {
    const changed = fixtureFiles().map((f) => (f.path.endsWith('01-intro.md') ? { ...f, text: f.text.replace('Read this.', 'Read this, version two.') } : f));
    const published = await ctx.container.curricula.publish('cli', validateCurriculum('demo', changed).content!);
    expect(published.status).toBe('published');
    const old = (await svc.mine(rep(people.rep1)))[0]!;
    expect(old.enrollment.versionId).not.toBe(published.versionId);
    expect(old.curriculum.modules[0]!.body).toContain('Read this.');
    const fresh = await svc.enroll(trainer(), { userId: people.rep2.id, curriculumId: 'demo', startDate: '2027-01-04' });
    expect(fresh.enrollment.versionId).toBe(published.versionId);
  });

  it('refuses non-reps, bad dates and unknown curricula', async () => {
    await expect(svc.enroll(trainer(), { userId: people.manager1.id, curriculumId: 'demo', startDate: '2027-01-04' })).rejects.toThrow(ValidationFailed);
    await expect(svc.enroll(trainer(), { userId: people.rep3.id, curriculumId: 'demo', startDate: '2027-13-01' })).rejects.toThrow(ValidationFailed);
    await expect(svc.enroll(trainer(), { userId: people.rep3.id, curriculumId: 'nope', startDate: '2027-01-04' })).rejects.toThrow(NotFound);
    await expect(svc.enroll(rep(people.rep3), { userId: people.rep3.id, curriculumId: 'demo', startDate: '2027-01-04' })).rejects.toThrow(/may not/);
  });
});

describe('progress', () => {
  it('completes an acknowledged lesson, unlocks what depends on it, and refuses locked modules with reasons', async () => {
    const id = String((await svc.mine(rep(people.rep1)))[0]!.enrollment._id);
    const locked = await svc.open(rep(people.rep1), id, 'check').catch((e: unknown) => e);
    expect(locked).toBeInstanceOf(GateLocked);
    expect((locked as GateLocked).reasons).toEqual(["Complete 'Introduction' first."]);

    await svc.open(rep(people.rep1), id, 'intro');
    const done = await svc.acknowledge(rep(people.rep1), id, 'intro');
    expect(done.roadmap.modules.map((m) => m.state)).toEqual(['completed', 'available', 'locked']);
    expect(done.roadmap.next).toEqual(['check']);
    // twice is harmless
    const again = await svc.acknowledge(rep(people.rep1), id, 'intro');
    expect(again.enrollment.rev).toBe(done.enrollment.rev);
    // an assessment is not completed by a click
    await expect(svc.acknowledge(rep(people.rep1), id, 'check')).rejects.toThrow(Conflict);
  });

  it('never loses one of many events arriving at once', async () => {
    const { enrollment } = await svc.enroll(trainer(), { userId: people.rep4.id, curriculumId: 'demo', startDate: '2027-01-04' });
    const stamps = Array.from({ length: 6 }, (_, i) => `x${i}`);
    await Promise.all(
      stamps.map((s) =>
        svc.applyEvent(enrollment._id, (facts) => {
          facts.started[s] = now.toISOString();
          return facts;
        }),
      ),
    );
    const after = await ctx.container.models.Enrollment.findById(enrollment._id).lean();
    expect(Object.keys(after!.facts.started).sort()).toEqual(stamps);
    expect(after!.rev).toBe(6);
  });

  it('stores a roadmap equal to recomputing it from the facts', async () => {
    const view = (await svc.mine(rep(people.rep1)))[0]!;
    expect(view.enrollment.roadmap).toEqual(computeRoadmap(view.curriculum, view.enrollment.facts, view.today));
  });

  it('recomputes date gates and overdue on a later day', async () => {
    now = new Date('2027-01-20T09:00:00Z');
    const view = (await svc.mine(rep(people.rep2)))[0]!;
    expect(view.enrollment.computedOn).toBe('2027-01-04');
    expect(view.today).toBe('2027-01-20');
    expect(view.roadmap.modules[0]).toMatchObject({ id: 'intro', overdue: true });
    now = new Date('2027-01-04T09:00:00Z');
  });

  it("keeps a rep out of someone else's enrollment", async () => {
    const id = String((await svc.mine(rep(people.rep1)))[0]!.enrollment._id);
    await expect(svc.view(rep(people.rep2), id)).rejects.toThrow(NotFound);
    await expect(svc.open(rep(people.rep2), id, 'intro')).rejects.toThrow(NotFound);
    await expect(svc.view({ id: people.manager2.id, role: 'manager' }, id)).rejects.toThrow(NotFound);
    expect((await svc.view({ id: people.manager1.id, role: 'manager' }, id)).rep.email).toBe('rep1@demo.onramp.dev');
  });
});

describe('CSV rosters', () => {
  const header = 'email,name,manager_email,cohort,start_date\n';

  it('imports nothing when one row is bad, and names the row', async () => {
    const csv = `${header}new1@example.com,New One,manager1@demo.onramp.dev,Feb,2027-02-01\nnew2@example.com,New Two,nobody@demo.onramp.dev,Feb,2027-02-01\n`;
    const res = await svc.importRoster(trainer(), 'demo', csv, true);
    expect(res.problems).toEqual(['Line 3: manager_email "nobody@demo.onramp.dev" is not an active manager']);
    expect(res.applied).toBeUndefined();
    expect(await ctx.container.accounts.findByEmail('new1@example.com')).toBeUndefined();
  });

  it('previews, then creates missing reps and enrolls everyone; importing again changes nothing', async () => {
    const csv = `${header}new1@example.com,New One,manager1@demo.onramp.dev,Feb,2027-02-01\nrep5@demo.onramp.dev,Casey Novak,manager2@demo.onramp.dev,Feb,2027-02-01\n`;
    const preview = await svc.importRoster(trainer(), 'demo', csv, false);
    expect(preview.rows.map((r) => r.action)).toEqual(['create rep and enroll', 'enroll']);
    expect(await ctx.container.accounts.findByEmail('new1@example.com')).toBeUndefined();

    const done = await svc.importRoster(trainer(), 'demo', csv, true);
    expect(done.applied).toMatchObject({ enrolled: 2, already: 0 });
    expect(done.applied!.created).toEqual([{ email: 'new1@example.com', name: 'New One', temporaryPassword: expect.any(String) }]);
    const created = await ctx.container.accounts.findByEmail('new1@example.com');
    expect(created).toMatchObject({ role: 'rep', managerId: people.manager1.id, mustChangePassword: true });

    const again = await svc.importRoster(trainer(), 'demo', csv, true);
    expect(again.applied).toMatchObject({ created: [], enrolled: 0, already: 2 });
    expect(await ctx.container.models.Enrollment.countDocuments({ cohort: 'Feb' })).toBe(2);
  });
});
