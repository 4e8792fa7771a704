/**
 * The real worker (what `onramp worker` runs: createContainer → scheduleRepeatingJobs → startWorker
 * with jobDepsOf), as a child process a fault test can SIGKILL. Started by worker-control.ts with
 * `node --import tsx` and an IPC channel; configured by environment:
 *
 *   MONGODB_URL, REDIS_URL, REDIS_PREFIX   the test file's database and key prefix
 *   ONRAMP_TEST_NOW_OFFSET_MS              the fake clock: Date.now() + offset (the parent moves it with
 *                                          a `{ type: 'clock', offsetMs }` message)
 *   ONRAMP_TEST_PAUSE                      JSON { userId: crash point }: that rep's delivery stops at that
 *                                          point for good (the parent then kills this process)
 *   ONRAMP_TEST_LOCK_MS / _STALLED_MS      BullMQ lockDuration / stalledInterval (a killed worker's
 *                                          jobs are taken up again within seconds)
 *   ONRAMP_TEST_CONCURRENCY                jobs at once
 *
 * Tells the parent over IPC: `ready`, `paused` (point, deliveryId), `created` (deliveryId), `clock`.
 */
import { loadConfig } from '../../../src/config/env.js';
import { createContainer } from '../../../src/container.js';
import { createLogger } from '../../../src/infra/logger.js';
import { connectRedis } from '../../../src/infra/redis.js';
import { onShutdown } from '../../../src/infra/shutdown.js';
import { jobDepsOf, scheduleRepeatingJobs, startWorker } from '../../../src/jobs/worker.js';

export type WorkerMessage =
  | { type: 'ready'; pid: number }
  | { type: 'paused'; point: string; deliveryId: string }
  | { type: 'created'; deliveryId: string }
  | { type: 'clock'; offsetMs: number };

const tell = (m: WorkerMessage) => process.send?.(m);

let offsetMs = Number(process.env.ONRAMP_TEST_NOW_OFFSET_MS ?? 0);
const now = () => new Date(Date.now() + offsetMs);
process.on('message', (m: { type?: string; offsetMs?: number }) => {
  if (m.type === 'clock' && typeof m.offsetMs === 'number') {
    offsetMs = m.offsetMs;
    tell({ type: 'clock', offsetMs });
  }
});

const pauses = JSON.parse(process.env.ONRAMP_TEST_PAUSE ?? '{}') as Record<string, string>;
const config = loadConfig({ ...process.env, NODE_ENV: 'test' }) as ReturnType<typeof loadConfig> & { mongodbUrl: string; redisUrl: string };
const log = createLogger(config, 'fault-worker');

const container = await createContainer(config, log, 'worker', { now });
container.reinforcement.crashPoint = async (point, deliveryId) => {
  if (point === 'delivery-created') tell({ type: 'created', deliveryId });
  const userId = deliveryId.split('-')[0]!;
  if (pauses[userId] !== point) return;
  tell({ type: 'paused', point, deliveryId });
  await new Promise(() => {}); // inside the delivery, lock held, until the test kills us
};
const workerRedis = connectRedis(config.redisUrl, 'onramp-worker-jobs');
workerRedis.on('error', () => undefined); // the Redis fault test restarts Redis under us: ioredis reconnects
await scheduleRepeatingJobs(container.queue);
const worker = startWorker(workerRedis, config.redisPrefix, { ...jobDepsOf(container), log }, Number(process.env.ONRAMP_TEST_CONCURRENCY ?? 4), {
  lockDuration: Number(process.env.ONRAMP_TEST_LOCK_MS ?? 2000),
  stalledInterval: Number(process.env.ONRAMP_TEST_STALLED_MS ?? 1000),
});
worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
await worker.waitUntilReady();
tell({ type: 'ready', pid: process.pid });

onShutdown(log, async () => {
  await worker.close();
  workerRedis.disconnect();
  await container.close();
});
