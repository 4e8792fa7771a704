import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import {
  Conflict,
  DomainError,
  Forbidden,
  GateLocked,
  NotFound,
  TooManyRequests,
  Unauthenticated,
  Unavailable,
  ValidationFailed,
} from '../../errors.js';
import type { Logger } from '../../infra/logger.js';
import { fillPageLocals } from '../views.js';

/** Domain error → HTTP status: the only place where the two meet. */
const STATUS = new Map<new (...args: never[]) => DomainError, { status: number; code: string; title: string }>([
  [ValidationFailed, { status: 422, code: 'validation_failed', title: 'Please check your input' }],
  [Unauthenticated, { status: 401, code: 'unauthenticated', title: 'Please sign in' }],
  [Forbidden, { status: 403, code: 'forbidden', title: 'You do not have access to this page' }],
  [NotFound, { status: 404, code: 'not_found', title: 'Page not found' }],
  [Conflict, { status: 409, code: 'conflict', title: 'That cannot be done right now' }],
  [GateLocked, { status: 409, code: 'locked', title: 'This module is still locked' }],
  [TooManyRequests, { status: 429, code: 'too_many_requests', title: 'Too many attempts' }],
  [Unavailable, { status: 503, code: 'unavailable', title: 'Onramp is briefly unavailable' }],
]);

export function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/') || req.path === '/api') return true;
  // the LRS speaks JSON to xAPI clients, and a 401 there is never a redirect to the sign-in page
  if (req.path.startsWith('/xapi/')) return true;
  return req.accepts(['html', 'json']) === 'json';
}

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  code?: string;
  message?: string;
}

function classify(err: unknown): { status: number; code: string; title: string; message: string; problems?: unknown } {
  if (err instanceof DomainError) {
    for (const [Kind, info] of STATUS) {
      if (err instanceof Kind) {
        const message = err instanceof GateLocked ? `${err.message} ${err.reasons.join(' ')}` : err.message;
        return { ...info, message, ...(err instanceof ValidationFailed ? { problems: err.problems } : {}) };
      }
    }
  }
  const e = (err ?? {}) as HttpLikeError;
  if (e.code === 'EBADCSRFTOKEN' || e.message === 'invalid csrf token') {
    return { status: 403, code: 'csrf', title: 'This form has expired', message: 'The form expired or came from another site. Reload the page and try again.' };
  }
  if (e.type === 'entity.parse.failed') return { status: 400, code: 'bad_json', title: 'Bad request', message: 'The request body is not valid JSON.' };
  if (e.type === 'entity.too.large') return { status: 413, code: 'too_large', title: 'Too large', message: 'The request body is too large.' };
  const status = e.status ?? e.statusCode;
  if (status && status >= 400 && status < 500) return { status, code: 'bad_request', title: 'Bad request', message: e.message ?? 'Bad request.' };
  if (databaseUnreachable(err)) {
    return { status: 503, code: 'unavailable', title: 'Onramp is briefly unavailable', message: 'The database is not reachable. Please try again in a moment.' };
  }
  return { status: 500, code: 'internal', title: 'Something went wrong', message: 'Something went wrong on our side. It has been logged; please try again.' };
}

/**
 * The driver's "no server" and "connection lost" errors, also when wrapped: a bulk write (insertMany)
 * that lost its connection throws a MongoBulkWriteError holding the network error.
 */
function databaseUnreachable(err: unknown): boolean {
  let e = err as { name?: string; cause?: unknown; errorResponse?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (/^Mongo(ose)?(ServerSelection|Network|NotConnected|PoolCleared)|WaitQueueTimeout/.test(e.name ?? '')) return true;
    e = (e.errorResponse instanceof Error ? e.errorResponse : e.cause) as typeof e;
  }
  return false;
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const c = classify(err);
    const requestId = String(req.id ?? '');
    if (c.status >= 500) log.error({ err, requestId, path: req.path }, 'request failed');
    if (c.status === 503) res.setHeader('Retry-After', '5');
    if (c.status === 401 && req.path.startsWith('/xapi/')) res.setHeader('WWW-Authenticate', 'Basic realm="Onramp LRS"');
    if (err instanceof TooManyRequests) res.setHeader('Retry-After', String(err.retryAfterSeconds));

    if (wantsJson(req)) {
      res.status(c.status).json({ error: { code: c.code, message: c.message, ...(c.problems ? { problems: c.problems } : {}), requestId } });
      return;
    }
    if (c.status === 401) {
      res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    if (req.user) fillPageLocals(req, res); // the layout's navigation and sign-out form
    res.render('error', { title: c.title, status: c.status, message: c.message, requestId }, (renderErr, html) => {
      if (renderErr) log.error({ err: renderErr, requestId }, 'error page failed to render');
      res.status(c.status).type(renderErr ? 'text' : 'html').send(renderErr ? `${c.title}. ${c.message} (request ${requestId})` : html);
    });
  };
}

export const notFoundHandler: RequestHandler = (_req, _res, next) => next(new NotFound('There is no page at this address.'));
