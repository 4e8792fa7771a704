import type { RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';

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
  skipCsrfProtection: (req) => Boolean(req.headers.authorization),
  size: 32,
});

export const csrfProtection: RequestHandler = csrfSynchronisedProtection;

export function csrfTokenFor(req: Parameters<typeof generateToken>[0]): string {
  return generateToken(req);
}
