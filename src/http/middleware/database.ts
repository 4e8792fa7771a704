import type { RequestHandler } from 'express';
import { Unavailable } from '../../errors.js';

/**
 * While the database is unreachable, every request that would need it is a 503 (with Retry-After,
 * see errors.ts) at once, rather than after waiting for a server. `exempt`: paths that answer
 * without the database, or report on it themselves (/readyz).
 */
export function failFastWithoutDatabase(reachable: () => boolean, exempt: readonly string[]): RequestHandler {
  return (req, _res, next) => (reachable() || exempt.includes(req.path) ? next() : next(new Unavailable('The database is not reachable. Please try again in a moment.')));
}
