import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Container } from '../container.js';
import { sessionSecretFor } from '../infra/sessions.js';
import { accountApiRoutes } from '../features/accounts/api.js';
import { accountPageRoutes } from '../features/accounts/pages.js';
import { homePageRoutes } from '../features/home/pages.js';
import { systemRoutes } from '../features/system/api.js';
import { queueBoardRoutes } from '../features/system/queue-board.js';
import { curriculumPageRoutes } from '../features/curricula/pages.js';
import { enrollmentPageRoutes } from '../features/enrollment/pages.js';
import { learningPageRoutes } from '../features/learning/pages.js';
import { sessionPageRoutes } from '../features/sessions/pages.js';
import { assessmentPageRoutes } from '../features/assessments/pages.js';
import { assessmentAnalyticsRoutes } from '../features/assessments/analytics-pages.js';
import { lrsRoutes, xapiResponseHeaders } from '../xapi/lrs/routes.js';
import { lrsAdminRoutes } from '../xapi/lrs/pages.js';
import { documentRoutes } from '../xapi/lrs/documents.js';
import { alternateRequestSyntax } from '../xapi/lrs/alternate-syntax.js';
import { xapiCors } from '../xapi/lrs/cors.js';
import { cmi5Routes } from '../xapi/cmi5/routes.js';
import { emailAdminRoutes } from '../features/email/pages.js';
import { transferPageRoutes } from '../features/transfer/pages.js';
import { transferDocumentRoutes } from '../features/transfer/document-routes.js';
import { reviewPageRoutes } from '../features/transfer/review-pages.js';
import { transferReportRoutes } from '../features/transfer/report-pages.js';
import { reinforcementPageRoutes } from '../features/reinforcement/pages.js';
import { retentionReportRoutes } from '../features/reinforcement/analytics-pages.js';
import { trainerDashboardRoutes } from '../features/dashboards/trainer-pages.js';
import { managerDashboardRoutes } from '../features/dashboards/manager-pages.js';
import { repProgressRoutes } from '../features/dashboards/rep-pages.js';
import { readinessRoutes } from '../features/dashboards/readiness-pages.js';
import { timelineRoutes } from '../features/timeline/pages.js';
import { authenticate, authorize } from './middleware/auth.js';
import { csrfProtection } from './middleware/csrf.js';
import { errorHandler, notFoundHandler } from './middleware/errors.js';
import type { RouteDef, RouteSummary } from './route.js';
import { pageLocals, PUBLIC_DIR, setUpViews } from './views.js';
import { SESSION_COOKIE } from './cookies.js';

/** Every route of the app, in one list: what createApp registers and what the matrix test walks. */
export function allRoutes(c: Container): RouteDef[] {
  return [
    ...systemRoutes(c),
    ...homePageRoutes(c),
    ...accountPageRoutes(c), ...accountApiRoutes(c),
    ...curriculumPageRoutes(c),
    ...enrollmentPageRoutes(c),
    ...learningPageRoutes(c),
    ...sessionPageRoutes(c),
    ...assessmentPageRoutes(c),
    ...assessmentAnalyticsRoutes(c),
    ...lrsRoutes(c),
    ...documentRoutes(c),
    ...cmi5Routes(c),
    ...transferPageRoutes(c),
    ...transferDocumentRoutes(c),
    ...reviewPageRoutes(c),
    ...transferReportRoutes(c),
    ...reinforcementPageRoutes(c),
    ...retentionReportRoutes(c),
    ...trainerDashboardRoutes(c),
    ...managerDashboardRoutes(c),
    ...repProgressRoutes(c),
    ...readinessRoutes(c),
    ...timelineRoutes(c),
    ...lrsAdminRoutes(c),
    ...emailAdminRoutes(c),
    ...queueBoardRoutes(c),
  ];
}

/** Builds the Express app. Never listens: main-web.ts does, tests use supertest. */
export function createApp(c: Container): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', c.config.trustProxy);
  app.set('query parser', 'simple'); // no nested objects from query strings (`?email[$ne]=x`)
  setUpViews(app, c.config.isProduction);

  app.use(
    pinoHttp({
      logger: c.log,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', 'https:'], // lesson images may live on the company's own sites
          // a cmi5 launch is a form post answered with a redirect to the content origin
          formAction: ["'self'", new URL(c.config.cmi5ContentUrl).origin],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: c.config.cookieSecure ? [] : null,
        },
      },
      strictTransportSecurity: c.config.cookieSecure,
    }),
  );
  app.use('/assets', express.static(PUBLIC_DIR, { maxAge: c.config.isProduction ? '1d' : 0, index: false }));
  // xAPI documents are stored byte-exact: keep the raw body of /xapi requests beside the parsed one
  const keepRawXapiBody = (req: { url?: string; rawBody?: Buffer }, _res: unknown, buf: Buffer) => {
    if (req.url?.startsWith('/xapi/')) req.rawBody = buf;
  };
  // the LRS's headers before anything can fail (a body that is not JSON is refused by the parsers below)
  app.use(xapiResponseHeaders(c));
  // statements with attachments: multipart/mixed, read whole (each part is checked against its hash)
  app.use('/xapi/statements', express.raw({ type: 'multipart/*', limit: '20mb' }));
  app.use(express.urlencoded({ extended: false, limit: '1mb', verify: keepRawXapiBody })); // a confirmed CSV roster comes back as a form field
  app.use(express.json({ limit: '1mb', verify: keepRawXapiBody }));
  app.use(xapiCors);
  app.use(alternateRequestSyntax);

  const sessions = session({
    name: SESSION_COOKIE,
    secret: sessionSecretFor(c.config.sessionSecret, c.config.dataDir),
    store: c.sessionStore,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: c.config.cookieSecure, maxAge: c.config.sessionMaxAgeMs },
  });
  // API-token requests never get a session (and never a cookie).
  const sessionUnlessToken: RequestHandler = (req, res, next) => (req.headers.authorization ? next() : sessions(req, res, next));
  app.use(sessionUnlessToken);
  app.use(authenticate(c.accounts));

  const routes = allRoutes(c);
  for (const r of routes) {
    // CSRF after `before`, so that a multipart upload's form fields (parsed there) carry the token
    // (xAPI clients authenticate every request with Basic credentials: no cookie to forge, no CSRF check)
    const chain: RequestHandler[] = [authorize(r.access), ...(r.before ?? []), ...(r.access === 'xapi' ? [] : [csrfProtection]), ...(r.kind === 'page' ? [pageLocals] : [])];
    app[r.method](r.path, ...chain, async (req, res, next) => {
      try {
        await r.handler(req, res, next);
      } catch (err) {
        next(err);
      }
    });
  }
  app.locals.routes = routes.map(({ method, path, kind, access }): RouteSummary => ({ method, path, kind, access }));

  app.use(notFoundHandler);
  app.use(errorHandler(c.log));
  return app;
}
