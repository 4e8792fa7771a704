import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteSummary } from '../../src/http/route.js';
import { validateCurriculum } from '../../src/content/validate.js';
import { deliverLater, fixtureFiles } from '../support/curriculum-fixture.js';
import { anonymous, createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';

/**
 * Every route × every role → the status it must answer. The list of routes comes from the app
 * itself, so a route added without a row here fails this suite.
 *
 * Targets: 'self' the caller, 'team' rep2 (manager1's report, rep1's teammate), 'other' rep4
 * (manager2's report), 'spare' a user who exists to be changed, 'foreignToken' a token that
 * belongs to the spare user, 'curriculum' the published test fixture; '…Enrollment' / '…Module'
 * the enrollments of rep1 (own), rep2 (team) and rep4 (other).
 */
type Who = 'anonymous' | 'rep' | 'manager' | 'trainer' | 'admin';
type Target =
  | 'self'
  | 'team'
  | 'other'
  | 'spare'
  | 'foreignToken'
  | 'curriculum'
  | 'ownEnrollment'
  | 'teamEnrollment'
  | 'otherEnrollment'
  | 'ownModule'
  | 'otherModule'
  | 'session'
  | 'sessionAttendee'
  | 'ownCheck'
  | 'analyticsCurriculum'
  | 'analyticsModule'
  | 'lrsKey'
  | 'email'
  | 'attempt'
  | 'otherAttempt'
  | 'ownDelivery'
  | 'otherDelivery';
interface Case {
  target?: Target;
  body?: Record<string, unknown>;
  /** sign in afresh for this request (it ends the session) */
  fresh?: boolean;
  /** the address to call, for a route whose path has a wildcard */
  url?: string;
  headers?: Record<string, string>;
  expect: Record<Who, number>;
}

const page = (rep: number, manager: number, trainer: number, admin: number): Record<Who, number> => ({ anonymous: 303, rep, manager, trainer, admin });
const api = (rep: number, manager: number, trainer: number, admin: number): Record<Who, number> => ({ anonymous: 401, rep, manager, trainer, admin });
const SAME_ORIGIN = { 'Sec-Fetch-Site': 'same-origin' };
const everyone = (status: number): Record<Who, number> => ({ anonymous: status, rep: status, manager: status, trainer: status, admin: status });

const MATRIX: Record<string, Case[]> = {
  'GET /healthz': [{ expect: everyone(200) }],
  'GET /readyz': [{ expect: everyone(200) }],
  'GET /api/system': [{ expect: api(403, 403, 403, 200) }],
  // Prometheus only, with METRICS_TOKEN; this app has none, so the address does not exist for anyone (test/http/metrics.test.ts has the token)
  'GET /metrics': [{ expect: everyone(404) }],
  'GET /': [{ expect: page(200, 200, 200, 200) }],
  'GET /login': [{ expect: { anonymous: 200, rep: 303, manager: 303, trainer: 303, admin: 303 } }],
  'POST /login': [{ body: {}, expect: everyone(401) }],
  'POST /logout': [{ fresh: true, expect: page(303, 303, 303, 303) }],
  'GET /account': [{ expect: page(200, 200, 200, 200) }],
  'POST /account/password': [{ body: {}, expect: page(422, 422, 422, 422) }],
  'GET /account/tokens': [{ expect: page(200, 200, 200, 200) }],
  'POST /account/tokens': [{ body: {}, expect: page(422, 422, 422, 422) }],
  'POST /account/tokens/:id/revoke': [{ target: 'foreignToken', expect: page(404, 404, 404, 404) }],
  'GET /users': [{ expect: page(403, 200, 200, 200) }],
  'GET /users/new': [{ expect: page(403, 403, 403, 200) }],
  'POST /users': [{ body: {}, expect: page(403, 403, 403, 422) }],
  'GET /users/:id': [
    { target: 'self', expect: page(200, 200, 200, 200) },
    { target: 'team', expect: page(404, 200, 200, 200) },
    { target: 'other', expect: page(404, 404, 200, 200) },
  ],
  'POST /users/:id': [{ target: 'spare', body: { name: 'Spare Person' }, expect: page(403, 403, 403, 303) }],
  'POST /users/:id/password-reset': [{ target: 'spare', expect: page(403, 403, 403, 200) }],
  // requests to export or erase one person's data: admins only (an erase without the typed confirmation changes nothing)
  'GET /users/:id/data-export': [{ target: 'spare', expect: page(403, 403, 403, 200) }],
  'GET /users/:id/erase': [{ target: 'spare', expect: page(403, 403, 403, 200) }],
  'POST /users/:id/erase': [{ target: 'spare', body: { statements: 'void' }, expect: page(403, 403, 403, 422) }],
  'GET /api/me': [{ expect: api(200, 200, 200, 200) }],
  'GET /api/users': [{ expect: api(403, 200, 200, 200) }],
  'GET /api/users/:id': [
    { target: 'self', expect: api(200, 200, 200, 200) },
    { target: 'team', expect: api(404, 200, 200, 200) },
    { target: 'other', expect: api(404, 404, 200, 200) },
  ],
  'POST /api/users': [{ body: {}, expect: api(403, 403, 403, 422) }],
  'PATCH /api/users/:id': [{ target: 'spare', body: { name: 'Spare Person' }, expect: api(403, 403, 403, 200) }],
  'POST /api/users/:id/password-reset': [{ target: 'spare', expect: api(403, 403, 403, 200) }],
  'GET /api/tokens': [{ expect: api(200, 200, 200, 200) }],
  'POST /api/tokens': [{ body: {}, expect: api(422, 422, 422, 422) }],
  'DELETE /api/tokens/:id': [{ target: 'foreignToken', expect: api(404, 404, 404, 404) }],
  'GET /curricula': [{ expect: page(403, 200, 200, 200) }],
  'POST /curricula/publish': [{ expect: page(403, 403, 303, 303) }],
  'GET /curricula/:id': [{ target: 'curriculum', expect: page(403, 200, 200, 200) }],
  'GET /enrollments': [{ expect: page(403, 200, 200, 200) }],
  'GET /enrollments/new': [{ expect: page(403, 403, 200, 200) }],
  'POST /enrollments': [{ body: {}, expect: page(403, 403, 422, 422) }],
  'POST /enrollments/import': [{ body: {}, expect: page(403, 403, 422, 422) }],
  'POST /enrollments/import/confirm': [{ body: {}, expect: page(403, 403, 422, 422) }],
  'GET /enrollments/:id': [
    { target: 'ownEnrollment', expect: page(200, 200, 200, 200) },
    { target: 'teamEnrollment', expect: page(404, 200, 200, 200) },
    { target: 'otherEnrollment', expect: page(404, 404, 200, 200) },
  ],
  'GET /roadmap': [{ expect: page(200, 403, 403, 403) }],
  'GET /learn/:enrollmentId/modules/:moduleId': [
    { target: 'ownModule', expect: page(200, 200, 200, 200) },
    { target: 'otherModule', expect: page(404, 404, 200, 200) },
  ],
  'GET /sessions': [{ expect: page(403, 403, 200, 200) }],
  'GET /sessions/new': [{ expect: page(403, 403, 200, 200) }],
  'POST /sessions': [{ body: {}, expect: page(403, 403, 422, 422) }],
  'GET /sessions/:id': [{ target: 'session', expect: page(403, 403, 200, 200) }],
  'POST /sessions/:id/book': [{ target: 'session', body: { enrollmentId: 'OWN_ENROLLMENT' }, expect: page(303, 403, 403, 403) }],
  'GET /sessions/:id/invite.ics': [{ target: 'session', expect: page(200, 403, 403, 403) }],
  'POST /sessions/:id/leave': [{ target: 'session', body: { enrollmentId: 'OWN_ENROLLMENT' }, expect: page(303, 403, 403, 403) }],
  'POST /sessions/:id/attendance': [{ target: 'session', body: {}, expect: page(403, 403, 422, 422) }],
  // rep1 was never marked present: nothing to score yet
  'POST /sessions/:id/rubric/:userId': [{ target: 'sessionAttendee', body: {}, expect: page(403, 403, 409, 409) }],
  'POST /sessions/:id/cancel': [{ target: 'session', expect: page(403, 403, 303, 303) }],
  'POST /learn/:enrollmentId/modules/:moduleId/complete': [
    { target: 'ownModule', expect: page(303, 403, 403, 403) },
    { target: 'otherModule', expect: page(404, 403, 403, 403) },
  ],
  // ownModule is not a transfer module: the rep is sent back to it with the reason (GET), or told so (POST)
  'GET /learn/:enrollmentId/modules/:moduleId/build': [
    { target: 'ownModule', expect: page(303, 403, 403, 403) },
    { target: 'otherModule', expect: page(404, 403, 403, 403) },
  ],
  'POST /learn/:enrollmentId/modules/:moduleId/build': [
    { target: 'ownModule', expect: page(409, 403, 403, 403) },
    { target: 'otherModule', expect: page(404, 403, 403, 403) },
  ],
  'POST /learn/:enrollmentId/modules/:moduleId/results': [
    { target: 'ownModule', expect: page(409, 403, 403, 403) },
    { target: 'otherModule', expect: page(404, 403, 403, 403) },
  ],
  // reviews: the rep's manager only (an unknown submission is 404 for them)
  'GET /admin/review-delegates': [{ expect: page(403, 403, 403, 200) }],
  'POST /admin/review-delegates': [{ body: { managerId: 'nope' }, expect: page(403, 403, 403, 404) }],
  'GET /reviews': [{ expect: page(403, 200, 403, 403) }],
  'GET /reinforcement': [{ expect: page(200, 403, 403, 403) }],
  'GET /reinforcement/deliveries/:id': [
    { target: 'ownDelivery', expect: page(200, 403, 403, 403) },
    { target: 'otherDelivery', expect: page(404, 403, 403, 403) },
  ],
  'POST /reinforcement/deliveries/:id/answers': [
    { target: 'ownDelivery', body: { key: 'nope' }, expect: page(422, 403, 403, 403) },
    { target: 'otherDelivery', body: { key: 'basics.q1', 'answer:q1': '0' }, expect: page(404, 403, 403, 403) },
  ],
  'GET /reinforcement/settings': [{ expect: page(200, 403, 403, 403) }],
  'POST /reinforcement/settings': [{ body: {}, expect: page(422, 403, 403, 403) }],
  'GET /reviews/:id': [{ expect: page(403, 404, 403, 403) }],
  'POST /reviews/:id/decision': [{ body: { action: 'approve' }, expect: page(403, 404, 403, 403) }],
  'POST /reviews/:id/coaching': [{ expect: page(403, 404, 403, 403) }],
  'POST /reviews/:id/confirm': [{ expect: page(403, 404, 403, 403) }],
  'PUT /api/submissions/:id/draft': [{ body: { rev: 0, answers: {} }, expect: api(404, 403, 403, 403) }],
  'POST /submissions/:id/submit': [{ expect: page(404, 403, 403, 403) }],
  // no such submission: 404 for every role that may read enrollments (test/features/transfer-downloads.test.ts has the real ones)
  'GET /submissions/:id/script.pdf': [{ expect: page(404, 404, 404, 404) }],
  'GET /submissions/:id/workbook.pdf': [{ expect: page(404, 404, 404, 404) }],
  // ownModule is not a cmi5 module: the rep is sent back to it with the reason
  'POST /learn/:enrollmentId/modules/:moduleId/launch': [
    { target: 'ownModule', expect: page(303, 403, 403, 403) },
    { target: 'otherModule', expect: page(404, 403, 403, 403) },
  ],
  // the AU's one-time fetch URL: no credentials, the handle is the secret (an unknown one is error-code 2, with 200 as cmi5 says)
  'POST /cmi5/fetch/:handle': [{ expect: everyone(200) }],
  // package files are reached through a launched session only
  'GET /cmi5/content/:sessionId/*path': [{ expect: everyone(404) }],
  'POST /learn/:enrollmentId/modules/:moduleId/attempts': [
    { target: 'ownCheck', expect: page(303, 403, 403, 403) },
    { target: 'otherModule', expect: page(404, 403, 403, 403) },
  ],
  'GET /attempts/:id': [
    { target: 'attempt', expect: page(200, 403, 403, 403) },
    { target: 'otherAttempt', expect: page(404, 403, 403, 403) },
  ],
  'POST /attempts/:id': [{ target: 'attempt', body: {}, expect: page(303, 403, 403, 403) }],
  'GET /api/attempts/:id': [
    { target: 'attempt', expect: api(200, 403, 403, 403) },
    { target: 'otherAttempt', expect: api(404, 403, 403, 403) },
  ],
  'PUT /api/attempts/:id/answers': [{ target: 'attempt', body: {}, expect: api(422, 403, 403, 403) }],
  'POST /api/attempts/:id/submit': [{ target: 'attempt', expect: api(200, 403, 403, 403) }],
  'GET /xapi/about': [{ expect: everyone(200) }],
  // the LRS takes Basic credentials only: a browser session (any role) is not an xAPI client
  'POST /xapi/statements': [{ expect: everyone(401) }],
  'PUT /xapi/statements': [{ expect: everyone(401) }],
  'GET /xapi/statements': [{ expect: everyone(401) }],
  'DELETE /xapi/statements': [{ expect: everyone(405) }],
  'GET /xapi/activities/state': [{ expect: everyone(401) }],
  'PUT /xapi/activities/state': [{ expect: everyone(401) }],
  'POST /xapi/activities/state': [{ expect: everyone(401) }],
  'DELETE /xapi/activities/state': [{ expect: everyone(401) }],
  'GET /xapi/activities/profile': [{ expect: everyone(401) }],
  'PUT /xapi/activities/profile': [{ expect: everyone(401) }],
  'POST /xapi/activities/profile': [{ expect: everyone(401) }],
  'DELETE /xapi/activities/profile': [{ expect: everyone(401) }],
  'GET /xapi/agents/profile': [{ expect: everyone(401) }],
  'PUT /xapi/agents/profile': [{ expect: everyone(401) }],
  'POST /xapi/agents/profile': [{ expect: everyone(401) }],
  'DELETE /xapi/agents/profile': [{ expect: everyone(401) }],
  'GET /xapi/activities': [{ expect: everyone(401) }],
  'POST /xapi/activities': [{ expect: everyone(405) }],
  'PUT /xapi/activities': [{ expect: everyone(405) }],
  'DELETE /xapi/activities': [{ expect: everyone(405) }],
  'GET /xapi/agents': [{ expect: everyone(401) }],
  'POST /xapi/agents': [{ expect: everyone(405) }],
  'PUT /xapi/agents': [{ expect: everyone(405) }],
  'DELETE /xapi/agents': [{ expect: everyone(405) }],
  'GET /admin/lrs': [{ expect: page(403, 403, 403, 200) }],
  'POST /admin/lrs': [{ body: {}, expect: page(403, 403, 403, 422) }],
  'POST /admin/lrs/:key/revoke': [{ target: 'lrsKey', expect: page(403, 403, 403, 303) }],
  'GET /admin/lrs/forwarding': [{ expect: page(403, 403, 403, 200) }],
  'POST /admin/lrs/forwarding/retry': [{ expect: page(403, 403, 403, 303) }],
  'GET /admin/outbox': [{ expect: page(403, 403, 403, 200) }],
  'GET /admin/outbox/:id': [{ target: 'email', expect: page(403, 403, 403, 200) }],
  'GET /admin/outbox/:id/html': [{ target: 'email', expect: page(403, 403, 403, 200) }],
  // the audit log: admins only (its page and its CSV)
  'GET /admin/audit': [{ expect: page(403, 403, 403, 200) }],
  'GET /admin/audit.csv': [{ expect: page(403, 403, 403, 200) }],
  'GET /assessments': [{ expect: page(403, 403, 200, 200) }],
  'GET /assessments/gains/:curriculumId': [{ target: 'analyticsCurriculum', expect: page(403, 403, 200, 200) }],
  'GET /assessments/:curriculumId/:moduleId': [{ target: 'analyticsModule', expect: page(403, 403, 200, 200) }],
  'GET /assessments/:curriculumId/:moduleId/items.csv': [{ target: 'analyticsModule', expect: page(403, 403, 200, 200) }],
  'GET /assessments/:curriculumId/:moduleId/attempts.csv': [{ target: 'analyticsModule', expect: page(403, 403, 200, 200) }],
  'GET /reports/transfer': [{ expect: page(403, 403, 200, 200) }],
  'GET /reports/transfer/managers.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /reports/transfer/reps.csv': [{ expect: page(403, 403, 200, 200) }],
  // Bull Board (admins): its page, its files and its JSON API; the API's state-changing calls come
  // from the board's own page (same origin) instead of carrying the CSRF token
  'GET /admin/queues{/*rest}': [{ url: '/admin/queues', expect: page(403, 403, 403, 200) }],
  'GET /admin/queues/static/*path': [{ url: '/admin/queues/static/locales/en-US/messages.json', expect: page(403, 403, 403, 200) }],
  'GET /admin/queues/api/*rest': [{ url: '/admin/queues/api/queues', expect: page(403, 403, 403, 200) }],
  'PUT /admin/queues/api/*rest': [{ url: '/admin/queues/api/queues/onramp/retry/failed', headers: SAME_ORIGIN, expect: page(403, 403, 403, 200) }],
  'PATCH /admin/queues/api/*rest': [{ url: '/admin/queues/api/queues/onramp/no-such-job/priority', headers: SAME_ORIGIN, body: { priority: 1 }, expect: page(403, 403, 403, 404) }],
  'POST /admin/queues/api/*rest': [{ url: '/admin/queues/api/queues/onramp/add', headers: SAME_ORIGIN, body: { name: 'matrix', data: {} }, expect: page(403, 403, 403, 200) }],
  'GET /reports/retention': [{ expect: page(403, 403, 200, 200) }],
  'GET /reports/retention/curve.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /reports/retention/items.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /reports/retention/reps.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /dashboard': [{ expect: page(403, 403, 200, 200) }],
  'GET /dashboard/status.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /dashboard/funnel.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /dashboard/ramp.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /dashboard/overdue.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /dashboard/assessments.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /dashboard/managers.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /dashboard/results.csv': [{ expect: page(403, 403, 200, 200) }],
  'GET /dashboard/results-totals.csv': [{ expect: page(403, 403, 200, 200) }],
  // the coaching view: managers, their own team only (the team comes from the signed-in manager)
  'GET /team/dashboard': [{ expect: page(403, 200, 403, 403) }],
  'GET /team/dashboard.csv': [{ expect: page(403, 200, 403, 403) }],
  'GET /me/progress': [{ expect: page(200, 403, 403, 403) }],
  // readiness is a rep's: the rep, their manager, trainers and admins; 404 otherwise (also for a person who is not a rep)
  'GET /people/:id/readiness': [
    { target: 'self', expect: page(200, 404, 404, 404) },
    { target: 'team', expect: page(404, 200, 200, 200) },
    { target: 'other', expect: page(404, 404, 200, 200) },
  ],
  'GET /api/people/:id/readiness': [
    { target: 'self', expect: api(200, 404, 404, 404) },
    { target: 'team', expect: api(404, 200, 200, 200) },
    { target: 'other', expect: api(404, 404, 200, 200) },
  ],
  // the learner timeline: enrollments.read (the person, their manager, trainers and admins; 404 outside scope)
  'GET /people/:id/timeline': [
    { target: 'self', expect: page(200, 200, 200, 200) },
    { target: 'team', expect: page(404, 200, 200, 200) },
    { target: 'other', expect: page(404, 404, 200, 200) },
  ],
  'GET /people/:id/timeline.csv': [
    { target: 'self', expect: page(200, 200, 200, 200) },
    { target: 'team', expect: page(404, 200, 200, 200) },
    { target: 'other', expect: page(404, 404, 200, 200) },
  ],
  'GET /api/people/:id/timeline': [
    { target: 'self', expect: api(200, 200, 200, 200) },
    { target: 'team', expect: api(404, 200, 200, 200) },
    { target: 'other', expect: api(404, 404, 200, 200) },
  ],
};

const EMAILS: Record<Exclude<Who, 'anonymous'>, string> = {
  rep: 'rep1@demo.onramp.dev',
  manager: 'manager1@demo.onramp.dev',
  trainer: 'trainer@demo.onramp.dev',
  admin: 'admin@demo.onramp.dev',
};

let ctx: TestContext;
let people: DemoPeople;
let routes: RouteSummary[];
const sessions = new Map<Who, SignedIn>();
const ids: Partial<Record<Target, string | Record<string, string>>> = {};

async function browserFor(who: Who, fresh = false): Promise<SignedIn> {
  if (!fresh && sessions.has(who)) return sessions.get(who)!;
  const s = who === 'anonymous' ? await anonymous(ctx.app) : await signIn(ctx.app, EMAILS[who]);
  if (!fresh) sessions.set(who, s);
  return s;
}

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  routes = ctx.app.locals.routes as RouteSummary[];
  const spare = await ctx.container.accounts.create('system', { email: 'spare@example.com', name: 'Spare', role: 'trainer', managerId: null, password: 'correct horse battery' });
  ids.spare = spare.user.id;
  ids.team = people.rep2.id;
  ids.other = people.rep4.id;
  const live = '---\nid: live\ntitle: Live practice\nphase: basics\nmodality: vilt\nminutes: 60\n---\nA virtual session.\n';
  const demo = validateCurriculum('demo', fixtureFiles({ 'demo/modules/04-live.md': live })).content!;
  ids.curriculum = demo.definition.id;
  await ctx.container.curricula.publish('cli', demo);
  const enroll = async (p: { id: string }) =>
    String((await ctx.container.enrollments.enroll('system', { userId: p.id, curriculumId: 'demo', startDate: '2026-01-05' })).enrollment._id);
  ids.ownEnrollment = await enroll(people.rep1);
  ids.teamEnrollment = await enroll(people.rep2);
  ids.otherEnrollment = await enroll(people.rep4);
  ids.ownModule = { enrollmentId: ids.ownEnrollment, moduleId: 'intro' };
  ids.ownCheck = { enrollmentId: ids.ownEnrollment, moduleId: 'check' };
  ids.analyticsCurriculum = { curriculumId: 'demo' };
  ids.analyticsModule = { curriculumId: 'demo', moduleId: 'check' };
  ids.lrsKey = { key: (await ctx.container.lrsCredentials.issue('system', { name: 'matrix', scopes: ['all'] })).key };
  ids.email = (await ctx.container.email.send({ to: 'manager1@demo.onramp.dev', template: 'review-overdue', data: { managerName: 'Manager', repName: 'Rep', itemTitle: 'Call plan', submittedAt: new Date(), link: '/' }, dedupeKey: 'matrix' })).id!;
  const attemptOf = async (p: { id: string }, enrollmentId: string) => {
    await ctx.container.enrollments.acknowledge({ id: p.id, role: 'rep' }, enrollmentId, 'intro');
    return ctx.container.assessments.start({ id: p.id, role: 'rep' }, enrollmentId, 'check');
  };
  ids.attempt = await attemptOf(people.rep1, ids.ownEnrollment);
  ids.otherAttempt = await attemptOf(people.rep4, ids.otherEnrollment);
  ids.otherModule = { enrollmentId: ids.otherEnrollment, moduleId: 'intro' };
  // completing intro put its reinforcement question in both decks: deliver it, two days on
  ids.ownDelivery = await deliverLater(ctx.container, people.rep1.id);
  ids.otherDelivery = await deliverLater(ctx.container, people.rep4.id);
  const inAWeek = new Date(Date.now() + 7 * 86_400_000);
  const scheduled = await ctx.container.sessions.schedule(
    { id: people.trainer.id, role: 'trainer' },
    { curriculumId: 'demo', moduleId: 'live', startsAt: inAWeek, endsAt: new Date(inAWeek.getTime() + 3_600_000), timeZone: 'UTC', capacity: 5, meetingUrl: 'https://meet.example.com/x', instructorId: people.trainer.id },
  );
  ids.session = scheduled.id;
  ids.sessionAttendee = { id: scheduled.id, userId: people.rep1.id };
  ids.foreignToken = (await ctx.container.accounts.createToken({ id: spare.user.id, role: 'trainer' }, 'spare token')).record.id;
});
afterAll(() => ctx.close());

describe('authorization matrix', () => {
  it('has a row for every route of the app, and no row for a route that does not exist', () => {
    const keys = routes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(keys.filter((k) => !MATRIX[k]), 'routes without a row in MATRIX').toEqual([]);
    expect(Object.keys(MATRIX).filter((k) => !keys.includes(k)), 'rows for routes that do not exist').toEqual([]);
  });

  const whos: Who[] = ['anonymous', 'rep', 'manager', 'trainer', 'admin'];
  for (const [key, cases] of Object.entries(MATRIX)) {
    for (const c of cases) {
      for (const who of whos) {
        it(`${key}${c.target ? ` (${c.target})` : ''} as ${who} → ${c.expect[who]}`, async () => {
          const [method, path] = key.split(' ') as [string, string];
          const me = who === 'anonymous' ? undefined : (await ctx.container.accounts.findByEmail(EMAILS[who]))!.id;
          const target = c.target === 'self' ? (me ?? people.rep1.id) : c.target ? ids[c.target]! : undefined;
          const params: Record<string, string> = typeof target === 'string' ? { id: target } : (target ?? {});
          const url = c.url ?? path.replace(/:(\w+)/g, (_m, name: string) => params[name] ?? `:${name}`);
          const { agent, csrf } = await browserFor(who, c.fresh);
          const req = agent[method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'](url).set('X-CSRF-Token', csrf).set('Accept', 'text/html,application/json').set(c.headers ?? {});
          // as xAPI clients do: without it the LRS answers 400 before it looks at credentials
          if (path.startsWith('/xapi/')) void req.set('X-Experience-API-Version', '1.0.3');
          const body = c.body && Object.fromEntries(Object.entries(c.body).map(([k, v]) => [k, v === 'OWN_ENROLLMENT' ? ids.ownEnrollment : v]));
          const res = body ? await req.send(body) : await req;
          expect(res.status, `${method} ${url} as ${who}: ${res.text.slice(0, 200)}`).toBe(c.expect[who]);
        });
      }
    }
  }
});
