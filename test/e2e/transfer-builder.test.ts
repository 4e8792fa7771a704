import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { browserRig, signInPage, SHOTS, type BrowserRig } from '../support/browser.js';
import { fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';

/**
 * The guided builder in a real browser: an example one click away, autosave, the live preview, and
 * nothing lost when the connection drops and the page is closed before it comes back.
 */
let rig: BrowserRig;
let enrollmentId: string;

const form = `id: script
title: Call script
steps:
  - id: opening
    title: Opening
    help: Earn 30 seconds.
    examples: ["Hi Dana, it's Sam Lee from Crewline. Can I take 30 seconds to tell you why I called?"]
    fields:
      - id: opening
        label: Your opening, word for word
        type: longText
        required: true
  - id: discovery
    title: Discovery
    fields:
      - id: questions
        label: Your discovery questions
        type: list
        required: true
`;

beforeAll(async () => {
  rig = await browserRig();
  const { content } = validateCurriculum('demo', fixtureFiles({ 'demo/forms/script.yaml': form }));
  await rig.ctx.container.curricula.publish('cli', content!);
  const { enrollment } = await rig.ctx.container.enrollments.enroll('system', { userId: rig.people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
  enrollmentId = String(enrollment._id);
  await unlockTransfer(rig.ctx.container.enrollments, enrollmentId);
});
afterAll(() => rig?.close());

const stored = async () => (await rig.ctx.container.models.Submission.findOne({ enrollmentId }).lean<SubmissionDoc>())!;

describe('the transfer builder in the browser', () => {
  it('starts from an example, autosaves, previews live, and keeps offline edits on the device until they are saved', async () => {
    const page = await signInPage(rig.browser, rig.base, 'rep1@demo.onramp.dev');
    const url = `${rig.base}/learn/${enrollmentId}/modules/script/build`;
    await page.goto(url);
    await page.getByRole('button', { name: 'Start from this example' }).click();
    const opening = page.getByLabel('Your opening, word for word');
    await expect.poll(() => opening.inputValue()).toContain("it's Sam Lee from Crewline");
    await page.getByText(/^Saved at /).waitFor();
    await expect.poll(async () => (await stored()).answers.opening).toContain('Sam Lee');
    // the preview follows as you type
    await opening.fill('Hi Marco, this is Jordan at Crewline.');
    await page.locator('#preview').getByText('Hi Marco, this is Jordan at Crewline.').waitFor();
    await expect.poll(async () => (await stored()).answers.opening).toBe('Hi Marco, this is Jordan at Crewline.');
    await page.getByText(/^Saved at /).waitFor();
    await page.screenshot({ path: join(SHOTS, 'transfer-builder.png'), fullPage: true });

    // the connection drops: the edit stays on this device; the page is left before it comes back
    await page.context().setOffline(true);
    await opening.fill('Hi Marco, this is Jordan at Crewline. Ana Ruiz suggested I call you.');
    await page.getByText(/Offline\? Your changes are kept on this device/).waitFor();
    await page.goto('about:blank');
    await page.context().setOffline(false);
    expect((await stored()).answers.opening).toBe('Hi Marco, this is Jordan at Crewline.');

    // back on the builder (it opens on the first unfinished part): the copy on the device is put back and saved
    await page.goto(url);
    await page.getByText(/^Saved at /).waitFor();
    await expect.poll(async () => (await stored()).answers.opening).toContain('Ana Ruiz suggested I call you.');
    expect(await page.evaluate('Object.keys(localStorage).length')).toBe(0); // saved: nothing pending on the device
    await page.goto(`${url}?step=opening`);
    expect(await page.getByLabel('Your opening, word for word').inputValue()).toContain('Ana Ruiz suggested I call you.');
    await page.reload();
    expect(await page.getByLabel('Your opening, word for word').inputValue()).toContain('Ana Ruiz suggested I call you.');
    await page.close();
  });
});
