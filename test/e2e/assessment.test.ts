import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { browserRig, signInPage, SHOTS, type BrowserRig } from '../support/browser.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/** In a real browser, keyboard and mouse: fail the check, review, retry, pass, move on. */
let enrollmentId: string;

let rig: BrowserRig;

beforeAll(async () => {
  rig = await browserRig();
  const { ctx, people } = rig;
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
  enrollmentId = String(enrollment._id);
});
afterAll(() => rig?.close());

describe('a rep takes the check in the browser', () => {
  it('fails, sees what to review, tries again, passes, and the next module unlocks', async () => {
    const page = await signInPage(rig.browser, rig.base, 'rep1@demo.onramp.dev');
    await page.goto(`${rig.base}/learn/${enrollmentId}/modules/intro`);
    await page.getByRole('button', { name: "I've worked through this lesson" }).click();
    await page.waitForURL(`${rig.base}/learn/${enrollmentId}/modules/check`);

    await page.getByRole('button', { name: 'Start the assessment' }).click();
    await page.waitForURL(/\/attempts\/[0-9a-f]{24}$/);
    // answer wrong, with the keyboard for the radio groups
    await page.getByLabel('That one').check();
    await page.getByLabel('False').focus();
    await page.keyboard.press('Space');
    await page.screenshot({ path: join(SHOTS, 'attempt.png'), fullPage: true });
    await page.getByRole('button', { name: 'Submit for scoring' }).click();
    await page.waitForSelector('text=Not passed yet');
    expect(await page.getByRole('link', { name: 'Introduction' }).count()).toBe(1); // what to review
    await page.screenshot({ path: join(SHOTS, 'attempt-failed.png'), fullPage: true });

    await page.getByRole('button', { name: 'Try again' }).click();
    await page.waitForURL(/\/attempts\/[0-9a-f]{24}$/);
    await page.getByLabel('This one').check();
    await page.getByLabel('True', { exact: true }).check();
    await page.getByRole('button', { name: 'Submit for scoring' }).click();
    await page.waitForSelector('text=Passed');
    await page.screenshot({ path: join(SHOTS, 'attempt-passed.png'), fullPage: true });

    await page.goto(`${rig.base}/roadmap`);
    const script = page.locator('li.module', { hasText: 'Build your script' });
    expect(await script.locator('.state').innerText()).toBe('Ready to start');
    await page.close();
  }, 120_000);
});
