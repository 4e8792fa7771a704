import type { Request, RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';
import { Forbidden } from '../../errors.js';

/** Requests that passed their route's sameOriginOnly check (below) instead of carrying the token. */
const originVerified = new WeakSet<Request>();

/**
 * Synchronizer-token CSRF protection for everything that uses the session cookie. Forms carry
 * the token in a hidden `_csrf` field, scripts in an `X-CSRF-Token` header. Requests signed with
 * an API token carry no cookie an attacker could ride on, so they skip the check.
 */
const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req) => {
    const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
    if (typeof fromBody === 'string') return fromBody;
    const fromHeader = req.headers['x-csrf-token'];
    return typeof fromHeader === 'string' ? fromHeader : undefined;
  },
  skipCsrfProtection: (req) => Boolean(req.headers.authorization) || originVerified.has(req),
  size: 32,
});

export const csrfProtection: RequestHandler = csrfSynchronisedProtection;

export function csrfTokenFor(req: Parameters<typeof generateToken>[0]): string {
  return generateToken(req);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * For the few routes whose browser client cannot carry the token — a third-party single-page app
 * that calls its own API with plain fetch (Bull Board at /admin/queues) — a state-changing request
 * must show that it comes from a page of this origin instead; anything else is refused with 403.
 * Put it in the route's `before`: a request it lets through skips the token check.
 *
 * The proof is what the browser itself sets and a page's script cannot: `Sec-Fetch-Site` (every
 * current browser) must be `same-origin`; where it is missing (older browsers), the `Origin` header
 * (sent with every non-GET fetch) must be PUBLIC_URL's origin. `same-site` is refused on purpose:
 * the SameSite=Lax session cookie does travel on same-site requests, and cmi5 course content is
 * served from a sibling host name of this server (CMI5_CONTENT_URL). Requests signed with an API
 * token carry no cookie to ride on and pass, as they do for the token check.
 */
export function sameOriginOnly(publicUrl: string): RequestHandler {
  const ownOrigin = new URL(publicUrl).origin;
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || req.authVia === 'token') return next();
    const site = req.headers['sec-fetch-site'];
    const sameOrigin = site !== undefined ? site === 'same-origin' : req.headers.origin === ownOrigin;
    if (!sameOrigin) return next(new Forbidden('This request did not come from an Onramp page.'));
    originVerified.add(req);
    next();
  };
}
