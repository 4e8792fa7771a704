import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/infra/logger.js';
import { startLocalServices } from '../../src/infra/embedded/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongodbBaseUrl: string;
    redisUrl: string;
  }
}

/**
 * Starts the real services once per run: FerretDB (built on first use) and redis-server, in a
 * throw-away folder. TEST_MONGODB_URL / TEST_REDIS_URL point the suite at existing servers instead
 * (real MongoDB in a production-like pipeline).
 */
export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(join(tmpdir(), 'onramp-test-'));
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', DATA_DIR: dataDir, MONGODB_URL: process.env.TEST_MONGODB_URL ?? '', REDIS_URL: process.env.TEST_REDIS_URL ?? '' });
  const log = createLogger({ logLevel: 'info', logPretty: false }, 'test-services');
  const started = Date.now();
  const services = await startLocalServices(config, log);
  process.stdout.write(`test services ready in ${Date.now() - started} ms:\n  ${services.descriptions.join('\n  ')}\n`);
  project.provide('mongodbBaseUrl', services.mongodbUrl.replace(/\/[^/]*$/, ''));
  project.provide('redisUrl', services.redisUrl);
  return async () => {
    await services.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
