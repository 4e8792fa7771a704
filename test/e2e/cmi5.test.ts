import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCurriculumFolders } from '../../src/content/load.js';
import { validateCurriculum } from '../../src/content/validate.js';
import { addDays } from '../../src/engine/sequencing.js';
import { browserRig, signInPage, SHOTS, type BrowserRig } from '../support/browser.js';

/**
 * The sample cmi5 AU (content/…/cmi5/value-statement-drill: static HTML + @xapi/cmi5) launched
 * from its module in a real browser: the drill runs sandboxed, talks to the LRS with its session
 * token, passes, and the module completes.
 */
const ROOT = join(import.meta.dirname, '..', '..');
let rig: BrowserRig;
let enrollmentId: string;

beforeAll(async () => {
  rig = await browserRig();
  const [folder] = findCurriculumFolders(join(ROOT, 'content'));
  const { content, problems, packages } = validateCurriculum(folder!.name, folder!.files, folder!.packages);
  expect(problems).toEqual([]);
  await rig.ctx.container.curricula.publish('cli', content!, packages);
  const today = new Date().toISOString().slice(0, 10);
  const { enrollment } = await rig.ctx.container.enrollments.enroll('system', { userId: rig.people.rep6.id, curriculumId: 'new-rep-onboarding', startDate: addDays(today, -3) });
  enrollmentId = String(enrollment._id);
  // the lessons before the drill are done
  await rig.ctx.container.enrollments.applyEvent(enrollmentId, (facts) => {
    const at = new Date(Date.now() - 86_400_000).toISOString();
    for (const m of ['market-and-personas', 'problems-risks-opportunities', 'buying-process', 'value-proposition']) {
      facts.started[m] = at;
      facts.completed[m] = at;
    }
    return facts;
  });
});
afterAll(() => rig?.close());

describe('a cmi5 AU in the browser', () => {
  it('launches the value statement drill, passes it and completes the module', async () => {
    const page = await signInPage(rig.browser, rig.base, 'rep6@demo.onramp.dev');
    const modulePage = `${rig.base}/learn/${enrollmentId}/modules/value-statement-drill`;
    await page.goto(modulePage);
    await page.screenshot({ path: join(SHOTS, 'cmi5-module.png'), fullPage: true });
    await page.getByRole('button', { name: 'Launch the course' }).click();

    await page.waitForURL(/\/cmi5\/content\/[0-9a-f-]{36}\/index\.html\?/);
    // the drill runs on the content origin (localhost ⇄ 127.0.0.1 here), not on Onramp's
    expect(new URL(page.url()).origin).not.toBe(rig.base);
    await page.getByText('Connected. Your result is recorded in Onramp.').waitFor({ timeout: 30_000 }).catch(async (e) => {
      process.stderr.write(`status: ${await page.locator('#status').textContent()}\n`);
      throw e;
    });
    // the right statement for each buyer (see drill.js)
    const right = [1, 0, 2, 1];
    for (const [i, option] of right.entries()) await page.locator(`input[name="q${i}"][value="${option}"]`).check();
    await page.screenshot({ path: join(SHOTS, 'cmi5-drill.png'), fullPage: true });
    await page.getByRole('button', { name: 'Check my answers' }).click();
    await page.getByText('Passed: 4 of 4').waitFor();
    await page.screenshot({ path: join(SHOTS, 'cmi5-drill-passed.png'), fullPage: true });

    await page.getByRole('link', { name: 'Back to Onramp' }).click();
    await page.waitForURL(modulePage);
    await page.getByText('Completed.').waitFor();
    await page.screenshot({ path: join(SHOTS, 'cmi5-module-completed.png'), fullPage: true });

    const view = await rig.ctx.container.enrollments.view({ id: rig.people.rep6.id, role: 'rep' }, enrollmentId);
    expect(view.enrollment.facts.completed['value-statement-drill']).toBeTruthy();
    // the AU's initialized, passed, completed, terminated; Onramp's launched and satisfied (the course: the drill has no blocks)
    const verbs = (await rig.ctx.container.mongo.db!.collection('xapi_statements').find({ activity: { $regex: /value-statement-drill$/ } }).toArray()).map((d) => String(d.verb).split('/').pop());
    expect(verbs.sort()).toEqual(['completed', 'initialized', 'launched', 'passed', 'satisfied', 'terminated']);
  });
});
