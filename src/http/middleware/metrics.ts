import type { RequestHandler } from 'express';
import type { Metrics } from '../../infra/metrics.js';

/** the declared path of the route (or mount) that took the request; none: `unmatched` */
const routeOf = new WeakMap<object, string>();

/**
 * Labels the request with a declared path, never the URL, so that the metrics' label values stay
 * few (`/users/:id`, not one per user). createApp puts one in front of every route.
 */
export const labelRoute = (path: string): RequestHandler => (req, _res, next) => {
  routeOf.set(req, path);
  next();
};

/** The declared path the request was labelled with, or undefined before (or without) a route. */
export const routeLabelOf = (req: object): string | undefined => routeOf.get(req);

/** the status label of a request whose connection closed before its response was sent whole */
export const ABORTED = 'aborted';

/**
 * Times every request and counts it once, by method, route and status: when its response is sent
 * ('finish'), or when its connection closes first ('close': status `aborted`, whatever status had
 * been set — a client that gave up on a slow page is a figure worth seeing).
 */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    let counted = false;
    const count = (status: string) => {
      if (counted) return;
      counted = true;
      const labels = { method: req.method, route: routeOf.get(req) ?? 'unmatched', status_code: status };
      end(labels);
      metrics.httpRequests.inc(labels);
    };
    res.once('finish', () => count(String(res.statusCode)));
    res.once('close', () => count(ABORTED)); // after 'finish' when the response was sent: counted already
    next();
  };
}
