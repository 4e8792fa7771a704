import type { PublicUser } from '../features/accounts/presenters.js';

declare global {
  namespace Express {
    interface Request {
      /** the signed-in user, set by the authenticate middleware */
      user?: PublicUser;
      /** how they signed in: a browser session or an API token */
      authVia?: 'session' | 'token';
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    flash?: { kind: 'success' | 'error' | 'info'; message: string }[];
    csrfToken?: string;
  }
}

export {};
