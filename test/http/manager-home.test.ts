import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareLocalRun } from '../../src/features/demo/prepare.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { createLogger } from '../../src/infra/logger.js';
import { createTestContext, signIn, type TestContext } from '../support/context.js';

/** The manager's home lists the reviews waiting for them (from the review queue) and results to confirm. */
const CONTENT = join(import.meta.dirname, '..', '..', 'content');
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext({ CONTENT_DIR: CONTENT, DEMO_SEED: 'true' });
  await prepareLocalRun(ctx.container.mongo, ctx.config, createLogger(ctx.config));
});
afterAll(() => ctx?.close());

function reviewsCard(html: string): string {
  const m = /<section class="card" aria-labelledby="reviews-h">([\s\S]*?)<\/section>/.exec(html);
  expect(m, 'the reviews card').toBeTruthy();
  return m![1]!;
}

describe("the manager's home", () => {
  it("shows manager1 rep3's script waiting for review, with its age and a link to it", async () => {
    const rep3 = (await ctx.container.accounts.findByEmail('rep3@demo.onramp.dev'))!;
    const doc = (await ctx.container.models.Submission.findOne({ repId: rep3.id }).lean<SubmissionDoc>())!;
    const ageDays = Math.floor((Date.now() - doc.submittedAt!.getTime()) / 86_400_000);
    const { agent } = await signIn(ctx.app, 'manager1@demo.onramp.dev');
    const card = reviewsCard((await agent.get('/').expect(200)).text);
    expect(card).toContain('Reviews waiting for you <span class="count">1</span>');
    expect(card).toContain(`href="/reviews/${String(doc._id)}"`);
    expect(card).toContain('Jordan Blake');
    expect(card).toContain(`waiting ${ageDays} day${ageDays === 1 ? '' : 's'}`);
    // due 3 business days after it was submitted (4 days ago): overdue unless a weekend was in between
    expect(card.includes('>overdue<')).toBe(doc.reviewDueAt!.getTime() < Date.now());
    expect(card).toContain('Results to confirm: none');
  });

  it('shows manager2 nothing waiting, and results to confirm once rep4 logs results', async () => {
    const { agent } = await signIn(ctx.app, 'manager2@demo.onramp.dev');
    let card = reviewsCard((await agent.get('/').expect(200)).text);
    expect(card).toContain('Nothing to review');
    expect(card).not.toContain('Jordan Blake');
    expect(card).not.toContain('/reviews/');

    const rep4 = (await ctx.container.accounts.findByEmail('rep4@demo.onramp.dev'))!;
    await ctx.container.models.Submission.updateOne({ repId: rep4.id }, { $set: { resultsConfirmedAt: null } });
    card = reviewsCard((await agent.get('/').expect(200)).text);
    expect(card).toMatch(/<a href="\/reviews">Results to confirm <span class="count">1<\/span><\/a>/);
  });

  it("names where to coach first: each rep's biggest ROAM gap, from the rollup", async () => {
    const { agent } = await signIn(ctx.app, 'manager2@demo.onramp.dev');
    const html = (await agent.get('/').expect(200)).text;
    const card = /aria-labelledby="coach-h">([\s\S]*?)<\/section>/.exec(html)![1]!;
    const rep4 = (await ctx.container.accounts.findByEmail('rep4@demo.onramp.dev'))!;
    // rep4 logged 7 of 8 appointments: results at 88%, the lowest of the three
    expect(card).toContain(`<strong>${rep4.name}</strong> — Results vs objectives at 88%`);
    expect(card).not.toContain('No results yet');
  });
});
