import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { notFoundHandler } from '../../http/middleware/errors.js';
import { METRICS_PATH, SCRAPE_CHALLENGE, SCRAPE_REFUSED, scrapeDecision } from '../../infra/metrics.js';

/**
 * Prometheus scrapes this process's metrics here. Not for people: without METRICS_TOKEN the
 * address does not exist (404); with it, only `Authorization: Bearer <METRICS_TOKEN>` is answered
 * (401 otherwise, whoever is signed in). The web process reports the queue depths; the worker
 * serves its own metrics on METRICS_PORT (src/main-worker.ts).
 */
export function metricsRoutes(c: Container): RouteDef[] {
  c.metrics.watchQueue(c.queue);
  return [
    route({
      method: 'get',
      path: METRICS_PATH,
      kind: 'api',
      access: 'metrics',
      handler: async (req, res, next) => {
        const decision = scrapeDecision(c.config.metricsToken, req.headers.authorization);
        if (decision === 'off') return notFoundHandler(req, res, next);
        // plain text, not the error handler's sign-in redirect: the caller is a scraper
        if (decision === 'unauthorized') return res.status(401).set('WWW-Authenticate', SCRAPE_CHALLENGE).type('text').send(SCRAPE_REFUSED);
        res.type(c.metrics.registry.contentType).send(await c.metrics.registry.metrics());
      },
    }),
  ];
}
