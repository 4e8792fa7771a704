import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { connectRedis } from '../../src/infra/redis.js';
import { jobDepsOf, startWorker } from '../../src/jobs/worker.js';
import { browserRig, signInPage, SHOTS, type BrowserRig } from '../support/browser.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';
import { until } from '../support/until.js';

/**
 * The main journeys end to end, in a real browser and with the real worker keeping the dashboards'
 * rollup (`rep_summaries`) up to date: the rep completes the lesson, passes the check and submits
 * the script; the manager approves it and sees the rep on the coaching view; the rep sees their
 * score and readiness; the trainer sees it all on the dashboard, exports the CSV and reads the
 * rep's timeline. Every page is saved as test-results/journey-*.png for review.
 */
let rig: BrowserRig;
let worker: Worker;
let workerRedis: ReturnType<typeof connectRedis>;
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
activityLog:
  periodDays: 10
  fields:
    - id: calls
      label: Calls made
      type: number
      target: 50
    - id: appointments
      label: Appointments set
      type: number
      target: 8
`;
// the fixture curriculum with a readiness score: the check, the lesson's reinforcement and the script's appointments
const readiness = `readiness:
  objectives:
    - id: knows-product
      title: Knows the product and books the first meeting
      posttest: check
      retention: [intro]
      results: { module: script, field: appointments }
      weights: { posttest: 60, retention: 20, results: 20 }
`;

beforeAll(async () => {
  rig = await browserRig();
  const base = fixtureFiles().find((f) => f.path === 'demo/curriculum.yaml')!.text;
  const { content, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/forms/script.yaml': form, 'demo/curriculum.yaml': `${base}${readiness}` }));
  expect(problems).toEqual([]);
  await rig.ctx.container.curricula.publish('cli', content!);
  // started two days ago: the lesson (due on day 3) is not late, so the rep is on track
  const startDate = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
  const { enrollment } = await rig.ctx.container.enrollments.enroll('system', { userId: rig.people.rep1.id, curriculumId: 'demo', startDate });
  enrollmentId = String(enrollment._id);
  // the real worker: it rebuilds the rep's rollup after each event (dashboards.refreshRep)
  workerRedis = connectRedis(rig.ctx.config.redisUrl!, 'e2e-journey-worker');
  worker = startWorker(workerRedis, rig.ctx.config.redisPrefix, jobDepsOf(rig.ctx.container), 2);
  await worker.waitUntilReady();
});
afterAll(async () => {
  await worker?.close();
  workerRedis?.disconnect();
  await rig?.close();
});

const shot = (page: Page, step: string) => page.screenshot({ path: join(SHOTS, `journey-${step}.png`), fullPage: true });

const rollup = () => rig.ctx.container.models.RepSummary.findById(enrollmentId).lean();

/** Waits for the worker to have rebuilt the rep's rollup so that `ready` holds. */
async function rollupWhere(what: string, ready: (s: NonNullable<Awaited<ReturnType<typeof rollup>>>) => boolean): Promise<void> {
  await until(
    `the rollup to show ${what}`,
    async () => {
      const s = await rollup();
      return s !== null && ready(s);
    },
    60_000,
    async () => JSON.stringify(await rollup()),
    200,
  );
}

/** The rows of a table as trimmed cell texts (header cells included). */
async function tableRows(page: Page, selector: string): Promise<string[][]> {
  const rows: string[][] = [];
  for (const row of await page.locator(`${selector} tbody tr`).all()) rows.push((await row.locator('th, td').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()));
  return rows;
}

type CsvRow = Record<string, string>;
const csvRows = (text: string): CsvRow[] => parseCsv(text, { columns: true, skip_empty_lines: true }) as CsvRow[];

describe('the main journeys, rep → manager → trainer, in the browser', () => {
  it('lesson and check → script submitted → approved → coaching view, my progress, readiness → trainer dashboard and CSV → timeline', async () => {
    const { rep1, manager1 } = rig.people;

    // 1. the rep: the lesson, the check, the script
    const rep = await signInPage(rig.browser, rig.base, 'rep1@demo.onramp.dev');
    await rep.goto(`${rig.base}/learn/${enrollmentId}/modules/intro`);
    await rep.getByRole('button', { name: "I've worked through this lesson" }).click();
    await rep.waitForURL(`${rig.base}/learn/${enrollmentId}/modules/check`);
    await rep.getByRole('button', { name: 'Start the assessment' }).click();
    await rep.waitForURL(/\/attempts\/[0-9a-f]{24}$/);
    await rep.getByLabel('This one').check();
    await rep.getByLabel('True', { exact: true }).check();
    await rep.getByRole('button', { name: 'Submit for scoring' }).click();
    await rep.waitForSelector('text=Passed');
    await shot(rep, '1-check-passed');
    await rollupWhere('the lesson done and the check passed', (s) => s.doneModules.includes('intro') && s.scores.check === 100);

    await rep.goto(`${rig.base}/learn/${enrollmentId}/modules/script`);
    await rep.getByRole('link', { name: 'Open the builder' }).click();
    await rep.getByRole('button', { name: 'Start from this example' }).click();
    await rep.getByRole('button', { name: 'Save and continue' }).click();
    await rep.getByRole('button', { name: "Submit for my manager's review" }).click();
    await rep.getByText('Submitted for review.').waitFor();
    await shot(rep, '1-script-submitted');

    // 2. the manager: approves the script, then the coaching view
    const manager = await signInPage(rig.browser, rig.base, 'manager1@demo.onramp.dev');
    await manager.getByRole('link', { name: 'Reviews', exact: true }).first().click();
    await manager.getByRole('link', { name: 'Review', exact: true }).first().click();
    await manager.getByText("it's Sam Lee from Crewline").first().waitFor();
    await shot(manager, '2-review');
    await manager.getByRole('button', { name: 'Approve' }).click();
    await manager.getByText('Approved.').waitFor();
    await shot(manager, '2-script-approved');
    const approvedAt = (await rig.ctx.container.models.Submission.findOne({ enrollmentId }).lean<SubmissionDoc>())!.approvedAt!;
    expect(approvedAt).toBeInstanceOf(Date);
    await rollupWhere('the approval', (s) => s.refreshedAt.getTime() >= approvedAt.getTime() && s.startedModules.includes('script'));

    await manager.getByRole('link', { name: 'Coaching', exact: true }).click();
    await manager.waitForURL(`${rig.base}/team/dashboard`);
    const repRow = manager.locator('table.team-status tbody tr', { hasText: rep1.name });
    const repRowText = (await repRow.innerText()).replace(/\s+/g, ' ');
    expect(repRowText).toContain('2 of 3 modules done');
    expect(repRowText).toMatch(/on track/i);
    // readiness: only the check has evidence yet (100%), so the score is 100
    const readinessLink = repRow.getByRole('link', { name: new RegExp(`Readiness of ${rep1.name}`) });
    expect(await readinessLink.innerText()).toBe('100');
    expect(await readinessLink.getAttribute('href')).toBe(`/people/${rep1.id}/readiness`);
    // nothing waiting for the manager any more
    expect(await manager.locator('.stat', { hasText: 'Reviews waiting for you' }).locator('.stat-value').innerText()).toBe('0');
    await shot(manager, '2-coaching');
    await manager.close();

    // 3. the rep's own view: the check's score, and the readiness working
    await rep.getByRole('link', { name: 'My progress', exact: true }).click();
    await rep.waitForURL(`${rig.base}/me/progress`);
    const scoreRow = rep.locator('tr', { hasText: 'Basics check' });
    const scoreText = (await scoreRow.innerText()).replace(/\s+/g, ' ');
    expect(scoreText).toContain('100%');
    expect(scoreText).toContain('passed');
    expect((await rep.locator('main').innerText()).replace(/\s+/g, ' ')).toContain('2 of 3 modules done');
    await shot(rep, '3-my-progress');

    await rep.getByRole('link', { name: 'See exactly how it is worked out' }).click();
    await rep.waitForURL(`${rig.base}/people/${rep1.id}/readiness`);
    const working = (await rep.locator('main').innerText()).replace(/\s+/g, ' ');
    expect(working).toContain('Knows the product and books the first meeting');
    expect(await rep.locator('.readiness-score .big-number').innerText()).toBe('100');
    expect(working).toMatch(/not yet — left out/);
    await shot(rep, '3-readiness');
    await rep.close();

    // 4. the trainer: the dashboard, and its CSV
    const trainer = await signInPage(rig.browser, rig.base, 'trainer@demo.onramp.dev');
    await trainer.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await trainer.waitForURL(`${rig.base}/dashboard`);
    expect(await trainer.locator('#stat-enrolled').innerText()).toBe('1');
    expect(await trainer.locator('#stat-on-track').innerText()).toBe('1');
    // funnel: module, started, done, done % of enrolled
    expect(await tableRows(trainer, '#funnel-table')).toEqual([
      [expect.stringContaining('Introduction'), '1', '1', '100%'],
      [expect.stringContaining('Basics check'), '1', '1', '100%'],
      [expect.stringContaining('Build your script'), '1', '0', '0%'],
    ]);
    // assessments: reps scored, mean best, at or above the pass mark
    expect(await tableRows(trainer, '#assessments-table')).toEqual([[expect.stringContaining('Basics check'), '1', '100%', '1 (100%)']]);
    // manager participation: manager1 has the rep and approved the script; nothing logged yet
    expect(await tableRows(trainer, '#managers-table')).toEqual([[manager1.name, '1', '0', '0', '0', '1', '0', '0', '0']]);
    await shot(trainer, '4-dashboard');

    const [download] = await Promise.all([trainer.waitForEvent('download'), trainer.getByRole('link', { name: 'Funnel (CSV)' }).click()]);
    expect(download.suggestedFilename()).toBe('dashboard-funnel-demo.csv');
    const funnel = csvRows(readFileSync((await download.path())!, 'utf8'));
    expect(funnel.map((r) => [r.module_id, r.started, r.done, r.enrolled, r.done_share])).toEqual([
      ['intro', '1', '1', '1', '1.000'],
      ['check', '1', '1', '1', '1.000'],
      ['script', '1', '0', '1', '0.000'],
    ]);
    // the other exports, with the trainer's session
    const assessmentsHref = (await trainer.getByRole('link', { name: 'Assessments (CSV)' }).getAttribute('href'))!;
    const assessments = csvRows(await (await trainer.request.get(`${rig.base}${assessmentsHref}`)).text());
    expect(assessments).toEqual([expect.objectContaining({ module_id: 'check', reps_scored: '1', mean_best: '100.0', at_or_above: '1', at_or_above_share: '1.000' })]);
    const managersHref = (await trainer.getByRole('link', { name: 'Managers (CSV)' }).getAttribute('href'))!;
    const managers = csvRows(await (await trainer.request.get(`${rig.base}${managersHref}`)).text());
    expect(managers).toEqual([expect.objectContaining({ manager_id: manager1.id, manager: manager1.name, reps: '1', on_track: '1', behind: '0', completed: '0', waiting_for_review: '0', approved: '1' })]);

    // 5. the trainer reads the rep's timeline: the lesson, the passed check, the approval
    await trainer.goto(`${rig.base}/people/${rep1.id}/timeline`);
    const events = (await trainer.locator('.timeline-what').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    expect(events).toEqual(expect.arrayContaining(['Completed Introduction', 'Passed Basics check', `${manager1.name} approved Call script`]));
    // newest first: the approval, then the check, then the lesson
    const at = (line: string) => events.indexOf(line);
    expect(at(`${manager1.name} approved Call script`)).toBeLessThan(at('Passed Basics check'));
    expect(at('Passed Basics check')).toBeLessThan(at('Completed Introduction'));
    await shot(trainer, '5-timeline');
    await trainer.close();
  }, 300_000);
});
