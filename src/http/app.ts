import express, { type Express, type RequestHandler } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import type { Container } from '../container.js';
import { sessionSecretFor } from '../infra/sessions.js';
import { databaseReachability } from '../infra/mongo.js';
import { accountApiRoutes } from '../features/accounts/api.js';
import { accountPageRoutes } from '../features/accounts/pages.js';
import { homePageRoutes } from '../features/home/pages.js';
import { systemRoutes } from '../features/system/api.js';
import { metricsRoutes } from '../features/system/metrics.js';
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
import { auditRoutes } from '../features/audit/pages.js';
import { clientRequestIdOf, inRequest } from '../infra/request-context.js';
import { privacyRoutes } from '../features/privacy/pages.js';
import { authenticate, authorize } from './middleware/auth.js';
import { csrfProtection } from './middleware/csrf.js';
import { errorHandler, notFoundHandler } from './middleware/errors.js';
import { failFastWithoutDatabase } from './middleware/database.js';
import { labelRoute, requestMetrics } from './middleware/metrics.js';
import { requestLogging } from './request-log.js';
import { METRICS_PATH } from '../infra/metrics.js';
import type { RouteDef, RouteSummary } from './route.js';
import { pageLocals, PUBLIC_DIR, setUpViews } from './views.js';
import { SESSION_COOKIE } from './cookies.js';

/** Every route of the app, in one list: what createApp registers and what the matrix test walks. */
export function allRoutes(c: Container): RouteDef[] {
  return [
    ...systemRoutes(c),
    ...metricsRoutes(c),
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
    ...privacyRoutes(c),
    ...lrsAdminRoutes(c),
    ...emailAdminRoutes(c),
    ...queueBoardRoutes(c),
    ...auditRoutes(c),
  ];
}

/** Builds the Express app. Never listens: main-web.ts does, tests use supertest. */
export function createApp(c: Container): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', c.config.trustProxy);
  app.set('query parser', 'simple'); // no nested objects from query strings (`?email[$ne]=x`)
  setUpViews(app, c.config.isProduction);

  app.use(requestMetrics(c.metrics)); // first: a request's latency is all of it
  app.use(requestLogging(c.log)); // Onramp's own request id, one line per request (request-log.ts)
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
  app.use('/assets', labelRoute('/assets'), express.static(PUBLIC_DIR, { maxAge: c.config.isProduction ? '1d' : 0, index: false }));
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
  app.use(failFastWithoutDatabase(databaseReachability(c.mongo), ['/healthz', '/readyz', METRICS_PATH]));
  // /metrics checks its own bearer token (METRICS_TOKEN), which is no account's: authenticate would
  // refuse it, and a wrong one would be a sign-in redirect instead of a scraper's 401
  const accountAuth = express.Router();
  accountAuth.all(METRICS_PATH, (_req, _res, next) => next('router')); // matched as the route is (case, trailing slash)
  accountAuth.use(authenticate(c.accounts));
  app.use(accountAuth);

  const routes = allRoutes(c);
  for (const r of routes) {
    // CSRF after `before`, so that a multipart upload's form fields (parsed there) carry the token
    // (xAPI clients authenticate every request with Basic credentials: no cookie to forge, no CSRF check)
    const chain: RequestHandler[] = [labelRoute(r.path), authorize(r.access), ...(r.before ?? []), ...(r.access === 'xapi' ? [] : [csrfProtection]), ...(r.kind === 'page' ? [pageLocals] : [])];
    app[r.method](r.path, ...chain, async (req, res, next) => {
      try {
        // the request ids reach what the handler calls (the audit log stamps its entries with them)
        await inRequest({ requestId: String(req.id), clientRequestId: clientRequestIdOf(req.headers['x-request-id']) }, () => r.handler(req, res, next));
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
