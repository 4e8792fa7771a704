import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { QUEUE_BOARD_PATH, withInlineStyles, withoutThirdPartyFonts } from '../../src/features/system/queue-board.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { failedJob } from '../support/jobs.js';

/**
 * Bull Board at /admin/queues: admins only, every address it serves behind Onramp's rules, and
 * its state-changing API calls accepted from Onramp's own origin only (they carry no CSRF token).
 */
let ctx: TestContext;
let people: DemoPeople;
let admin: SignedIn;
const as: Partial<Record<'rep' | 'manager' | 'trainer', SignedIn>> = {};

const SAME_ORIGIN = { 'Sec-Fetch-Site': 'same-origin' };
const state = async (jobId: string) => (await ctx.container.queue.getJob(jobId))?.getState();

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  admin = await signIn(ctx.app, 'admin@demo.onramp.dev');
  as.rep = await signIn(ctx.app, 'rep1@demo.onramp.dev');
  as.manager = await signIn(ctx.app, 'manager1@demo.onramp.dev');
  as.trainer = await signIn(ctx.app, 'trainer@demo.onramp.dev');
});
afterAll(() => ctx.close());

describe('the queue board for admins', () => {
  it('answers its page at /admin/queues, without the third-party font, under our CSP plus inline styles only', async () => {
    const res = await admin.agent.get(QUEUE_BOARD_PATH).expect(200).expect('Content-Type', /html/);
    expect(res.text).toContain('<base href="/admin/queues/" />');
    expect(res.text).toMatch(/<script defer src="static\/js\/main\.[\w.]+\.js">/);
    expect(res.text).not.toContain('fonts.googleapis.com');

    const everywhere = (await supertest(ctx.app).get('/login').expect(200)).headers['content-security-policy'] as string;
    const board = res.headers['content-security-policy'] as string;
    expect(everywhere).toMatch(/style-src 'self'(;|$)/);
    expect(everywhere).not.toContain('unsafe-inline');
    expect(board).toBe(withInlineStyles(everywhere));
    expect(board).toMatch(/script-src 'self'(;|$)/);
    // the board's JSON and files keep the policy of every other response
    const api = await admin.agent.get(`${QUEUE_BOARD_PATH}/api/queues`).set('Accept', 'application/json').expect(200);
    expect(api.headers['content-security-policy']).toBe(everywhere);
    expect(api.headers['x-powered-by']).toBeUndefined();
  });

  it('answers the page at every address of the single-page app, and its static files', async () => {
    const routes = Array.isArray(appRoutes.entryPoint.route) ? appRoutes.entryPoint.route : [appRoutes.entryPoint.route];
    for (const r of routes) {
      const url = QUEUE_BOARD_PATH + r.replace(':queueName', 'onramp').replace(':jobId', 'some-job');
      await admin.agent.get(url).expect(200).expect('Content-Type', /html/);
    }
    const page = await admin.agent.get(`${QUEUE_BOARD_PATH}/`).expect(200);
    const script = /src="(static\/js\/main\.[\w.]+\.js)"/.exec(page.text)![1]!;
    await admin.agent.get(`${QUEUE_BOARD_PATH}/${script}`).expect(200).expect('Content-Type', /javascript/);
    // an address the board does not know is Onramp's own 404 page
    const missing = await admin.agent.get(`${QUEUE_BOARD_PATH}/static/nope.js`).expect(404);
    expect(missing.text).toContain('There is no page at this address.');
  });

  it('lists the onramp queue with its counts through its API', async () => {
    await ctx.container.queue.add('reinforcement.deliver', { userId: people.rep1.id }, { jobId: `rf-${people.rep1.id}`, delay: 3_600_000 });
    const res = await admin.agent.get(`${QUEUE_BOARD_PATH}/api/queues`).query({ activeQueue: 'onramp', status: 'delayed' }).set('Accept', 'application/json').expect(200);
    const queues = res.body.queues as { name: string; counts: Record<string, number>; jobs: { id: string; name: string }[] }[];
    expect(queues.map((q) => q.name)).toEqual(['onramp']);
    expect(queues[0]!.counts.delayed).toBe(1);
    expect(queues[0]!.jobs.map((j) => [j.id, j.name])).toEqual([[`rf-${people.rep1.id}`, 'reinforcement.deliver']]);
    await ctx.container.queue.remove(`rf-${people.rep1.id}`);
  });

  it('serves every route of its API through Onramp routes (a board upgrade that adds one fails here)', async () => {
    const params: Record<string, string> = { queueName: 'no-such-queue', jobId: 'no-such-job', queueStatus: 'failed', schedulerId: 'none' };
    for (const r of appRoutes.api) {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      for (const method of methods) {
        const url = QUEUE_BOARD_PATH + String(r.route).replace(/:(\w+)/g, (_m, name: string) => params[name] ?? 'x');
        const res = await admin.agent[method as 'get' | 'put' | 'patch' | 'post'](url).set(SAME_ORIGIN).set('Accept', 'application/json').send({});
        // the board answered (its own "queue not found" included), not Onramp's 404 for an unrouted address
        expect(res.body?.error?.code, `${method.toUpperCase()} ${r.route} → ${res.status} ${res.text.slice(0, 120)}`).not.toBe('not_found');
        expect(res.status, `${method.toUpperCase()} ${r.route}`).toBeLessThan(500);
      }
    }
    expect(await ctx.container.queue.isPaused()).toBe(false); // "pause all" was followed by "resume all"
  });
});

describe('everyone else', () => {
  for (const who of ['rep', 'manager', 'trainer'] as const) {
    it(`refuses the ${who}: page, API and actions`, async () => {
      const s = as[who]!;
      await s.agent.get(QUEUE_BOARD_PATH).expect(403);
      await s.agent.get(`${QUEUE_BOARD_PATH}/api/queues`).set('Accept', 'application/json').expect(403);
      await s.agent.get(`${QUEUE_BOARD_PATH}/static/locales/en-US/messages.json`).expect(403);
      await s.agent.put(`${QUEUE_BOARD_PATH}/api/queues/onramp/retry/failed`).set(SAME_ORIGIN).set('X-CSRF-Token', s.csrf).expect(403);
    });
  }

  it('sends an anonymous browser to sign in, and answers an anonymous API call with 401', async () => {
    const page = await supertest(ctx.app).get(QUEUE_BOARD_PATH).set('Accept', 'text/html').expect(303);
    expect(page.headers.location).toBe(`/login?next=${encodeURIComponent(QUEUE_BOARD_PATH)}`);
    await supertest(ctx.app).get(`${QUEUE_BOARD_PATH}/api/queues`).set('Accept', 'application/json').expect(401);
    await supertest(ctx.app).put(`${QUEUE_BOARD_PATH}/api/queues/onramp/retry/failed`).set(SAME_ORIGIN).set('Accept', 'application/json').expect(401);
  });
});

describe('state-changing API calls: same origin instead of the CSRF token', () => {
  const delayed = async (id: string) => {
    await ctx.container.queue.add('reinforcement.deliver', { userId: id }, { jobId: `rf-${id}`, delay: 3_600_000 });
    return `${QUEUE_BOARD_PATH}/api/queues/onramp/rf-${id}/promote`;
  };

  it('refuses a cross-origin or same-site request, or one that shows no origin, and leaves the job alone', async () => {
    const promote = await delayed(people.rep2.id);
    const cmi5Origin = new URL(ctx.config.cmi5ContentUrl).origin;
    expect(cmi5Origin).not.toBe(new URL(ctx.config.publicUrl).origin);
    const attempts: Record<string, string>[] = [
      { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' },
      // cmi5 course content runs on a sibling host name: same-site, and the Lax cookie travels
      { Origin: cmi5Origin, 'Sec-Fetch-Site': 'same-site' },
      { Origin: 'https://evil.example' }, // a browser without Fetch Metadata
      { Origin: 'null' },
      {}, // no evidence at all
      // Sec-Fetch-Site is the browser's word; an Origin that disagrees with it does not help
      { Origin: new URL(ctx.config.publicUrl).origin, 'Sec-Fetch-Site': 'cross-site' },
    ];
    for (const headers of attempts) {
      const res = await admin.agent.put(promote).set(headers).set('Accept', 'application/json').expect(403);
      expect(res.body.error.code, JSON.stringify(headers)).toBe('forbidden');
    }
    // our own CSRF token does not stand in for the origin on these routes
    await admin.agent.put(promote).set('X-CSRF-Token', admin.csrf).set('Sec-Fetch-Site', 'cross-site').expect(403);
    expect(await state(`rf-${people.rep2.id}`)).toBe('delayed');
  });

  it('accepts a same-origin request (Sec-Fetch-Site): promoting a delayed delivery makes it wait for a worker', async () => {
    const promote = await delayed(people.rep3.id);
    await admin.agent.put(promote).set(SAME_ORIGIN).expect(204);
    expect(await state(`rf-${people.rep3.id}`)).toBe('waiting');
  });

  it('accepts a request whose Origin is PUBLIC_URL (browsers without Fetch Metadata): retrying the failed jobs', async () => {
    await failedJob(ctx.container, 'email.send', { messageId: 'm1' }, 'email-m1', 'SMTP said 554');
    expect(await state('email-m1')).toBe('failed');
    await admin.agent.put(`${QUEUE_BOARD_PATH}/api/queues/onramp/retry/failed`).set('Origin', new URL(ctx.config.publicUrl).origin).expect(200);
    expect(await state('email-m1')).toBe('waiting');
    // nothing failed any more: retrying again is harmless
    await admin.agent.put(`${QUEUE_BOARD_PATH}/api/queues/onramp/retry/failed`).set(SAME_ORIGIN).expect(200);
  });

  it('accepts an admin API token (no cookie to ride on): removing a failed job', async () => {
    await failedJob(ctx.container, 'email.send', { messageId: 'm2' }, 'email-m2', 'SMTP said 554');
    const remove = `${QUEUE_BOARD_PATH}/api/queues/onramp/email-m2/clean`;
    // a rep's token is still a rep
    const rep = await ctx.container.accounts.createToken({ id: people.rep1.id, role: 'rep' }, 'rep script');
    await supertest(ctx.app).put(remove).set('Authorization', `Bearer ${rep.token}`).expect(403);
    const { token } = await ctx.container.accounts.createToken({ id: people.admin.id, role: 'admin' }, 'ops script');
    await supertest(ctx.app).put(remove).set('Authorization', `Bearer ${token}`).expect(204);
    expect(await ctx.container.queue.getJob('email-m2')).toBeUndefined();
  });

  it('changes nothing for the rest of the app: a same-origin form post without the token is still refused', async () => {
    const res = await admin.agent.post('/account/tokens').set(SAME_ORIGIN).type('form').send({ name: 'no token' }).expect(403);
    expect(res.text).toContain('expired');
  });
});

describe('page and policy helpers', () => {
  it('adds inline styles to style-src and changes nothing else', () => {
    expect(withInlineStyles("default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:")).toBe(
      "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:",
    );
    expect(withInlineStyles("default-src 'self'")).toBe("default-src 'self';style-src 'self' 'unsafe-inline'");
    expect(withInlineStyles("style-src 'self' 'unsafe-inline'")).toBe("style-src 'self' 'unsafe-inline'");
    expect(withInlineStyles("style-src-elem 'self';style-src 'self'")).toBe("style-src-elem 'self';style-src 'self' 'unsafe-inline'");
  });

  it('drops the Google Fonts stylesheet from the page and keeps the board’s own', () => {
    const head = '<link href="https://fonts.googleapis.com/css2?family=IBM+Plex+Sans&display=swap" rel="stylesheet">\n<link href="static/css/main.css" rel="stylesheet">';
    expect(withoutThirdPartyFonts(head)).toBe('<link href="static/css/main.css" rel="stylesheet">');
  });
});
