import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareLocalRun } from '../../src/features/demo/prepare.js';
import type { AnswerDoc, DeckDoc, DeliveryDoc } from '../../src/features/reinforcement/model.js';
import { deliveryJobId } from '../../src/features/reinforcement/scheduler.js';
import { createLogger } from '../../src/infra/logger.js';
import { createTestContext, signIn, type TestContext } from '../support/context.js';

/** The demo's reinforcement history: played through the real service, so every page has something to show. */
const CONTENT = join(import.meta.dirname, '..', '..', 'content');
let ctx: TestContext;
let lines: string[];
const ids: Record<string, string> = {};

beforeAll(async () => {
  ctx = await createTestContext({ CONTENT_DIR: CONTENT, DEMO_SEED: 'true' });
  lines = (await prepareLocalRun(ctx.container.mongo, ctx.config, createLogger(ctx.config))).lines;
  for (const u of await ctx.container.accounts.list({ id: 'test', role: 'admin' })) ids[u.email.split('@')[0]!] = u.id;
});
afterAll(() => ctx?.close());

describe('demo reinforcement', () => {
  it('gives every rep who finished a module a deck, deliveries at their slots and answers, and says so', async () => {
    const decks = await ctx.container.models.Deck.find({}).lean<DeckDoc[]>();
    const deliveries = await ctx.container.models.Delivery.find({}).lean<DeliveryDoc[]>();
    const answers = await ctx.container.models.Answer.find({}).lean<AnswerDoc[]>();
    // rep1–rep4 have completed or tested out of modules with reinforcement questions; rep5 has not
    expect(decks.map((d) => String(d._id)).sort()).toEqual([ids.rep1, ids.rep2, ids.rep3, ids.rep4].sort());
    expect(decks.every((d) => d.nextDeliveryAt !== null && d.items.length > 0)).toBe(true);
    expect(lines).toContain(`demo: reinforcement history for 4 reps (${deliveries.length} deliveries, ${answers.length} answers)`);
    expect(answers.length).toBeGreaterThan(20);
    // at most one delivery a day per rep, never more than three questions
    for (const d of decks) {
      const mine = deliveries.filter((x) => String(x.userId) === String(d._id));
      expect(new Set(mine.map((x) => x.slot.toISOString().slice(0, 10))).size).toBe(mine.length);
      expect(mine.every((x) => x.items.length >= 1 && x.items.length <= 3)).toBe(true);
    }
    // the newest set of a rep with history is waiting for them today
    expect(deliveries.some((x) => x.status === 'open')).toBe(true);
    expect(answers.some((a) => a.correct) && answers.some((a) => !a.correct)).toBe(true);
  });

  it('schedules each deck’s next delivery when the worker starts', async () => {
    expect(await ctx.container.reinforcement.resync()).toBe(4);
    for (const rep of ['rep1', 'rep2', 'rep3', 'rep4']) {
      const job = await ctx.container.queue.getJob(deliveryJobId(ids[rep]!));
      expect(await job?.getState(), rep).toBe('delayed');
    }
    expect(await ctx.container.reinforcement.resync()).toBe(4); // again: the same four jobs, no second one
    expect((await ctx.container.queue.getJobs(['delayed'])).filter((j) => j.name === 'reinforcement.deliver')).toHaveLength(4);
  });

  it('shows a rep with history their streak and history, and the trainer a forgetting curve', async () => {
    const rep = await signIn(ctx.app, 'rep4@demo.onramp.dev');
    const page = await rep.agent.get('/reinforcement').expect(200);
    expect(page.text).toContain('History');
    expect(page.text).toMatch(/<td><a href="\/reinforcement\/deliveries\/[a-f0-9]{24}-\d+">/);
    const trainer = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    const report = await trainer.agent.get('/reports/retention').expect(200);
    expect(report.text).toContain('<svg');
    expect(report.text).not.toContain('No answers yet');
  });

  it('records the demo history as xAPI statements, so a rep’s timeline has it', async () => {
    const trainer = await signIn(ctx.app, 'trainer@demo.onramp.dev');
    for (const category of ['enrollment', 'module', 'reinforcement', 'live-session']) {
      const res = await trainer.agent.get(`/api/people/${ids.rep4}/timeline?category=${category}`).expect(200);
      expect((res.body.events as unknown[]).length, category).toBeGreaterThan(0);
    }
  });
});
