import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { statusOn } from '../../src/engine/rep-summary.js';
import { cellIdOf, readRow } from '../../src/features/dashboards/cells.js';
import { connectRedis } from '../../src/infra/redis.js';
import { jobDepsOf, startWorker } from '../../src/jobs/worker.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';
import { until } from '../support/until.js';

/** The dashboards' rollup follows events: progress queues a refresh, the worker rebuilds the summary. */
let ctx: TestContext;
let people: DemoPeople;
let worker: Worker;
let workerRedis: ReturnType<typeof connectRedis>;
let enrollmentId: string;

const summary = () => ctx.container.models.RepSummary.findById(enrollmentId).lean();

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  workerRedis = connectRedis(ctx.config.redisUrl!, 'summaries-test-worker');
  worker = startWorker(workerRedis, ctx.config.redisPrefix, jobDepsOf(ctx.container), 2);
  await worker.waitUntilReady();
});
afterAll(async () => {
  await worker?.close();
  workerRedis?.disconnect();
  await ctx?.close();
});

describe('rep summaries', () => {
  it('are created when a rep is enrolled and follow their progress, through the worker', async () => {
    enrollmentId = String((await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', cohort: 'Spring', startDate: '2026-01-05' })).enrollment._id);
    const first = await until('the summary', summary);
    expect(first).toMatchObject({ userId: people.rep1.id, managerId: people.rep1.managerId, cohort: 'Spring', curriculumId: 'demo', done: 0, completed: false });
    await ctx.container.enrollments.acknowledge({ id: people.rep1.id, role: 'rep' }, enrollmentId, 'intro');
    const after = await until('the refreshed summary', async () => {
      const s = await summary();
      return s?.doneModules.includes('intro') && s;
    });
    expect(after.done).toBe(1);
    expect(after.startedModules).toContain('intro');
    // the start date is long past: whatever is due and not done makes the rep behind, decided today
    expect(statusOn(after, '2026-12-01')).toBe(after.firstDue && after.firstDue < '2026-12-01' ? 'behind' : 'on-track');
  });

  it('rebuild every summary, and drop one whose enrollment is gone', async () => {
    await ctx.container.models.RepSummary.deleteMany({});
    expect(await ctx.container.summaries.refreshAll()).toBe(1);
    expect((await summary())!.doneModules).toEqual(['intro']);
    await ctx.container.models.RepSummary.create({ ...(await summary())!, _id: '0123456789abcdef01234567', refreshedAt: new Date() });
    expect(await ctx.container.summaries.refresh('0123456789abcdef01234567')).toBeNull();
    expect(await ctx.container.models.RepSummary.countDocuments()).toBe(1);
  });

  it('keep the rep\'s dashboard row in the cell of their manager: moved when the manager changes, the empty cell removed', async () => {
    const cells = () => ctx.container.models.DashboardCell.find({}).lean();
    const before = (await summary())!;
    const home = cellIdOf(before);
    expect((await cells()).map((c) => [c._id, Object.keys(c.reps)])).toEqual([[home, [enrollmentId]]]);
    // a new manager: no event announces it, the next refresh (the periodic sweep) moves the row
    await ctx.container.models.User.updateOne({ _id: people.rep1.id }, { managerId: people.manager2.id });
    await ctx.container.summaries.refresh(enrollmentId);
    const moved = cellIdOf({ ...before, managerId: people.manager2.id });
    expect((await cells()).map((c) => [c._id, Object.keys(c.reps)])).toEqual([[moved, [enrollmentId]]]);
    expect(readRow((await cells())[0]!.reps[enrollmentId]!)).toMatchObject({ userId: people.rep1.id, done: ['intro'], completed: false });
    await ctx.container.models.User.updateOne({ _id: people.rep1.id }, { managerId: people.rep1.managerId });
    await ctx.container.summaries.refresh(enrollmentId);
    expect((await cells()).map((c) => c._id)).toEqual([home]);
  });

  it('take the rows of enrollments that are gone out of the cells on a full rebuild', async () => {
    const home = cellIdOf((await summary())!);
    // a row left behind (a crash between the two updates of a move, an enrollment removed with its summary)
    await ctx.container.models.DashboardCell.updateOne({ _id: home }, { $set: { 'reps.0123456789abcdef01234567': { userId: 'gone', detail: '{}' } } });
    await ctx.container.models.DashboardCell.create({ _id: 'orphan', curriculumId: 'demo', versionId: 'demo@x', cohort: 'Old', managerId: null, reps: { '0123456789abcdef01234568': { userId: 'gone' } }, refreshedAt: new Date() });
    expect(await ctx.container.summaries.refreshAll()).toBe(1);
    const cells = await ctx.container.models.DashboardCell.find({}).lean();
    expect(cells.map((c) => [c._id, Object.keys(c.reps)])).toEqual([[home, [enrollmentId]]]);
  });
});
