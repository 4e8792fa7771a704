import type { RequestHandler } from 'express';
import { hasPermission } from '../../engine/access.js';
import { Forbidden, Unauthenticated } from '../../errors.js';
import type { AccountService } from '../../features/accounts/service.js';
import type { Access } from '../route.js';

/**
 * Who is asking: an API token (`Authorization: Bearer onr_…`) or the browser session.
 * A bad token is refused outright rather than treated as anonymous.
 */
export function authenticate(accounts: AccountService): RequestHandler {
  return async (req, _res, next) => {
    try {
      const header = req.headers.authorization;
      // Basic credentials belong to xAPI clients: the /xapi handlers check them
      if (header && !/^basic /i.test(header)) {
        const [scheme, token] = header.split(' ');
        const user = scheme?.toLowerCase() === 'bearer' && token ? await accounts.authenticateToken(token) : undefined;
        if (!user) throw new Unauthenticated('The API token is missing, unknown or revoked.');
        req.user = user;
        req.authVia = 'token';
        return next();
      }
      const id = req.session?.userId;
      if (id) {
        const user = await accounts.findActive(id);
        if (user) {
          req.user = user;
          req.authVia = 'session';
        } else {
          // deactivated or deleted since signing in
          delete req.session.userId;
        }
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Route-level rule; record-level scoping happens in the services with requireAccess. */
export function authorize(access: Access): RequestHandler {
  return (req, _res, next) => {
    if (access === 'public' || access === 'xapi' || access === 'metrics') return next();
    if (!req.user) return next(new Unauthenticated('Please sign in.'));
    if (access === 'signed-in' || hasPermission(req.user.role, access)) return next();
    next(new Forbidden(`Your role (${req.user.role}) does not give access to this.`));
  };
}
