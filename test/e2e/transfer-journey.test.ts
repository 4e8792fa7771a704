import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { browserRig, signInPage, SHOTS, type BrowserRig } from '../support/browser.js';
import { fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';
import { readFileSync } from 'node:fs';
import { readPdf } from '../support/pdf-text.js';

/**
 * The transfer journey in a real browser: the rep builds the script and downloads the PDF, the
 * manager asks for a change on one section, the rep resubmits, the manager approves, the rep logs
 * results, the manager confirms — and the next module unlocks.
 */
let rig: BrowserRig;
let enrollmentId: string;

const form = `id: script
title: Call script
steps:
  - id: opening
    title: Opening
    examples: ["Hi Dana, it's Sam Lee from Crewline. Can I take 30 seconds to tell you why I called?"]
    fields:
      - id: opening
        label: Your opening, word for word
        type: longText
        required: true
  - id: ask
    title: The ask
    fields:
      - id: ask
        label: Your ask, word for word
        type: longText
        required: true
review:
  checklist: [The opening asks for permission]
activityLog:
  periodDays: 10
  fields:
    - id: metWithManager
      label: I met my manager to practise the script
      type: boolean
    - id: calls
      label: Calls made
      type: number
      target: 50
    - id: contacts
      label: Contacts reached
      type: number
      target: 20
    - id: appointments
      label: Appointments set
      type: number
      target: 8
`;
const followUp = `---
id: followup
title: Debrief your call block
phase: basics
modality: elearning
minutes: 10
prerequisites: [script]
---
What worked on the phone?
`;

beforeAll(async () => {
  rig = await browserRig();
  const { content, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/forms/script.yaml': form, 'demo/modules/04-followup.md': followUp }));
  expect(problems).toEqual([]);
  await rig.ctx.container.curricula.publish('cli', content!);
  const { enrollment } = await rig.ctx.container.enrollments.enroll('system', { userId: rig.people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
  enrollmentId = String(enrollment._id);
  await unlockTransfer(rig.ctx.container.enrollments, enrollmentId);
});
afterAll(() => rig?.close());

const moduleState = async (id: string) => (await rig.ctx.container.enrollments.view({ id: rig.people.rep1.id, role: 'rep' }, enrollmentId)).roadmap.modules.find((m) => m.id === id)!.state;

describe('the transfer journey in the browser', () => {
  it('build → PDF → changes asked → resubmit → approve → results → confirm → next module unlocked', async () => {
    const rep = await signInPage(rig.browser, rig.base, 'rep1@demo.onramp.dev');
    await rep.goto(`${rig.base}/learn/${enrollmentId}/modules/script`);
    await rep.getByRole('link', { name: 'Open the builder' }).click();
    await rep.getByRole('button', { name: 'Start from this example' }).click();
    await rep.getByRole('button', { name: 'Save and continue' }).click();
    await rep.getByLabel('Your ask, word for word').fill('Could we meet on Tuesday at 10 for 20 minutes?');
    await rep.getByRole('button', { name: 'Save and continue' }).click();
    await rep.getByRole('button', { name: "Submit for my manager's review" }).click();
    await rep.getByText('Submitted for review.').waitFor();
    expect(await moduleState('script')).toBe('awaiting_review');

    const manager = await signInPage(rig.browser, rig.base, 'manager1@demo.onramp.dev');
    await manager.goto(`${rig.base}/reviews`);
    await manager.getByRole('link', { name: 'Review', exact: true }).first().click();
    // the script as a PDF, with the rep's words in it
    const [download] = await Promise.all([manager.waitForEvent('download'), manager.getByRole('link', { name: 'Download the script (PDF)' }).click()]);
    const text = (await readPdf(readFileSync((await download.path())!))).map((p) => p.text).join('\n');
    expect(text).toContain('Could we meet on Tuesday at 10 for 20 minutes?');
    await manager.getByLabel('Changes to “The ask”').fill('Offer two times, not one.');
    await manager.screenshot({ path: join(SHOTS, 'transfer-review.png'), fullPage: true });
    await manager.getByRole('button', { name: 'Ask for changes' }).click();
    await manager.getByText('Sent back to').waitFor();

    await rep.goto(`${rig.base}/learn/${enrollmentId}/modules/script/build?step=ask`);
    await rep.getByText('Offer two times, not one.').first().waitFor();
    await rep.getByLabel('Your ask, word for word').fill('Could we meet on Tuesday at 10 or Thursday at 2 for 20 minutes?');
    await rep.getByRole('button', { name: 'Save and continue' }).click();
    await rep.getByRole('button', { name: "Submit for my manager's review" }).click();
    await rep.getByText('Submitted for review.').waitFor();

    await manager.goto(`${rig.base}/reviews`);
    await manager.getByRole('link', { name: 'Review', exact: true }).first().click();
    await manager.getByText('Thursday at 2').first().waitFor();
    await manager.getByRole('button', { name: 'Approve' }).click();
    await manager.getByText('Approved.').waitFor();

    await rep.goto(`${rig.base}/learn/${enrollmentId}/modules/script/build`);
    await rep.getByText('Approved by your manager.').waitFor();
    await rep.getByLabel('I met my manager to practise the script').check();
    await rep.getByLabel('Calls made').fill('52');
    await rep.getByLabel('Contacts reached').fill('60');
    await rep.getByLabel('Appointments set').fill('6');
    await rep.getByRole('button', { name: 'Log my results' }).click();
    await rep.getByText('contacts cannot be more than calls (60 > 52)').first().waitFor();
    await rep.getByLabel('Contacts reached').fill('18');
    await rep.getByRole('button', { name: 'Log my results' }).click();
    await rep.getByText('Results logged.').waitFor();
    await rep.screenshot({ path: join(SHOTS, 'transfer-results.png'), fullPage: true });
    expect(await moduleState('followup')).toBe('locked');

    await manager.goto(`${rig.base}/reviews`);
    await manager.getByRole('link', { name: /Call script/ }).click();
    await manager.getByRole('button', { name: 'Confirm results' }).click();
    await manager.getByText('Results confirmed: the module is complete.').waitFor();

    expect(await moduleState('script')).toBe('completed');
    expect(await moduleState('followup')).not.toBe('locked');
    await rep.goto(`${rig.base}/roadmap`);
    await rep.screenshot({ path: join(SHOTS, 'transfer-roadmap-after.png'), fullPage: true });
    await rep.close();
    await manager.close();

    // the trainer's participation report shows the manager's reviews and the rep's results
    const trainer = await signInPage(rig.browser, rig.base, 'trainer@demo.onramp.dev');
    await trainer.goto(`${rig.base}/reports/transfer`);
    const managers = trainer.locator('table', { hasText: rig.people.manager1.name }).first();
    await managers.waitFor();
    const reps = trainer.locator('tr', { hasText: rig.people.rep1.name }).last();
    expect(await reps.innerText()).toMatch(/52/);
    await trainer.screenshot({ path: join(SHOTS, 'transfer-participation-report.png'), fullPage: true });
    const [csv] = await Promise.all([trainer.waitForEvent('download'), trainer.getByRole('link', { name: 'Reps (CSV)' }).click()]);
    expect(readFileSync((await csv.path())!, 'utf8')).toContain(rig.people.rep1.name);
    await trainer.close();
  }, 240_000);
});
