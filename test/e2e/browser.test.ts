import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserRig, SHOTS, type BrowserRig } from '../support/browser.js';

/**
 * The web shell in a real browser (Debian's chromium). Screenshots land in test-results/ so a
 * person can look at what the pages show.
 */

let rig: BrowserRig;

beforeAll(async () => {
  rig = await browserRig();
});
afterAll(() => rig?.close());

describe('in a browser', () => {
  it.each([
    ['rep1@demo.onramp.dev', 'Your roadmap', 'rep'],
    ['manager1@demo.onramp.dev', 'Your team', 'manager'],
    ['trainer@demo.onramp.dev', 'Curricula', 'trainer'],
    ['admin@demo.onramp.dev', 'System', 'admin'],
  ])('%s signs in with the keyboard, sees their home, and signs out', async (email, heading, role) => {
    const page = await rig.browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.setDefaultTimeout(60_000);
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${rig.base}/`);
    expect(page.url()).toContain('/login?next=%2F');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('onramp-demo');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${rig.base}/`);
    expect(await page.getByRole('heading', { name: heading }).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, `home-${role}.png`), fullPage: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login\?signedOut=1/);
    expect(await page.getByText('You have signed out.').count()).toBe(1);
    expect(errors, 'no CSP violations or script errors').toEqual([]);
    await page.close();
  });

  it('shows a finished 404 page and the admin user form', async () => {
    const page = await rig.browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(60_000);
    await page.goto(`${rig.base}/login`);
    await page.getByLabel('Email').fill('admin@demo.onramp.dev');
    await page.getByLabel('Password').fill('onramp-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${rig.base}/`);
    await page.goto(`${rig.base}/users/new`);
    await page.getByRole('button', { name: 'Create user' }).click();
    expect(await page.getByText('Please correct the highlighted fields.').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'users-new-errors.png'), fullPage: true });
    const res = await page.goto(`${rig.base}/nowhere`);
    expect(res?.status()).toBe(404);
    expect(await page.getByRole('heading', { name: 'Page not found' }).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'not-found.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${rig.base}/users`);
    await page.screenshot({ path: join(SHOTS, 'users-mobile.png'), fullPage: true });
    await page.close();
  });
});
