import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../infra/logger.js';
import { METRICS_PATH } from '../infra/metrics.js';
import { clientRequestIdOf } from '../infra/request-context.js';
import { routeLabelOf } from './middleware/metrics.js';

/**
 * Query parameters whose values name a person (the audit log's filters take emails; an xAPI
 * `agent` holds an mbox): the log keeps the parameter, never its value.
 */
const PERSON_PARAMS = new Set(['actor', 'target', 'email', 'agent']);
export const REDACTED = '[redacted]';

/** The URL as it may be logged: the values of PERSON_PARAMS replaced, the rest as sent. */
export function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const raw = eq < 0 ? pair : pair.slice(0, eq);
      let name = raw;
      try {
        name = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: compare the name as sent
      }
      return eq >= 0 && PERSON_PARAMS.has(name.trim().toLowerCase()) ? `${raw}=${REDACTED}` : pair;
    });
  return `${url.slice(0, q)}?${query.join('&')}`;
}

/**
 * One log line per request, with Onramp's own request id. The id is always made here (a UUID):
 * it is what the log lines, error pages and audit entries carry, so a client cannot choose it. An
 * `X-Request-Id` the client (or a proxy) sent is echoed in the response header as before and logged
 * beside ours as `clientRequestId`, so its own id still finds the request's lines.
 */
export function requestLogging(log: Logger): RequestHandler {
  return pinoHttp({
    logger: log,
    genReqId: (req, res) => {
      const id = randomUUID();
      res.setHeader('X-Request-Id', clientRequestIdOf(req.headers['x-request-id']) ?? id);
      return id;
    },
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    serializers: {
      req: (req: { id: unknown; method: string; url: string; headers?: IncomingMessage['headers'] }) => {
        const clientRequestId = clientRequestIdOf(req.headers?.['x-request-id']);
        return { id: req.id, ...(clientRequestId ? { clientRequestId } : {}), method: req.method, url: loggedUrl(req.url) };
      },
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    // Prometheus scrapes every few seconds: an answered scrape is not news (a refused one is)
    customLogLevel: (req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : routeLabelOf(req) === METRICS_PATH ? 'debug' : 'info',
  });
}
