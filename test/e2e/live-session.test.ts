import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { browserRig, signInPage, SHOTS, type BrowserRig } from '../support/browser.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/** In the browser: a rep books a virtual session; once it has started the trainer marks attendance; the module completes. */
let enrollmentId: string;
let sessionId: string;

const live = '---\nid: live\ntitle: Live practice\nphase: basics\nmodality: vilt\nminutes: 60\n---\nA virtual session to practise the opening.\n';

let rig: BrowserRig;

beforeAll(async () => {
  rig = await browserRig();
  const { ctx, people } = rig;
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles({ 'demo/modules/04-live.md': live })).content!);
  const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
  enrollmentId = String(enrollment._id);
  const inTwoDays = new Date(Date.now() + 2 * 86_400_000);
  const s = await ctx.container.sessions.schedule(
    { id: people.trainer.id, role: 'trainer' },
    { curriculumId: 'demo', moduleId: 'live', startsAt: inTwoDays, endsAt: new Date(inTwoDays.getTime() + 3_600_000), timeZone: 'Europe/Berlin', capacity: 4, meetingUrl: 'https://meet.example.com/live', instructorId: people.trainer.id },
  );
  sessionId = s.id;
});
afterAll(() => rig?.close());

describe('a live session in the browser', () => {
  it('is booked by the rep, marked attended by the trainer, and completes the module', async () => {
    const rep = await signInPage(rig.browser, rig.base, 'rep1@demo.onramp.dev');
    await rep.goto(`${rig.base}/learn/${enrollmentId}/modules/live`);
    await rep.getByRole('button', { name: 'Book this session' }).click();
    await rep.waitForSelector('text=Booked');
    expect(await rep.getByRole('link', { name: 'Add to calendar (.ics)' }).count()).toBe(1);
    const ics = await rep.request.get(`${rig.base}/sessions/${sessionId}/invite.ics`);
    expect(ics.status()).toBe(200);
    expect(await ics.text()).toContain('METHOD:REQUEST');
    await rep.screenshot({ path: join(SHOTS, 'session-booked.png'), fullPage: true });

    // two days later, the session is under way (moved rather than waited for)
    const startedAt = new Date(Date.now() - 10 * 60_000);
    await rig.ctx.container.models.LiveSession.updateOne({ _id: sessionId }, { $set: { startsAt: startedAt, endsAt: new Date(startedAt.getTime() + 3_600_000) } });

    const trainer = await signInPage(rig.browser, rig.base, 'trainer@demo.onramp.dev');
    await trainer.goto(`${rig.base}/sessions/${sessionId}`);
    await trainer.locator('fieldset', { hasText: 'Riley Chen' }).getByLabel('Attended', { exact: true }).check();
    await trainer.getByRole('button', { name: 'Save attendance' }).click();
    await trainer.waitForLoadState();
    await trainer.screenshot({ path: join(SHOTS, 'session-attendance.png'), fullPage: true });

    await rep.goto(`${rig.base}/roadmap`);
    const state = rep.locator('li.module:has(a.module-title:text-is("Live practice")) .state');
    expect(await state.innerText()).toBe('Completed');
    await rep.close();
    await trainer.close();
  }, 120_000);
});
