import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Express } from 'express';
import getPort from 'get-port';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from './context.js';

/** Debian's chromium, driven by playwright-core (no browser download). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = join(import.meta.dirname, '..', '..', 'test-results');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function serve(app: Express, port = 0): Promise<{ server: Server; base: string }> {
  const server = app.listen(port, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

export async function signInPage(browser: Browser, base: string, email: string, password = 'onramp-demo'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  // generous: on 2 busy cores a page load can take seconds while other test files run
  page.setDefaultTimeout(60_000);
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // A stalled navigation after the redirect has been seen once in CI: the session is set by then,
  // so load the home page again rather than wait out the whole timeout.
  await page.waitForURL(`${base}/`, { timeout: 20_000 }).catch(() => page.goto(`${base}/`));
  if (new URL(page.url()).pathname !== '/') throw new Error(`sign-in as ${email} ended on ${page.url()}`);
  return page;
}

/** A test context with the demo people, served on a free port, and a browser: what every browser test starts from. */
export interface BrowserRig {
  ctx: TestContext;
  people: DemoPeople;
  browser: Browser;
  base: string;
  close(): Promise<void>;
}

export async function browserRig(): Promise<BrowserRig> {
  // PUBLIC_URL is where the server really listens: links Onramp builds (cmi5 launch URLs) work
  const port = await getPort({ host: '127.0.0.1' });
  const ctx = await createTestContext({ PUBLIC_URL: `http://127.0.0.1:${port}` });
  const people = await seedPeople(ctx.container);
  const { server, base } = await serve(ctx.app, port);
  const browser = await launchBrowser();
  return {
    ctx,
    people,
    browser,
    base,
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
      await ctx.close();
    },
  };
}
