import type { Config } from './config/env.js';
import { createContainer } from './container.js';
import type { Logger } from './infra/logger.js';
import { onShutdown } from './infra/shutdown.js';
import { connectRedis } from './infra/redis.js';
import { jobDepsOf, scheduleRepeatingJobs, startWorker } from './jobs/worker.js';
import { serveMetrics } from './infra/metrics.js';

/** `onramp worker`: BullMQ workers for background jobs. */
export async function runWorker(config: Config & { mongodbUrl: string; redisUrl: string }, log: Logger): Promise<void> {
  const container = await createContainer(config, log, 'worker');
  // Workers block on Redis: they get a connection of their own.
  const workerRedis = connectRedis(config.redisUrl, 'onramp-worker-jobs');
  await scheduleRepeatingJobs(container.queue);
  const resynced = await container.reinforcement.resync();
  if (resynced) log.info({ reps: resynced }, 'reinforcement deliveries scheduled');
  // rollups missing (a first start on an existing database, a restore): build them now, in the worker
  // (or the dashboard cells, which came after the summaries: a database from before them)
  const [summaries, enrollments, cells] = await Promise.all([container.models.RepSummary.estimatedDocumentCount(), container.models.Enrollment.estimatedDocumentCount(), container.models.DashboardCell.estimatedDocumentCount()]);
  if (summaries < enrollments || (enrollments > 0 && cells === 0)) await container.queue.add('dashboards.refreshAll', {}, { deduplication: { id: 'dashboards.refreshAll.start' } });
  // the worker's own metrics (failed job attempts, its process), before any job runs: a port in use stops it here
  const metricsServer = config.metricsPort ? await serveMetrics(container.metrics, { host: config.host, port: config.metricsPort, token: config.metricsToken! }, log) : undefined;
  if (metricsServer) log.info({ port: config.metricsPort }, 'worker metrics at /metrics');
  const worker = startWorker(workerRedis, config.redisPrefix, { ...jobDepsOf(container), log });
  await worker.waitUntilReady();
  log.info('worker ready');

  onShutdown(log, async () => {
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    await worker.close(); // waits for running jobs to finish
    workerRedis.disconnect();
    await container.close();
  });
}
