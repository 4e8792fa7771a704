import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import supertest from 'supertest';
import type { Express } from 'express';
import { loadConfig, type Config } from '../../src/config/env.js';
import { createContainer, type Container } from '../../src/container.js';
import { createApp } from '../../src/http/app.js';
import { createLogger, type Logger } from '../../src/infra/logger.js';
import { DEMO_PASSWORD, seedDemoUsers } from '../../src/features/accounts/demo-seed.js';
import type { PublicUser } from '../../src/features/accounts/presenters.js';

export interface TestContext {
  config: Config;
  container: Container;
  app: Express;
  close(): Promise<void>;
}

/** A container and app on a database and Redis key prefix of this test file's own. `log`: a logger of the test's (to read what is logged). */
export async function createTestContext(env: Record<string, string> = {}, options: { now?: () => Date; log?: (config: Config) => Logger } = {}): Promise<TestContext> {
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  const dataDir = mkdtempSync(join(tmpdir(), 'onramp-ctx-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    MONGODB_URL: `${inject('mongodbBaseUrl')}/t_${id}`,
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `t_${id}`,
    SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
    DATA_DIR: dataDir,
    CONTENT_DIR: dataDir, // no curricula unless a test brings its own
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOG_PRETTY: 'false',
    ...env,
  }) as Config & { mongodbUrl: string; redisUrl: string };
  const container = await createContainer(config, options.log?.(config) ?? createLogger(config), 'test', { now: options.now });
  const app = createApp(container);
  return {
    config,
    container,
    app,
    async close() {
      await container.mongo.dropDatabase().catch(() => undefined);
      const keys = await container.redis.keys(`${config.redisPrefix}:*`);
      if (keys.length) await container.redis.del(...keys);
      await container.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type DemoPeople = Record<'admin' | 'trainer' | 'manager1' | 'manager2' | 'rep1' | 'rep2' | 'rep3' | 'rep4' | 'rep5' | 'rep6', PublicUser>;

/** The demo users (admin, trainer, manager1/2, rep1–6), keyed by the part of the email before @. */
export async function seedPeople(c: Container): Promise<DemoPeople> {
  await seedDemoUsers(c.accounts);
  const all = await c.accounts.list({ id: 'test', role: 'admin' });
  return Object.fromEntries(all.map((u) => [u.email.split('@')[0], u])) as DemoPeople;
}

export function csrfFrom(html: string): string {
  const m = /name="csrf-token" content="([^"]+)"/.exec(html) ?? /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token in the page');
  return m[1]!;
}

export interface SignedIn {
  agent: ReturnType<typeof supertest.agent>;
  csrf: string;
}

/** An anonymous browser: a session with a CSRF token from the sign-in page. */
export async function anonymous(app: Express): Promise<SignedIn> {
  const agent = supertest.agent(app);
  const page = await agent.get('/login').expect(200);
  return { agent, csrf: csrfFrom(page.text) };
}

/** A browser signed in through the real sign-in form. */
export async function signIn(app: Express, email: string, password = DEMO_PASSWORD): Promise<SignedIn> {
  const { agent, csrf } = await anonymous(app);
  const res = await agent.post('/login').type('form').send({ _csrf: csrf, email, password });
  if (res.status !== 303) throw new Error(`sign-in as ${email} failed with ${res.status}`);
  const page = await agent.get('/account').expect(200);
  return { agent, csrf: csrfFrom(page.text) };
}
