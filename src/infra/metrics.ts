import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { withTimeout } from './mongo.js';

/**
 * Prometheus metrics, one Registry per container (per process; per test file in tests), never
 * prom-client's global one. docs/operations.md#metrics says what each one means.
 */
export const METRICS_PREFIX = 'onramp_';
export const METRICS_PATH = '/metrics';

/** the queue states reported, as BullMQ counts them */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** how long a scrape waits for Redis to count the queues (BullMQ's connection otherwise waits for ever) */
const QUEUE_COUNT_TIMEOUT_MS = 2_000;

export interface Metrics {
  readonly registry: Registry;
  /** labels: method, route (the declared path, or `unmatched`), status_code */
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status_code'>;
  /** failed job attempts (each retry that fails counts), by job name */
  readonly jobFailures: Counter<'job'>;
  /** statements newly stored by the LRS (a re-sent identical statement is not stored again) */
  readonly statementsStored: Counter;
  /** reports this queue's depths at every scrape (once per queue, however often it is called) */
  watchQueue(queue: Queue): void;
}

export function createMetrics(log: Logger): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  const httpLabels = ['method', 'route', 'status_code'] as const;
  const queues = new Set<Queue>();
  const queueJobs: Gauge<'queue' | 'state'> = new Gauge({
    name: `${METRICS_PREFIX}queue_jobs`,
    help: 'Jobs in each BullMQ queue by state, counted at scrape time',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      // counted first, set after with no await between: a scrape running at the same time never
      // reads the gauge half-cleared, and a queue Redis did not count this time has no figures
      // rather than old ones
      const counted = await Promise.all(
        [...queues].map(async (queue) => {
          try {
            return { queue: queue.name, counts: await withTimeout(queue.getJobCounts(...QUEUE_STATES), QUEUE_COUNT_TIMEOUT_MS, 'Redis did not count the queue') };
          } catch (err) {
            log.warn({ err: (err as Error).message, queue: queue.name }, 'queue depths left out of the metrics');
            return null;
          }
        }),
      );
      queueJobs.reset();
      for (const c of counted) if (c) for (const state of QUEUE_STATES) queueJobs.set({ queue: c.queue, state }, c.counts[state] ?? 0);
    },
  });
  return {
    registry,
    httpDuration: new Histogram({
      name: `${METRICS_PREFIX}http_request_duration_seconds`,
      help: 'HTTP request latency, from the request reaching Onramp to the last byte of the response',
      labelNames: httpLabels,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    httpRequests: new Counter({ name: `${METRICS_PREFIX}http_requests_total`, help: 'HTTP requests answered', labelNames: httpLabels, registers: [registry] }),
    jobFailures: new Counter({ name: `${METRICS_PREFIX}job_failures_total`, help: 'Failed job attempts, by job name (retries included)', labelNames: ['job'], registers: [registry] }),
    statementsStored: new Counter({ name: `${METRICS_PREFIX}xapi_statements_stored_total`, help: 'xAPI statements stored by the LRS (from clients and Onramp’s own)', registers: [registry] }),
    watchQueue: (queue) => void queues.add(queue),
  };
}

/** Whether an Authorization header carries this bearer token (compared in constant time). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const m = header && /^bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}

export type ScrapeDecision = 'allowed' | 'off' | 'unauthorized';

/** The one rule for /metrics: off (404) without METRICS_TOKEN; otherwise its bearer token only. */
export function scrapeDecision(token: string | undefined, authorization: string | undefined): ScrapeDecision {
  if (!token) return 'off';
  return bearerMatches(authorization, token) ? 'allowed' : 'unauthorized';
}

/** the WWW-Authenticate challenge and the text of a refused scrape */
export const SCRAPE_CHALLENGE = 'Bearer realm="Onramp metrics"';
export const SCRAPE_REFUSED = 'Send the METRICS_TOKEN as "Authorization: Bearer <token>".';

/**
 * The worker's metrics (it serves no HTTP otherwise): GET /metrics on its own port, the same
 * token rule as the web process's route; anything else is 404.
 */
export async function serveMetrics(metrics: Metrics, options: { host: string; port: number; token: string }, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found: the worker serves GET /metrics only.\n');
      return;
    }
    if (scrapeDecision(options.token, req.headers.authorization) !== 'allowed') {
      res.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': SCRAPE_CHALLENGE }).end(`${SCRAPE_REFUSED}\n`);
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        log.error({ err }, 'metrics could not be collected');
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Metrics could not be collected.\n');
      },
    );
  });
  server.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new Error(`Port ${options.port} is in use: set METRICS_PORT to a free port.`) : err);
    server.once('error', failed);
    server.once('listening', () => {
      server.off('error', failed);
      resolve();
    });
  });
  // once listening, a server error is logged, not thrown: the worker's jobs go on without its metrics
  server.on('error', (err) => log.error({ err }, 'the worker metrics server failed'));
  return server;
}
