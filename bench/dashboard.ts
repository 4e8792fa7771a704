/**
 * Dashboards at scale: the trainer dashboard (`GET /dashboard`, unfiltered and filtered on one
 * cohort) and the manager's coaching view (`GET /team/dashboard`) over BENCH_REPS reps and
 * BENCH_STATEMENTS xAPI statements, against the real local services (FerretDB + Redis), through a
 * listening server with a signed-in session — side by side, in the same run, with a trivial
 * authenticated route (`GET /api/me`) and with the same reads run directly through the driver:
 *
 * - trainer: exactly the reads the service makes — the curriculum's `dashboard_cells` (`cellQuery`,
 *   and every cell's place when a filter is set) through `collection.find`, counted by the same
 *   `rawFromCells` — then the page's one other read that grows with the data (the names of the
 *   managers and of the reps it lists, `users`);
 * - manager: the reads of `CoachingReads.team` — the manager's reps (`users`), their summaries
 *   (`rep_summaries`) and readiness (`rep_readiness`), and the review queue's submissions and the
 *   reps behind them.
 *
 *   npm run bench -- dashboard     (BENCH_REPS, default 10000; BENCH_MANAGERS, default 50;
 *                                   BENCH_STATEMENTS, default 2000000; BENCH_REQUESTS per case, default 20;
 *                                   BENCH_WARMUP rounds, default 2; BENCH_NARROW=0 skips the narrower
 *                                   direct reads; BENCH_BREAKDOWN=1 adds the services in-process)
 *
 * The ratio compares the page with everything it reads, read directly. The narrower direct reads
 * (default on) are what the issue names — the trainer's cell reads alone, the manager's team and
 * summaries without the review queue — and show what the page reads besides.
 *
 * Smaller runs: BENCH_REPS=2000 BENCH_STATEMENTS=200000.
 *
 * Each round runs every case once, page and direct back to back (their order alternating), so a
 * drift of the machine touches both sides alike. The statements are there to show that no
 * dashboard reads them: the dashboards read the rollup.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Types } from 'mongoose';
import { loadConfig } from '../src/config/env.js';
import { findCurriculumFolders } from '../src/content/load.js';
import { validateCurriculum } from '../src/content/validate.js';
import { createContainer } from '../src/container.js';
import { hashPassword } from '../src/features/accounts/passwords.js';
import { CoachingReads } from '../src/features/dashboards/coaching.js';
import { cellQuery, rawFromCells, type CellPlace, type DashboardCellDoc } from '../src/features/dashboards/cells.js';
import { OVERDUE_PAGE_LIMIT, TrainerDashboard, type DashboardFilters, type DashboardRaw } from '../src/features/dashboards/trainer.js';
import { createApp } from '../src/http/app.js';
import { startLocalServices } from '../src/infra/embedded/index.js';
import { createLogger } from '../src/infra/logger.js';
import { checkAgainstRefresh, seedLearning, statementDocs } from './_dashboard-seed.js';

const REPS = Number(process.env.BENCH_REPS ?? 10_000);
const MANAGERS = Number(process.env.BENCH_MANAGERS ?? 50);
const STATEMENTS = Number(process.env.BENCH_STATEMENTS ?? 2_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20);
/** also time the narrower direct reads the issue names (default on; BENCH_NARROW=0 skips them) */
const NARROW = process.env.BENCH_NARROW !== '0';
/** also time the services in-process: no HTTP, no rendering (BENCH_BREAKDOWN=1) */
const BREAKDOWN = process.env.BENCH_BREAKDOWN === '1';
/** rounds run first and not counted (JIT, connections, caches) */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const PASSWORD = 'bench-password-9f3k2m';
const TARGET = 1.2;

/** what finish() closes: the server, once it listens */
const running: { server?: Server } = {};
const log = createLogger({ logLevel: 'warn', logPretty: false }, 'bench');
const dataDir = mkdtempSync(join(tmpdir(), 'onramp-bench-'));
const services = await startLocalServices(loadConfig({ DATA_DIR: dataDir, MONGODB_URL: '', REDIS_URL: '' }), log);
// production: views compiled once and cached, as a deployed server runs (cookies over plain HTTP here)
const config = loadConfig({
  NODE_ENV: 'production',
  COOKIE_SECURE: 'false',
  MONGODB_URL: services.mongodbUrl.replace(/\/[^/]*$/, '/bench'),
  REDIS_URL: services.redisUrl,
  SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-00',
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  LOG_PRETTY: 'false',
}) as ReturnType<typeof loadConfig> & { mongodbUrl: string; redisUrl: string };
const c = await createContainer(config, log, 'bench');
await c.mongo.dropDatabase();
const db = c.mongo.db!;
console.log(`dashboard bench: ${REPS} reps, ${MANAGERS} managers, ${STATEMENTS} statements, ${REQUESTS} requests per case · ${services.descriptions.join(' · ')}`);

// ---- seed -------------------------------------------------------------------------------------------
const seedStart = performance.now();
const [folder] = findCurriculumFolders(join(import.meta.dirname, '..', 'content')).filter((f) => f.name === 'new-rep-onboarding');
if (!folder) throw new Error('content/curricula/new-rep-onboarding not found');
const { content, problems, packages } = validateCurriculum(folder.name, folder.files, folder.packages);
if (!content) throw new Error(`the sample curriculum does not validate: ${problems.length} problems`);
const published = await c.curricula.publish('cli', content, packages);
const version = await c.curricula.version(published.versionId);
const def = version.content.definition;
const today = new Date().toISOString().slice(0, 10);

// indexes as the app creates them (createContainer ran init() on an empty database; dropDatabase took them)
await Promise.all(Object.values(c.models).map((m) => m.createIndexes()));
await c.statements['store'].ensureIndexes();

let t = performance.now();
// the rollup written here must be what the app writes: checked against RepSummaries.refresh itself on
// the first chunk of reps (refresh reads whole collections on FerretDB v1: cheap at 500 reps, not at 10,000)
let check = { checked: 0, problems: ['not run'] };
const people = await seedLearning(
  db,
  { reps: REPS, managers: MANAGERS, startWindowDays: 90, cohortDays: 15, today, version, passwordHash: await hashPassword(PASSWORD) },
  {
    progress: (done) => {
      if (done % 2000 === 0 || done === REPS) console.log(`  reps seeded: ${done} (${((performance.now() - t) / 1000).toFixed(0)} s)`);
    },
    afterFirstChunk: async (sample) => {
      const start = performance.now();
      check = await checkAgainstRefresh(db, (id) => c.summaries.refresh(id), sample);
      console.log(`  rollup check: ${check.checked} seeded rollups against RepSummaries.refresh() — ${check.problems.length ? `MISMATCH\n    ${check.problems.join('\n    ')}` : 'identical'} (${((performance.now() - start) / 1000).toFixed(1)} s)`);
      if (check.problems.length) {
        console.error('The seeded rollup is not what the app would write; fix bench/_dashboard-seed.ts before measuring.');
        await finish(1);
      }
    },
  },
);
const learningSeconds = (performance.now() - t) / 1000;
console.log(`seeded ${JSON.stringify(people.counts)} in ${learningSeconds.toFixed(1)} s; cohorts ${people.cohorts.join(', ')}`);

t = performance.now();
const catalogue = { baseIri: config.xapiActivityBase, platform: 'Onramp', homePage: config.publicUrl };
const startOf = new Map(people.reps.map((r, i) => [i, Date.now() - 90 * 86_400_000 + (i % 90) * 86_400_000]));
const BATCH = 1000;
let inserting: Promise<unknown> = Promise.resolve();
for (let n = 0; n < STATEMENTS; n += BATCH) {
  // the next batch is built while the previous one is written
  const docs = statementDocs(catalogue, def.id, def, people.reps, n, Math.min(BATCH, STATEMENTS - n), (r) => startOf.get(r)!);
  await inserting;
  inserting = db.collection('xapi_statements').insertMany(docs as never[]);
  const done = Math.min(n + BATCH, STATEMENTS);
  if (done % 100_000 === 0 || done === STATEMENTS) {
    const s = (performance.now() - t) / 1000;
    console.log(`  statements: ${done} (${s.toFixed(0)} s, ${Math.round(done / s)}/s)`);
  }
}
await inserting;
const statementSeconds = (performance.now() - t) / 1000;
const seedSeconds = (performance.now() - seedStart) / 1000;
const statementCount = await db.collection('xapi_statements').estimatedDocumentCount();
console.log(`seeded ${statementCount} statements in ${statementSeconds.toFixed(1)} s · seeding took ${seedSeconds.toFixed(1)} s in all`);

// ---- the server and the sessions ---------------------------------------------------------------------
const app = createApp(c);
const listening = app.listen(0, '127.0.0.1');
running.server = listening;
await new Promise((r) => listening.once('listening', r));
const base = `http://127.0.0.1:${(listening.address() as { port: number }).port}`;

/**
 * A keep-alive client on node:http (fetch gives up on a response after 300 s; a dashboard over
 * 10,000 reps on FerretDB v1 can take longer than that).
 */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function get(path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent, headers: body ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function signIn(email: string): Promise<string> {
  const jar = new Map<string, string>();
  const keep = (headers: IncomingMessage['headers']) => {
    for (const cookie of headers['set-cookie'] ?? []) {
      const [pair] = cookie.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  };
  const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const login = await get('/login', {});
  keep(login.headers);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)?.[1];
  if (!csrf) throw new Error('no CSRF token on the sign-in page');
  const res = await get('/login', { cookie: header(), 'content-type': 'application/x-www-form-urlencoded' }, 'POST', new URLSearchParams({ _csrf: csrf, email, password: PASSWORD }).toString());
  keep(res.headers);
  if (res.status !== 303) throw new Error(`sign-in as ${email} answered ${res.status}`);
  return header();
}
const trainerCookie = await signIn(people.trainer.email);
const manager = people.managers[0]!;
const managerCookie = await signIn(manager.email);

// ---- the cases ---------------------------------------------------------------------------------------
const cohort = people.cohorts[Math.min(2, people.cohorts.length - 1)]!;
const plan = { transferModules: def.modules.filter((m) => m.modality === 'transfer').map((m) => m.id) };
const summaries = db.collection('rep_summaries');
const cells = db.collection('dashboard_cells');
const readiness = db.collection('rep_readiness');
const users = db.collection('users');
const submissions = db.collection('submissions');
const delegates = db.collection('review_delegates');

async function page(path: string, cookie: string, accept = 'text/html'): Promise<number> {
  const res = await get(path, { cookie, accept });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.body.slice(0, 300)}`);
  return res.body.length;
}

/** The trainer dashboard's cell reads, straight from the driver (as DashboardCells.read makes them). */
async function trainerCells(filters: DashboardFilters): Promise<{ found: DashboardCellDoc[]; everyCell?: CellPlace[] }> {
  const query = cellQuery(filters);
  const [found, everyCell] = await Promise.all([
    cells.find(query).toArray() as unknown as Promise<DashboardCellDoc[]>,
    Object.keys(query).length > 1 ? (cells.find({ curriculumId: filters.curriculumId }, { projection: { curriculumId: 1, versionId: 1, cohort: 1, managerId: 1 } }).toArray() as unknown as Promise<CellPlace[]>) : Promise.resolve(undefined),
  ]);
  return { found, ...(everyCell ? { everyCell } : {}) };
}

/** What the trainer dashboard reads, straight from the driver: its cells, counted, then the names it shows. */
async function trainerDirect(filters: DashboardFilters): Promise<DashboardRaw> {
  const { found, everyCell } = await trainerCells(filters);
  const raw = rawFromCells(found, filters, new Date().toISOString().slice(0, 10), plan, { overdueLimit: OVERDUE_PAGE_LIMIT, ...(everyCell ? { everyCell } : {}) });
  const listed = [...raw.overdue, ...raw.results];
  const ids = new Set([...raw.choices.map((c) => c._id.managerId ?? ''), ...listed.map((s) => s.userId), ...listed.map((s) => s.managerId ?? '')].filter((id) => Types.ObjectId.isValid(id)));
  await users.find({ _id: { $in: [...ids].map((id) => new Types.ObjectId(id)) } }, { projection: { name: 1 } }).toArray();
  return raw;
}

/** What the coaching view reads, straight from the driver (CoachingReads.team and the review queue). */
async function managerDirect(withQueue: boolean): Promise<number> {
  const managerId = new Types.ObjectId(manager.id);
  const team = await users.find({ managerId }).sort({ name: 1 }).toArray();
  const ids = team.filter((u) => u.role === 'rep').map((u) => String(u._id));
  const queue = async () => {
    if (!withQueue) return;
    const delegating = await delegates.find({ delegateId: manager.id }).toArray();
    const mine = { managerId: { $in: [managerId, ...delegating.map((d) => new Types.ObjectId(String(d._id)))] } };
    const [waiting, results] = await Promise.all([
      submissions.find({ ...mine, status: 'submitted' }).toArray(),
      submissions.find({ ...mine, status: 'approved', resultsLoggedAt: { $ne: null }, resultsConfirmedAt: null }).toArray(),
    ]);
    // each item: its rep (still this manager's?) and whether their manager delegated
    for (const s of [...waiting, ...results]) {
      const rep = await users.findOne({ _id: s.repId });
      if (rep?.managerId) await delegates.findOne({ _id: String(rep.managerId) as never });
    }
  };
  const summariesWithReadiness = async () => {
    const found = await summaries.find(ids.length === 1 ? { userId: ids[0] } : { userId: { $in: ids } }).sort({ _id: 1 }).toArray();
    const keys = found.map((s) => s._id);
    if (keys.length) await readiness.find(keys.length === 1 ? { _id: keys[0] } : { _id: { $in: keys } }).toArray();
    return found.length;
  };
  const [found] = await Promise.all([summariesWithReadiness(), queue()]);
  return found;
}

// sanity: the page and the direct read see the same reps
const rawAll = await trainerDirect({ curriculumId: def.id });
const enrolled = rawAll.status.reduce((s, r) => s + r.n, 0);
if (enrolled !== REPS) throw new Error(`the direct pipelines count ${enrolled} reps, not ${REPS}`);
const teamSummaries = await managerDirect(false);
console.log(`direct reads: ${enrolled} reps on the dashboard (${rawAll.overdue.length} overdue listed, ${rawAll.results.length} with results); manager ${manager.email}: ${teamSummaries} summaries; filter: cohort '${cohort}'`);

type Case = { name: string; run: () => Promise<unknown> };
const cohortQs = `?cohort=${encodeURIComponent(cohort)}`;
const pairs: [Case, Case][] = [
  [{ name: 'trainer', run: () => page('/dashboard', trainerCookie) }, { name: 'trainerDirect', run: () => trainerDirect({ curriculumId: def.id }) }],
  [{ name: 'trainerFiltered', run: () => page(`/dashboard${cohortQs}`, trainerCookie) }, { name: 'trainerFilteredDirect', run: () => trainerDirect({ curriculumId: def.id, cohort }) }],
  [{ name: 'manager', run: () => page('/team/dashboard', managerCookie) }, { name: 'managerDirect', run: () => managerDirect(true) }],
];
const trainerService = new TrainerDashboard(c.models, c.cells, c.curricula);
const coaching = new CoachingReads(c);
const trainerActor = { id: people.trainer.id, role: 'trainer' as const };
/** the direct side narrowed to what the issue names: the trainer's cell reads alone; the manager's team and summaries without the review queue */
const narrow: Case[] = NARROW
  ? [
      { name: 'trainerCellsOnly', run: () => trainerCells({ curriculumId: def.id }) },
      { name: 'trainerFilteredCellsOnly', run: () => trainerCells({ curriculumId: def.id, cohort }) },
      { name: 'managerDirectNoQueue', run: () => managerDirect(false) },
    ]
  : [];
/** the services in-process: the page's cost without HTTP and rendering */
const inProcess: Case[] = BREAKDOWN
  ? [
      { name: 'trainerService', run: () => trainerService.load(trainerActor, {}, 'page') },
      { name: 'trainerFilteredService', run: () => trainerService.load(trainerActor, { cohort }, 'page') },
      { name: 'managerService', run: () => coaching.team({ id: manager.id, role: 'manager' }) },
    ]
  : [];
const extras: Case[] = [{ name: 'trivial', run: () => page('/api/me', trainerCookie, 'application/json') }, ...narrow, ...inProcess];
const times: Record<string, number[]> = {};
async function time(k: Case, keep: boolean) {
  const start = performance.now();
  await k.run();
  if (keep) (times[k.name] ??= []).push(performance.now() - start);
}

const measureStart = performance.now();
for (let round = 0; round < WARMUP + REQUESTS; round++) {
  const keep = round >= WARMUP;
  const roundStart = performance.now();
  for (const [pageCase, direct] of pairs) {
    for (const k of round % 2 ? [direct, pageCase] : [pageCase, direct]) await time(k, keep);
  }
  for (const k of extras) await time(k, keep);
  if (!keep) console.log(`  warm-up round ${round + 1}/${WARMUP} (${((performance.now() - roundStart) / 1000).toFixed(0)} s)`);
  // every round when rounds are slow (a large run), else every fifth
  else if ((round - WARMUP + 1) % 5 === 0 || round === WARMUP + REQUESTS - 1 || performance.now() - roundStart > 60_000) {
    console.log(`  round ${round - WARMUP + 1}/${REQUESTS} (${((performance.now() - measureStart) / 1000).toFixed(0)} s): ${pairs.map(([p, d]) => `${p.name} p50 ${pct(times[p.name]!, 0.5).toFixed(0)} ms vs direct ${pct(times[d.name]!, 0.5).toFixed(0)} ms`).join(' · ')}`);
  }
}

function pct(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const stats = (name: string) => ({ p50Ms: r1(pct(times[name]!, 0.5)), p95Ms: r1(pct(times[name]!, 0.95)), maxMs: r1(Math.max(...times[name]!)) });

const trivial = stats('trivial');
console.log(`\n${REQUESTS} requests per case, sequential (p95 = the ${Math.ceil(0.95 * REQUESTS)}th of ${REQUESTS}):`);
console.log(`  GET /api/me (trivial, signed in)          p50 ${trivial.p50Ms} ms · p95 ${trivial.p95Ms} ms · max ${trivial.maxMs} ms`);
const result: Record<string, unknown> = {};
const labels: Record<string, string> = { trainer: 'GET /dashboard', trainerFiltered: `GET /dashboard${cohortQs}`, manager: 'GET /team/dashboard' };
const more: Record<string, { narrow: string; narrowLabel: string; inProcess: string; inProcessLabel: string }> = {
  trainer: { narrow: 'trainerCellsOnly', narrowLabel: 'the cell reads alone (no names read) ', inProcess: 'trainerService', inProcessLabel: 'TrainerDashboard.load, no HTTP       ' },
  trainerFiltered: { narrow: 'trainerFilteredCellsOnly', narrowLabel: 'the cell reads alone (no names read) ', inProcess: 'trainerFilteredService', inProcessLabel: 'TrainerDashboard.load, no HTTP       ' },
  manager: { narrow: 'managerDirectNoQueue', narrowLabel: 'team, summaries, readiness: no queue ', inProcess: 'managerService', inProcessLabel: 'CoachingReads.team, no HTTP          ' },
};
const directIncludes: Record<string, string> = {
  trainer: 'the cells read and counted + the users read for names',
  trainerFiltered: 'the cells read and counted + the users read for names',
  manager: 'team users + summaries + readiness + review-queue submissions and their reps',
};
for (const [p, d] of pairs) {
  const s = stats(p.name);
  const direct = stats(d.name);
  const ratio = r2(s.p95Ms / direct.p95Ms);
  const entry: Record<string, unknown> = { ...s, directP50Ms: direct.p50Ms, directP95Ms: direct.p95Ms, ratio, target: TARGET, pass: ratio <= TARGET, vsTrivialP95: r1(s.p95Ms / trivial.p95Ms), directIncludes: directIncludes[p.name] };
  console.log(`  ${labels[p.name]!.padEnd(40)} p50 ${s.p50Ms} ms · p95 ${s.p95Ms} ms · max ${s.maxMs} ms`);
  console.log(`    the same reads through the driver     p50 ${direct.p50Ms} ms · p95 ${direct.p95Ms} ms · max ${direct.maxMs} ms → page ÷ direct p95 ${ratio} (target ≤ ${TARGET}: ${ratio <= TARGET ? 'met' : 'MISSED'}) · page ÷ trivial p95 ${r1(s.p95Ms / trivial.p95Ms)}`);
  const m = more[p.name]!;
  if (NARROW) {
    const b = stats(m.narrow);
    Object.assign(entry, { narrowDirectP95Ms: b.p95Ms, ratioToNarrow: r2(s.p95Ms / b.p95Ms) });
    console.log(`    ${m.narrowLabel}  p50 ${b.p50Ms} ms · p95 ${b.p95Ms} ms · max ${b.maxMs} ms → page ÷ that p95 ${r2(s.p95Ms / b.p95Ms)}`);
  }
  if (BREAKDOWN) {
    const b = stats(m.inProcess);
    Object.assign(entry, { inProcessP95Ms: b.p95Ms });
    console.log(`    ${m.inProcessLabel}  p50 ${b.p50Ms} ms · p95 ${b.p95Ms} ms · max ${b.maxMs} ms → page ÷ that p95 ${r2(s.p95Ms / b.p95Ms)}`);
  }
  result[p.name] = entry;
}

console.log(
  JSON.stringify({
    bench: 'dashboard',
    reps: REPS,
    managers: MANAGERS,
    teamSize: manager.team,
    statements: statementCount,
    requests: REQUESTS,
    cohortFilter: cohort,
    seedSeconds: r1(seedSeconds),
    seedLearningSeconds: r1(learningSeconds),
    seedStatementsSeconds: r1(statementSeconds),
    rollupCheck: check.problems.length ? 'mismatch' : `identical (${check.checked} via refresh())`,
    trivial,
    ...result,
  }),
);
await finish(0);

async function finish(code: number): Promise<never> {
  running.server?.close();
  await c.close();
  await services.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(code);
}
