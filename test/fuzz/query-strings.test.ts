import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { RouteSummary } from '../../src/http/route.js';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';
import { deliverLater, fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';
import { browserOn, corpus, listen, messageOf, NASTY_STRINGS, Tally } from './support.js';

/**
 * Every GET route of the app (from allRoutes(), so a new one is covered without a change here),
 * called with random junk query strings as a signed-in admin and as a rep: operators in brackets,
 * repeated keys, prototype keys, broken percent-encoding, huge values. Never a 5xx; a refusal says
 * what was wrong.
 */
let ctx: TestContext;
let http: Awaited<ReturnType<typeof listen>>;
let people: DemoPeople;
const params: Record<string, Record<string, string>> = {};
const tally = new Tally('query-strings');

/** Names the app's GET routes read from the query string, and some they do not. */
const KEYS = ['role', 'cohort', 'curriculumId', 'moduleId', 'managerId', 'step', 'via', 'next', 'signedOut', 'since', 'until', 'before', 'limit', 'cursor', 'format', 'attachments', 'agent', 'verb', 'activity', 'page', 'sort', 'q', 'from', 'to', 'days', 'status', 'type', 'event', 'window', 'module', 'curriculum', 'manager', 'id', 'statementId'];

const key = fc.oneof(fc.constantFrom(...KEYS), fc.constantFrom(...KEYS).map((k) => `${k}[$ne]`), fc.constantFrom('__proto__', 'constructor', '__proto__[admin]', 'constructor[prototype][x]', '$where', 'a.b', '[]', ''), fc.string({ maxLength: 6 }));
const value = fc.oneof(fc.constantFrom(...NASTY_STRINGS.filter((s) => s.length < 2000)), fc.constantFrom('2026-02-30', '9999-12-31', '-1', '1e400', 'true', '{"mbox":"mailto:x@y.z"}', 'x'.repeat(4000)), fc.string({ maxLength: 12 }), fc.integer().map(String));
/** Percent-encoded; a lone surrogate becomes the bytes of one (not valid UTF-8), as a hostile client may send. */
const encode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};

/** A query string: encoded pairs (repeats allowed), sometimes raw bytes that are not valid encoding. */
const query = fc.oneof(
  { arbitrary: fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 5 }).map((pairs) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')), weight: 4 },
  fc.constantFrom('%', '%%', '%E0%A4%A', '=', '&&&', '=&=', 'a=%00', 'a[=1', 'a]=1', 'role=rep&role=admin', 'email[$ne]=x', 'a[b][c][d][e]=1', '__proto__[x]=1', `${'a='.repeat(2000)}`),
);

/** Real ids for a route's parameters, so that the junk reaches the handler and not a 404. */
function urlFor(route: RouteSummary, who: 'admin' | 'rep'): string {
  const fill = params[route.path] ?? {};
  if (route.path.startsWith('/admin/queues')) return route.path.includes('static') ? '/admin/queues/static/locales/en-US/messages.json' : route.path.includes('/api/') ? '/admin/queues/api/queues' : '/admin/queues';
  return route.path
    .replace(/\*(\w+)/g, 'fuzz/path')
    .replace(/\{[^}]*\}/g, '')
    .replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(fill[name] ?? (name === 'id' && who === 'rep' ? people.rep1.id : 'fuzz')));
}

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  http = await listen(ctx.app);
  const c = ctx.container;
  await c.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  const rep1 = { id: people.rep1.id, role: 'rep' as const };
  const rep2 = { id: people.rep2.id, role: 'rep' as const };
  const enrollmentId = String((await c.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' })).enrollment._id);
  const rep2Enrollment = String((await c.enrollments.enroll('system', { userId: people.rep2.id, curriculumId: 'demo', startDate: '2026-01-05' })).enrollment._id);
  await c.enrollments.acknowledge(rep1, enrollmentId, 'intro');
  const attempt = await c.assessments.start(rep1, enrollmentId, 'check');
  const delivery = await deliverLater(c, people.rep1.id);
  await unlockTransfer(c.enrollments, rep2Enrollment);
  const draft = await c.transfer.workspace(rep2, rep2Enrollment, 'script');
  await c.transfer.saveDraft(rep2, String(draft.submission._id), { rev: draft.submission.rev, answers: { opening: 'Hello.' } });
  const submission = String((await c.transfer.submit(rep2, String(draft.submission._id)))._id);
  const email = (await c.email.send({ to: 'manager1@demo.onramp.dev', template: 'review-overdue', data: { managerName: 'M', repName: 'R', itemTitle: 'Call plan', submittedAt: new Date(), link: '/' }, dedupeKey: 'fuzz' })).id!;
  const module = { enrollmentId, moduleId: 'intro' };
  Object.assign(params, {
    '/users/:id': { id: people.rep1.id },
    '/api/users/:id': { id: people.rep1.id },
    '/people/:id/readiness': { id: people.rep1.id },
    '/api/people/:id/readiness': { id: people.rep1.id },
    '/people/:id/timeline': { id: people.rep1.id },
    '/people/:id/timeline.csv': { id: people.rep1.id },
    '/api/people/:id/timeline': { id: people.rep1.id },
    '/curricula/:id': { id: 'demo' },
    '/enrollments/:id': { id: enrollmentId },
    '/learn/:enrollmentId/modules/:moduleId': module,
    '/learn/:enrollmentId/modules/:moduleId/build': { enrollmentId: rep2Enrollment, moduleId: 'script' },
    '/attempts/:id': { id: attempt },
    '/api/attempts/:id': { id: attempt },
    '/reinforcement/deliveries/:id': { id: delivery },
    '/reviews/:id': { id: submission },
    '/submissions/:id/script.pdf': { id: submission },
    '/submissions/:id/workbook.pdf': { id: submission },
    '/admin/outbox/:id': { id: email },
    '/admin/outbox/:id/html': { id: email },
    '/assessments/gains/:curriculumId': { curriculumId: 'demo' },
    '/assessments/:curriculumId/:moduleId': { curriculumId: 'demo', moduleId: 'check' },
    '/assessments/:curriculumId/:moduleId/items.csv': { curriculumId: 'demo', moduleId: 'check' },
    '/assessments/:curriculumId/:moduleId/attempts.csv': { curriculumId: 'demo', moduleId: 'check' },
  });
});
afterAll(async () => {
  await http?.close();
  await ctx?.close();
});

describe('fuzz: query strings on every GET route', () => {
  it('never answers a junk query string with a 5xx, as an admin or a rep', async () => {
    const routes = (ctx.app.locals.routes as RouteSummary[]).filter((r) => r.method === 'get');
    const browsers = { admin: await browserOn(http.server, 'admin@demo.onramp.dev'), rep: await browserOn(http.server, 'rep1@demo.onramp.dev') };
    const cases = routes.flatMap((route, n) =>
      (['admin', 'rep'] as const).flatMap((who) =>
        // a PDF is drawn for every request: fewer of those
        corpus(query, route.path.endsWith('.pdf') ? 1 : 4, n * 2 + (who === 'rep' ? 1 : 0)).map((q) => ({ route, who, url: `${urlFor(route, who)}?${q}` })),
      ),
    );
    // four at a time: the database and the server overlap their waits
    for (let i = 0; i < cases.length; i += 4) {
      await Promise.all(
        cases.slice(i, i + 4).map(async ({ route, who, url }) => {
          const req = browsers[who].agent.get(url).set('Accept', route.kind === 'api' ? 'application/json' : 'text/html');
          if (route.path.startsWith('/xapi/')) void req.set('X-Experience-API-Version', '1.0.3');
          const res = await req;
          // a redirect is an answer too (to the sign-in page, a rep sent back to the module); only a 5xx is wrong
          tally.check(`GET ${url.slice(0, 160)} as ${who}`, { status: res.status, message: res.status >= 400 ? messageOf(res) : '' });
        }),
      );
    }
    tally.report();
    expect(routes.length).toBeGreaterThan(50);
  });
});
