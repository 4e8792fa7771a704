import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserRig, signInPage, SHOTS, type BrowserRig } from '../support/browser.js';
import { failedJob } from '../support/jobs.js';

/**
 * Bull Board in a real browser under Onramp's Content-Security-Policy: the admin sees the queue,
 * a delayed reinforcement delivery and a failed email, retries the failed one from the board
 * (its API call passes the same-origin check), opens the job editor — and the browser reports no
 * CSP violation along the way.
 */
let rig: BrowserRig;

beforeAll(async () => {
  rig = await browserRig();
});
afterAll(() => rig?.close());

describe('the queue board in the browser', () => {
  it('shows the onramp queue to the admin, retries a failed job, and breaks no CSP rule', async () => {
    const { ctx, people } = rig;
    const queue = ctx.container.queue;
    await failedJob(ctx.container, 'email.send', { messageId: 'm1' }, 'email-m1', 'SMTP said 554: mailbox unavailable');
    await queue.add('reinforcement.deliver', { userId: people.rep1.id }, { jobId: `rf-${people.rep1.id}`, delay: 86_400_000 });

    const page = await signInPage(rig.browser, rig.base, 'admin@demo.onramp.dev');
    // every CSP violation the page reports, from its first script on (strings: run in the browser)
    await page.addInitScript(
      "window.cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.effectiveDirective + ' ' + e.blockedURI));",
    );
    const cspConsole: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspConsole.push(m.text());
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const violations = () => page.evaluate('window.cspViolations') as Promise<string[]>;

    const res = await page.goto(`${rig.base}/admin/queues`);
    expect(res?.status()).toBe(200);
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toMatch(/script-src 'self'(;|$)/); // scripts as strict as everywhere else
    await page.getByRole('link', { name: 'onramp', exact: true }).first().waitFor();
    expect(await page.getByRole('link', { name: 'onramp', exact: true }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'queue-board.png'), fullPage: true });

    // the delayed reinforcement delivery, under its stable id
    await page.goto(`${rig.base}/admin/queues/queue/onramp?status=delayed`);
    await page.getByText(`rf-${people.rep1.id}`).waitFor();

    // the failed email with its error, retried from the board
    await page.goto(`${rig.base}/admin/queues/queue/onramp?status=failed`);
    await page.getByText('SMTP said 554: mailbox unavailable').first().waitFor();
    await page.screenshot({ path: join(SHOTS, 'queue-board-failed.png'), fullPage: true });
    await page.getByRole('button', { name: 'Retry all' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(async () => (await queue.getJob('email-m1'))?.getState(), { timeout: 20_000 }).toBe('waiting');

    // the job editor (CodeMirror) adds <style> elements at run time: allowed on this page only
    await page.locator('main button[aria-haspopup="menu"]').first().click();
    await page.getByRole('menuitem', { name: 'Add job' }).click();
    await page.getByRole('dialog').getByText('Job data').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    expect(await violations()).toEqual([]);
    expect(cspConsole).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
