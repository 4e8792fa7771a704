import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { browserRig, signInPage, SHOTS, type BrowserRig } from '../support/browser.js';
import { deliverLater, fixtureFiles } from '../support/curriculum-fixture.js';

/** In a real browser: today's questions from the home page, an answer with its feedback, the settings. */
let rig: BrowserRig;

beforeAll(async () => {
  rig = await browserRig();
  const { ctx, people } = rig;
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
  await ctx.container.enrollments.acknowledge({ id: people.rep1.id, role: 'rep' }, String(enrollment._id), 'intro');
  await deliverLater(ctx.container, people.rep1.id);
});
afterAll(() => rig?.close());

describe('a rep answers today’s question in the browser', () => {
  it('goes from the home card to the question, answers, sees the feedback and the lesson link, then pauses for a vacation', async () => {
    const page = await signInPage(rig.browser, rig.base, 'rep1@demo.onramp.dev');
    const card = page.locator('section', { has: page.getByRole('heading', { name: "Today's questions" }) });
    expect(await card.innerText()).toContain('1 question waiting');
    await page.screenshot({ path: join(SHOTS, 'reinforcement-home.png'), fullPage: true });
    await card.getByRole('link', { name: 'Answer now' }).click();
    await page.waitForURL(/\/reinforcement\/deliveries\/[a-f0-9]{24}-\d+$/);
    await page.getByLabel('This one').check();
    await page.getByRole('button', { name: 'Answer' }).click();
    await page.waitForSelector('text=Right — well remembered.');
    expect(await page.getByRole('link', { name: /Review the lesson/ }).getAttribute('href')).toMatch(/\/modules\/intro$/);
    expect(await page.locator('.alert-success').innerText()).toContain('All done for today');
    await page.screenshot({ path: join(SHOTS, 'reinforcement-answered.png'), fullPage: true });

    await page.goto(`${rig.base}/reinforcement/settings`);
    await page.getByLabel('First day').fill('2031-07-01');
    await page.getByLabel('Last day').fill('2031-07-14');
    await page.locator('#quietFrom').fill('12');
    await page.locator('#quietTo').fill('13');
    await page.screenshot({ path: join(SHOTS, 'reinforcement-settings.png'), fullPage: true });
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.waitForURL(`${rig.base}/reinforcement`);
    expect(await page.locator('.alert').first().innerText()).toMatch(/Saved\. Your next questions arrive/);
    expect(await page.locator('body').innerText()).toContain('2031-07-01 to 2031-07-14');
    await page.screenshot({ path: join(SHOTS, 'reinforcement-overview.png'), fullPage: true });
  });
});
