import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { RouteSummary } from '../../src/http/route.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/**
 * The security headers of every GET route of the app (the list comes from the app, so a new route
 * is checked too), for an anonymous visitor, a rep and an admin: a Content-Security-Policy without
 * 'unsafe-inline' (or 'unsafe-eval') for scripts and styles, frame-ancestors 'none', nosniff and a
 * Referrer-Policy; HSTS only with COOKIE_SECURE. The documented exceptions are checked to be as
 * narrow as documented: the queue board's page (inline styles, docs/operations.md), an email's own
 * HTML in the outbox (inline styles, sandboxed, no script: src/features/email/pages.ts) and cmi5
 * course content (test/xapi/cmi5.test.ts; served on CMI5_CONTENT_URL's origin).
 */
let ctx: TestContext;
let secure: TestContext;
let people: DemoPeople;
const ids: Record<string, string> = {};
const LRS = { key: 'headers-test', secret: 'headers-test-secret-0123456789' };
const basic = `Basic ${Buffer.from(`${LRS.key}:${LRS.secret}`).toString('base64')}`;
const stateQuery = `activityId=${encodeURIComponent('https://example.com/activities/1')}&agent=${encodeURIComponent(JSON.stringify({ mbox: 'mailto:rep@example.com' }))}&stateId=progress`;

beforeAll(async () => {
  ctx = await createTestContext();
  secure = await createTestContext({ COOKIE_SECURE: 'true', TRUST_PROXY: '1' });
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  ids.enrollment = String((await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' })).enrollment._id);
  ids.email = (await ctx.container.email.send({ to: people.manager1.email, template: 'review-overdue', data: { managerName: 'Morgan', repName: 'Riley', itemTitle: 'Call script', submittedAt: new Date(), link: '/' }, dedupeKey: 'headers' })).id!;
  await ctx.container.lrsCredentials.issue('system', { name: 'headers', scopes: ['all'], ...LRS });
  await supertest(ctx.app).put(`/xapi/activities/state?${stateQuery}`).set('Authorization', basic).set('X-Experience-API-Version', '1.0.3').set('Content-Type', 'text/html').send('<script>alert(1)</script>').expect(204);
});
afterAll(async () => {
  await ctx?.close();
  await secure?.close();
});

/** The address to call for a route: real ids where a page needs one to render, a made-up one elsewhere. */
function urlOf(path: string): string {
  const special: Record<string, string> = {
    '/admin/queues{/*rest}': '/admin/queues',
    '/admin/queues/static/*path': '/admin/queues/static/locales/en-US/messages.json',
    '/admin/queues/api/*rest': '/admin/queues/api/queues',
    '/cmi5/content/:sessionId/*path': '/cmi5/content/no-such-session/index.html',
    '/xapi/activities/state': `/xapi/activities/state?${stateQuery}`,
  };
  if (special[path]) return special[path];
  const byRoute: Record<string, string> = { '/curricula/:id': 'demo', '/enrollments/:id': ids.enrollment!, '/admin/outbox/:id': ids.email!, '/admin/outbox/:id/html': ids.email! };
  const isPerson = /^\/(api\/)?(users|people)\/:id/.test(path);
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    if (name === 'id') return byRoute[path] ?? (isPerson ? people.rep1.id : '000000000000000000000000');
    return { enrollmentId: ids.enrollment!, moduleId: 'intro', curriculumId: 'demo', userId: people.rep1.id }[name] ?? 'x';
  });
}

/** A Content-Security-Policy as directive → sources. */
function parseCsp(header: string): Map<string, string[]> {
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...sources]) => [name!.toLowerCase(), sources]),
  );
}

type Exception = 'queue-board' | 'email-html' | 'cmi5-content' | null;
function exceptionFor(url: string, status: number): Exception {
  if (status !== 200) return null;
  if (url === '/admin/queues') return 'queue-board';
  if (/^\/admin\/outbox\/[^/]+\/html$/.test(url)) return 'email-html';
  if (url.startsWith('/cmi5/content/')) return 'cmi5-content';
  return null;
}

/** What is wrong with one response's headers; empty when nothing. */
function headerProblems(res: supertest.Response, url: string, hsts: boolean): string[] {
  const problems: string[] = [];
  const exception = exceptionFor(url, res.status);
  const header = res.headers['content-security-policy'] as string | undefined;
  if (!header) return [`${url} (${res.status}): no Content-Security-Policy`];
  const csp = parseCsp(header);
  const effective = (name: string) => csp.get(name) ?? csp.get(name.replace(/-(elem|attr)$/, '')) ?? csp.get('default-src') ?? [];
  if (exception !== 'cmi5-content') {
    for (const name of ['script-src', 'script-src-elem', 'script-src-attr']) {
      const sources = effective(name);
      if (sources.includes("'unsafe-inline'") || sources.includes("'unsafe-eval'")) problems.push(`${url} (${res.status}): ${name} ${sources.join(' ')}`);
    }
    for (const name of ['style-src', 'style-src-elem', 'style-src-attr']) {
      const sources = effective(name);
      if (sources.includes("'unsafe-inline'") && exception === null) problems.push(`${url} (${res.status}): ${name} ${sources.join(' ')}`);
    }
    if ((csp.get('frame-ancestors') ?? []).join(' ') !== "'none'") problems.push(`${url} (${res.status}): frame-ancestors ${csp.get('frame-ancestors')?.join(' ') ?? 'missing'}`);
  }
  if (exception === 'email-html' && (!csp.has('sandbox') || effective('script-src').join(' ') !== "'none'")) problems.push(`${url}: the email's HTML must be sandboxed with no script (${header})`);
  if (res.headers['x-content-type-options'] !== 'nosniff') problems.push(`${url} (${res.status}): X-Content-Type-Options ${res.headers['x-content-type-options']}`);
  if (!res.headers['referrer-policy']) problems.push(`${url} (${res.status}): no Referrer-Policy`);
  if (res.headers['x-powered-by']) problems.push(`${url} (${res.status}): X-Powered-By`);
  const sts = res.headers['strict-transport-security'] as string | undefined;
  if (hsts && !/max-age=(\d+)/.test(sts ?? '')) problems.push(`${url} (${res.status}): no Strict-Transport-Security`);
  if (hsts && Number(/max-age=(\d+)/.exec(sts ?? '')?.[1]) < 180 * 86_400) problems.push(`${url}: HSTS max-age under 180 days (${sts})`);
  if (!hsts && sts) problems.push(`${url} (${res.status}): Strict-Transport-Security without COOKIE_SECURE`);
  return problems;
}

describe('security headers', () => {
  it('holds for every GET route, for anonymous visitors, reps and admins', async () => {
    const routes = (ctx.app.locals.routes as RouteSummary[]).filter((r) => r.method === 'get');
    const urls = [...new Set(routes.map((r) => urlOf(r.path))), '/assets/app.css', '/no/such/page'];
    const browsers: [string, SignedIn | null][] = [
      ['anonymous', null],
      ['rep', await signIn(ctx.app, people.rep1.email)],
      ['admin', await signIn(ctx.app, people.admin.email)],
    ];
    const problems: string[] = [];
    const seen = { ok: 0, exceptions: new Set<string>() };
    for (const [who, browser] of browsers) {
      for (const url of urls) {
        const req = browser ? browser.agent.get(url) : supertest(ctx.app).get(url);
        if (url.startsWith('/xapi/')) void req.set('X-Experience-API-Version', '1.0.3').set('Authorization', basic);
        const res = await req;
        problems.push(...headerProblems(res, url, false).map((p) => `${who}: ${p}`));
        if (res.status === 200) seen.ok++;
        const exception = exceptionFor(url, res.status);
        if (exception) seen.exceptions.add(exception);
      }
    }
    expect(problems).toEqual([]);
    // the walk reached real pages, the two exceptions it can reach, and the stored xAPI document
    expect(seen.ok).toBeGreaterThan(60);
    expect([...seen.exceptions].sort()).toEqual(['email-html', 'queue-board']);
  });

  it("narrows the exceptions: the queue board's scripts stay 'self', an email's HTML runs nothing, an xAPI document neither runs nor is framed", async () => {
    const admin = await signIn(ctx.app, people.admin.email);
    const board = parseCsp((await admin.agent.get('/admin/queues').expect(200)).headers['content-security-policy'] as string);
    expect(board.get('script-src')).toEqual(["'self'"]);
    expect(board.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
    const email = parseCsp((await admin.agent.get(`/admin/outbox/${ids.email}/html`).expect(200)).headers['content-security-policy'] as string);
    expect(email.get('default-src')).toEqual(["'none'"]);
    expect(email.has('script-src')).toBe(false);
    expect(email.has('sandbox')).toBe(true);
    const doc = await supertest(ctx.app).get(`/xapi/activities/state?${stateQuery}`).set('Authorization', basic).set('X-Experience-API-Version', '1.0.3').expect(200);
    expect(doc.text).toBe('<script>alert(1)</script>');
    expect(doc.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
    expect(doc.headers['x-content-type-options']).toBe('nosniff');
  });

  it('sends HSTS (and upgrade-insecure-requests) with COOKIE_SECURE, on pages, errors and files alike', async () => {
    for (const url of ['/login', '/healthz', '/no/such/page', '/assets/app.css']) {
      const res = await supertest(secure.app).get(url).set('X-Forwarded-Proto', 'https');
      expect(headerProblems(res, url, true)).toEqual([]);
      expect(res.headers['strict-transport-security']).toMatch(/^max-age=31536000; includeSubDomains/);
      expect(parseCsp(res.headers['content-security-policy'] as string).has('upgrade-insecure-requests')).toBe(true);
    }
    expect(parseCsp((await supertest(ctx.app).get('/login')).headers['content-security-policy'] as string).has('upgrade-insecure-requests')).toBe(false);
  });
});
