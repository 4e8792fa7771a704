/**
 * Onramp under a realistic mix, as it runs in production: the web process (`onramp serve`) and a
 * worker (`onramp worker`) as real processes (NODE_ENV=production, logs at info to files) against
 * one local FerretDB and one Redis, loaded with the demo content (what `npm start` prepares: the
 * sample curriculum published, the demo people, an LRS credential) plus BENCH_REPS reps of
 * BENCH_MANAGERS managers, each rep three weeks in with a call script waiting for review.
 *
 *   npm run bench -- load        (BENCH_SOAK_SECONDS, default 600; a quick run: BENCH_SOAK_SECONDS=60;
 *                                 BENCH_REPS, default 200; BENCH_MANAGERS, default reps / 20;
 *                                 BENCH_REP_CONNECTIONS 8, BENCH_MANAGER_CONNECTIONS 2,
 *                                 BENCH_XAPI_CONNECTIONS 2; BENCH_XAPI_RATE, requests/s per xAPI
 *                                 connection, default 5, 0 = as fast as answered; BENCH_XAPI_BATCH,
 *                                 statements per POST, default 5; BENCH_SAMPLE_SECONDS, default 10;
 *                                 BENCH_RSS_SLOPE_TARGET, MB/min, default 2)
 *
 * Every virtual user signs in once with the form (and its CSRF token) and keeps its cookie. Then
 * three autocannon instances run side by side for the soak, one per kind of actor, each connection
 * looping over its kind's requests with the next virtual user of that kind on every loop:
 *
 * - reps: home, roadmap, a module page, my progress, and an answer saved to their prospecting
 *   post-test attempt (PUT /api/attempts/:id/answers with the X-CSRF-Token header: a write under
 *   the attempt's lock);
 * - managers: the review queue, the coaching view, one submission, then a decision on it
 *   (approve, or return with a comment: emails and rollup refreshes for the worker) while the queue
 *   has any, else a coaching record on one they decided;
 * - xAPI clients: POST /xapi/statements with Basic credentials, BENCH_XAPI_BATCH statements about
 *   the bench's reps per request.
 *
 * Every BENCH_SAMPLE_SECONDS the RSS of both processes (from /proc) and their V8 heap (their
 * /metrics) are sampled. Targets: no error (a status of 400 or more, a connection error or a
 * timeout), and for each process an RSS slope over the last two thirds of the soak below
 * BENCH_RSS_SLOPE_TARGET MB/min. A soak shorter than a few minutes is mostly warm-up: its slope says
 * little.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import autocannon from 'autocannon';
import getPort from 'get-port';
import { Types } from 'mongoose';
import { loadConfig, type Config } from '../src/config/env.js';
import { createContainer, type Container } from '../src/container.js';
import { dayIn } from '../src/engine/calendar.js';
import type { ProgressFacts } from '../src/engine/curriculum.js';
import { addDays } from '../src/engine/sequencing.js';
import { hashPassword } from '../src/features/accounts/passwords.js';
import { DEMO_CURRICULUM } from '../src/features/demo/learning.js';
import { prepareLocalRun } from '../src/features/demo/prepare.js';
import { DEMO_SCRIPT_MODULE, seedDemoSubmissions } from '../src/features/demo/submissions.js';
import { connectMongo } from '../src/infra/mongo.js';
import {
  Browser,
  cpuMeter,
  finish,
  heapUsedBytes,
  inPool,
  loggedErrors,
  machine,
  mb,
  median,
  numberFromEnv,
  onCleanup,
  percentile,
  ROOT,
  round,
  rssBytes,
  runBench,
  slope,
  startOnramp,
  startServices,
  whenReady,
  type OnrampProcess,
} from './_cluster.js';

const SOAK = numberFromEnv('BENCH_SOAK_SECONDS', 600, 10);
const REPS = numberFromEnv('BENCH_REPS', 200, 1);
const MANAGERS = numberFromEnv('BENCH_MANAGERS', Math.max(1, Math.round(REPS / 20)), 1);
const REP_CONNECTIONS = numberFromEnv('BENCH_REP_CONNECTIONS', 8, 1);
const MANAGER_CONNECTIONS = numberFromEnv('BENCH_MANAGER_CONNECTIONS', 2, 1);
const XAPI_CONNECTIONS = numberFromEnv('BENCH_XAPI_CONNECTIONS', 2, 1);
const XAPI_RATE = numberFromEnv('BENCH_XAPI_RATE', 5, 0);
const XAPI_BATCH = numberFromEnv('BENCH_XAPI_BATCH', 5, 1);
const SAMPLE_SECONDS = numberFromEnv('BENCH_SAMPLE_SECONDS', 10, 1);
const RSS_SLOPE_TARGET = numberFromEnv('BENCH_RSS_SLOPE_TARGET', 2, 0);
const PASSWORD = 'bench-password-9f3k2m';
const POSTTEST = 'prospecting-check';
/** the module pages reps open, in turn (all open for a rep three weeks in) */
const MODULE_PAGES = ['value-proposition', 'appointment-setting', DEMO_SCRIPT_MODULE, POSTTEST];

type Kind = 'rep' | 'manager' | 'xapi';
type Ready = Config & { mongodbUrl: string; redisUrl: string };

interface Rep {
  email: string;
  enrollmentId: string;
  browser: Browser;
  attemptId: string;
  /** answers to save, different every time (the n-th save) */
  answers: (n: number) => Record<string, unknown>;
  saves: number;
}

interface Manager {
  email: string;
  browser: Browser;
  /** submissions this manager decided on (coaching records go on them once the queue is empty) */
  decided: string[];
}

/** A rep three weeks in, as the demo's rep3: foundations done, the call script submitted for review. */
function history(start: string): Partial<ProgressFacts> & { submissions: ProgressFacts['submissions'] } {
  const at = (day: number) => `${addDays(start, day)}T10:00:00.000Z`;
  return {
    started: {
      'foundations-pretest': at(0),
      'market-and-personas': at(1),
      'problems-risks-opportunities': at(2),
      'buying-process': at(4),
      'value-proposition': at(6),
      'foundations-check': at(9),
      'appointment-setting': at(11),
      [DEMO_SCRIPT_MODULE]: at(13),
    },
    scores: { 'foundations-pretest': { best: 38, at: at(0) }, 'foundations-check': { best: 88, at: at(10) } },
    completed: {
      'market-and-personas': at(1),
      'problems-risks-opportunities': at(3),
      'buying-process': at(5),
      'value-proposition': at(7),
      'value-statement-drill': at(8),
      'appointment-setting': at(12),
    },
    submissions: { [DEMO_SCRIPT_MODULE]: { status: 'submitted', at: at(16) } },
  };
}

/**
 * The bench's managers and reps. The users are inserted with one password hash (argon2 for each would
 * take minutes on a busy machine); enrollments, their history and the submissions go the app's way.
 */
async function seedPeople(c: Container, today: string): Promise<{ reps: { email: string; enrollmentId: string }[]; managers: string[] }> {
  const passwordHash = await hashPassword(PASSWORD);
  const user = (role: 'manager' | 'rep', i: number, managerId: Types.ObjectId | null) => ({ _id: new Types.ObjectId(), email: `${role}${i}@bench.example.com`, name: `Bench ${role === 'rep' ? 'Rep' : 'Manager'} ${i}`, role, managerId, passwordHash });
  const managers = Array.from({ length: MANAGERS }, (_, m) => user('manager', m, null));
  const repUsers = Array.from({ length: REPS }, (_, r) => user('rep', r, managers[r % MANAGERS]!._id));
  await c.models.User.insertMany([...managers, ...repUsers]);
  let done = 0;
  const reps = await inPool(repUsers, 4, async (u, r) => {
    const start = addDays(today, -(17 + (r % 8)));
    const { enrollment } = await c.enrollments.enroll('system', { userId: String(u._id), curriculumId: DEMO_CURRICULUM, cohort: `Bench cohort ${Math.floor(r / 50) + 1}`, startDate: start });
    const facts = history(start);
    await c.enrollments.applyEvent(enrollment._id, (f) => ({ ...f, ...facts }));
    await seedDemoSubmissions(c.models, [{ enrollment, repId: String(u._id), managerId: String(u.managerId), submission: facts.submissions[DEMO_SCRIPT_MODULE]! }]);
    if (++done % 50 === 0 || done === REPS) console.log(`  reps seeded: ${done}/${REPS}`);
    return { email: u.email, enrollmentId: String(enrollment._id) };
  });
  return { reps, managers: managers.map((m) => m.email) };
}

interface Part {
  key: string;
  type: string;
  options?: { position: number }[];
}

/** Signs the rep in and opens (or resumes) their post-test attempt. */
async function repSession(base: string, r: { email: string; enrollmentId: string }): Promise<Rep> {
  const browser = new Browser(base);
  await browser.signIn(r.email, PASSWORD);
  const started = await browser.fetch(`/learn/${r.enrollmentId}/modules/${POSTTEST}/attempts`, { form: {} });
  const attemptId = /^\/attempts\/([a-f0-9]{24})$/.exec(String(started.headers.location))?.[1];
  if (started.status !== 303 || !attemptId) throw new Error(`${r.email}: starting the post-test answered ${started.status} ${String(started.headers.location ?? started.body.slice(0, 200))}`);
  const attempt = await browser.fetch(`/api/attempts/${attemptId}`, { headers: { accept: 'application/json' } });
  if (attempt.status !== 200) throw new Error(`${r.email}: GET /api/attempts/${attemptId} answered ${attempt.status}`);
  const items = (JSON.parse(attempt.body) as { items: (Part & { parts?: Part[] })[] }).items;
  const parts = items.flatMap((i) => (i.type === 'scenario' ? (i.parts ?? []) : [i]));
  const answers = (n: number) => Object.fromEntries(parts.map((p, i) => [p.key, p.type === 'numeric' ? (n + i) % 50 : [p.options![(n + i) % p.options!.length]!.position]]));
  return { ...r, browser, attemptId, answers, saves: 0 };
}

/** Hands out virtual users in turn: each loop of a connection takes the next one. */
function roundRobin<T>(items: T[]): () => T {
  let i = 0;
  return () => items[i++ % items.length]!;
}

interface KindStats {
  latencies: number[];
  statuses: Map<number, number>;
  /** the first few failures: what was asked and what came back */
  failures: string[];
  connectionErrors: number;
  timeouts: number;
  requests: number;
}

function summarize(kind: Kind, s: KindStats, seconds: number) {
  const sorted = [...s.latencies].sort((a, b) => a - b);
  const failedStatuses = [...s.statuses].filter(([code]) => code >= 400).reduce((n, [, count]) => n + count, 0);
  return {
    kind,
    requests: s.requests,
    perSec: round(s.requests / seconds, 1),
    p50Ms: round(percentile(sorted, 0.5)),
    p95Ms: round(percentile(sorted, 0.95)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted.at(-1) ?? 0),
    statuses: Object.fromEntries([...s.statuses].sort(([a], [b]) => a - b)),
    errors: failedStatuses + s.connectionErrors,
    connectionErrors: s.connectionErrors,
    timeouts: s.timeouts,
  };
}

interface Sample {
  t: number;
  rssMB: number | null;
  heapMB: number | null;
}

/** Flatness of a series: the slope over its last two thirds and the first third's median against the last third's. */
function flatness(series: Sample[], field: 'rssMB' | 'heapMB') {
  const points = series.filter((s) => s[field] !== null).map((s) => ({ x: s.t / 60, y: s[field]! }));
  if (points.length < 3) return null;
  const third = Math.floor(points.length / 3) || 1;
  const lastTwoThirds = points.slice(third);
  const first = median(points.slice(0, third).map((p) => p.y));
  const last = median(points.slice(-third).map((p) => p.y));
  return { slopeMBPerMin: round(slope(lastTwoThirds), 2), firstThirdMedianMB: round(first), lastThirdMedianMB: round(last), growthPct: round(((last - first) / first) * 100, 1) };
}

async function main(): Promise<void> {
  const { dataDir, services, log, servicePids } = await startServices();
  console.log(`load bench: ${REPS} reps, ${MANAGERS} managers, soak ${SOAK} s · ${services.descriptions.join(' · ')}`);
  const [webPort, metricsPort] = [await getPort(), await getPort()];
  const metricsToken = randomBytes(24).toString('hex');
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(webPort),
    PUBLIC_URL: `http://127.0.0.1:${webPort}`,
    COOKIE_SECURE: 'false', // plain HTTP on the loopback
    MONGODB_URL: services.mongodbUrl,
    REDIS_URL: services.redisUrl,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    CONTENT_DIR: join(ROOT, 'content'),
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    METRICS_TOKEN: metricsToken,
  };

  // ---- what `npm start` prepares, then the bench's people -----------------------------------------
  const seedStart = performance.now();
  const config = loadConfig({ ...env, DATA_DIR: dataDir, DEMO_SEED: 'true' }) as Ready;
  const conn = await connectMongo(services.mongodbUrl);
  const prepared = await prepareLocalRun(conn, config, log).finally(() => conn.close());
  for (const line of prepared.lines) console.log(`  ${line}`);
  const c = await createContainer(config, log, 'bench');
  onCleanup(() => c.close());
  const today = dayIn('UTC', new Date());
  const people = await seedPeople(c, today);
  const rollups = await c.summaries.refreshAll();
  const lrs = await c.lrsCredentials.issue('system', { name: 'Bench xAPI client', scopes: ['all'] });
  console.log(`seeded ${REPS} reps (each with a script waiting for review), ${MANAGERS} managers, ${rollups} rollups, an LRS credential in ${((performance.now() - seedStart) / 1000).toFixed(0)} s`);

  // ---- the processes ----------------------------------------------------------------------------
  const web = startOnramp('web', 'web', dataDir, env);
  const worker = startOnramp('worker', 'worker', dataDir, { ...env, METRICS_PORT: String(metricsPort) });
  await Promise.all([whenReady(web), whenReady(worker)]);
  // the jobs the seeding queued (rollup refreshes, statements) are done before the clock starts
  const settleStart = Date.now();
  for (;;) {
    const n = await c.queue.getJobCounts('wait', 'active', 'prioritized');
    const left = (n.wait ?? 0) + (n.active ?? 0) + (n.prioritized ?? 0);
    if (!left) break;
    if (Date.now() - settleStart > 300_000) throw new Error(`the worker still has ${left} jobs after 5 minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`web (pid ${web.pid}) and worker (pid ${worker.pid}) ready; the queue settled in ${((Date.now() - settleStart) / 1000).toFixed(0)} s`);

  // ---- virtual users ----------------------------------------------------------------------------
  const signStart = performance.now();
  const reps = await inPool(people.reps, 6, (r) => repSession(web.url!, r));
  const managers = await inPool(people.managers, 6, async (email): Promise<Manager> => {
    const browser = new Browser(web.url!);
    await browser.signIn(email, PASSWORD);
    return { email, browser, decided: [] };
  });
  console.log(`${reps.length} reps and ${managers.length} managers signed in (each rep's post-test attempt open) in ${((performance.now() - signStart) / 1000).toFixed(0)} s`);

  // ---- the request loops ------------------------------------------------------------------------
  const stats: Record<Kind, KindStats> = {
    rep: { latencies: [], statuses: new Map(), failures: [], connectionErrors: 0, timeouts: 0, requests: 0 },
    manager: { latencies: [], statuses: new Map(), failures: [], connectionErrors: 0, timeouts: 0, requests: 0 },
    xapi: { latencies: [], statuses: new Map(), failures: [], connectionErrors: 0, timeouts: 0, requests: 0 },
  };
  const writes = { answersSaved: 0, approved: 0, returned: 0, decisionConflicts: 0, coachingSaved: 0, statementsPosted: 0 };
  /** latency per request of the loops (from the request's setup, just before it is written, to its answer) */
  const byLabel = new Map<string, number[]>();
  /** what a request's answer tells: its latency, and a failure kept (the first 10 per kind) with what was asked */
  const check = (kind: Kind, label: string, then?: (status: number, body: string, ctx: Ctx, location: string | undefined) => void) => (status: number, body: string, context: object, headers?: Record<string, unknown>) => {
    const sentAt = (context as Ctx).sentAt;
    if (sentAt !== undefined) {
      const times = byLabel.get(`${kind} ${label}`) ?? [];
      times.push(performance.now() - sentAt);
      byLabel.set(`${kind} ${label}`, times);
    }
    if (status >= 400 && stats[kind].failures.length < 10) stats[kind].failures.push(`${label} → ${status}: ${body.replace(/\s+/g, ' ').slice(0, 300)}`);
    const location = headers?.location ?? headers?.Location;
    then?.(status, body, context as Ctx, typeof location === 'string' ? location : undefined);
  };
  type Ctx = { rep?: Rep; manager?: Manager; pending?: string; returning?: boolean; sentAt?: number };
  const headersOf = (b: Browser, extra: Record<string, string> = {}) => ({ cookie: b.cookie, accept: 'text/html', ...extra });

  const nextRep = roundRobin(reps);
  let moduleTurn = 0;
  const repRequests: autocannon.Request[] = [
    {
      method: 'GET',
      setupRequest: (req, ctx) => {
        const rep = nextRep();
        (ctx as Ctx).rep = rep;
        return { ...req, path: '/', headers: headersOf(rep.browser) };
      },
      onResponse: check('rep', 'GET /'),
    },
    { method: 'GET', setupRequest: (req, ctx) => ({ ...req, path: '/roadmap', headers: headersOf((ctx as Ctx).rep!.browser) }), onResponse: check('rep', 'GET /roadmap') },
    {
      method: 'GET',
      setupRequest: (req, ctx) => {
        const rep = (ctx as Ctx).rep!;
        return { ...req, path: `/learn/${rep.enrollmentId}/modules/${MODULE_PAGES[moduleTurn++ % MODULE_PAGES.length]}`, headers: headersOf(rep.browser) };
      },
      onResponse: check('rep', 'GET /learn/:enrollment/modules/:module'),
    },
    { method: 'GET', setupRequest: (req, ctx) => ({ ...req, path: '/me/progress', headers: headersOf((ctx as Ctx).rep!.browser) }), onResponse: check('rep', 'GET /me/progress') },
    {
      method: 'PUT',
      setupRequest: (req, ctx) => {
        const rep = (ctx as Ctx).rep!;
        return {
          ...req,
          path: `/api/attempts/${rep.attemptId}/answers`,
          headers: headersOf(rep.browser, { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': rep.browser.csrf }),
          body: JSON.stringify({ answers: rep.answers(++rep.saves) }),
        };
      },
      onResponse: check('rep', 'PUT /api/attempts/:id/answers', (status) => {
        if (status === 200) writes.answersSaved++;
      }),
    },
  ];

  const nextManager = roundRobin(managers);
  /** submissions a decision was sent for, by any connection (the queue page may still list them) */
  const claimed = new Set<string>();
  let decisionTurn = 0;
  const managerRequests: autocannon.Request[] = [
    {
      method: 'GET',
      setupRequest: (req, ctx) => {
        const manager = nextManager();
        Object.assign(ctx, { manager, pending: undefined });
        return { ...req, path: '/reviews', headers: headersOf(manager.browser) };
      },
      onResponse: check('manager', 'GET /reviews', (status, body, ctx) => {
        if (status !== 200) return;
        ctx.pending = [...body.matchAll(/href="\/reviews\/([a-f0-9]{24})">Review</g)].map((m) => m[1]!).find((id) => !claimed.has(id));
        if (ctx.pending) claimed.add(ctx.pending);
      }),
    },
    { method: 'GET', setupRequest: (req, ctx) => ({ ...req, path: '/team/dashboard', headers: headersOf((ctx as Ctx).manager!.browser) }), onResponse: check('manager', 'GET /team/dashboard') },
    {
      method: 'GET',
      setupRequest: (req, ctx) => {
        const { manager, pending } = ctx as Ctx;
        const id = pending ?? manager!.decided[decisionTurn % Math.max(1, manager!.decided.length)];
        // nothing waiting and nothing decided yet: the manager's home page instead
        return { ...req, path: id ? `/reviews/${id}` : '/', headers: headersOf(manager!.browser) };
      },
      onResponse: check('manager', 'GET /reviews/:id'),
    },
    {
      method: 'POST',
      setupRequest: (req, ctx) => {
        const { manager, pending } = ctx as Ctx;
        const b = manager!.browser;
        const form = { 'content-type': 'application/x-www-form-urlencoded' };
        const turn = decisionTurn++;
        if (pending) {
          manager!.decided.push(pending);
          // one in four is returned with a comment on the opening, the others approved
          const body: Record<string, string> = turn % 4 === 3 ? { _csrf: b.csrf, action: 'return', c_opening: 'Lead with your reason for calling before you ask for time.', note: '' } : { _csrf: b.csrf, action: 'approve', note: 'Approved: start your call block on Monday.' };
          (ctx as Ctx).returning = turn % 4 === 3;
          return { ...req, path: `/reviews/${pending}/decision`, headers: headersOf(b, form), body: new URLSearchParams(body).toString() };
        }
        const id = manager!.decided[turn % Math.max(1, manager!.decided.length)];
        if (!id) return { ...req, method: 'GET', path: '/team/dashboard', headers: headersOf(b), body: '' };
        return { ...req, path: `/reviews/${id}/coaching`, headers: headersOf(b, form), body: new URLSearchParams({ _csrf: b.csrf, metAt: today, observedAt: today }).toString() };
      },
      onResponse: check('manager', 'POST /reviews/:id/decision | /coaching', (status, _body, ctx, location) => {
        if (status !== 303) return;
        if (!ctx.pending) writes.coachingSaved++;
        // a decision that was taken back to the submission's page met a conflict (decided already)
        else if (location !== '/reviews') writes.decisionConflicts++;
        else if (ctx.returning) writes.returned++;
        else writes.approved++;
      }),
    },
  ];

  const auth = `Basic ${Buffer.from(`${lrs.key}:${lrs.secret}`).toString('base64')}`;
  const verbs = ['experienced', 'attempted', 'completed', 'answered'].map((v) => `http://adlnet.gov/expapi/verbs/${v}`);
  let statementTurn = 0;
  const xapiRequests: autocannon.Request[] = [
    {
      method: 'POST',
      setupRequest: (req) => {
        const batch = Array.from({ length: XAPI_BATCH }, () => {
          const i = statementTurn++;
          const rep = people.reps[i % people.reps.length]!;
          return {
            actor: { objectType: 'Agent', mbox: `mailto:${rep.email}` },
            verb: { id: verbs[i % verbs.length]!, display: { 'en-US': 'did' } },
            object: { objectType: 'Activity', id: `https://lms.example.com/activities/course-${i % 40}`, definition: { name: { 'en-US': `Course ${i % 40}` } } },
            result: { score: { scaled: (i % 100) / 100 }, completion: true },
            timestamp: new Date().toISOString(),
          };
        });
        return { ...req, path: '/xapi/statements', headers: { authorization: auth, 'x-experience-api-version': '1.0.3', 'content-type': 'application/json' }, body: JSON.stringify(batch) };
      },
      onResponse: check('xapi', 'POST /xapi/statements', (status) => {
        if (status === 200) writes.statementsPosted += XAPI_BATCH;
      }),
    },
  ];

  const runs: { kind: Kind; instance: autocannon.Instance; done: Promise<autocannon.Result> }[] = [];
  const launch = (kind: Kind, connections: number, requests: autocannon.Request[], rate?: number) => {
    let instance!: autocannon.Instance;
    const done = new Promise<autocannon.Result>((resolve, reject) => {
      instance = autocannon({ url: web.url!, connections, duration: SOAK, timeout: 60, requests, ...(rate ? { connectionRate: rate } : {}) }, (err, result) => (err ? reject(err as Error) : resolve(result)));
    });
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      const s = stats[kind];
      s.requests++;
      s.latencies.push(responseTime);
      s.statuses.set(statusCode, (s.statuses.get(statusCode) ?? 0) + 1);
    });
    instance.on('reqError', (err: Error) => {
      const s = stats[kind];
      s.connectionErrors++;
      if (/timeout/i.test(err.message)) s.timeouts++;
      if (s.failures.length < 10) s.failures.push(`connection error: ${err.message}`);
    });
    runs.push({ kind, instance, done });
  };
  /** each request's setup notes when it is sent (autocannon builds a request right before writing it) */
  const timed = (requests: autocannon.Request[]): autocannon.Request[] =>
    requests.map((r) => ({
      ...r,
      setupRequest: (req, ctx) => {
        const built = typeof r.setupRequest === 'function' ? r.setupRequest(req, ctx) : req;
        (ctx as Ctx).sentAt = performance.now();
        return built;
      },
    }));

  // ---- the soak, with memory sampled --------------------------------------------------------------
  const processes: OnrampProcess[] = [web, worker];
  const memory: Record<string, Sample[]> = { web: [], worker: [] };
  const meter = cpuMeter([...processes.map((p) => ({ name: p.name, pid: p.pid })), ...servicePids]);
  const machineBefore = machine();
  const t0 = Date.now();
  const sample = async () => {
    const t = Math.round((Date.now() - t0) / 1000);
    const line: string[] = [];
    for (const p of processes) {
      const [rss, heap] = [rssBytes(p.pid), await heapUsedBytes(p, metricsToken)];
      memory[p.name]!.push({ t, rssMB: rss === null ? null : mb(rss), heapMB: heap === null ? null : mb(heap) });
      line.push(`${p.name} rss ${rss === null ? '—' : mb(rss)} MB heap ${heap === null ? '—' : mb(heap)} MB`);
    }
    const total = Object.values(stats).reduce((n, s) => n + s.requests, 0);
    console.log(`  t=${String(t).padStart(4)} s · ${line.join(' · ')} · ${total} requests so far`);
  };
  await sample();
  console.log(`soak: ${REP_CONNECTIONS} rep, ${MANAGER_CONNECTIONS} manager and ${XAPI_CONNECTIONS} xAPI connections${XAPI_RATE ? ` (xAPI at ${XAPI_RATE} requests/s each)` : ''} for ${SOAK} s, memory every ${SAMPLE_SECONDS} s`);
  launch('rep', REP_CONNECTIONS, timed(repRequests));
  launch('manager', MANAGER_CONNECTIONS, timed(managerRequests));
  launch('xapi', XAPI_CONNECTIONS, timed(xapiRequests), XAPI_RATE || undefined);
  onCleanup(() => runs.forEach((r) => r.instance.stop()));
  // one sample at a time, in order (a scrape can take a while on a busy machine)
  let sampling = Promise.resolve();
  const sampler = setInterval(() => (sampling = sampling.then(sample)), SAMPLE_SECONDS * 1000);
  const results = await Promise.all(runs.map((r) => r.done));
  clearInterval(sampler);
  await sampling;
  // the last sample at the end, unless the interval just took one
  if (Date.now() - t0 - memory.web!.at(-1)!.t * 1000 > 2000) await sample();
  const seconds = (Date.now() - t0) / 1000;
  const cpu = meter.stop();
  const machineAfter = machine();

  // ---- the figures ------------------------------------------------------------------------------
  for (const [i, r] of runs.entries()) {
    const res = results[i]!;
    // autocannon's own count of connection errors and timeouts, beside the events counted above
    stats[r.kind].connectionErrors = Math.max(stats[r.kind].connectionErrors, res.errors);
    stats[r.kind].timeouts = Math.max(stats[r.kind].timeouts, res.timeouts);
  }
  const kinds = (['rep', 'manager', 'xapi'] as const).map((k) => summarize(k, stats[k], seconds));
  const total = kinds.reduce((n, k) => n + k.requests, 0);
  const errors = kinds.reduce((n, k) => n + k.errors, 0);
  console.log(`\nafter ${seconds.toFixed(0)} s:`);
  for (const k of kinds) console.log(`  ${k.kind.padEnd(8)} ${String(k.requests).padStart(7)} requests · ${k.perSec} req/s · p50 ${k.p50Ms} ms · p95 ${k.p95Ms} ms · p99 ${k.p99Ms} ms · max ${k.maxMs} ms · statuses ${JSON.stringify(k.statuses)} · errors ${k.errors}`);
  console.log(`  total    ${String(total).padStart(7)} requests · ${round(total / seconds, 1)} req/s · errors ${errors} (target 0)`);
  for (const k of ['rep', 'manager', 'xapi'] as const) for (const f of stats[k].failures) console.log(`  ${k} failure: ${f}`);
  // (the first request of each connection is built as the connection is made: its time includes connecting)
  const requestsByLabel = Object.fromEntries(
    [...byLabel].map(([label, xs]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return [label, { n: xs.length, p50Ms: round(percentile(sorted, 0.5)), p95Ms: round(percentile(sorted, 0.95)) }];
    }),
  );
  for (const [label, v] of Object.entries(requestsByLabel)) console.log(`    ${label.padEnd(58)} ${String(v.n).padStart(6)} · p50 ${v.p50Ms} ms · p95 ${v.p95Ms} ms`);
  console.log(`  writes: ${JSON.stringify(writes)}`);
  console.log(`  CPU, cores' worth on average (busy / runnable but waiting for a core): ${Object.entries(cpu).map(([k, v]) => `${k} ${v.busy} / ${v.waiting}`).join(' · ')}`);
  console.log(`  the machine: ${machineBefore.cores} cores, load average ${machineBefore.loadAvg1m} before the soak and ${machineAfter.loadAvg1m} after (other users' processes included)`);

  const flat = Object.fromEntries(processes.map((p) => [p.name, { rss: flatness(memory[p.name]!, 'rssMB'), heap: flatness(memory[p.name]!, 'heapMB') }]));
  for (const p of processes) {
    const f = flat[p.name]!;
    console.log(`  ${p.name} memory: RSS ${f.rss ? `${f.rss.firstThirdMedianMB} → ${f.rss.lastThirdMedianMB} MB (first → last third medians, ${f.rss.growthPct}%), slope over the last two thirds ${f.rss.slopeMBPerMin} MB/min` : 'too few samples'} · heap ${f.heap ? `${f.heap.firstThirdMedianMB} → ${f.heap.lastThirdMedianMB} MB, slope ${f.heap.slopeMBPerMin} MB/min` : 'not available'}`);
  }
  const slopesOk = processes.every((p) => flat[p.name]!.rss !== null && flat[p.name]!.rss!.slopeMBPerMin < RSS_SLOPE_TARGET);

  // what the database and the queue say after the soak
  const [approvedDb, returnedDb, failedJobs] = await Promise.all([c.models.Submission.countDocuments({ status: 'approved' }), c.models.Submission.countDocuments({ status: 'returned' }), c.queue.getFailedCount()]);
  const logErrors = Object.fromEntries(processes.map((p) => [p.name, loggedErrors(p)]));
  for (const [name, lines] of Object.entries(logErrors)) for (const line of lines.slice(0, 5)) console.log(`  ${name} logged: ${line.slice(0, 400)}`);
  console.log(`  database: ${approvedDb} submissions approved, ${returnedDb} returned (the demo's own included) · failed jobs ${failedJobs} · error lines in the logs: web ${logErrors.web!.length}, worker ${logErrors.worker!.length}`);

  const result = {
    bench: 'load',
    soakSeconds: round(seconds, 0),
    reps: REPS,
    managers: MANAGERS,
    connections: { rep: REP_CONNECTIONS, manager: MANAGER_CONNECTIONS, xapi: XAPI_CONNECTIONS, xapiRatePerConnection: XAPI_RATE || 'unlimited', xapiBatch: XAPI_BATCH },
    totalPerSec: round(total / seconds, 1),
    kinds: Object.fromEntries(kinds.map(({ kind, ...k }) => [kind, k])),
    requests: requestsByLabel,
    writes,
    errors,
    errorsTarget: 0,
    cpuCores: cpu,
    machine: { cores: machineBefore.cores, loadAvg1mBefore: machineBefore.loadAvg1m, loadAvg1mAfter: machineAfter.loadAvg1m },
    memory: { sampleSeconds: SAMPLE_SECONDS, series: memory, flatness: flat, rssSlopeTargetMBPerMin: RSS_SLOPE_TARGET },
    failedJobs,
    loggedErrorLines: { web: logErrors.web!.length, worker: logErrors.worker!.length },
    pass: errors === 0 && slopesOk,
  };
  console.log(JSON.stringify(result));
  // a failed request is an error; memory growth is a figure against its target
  await finish(errors === 0 ? 0 : 1);
}

runBench(main);
