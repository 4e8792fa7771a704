/**
 * Onramp on several processes: two web processes (`onramp serve`) and two workers (`onramp worker`)
 * against one local FerretDB and one Redis, with the demo content `npm start` prepares, all sharing
 * SESSION_SECRET, MONGODB_URL, REDIS_URL and REDIS_PREFIX (docs/operations.md#several-web-and-worker-processes).
 *
 *   npm run bench -- scale       (BENCH_JOBS, default 200; BENCH_PHASE_SECONDS, default 20;
 *                                 BENCH_ROUNDS, default 2; BENCH_CONNECTIONS, default 8)
 *
 * (a) Sessions work across web instances: sign in on web A; with that cookie, web B answers
 *     /api/me and the rep's pages as that rep; sign out on web B; web A then refuses the cookie.
 * (b) Each job runs once: BENCH_JOBS emails queued (MailService.send: stored, then one `email.send`
 *     job each) while both workers run. Each worker sends to an SMTP sink of its own (SMTP_URL
 *     differs only in the port), so the sinks tell which worker ran which job: every email must
 *     arrive exactly once (by Message-ID, stable per stored email) and both workers must take a share.
 * (c) Throughput with the second web process, for two read-only loads: the demo reps' pages (home,
 *     roadmap, my progress, their questions: mostly the database's work) and a manager's workbook
 *     PDF (drawn for each download in the web process's PDF thread: the web process's own work).
 *     Each for BENCH_PHASE_SECONDS against web A alone, then split across A and B (two autocannon
 *     instances, half the connections each, side by side), in BENCH_ROUNDS rounds alternating which
 *     goes first. Both web processes run in both phases, each pinned to a core of its own (BENCH_PIN,
 *     default on: each instance of a scaled-out deployment has its own CPU). Target: the PDF load's ratio two ÷ one above
 *     1.0 (what a second web process adds to is the web process's work; the pages' ratio is printed
 *     beside it). The CPU each process used in each phase shows what bounds it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import getPort from 'get-port';
import { SMTPServer } from 'smtp-server';
import { loadConfig, type Config } from '../src/config/env.js';
import { createContainer } from '../src/container.js';
import { DEMO_DOMAIN, DEMO_PASSWORD } from '../src/features/accounts/demo-seed.js';
import { prepareLocalRun } from '../src/features/demo/prepare.js';
import { messageIdFor } from '../src/features/email/service.js';
import { connectMongo } from '../src/infra/mongo.js';
import { Browser, cpuMeter, finish, httpRequest, loggedErrors, machine, numberFromEnv, onCleanup, ROOT, round, runBench, startOnramp, startServices, whenReady, type OnrampProcess } from './_cluster.js';

const JOBS = numberFromEnv('BENCH_JOBS', 200, 2);
const PHASE_SECONDS = numberFromEnv('BENCH_PHASE_SECONDS', 20, 3);
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 2, 1);
const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 8, 2);
/** the enrolled demo reps (rep6 is not enrolled) */
const DEMO_REPS = [1, 2, 3, 4, 5].map((n) => `rep${n}@${DEMO_DOMAIN}`);

const THROUGHPUT_CHECK = 'throughput grows with the second web process';
/**
 * Each web process on a core of its own (taskset: web A on CPU 0, web B on CPU 1, their threads
 * included), as each instance of a scaled-out deployment has its own CPU budget; FerretDB, Redis
 * and the workers run anywhere. BENCH_PIN=0 leaves scheduling to the kernel.
 */
const PIN = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2;

type Ready = Config & { mongodbUrl: string; redisUrl: string };

/** An SMTP server that accepts everything and keeps each message's Message-ID. */
async function smtpSink(name: string): Promise<{ name: string; port: number; ids: string[] }> {
  const sink = { name, port: 0, ids: [] as string[] };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const head = Buffer.concat(chunks).toString('utf8').split(/\r?\n\r?\n/)[0]!;
        sink.ids.push(/^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? '(no Message-ID)');
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  sink.port = (server.server.address() as AddressInfo).port;
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return sink;
}

interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

async function main(): Promise<void> {
  const { dataDir, services, log, servicePids } = await startServices();
  console.log(`scale bench: 2 web + 2 worker processes · ${services.descriptions.join(' · ')}`);
  const [portA, portB] = [await getPort(), await getPort()];
  const [sinkA, sinkB] = [await smtpSink('worker-a'), await smtpSink('worker-b')];
  // what every process shares; PUBLIC_URL is the one public address (a load balancer's, in production)
  const shared: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${portA}`,
    COOKIE_SECURE: 'false', // plain HTTP on the loopback
    MONGODB_URL: services.mongodbUrl,
    REDIS_URL: services.redisUrl,
    REDIS_PREFIX: 'onramp',
    SESSION_SECRET: randomBytes(32).toString('hex'),
    CONTENT_DIR: join(ROOT, 'content'),
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
  };

  const config = loadConfig({ ...shared, PORT: String(portA), DATA_DIR: dataDir, DEMO_SEED: 'true' }) as Ready;
  const conn = await connectMongo(services.mongodbUrl);
  const prepared = await prepareLocalRun(conn, config, log).finally(() => conn.close());
  for (const line of prepared.lines) console.log(`  ${line}`);
  const c = await createContainer(config, log, 'bench');
  onCleanup(() => c.close());

  const webA = startOnramp('web', 'web-a', dataDir, { ...shared, PORT: String(portA) });
  const webB = startOnramp('web', 'web-b', dataDir, { ...shared, PORT: String(portB) });
  if (PIN) {
    for (const [web, cpu] of [[webA, 0], [webB, 1]] as const) execFileSync('taskset', ['-a', '-cp', String(cpu), String(web.pid)], { stdio: 'ignore' });
    console.log('web-a pinned to CPU 0, web-b to CPU 1 (BENCH_PIN=0 to leave them unpinned)');
  }
  const workerA = startOnramp('worker', 'worker-a', dataDir, { ...shared, PORT: String(portA), SMTP_URL: `smtp://127.0.0.1:${sinkA.port}` });
  const workerB = startOnramp('worker', 'worker-b', dataDir, { ...shared, PORT: String(portA), SMTP_URL: `smtp://127.0.0.1:${sinkB.port}` });
  const processes: OnrampProcess[] = [webA, webB, workerA, workerB];
  await Promise.all(processes.map((p) => whenReady(p)));
  console.log(`running: ${processes.map((p) => `${p.name} (pid ${p.pid}${p.url ? `, ${p.url}` : ''})`).join(' · ')}`);
  const checks: Check[] = [];
  const expect = (what: string, ok: boolean, detail: string) => {
    checks.push({ what, ok, detail });
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what} — ${detail}`);
  };

  // ---- (a) sessions across web instances ----------------------------------------------------------
  console.log('\n(a) sessions across web instances');
  const rep = DEMO_REPS[0]!;
  const browser = new Browser(webA.url!);
  await browser.signIn(rep, DEMO_PASSWORD);
  const me = await browser.fetch('/api/me', { base: webB.url!, headers: { accept: 'application/json' } });
  const meEmail = me.status === 200 ? (JSON.parse(me.body) as { user?: { email?: string } }).user?.email : undefined;
  expect('signed in on A, B answers /api/me as that rep', me.status === 200 && meEmail === rep, `B: ${me.status} ${meEmail ?? me.body.slice(0, 120)}`);
  const roadmapOnB = await browser.fetch('/roadmap', { base: webB.url! });
  expect('B serves the rep their roadmap', roadmapOnB.status === 200 && roadmapOnB.body.includes('My roadmap'), `B: GET /roadmap ${roadmapOnB.status}`);
  const cookie = browser.cookie;
  const logout = await browser.fetch('/logout', { base: webB.url!, form: {} });
  expect('sign out on B', logout.status === 303 && String(logout.headers.location).startsWith('/login'), `B: POST /logout ${logout.status} → ${String(logout.headers.location)}`);
  const meAfter = await httpRequest(`${webA.url}/api/me`, { headers: { cookie, accept: 'application/json' } });
  const pageAfter = await httpRequest(`${webA.url}/roadmap`, { headers: { cookie } });
  expect('A refuses the signed-out cookie', meAfter.status === 401 && pageAfter.status === 303 && String(pageAfter.headers.location).startsWith('/login'), `A: GET /api/me ${meAfter.status}, GET /roadmap ${pageAfter.status} → ${String(pageAfter.headers.location)}`);

  // ---- (b) each job runs once ---------------------------------------------------------------------
  console.log(`\n(b) ${JOBS} email.send jobs with both workers running`);
  const run = randomBytes(4).toString('hex');
  const queuedAt = performance.now();
  const stored: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const { id } = await c.email.send({
      to: `Person ${i} <person${i}@bench.example.com>`,
      template: 'review-requested',
      data: { managerName: `Person ${i}`, repName: 'Bench Rep', itemTitle: 'Appointment-setting script', link: '/reviews' },
      dedupeKey: `bench-scale:${run}:${i}`,
    });
    stored.push(id!);
  }
  const queuedMs = performance.now() - queuedAt;
  // the Message-ID of each stored email (the demo's own emails, e.g. an overdue-review reminder, are not counted)
  const expected = new Set(stored.map((id) => messageIdFor(id, config.mailFrom)));
  const ours = (sink: { ids: string[] }) => sink.ids.filter((id) => expected.has(id));
  const deadline = Date.now() + 300_000;
  while (ours(sinkA).length + ours(sinkB).length < JOBS && Date.now() < deadline) await sleep(200);
  const deliveredMs = performance.now() - queuedAt;
  await sleep(3000); // a duplicate would arrive after the last first copy
  const [byA, byB] = [ours(sinkA), ours(sinkB)];
  const unique = new Set([...byA, ...byB]);
  const duplicates = byA.length + byB.length - unique.size;
  const sentInDb = await c.models.EmailMessage.countDocuments({ dedupeKey: { $regex: `^bench-scale:${run}:` }, status: 'sent' });
  const others = sinkA.ids.length + sinkB.ids.length - byA.length - byB.length;
  expect('every email arrived exactly once', unique.size === JOBS && duplicates === 0, `${unique.size} of ${JOBS} arrived, ${duplicates} twice, ${sentInDb} marked sent in the database (queued in ${(queuedMs / 1000).toFixed(1)} s, all delivered after ${(deliveredMs / 1000).toFixed(1)} s; ${others} other emails of the demo data not counted)`);
  expect('both workers took a share', byA.length > 0 && byB.length > 0, `worker-a sent ${byA.length}, worker-b sent ${byB.length}`);

  // ---- (c) throughput with one web process, then two --------------------------------------------------
  // two loads: the reps' pages (each request mostly the database's work: on FerretDB v1 sharing these
  // cores, a second web process has little to add) and the managers' workbook PDFs (drawn anew for
  // each download in the web process's PDF thread: the web process's own work)
  const sessions = await Promise.all(
    DEMO_REPS.map(async (email) => {
      const b = new Browser(webA.url!);
      await b.signIn(email, DEMO_PASSWORD);
      return b.cookie;
    }),
  );
  let turn = 0;
  const paths = ['/', '/roadmap', '/me/progress', '/reinforcement'];
  const pages: autocannon.Request[] = paths.map((path, i) => ({
    method: 'GET',
    setupRequest: (req, ctx) => {
      // each loop a connection takes the next rep
      const c2 = ctx as { cookie?: string };
      if (i === 0) c2.cookie = sessions[turn++ % sessions.length]!;
      return { ...req, path, headers: { cookie: c2.cookie!, accept: 'text/html' } };
    },
  }));
  const managerBrowser = new Browser(webA.url!);
  await managerBrowser.signIn(`manager1@${DEMO_DOMAIN}`, DEMO_PASSWORD);
  const managerId = (await c.models.User.findOne({ email: `manager1@${DEMO_DOMAIN}` }).lean())!._id;
  const submission = await c.models.Submission.findOne({ managerId, status: { $in: ['submitted', 'approved', 'returned'] } }).lean();
  if (!submission) throw new Error('the demo data has no submission of manager1 to draw a workbook of');
  const pdfs: autocannon.Request[] = [{ method: 'GET', path: `/submissions/${String(submission._id)}/workbook.pdf`, headers: { cookie: managerBrowser.cookie } }];
  const workloads = [
    { name: 'pages', label: "reps' pages (home, roadmap, my progress, questions)", requests: pages },
    { name: 'pdf', label: "a manager's workbook PDF, drawn for each download", requests: pdfs },
  ] as const;

  const watched = [...processes.map((p) => ({ name: p.name, pid: p.pid })), ...servicePids];
  const load = async (targets: OnrampProcess[], seconds: number, requests: autocannon.Request[]) => {
    const meter = cpuMeter(watched);
    const t0 = performance.now();
    const results = await Promise.all(
      targets.map(
        (t) =>
          new Promise<autocannon.Result>((resolve, reject) => {
            const instance = autocannon({ url: t.url!, connections: CONNECTIONS / targets.length, duration: seconds, timeout: 60, requests }, (err, result) => (err ? reject(err as Error) : resolve(result)));
            onCleanup(() => instance.stop());
          }),
      ),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = meter.stop();
    const requestsDone = results.reduce((n, r) => n + r.requests.total, 0);
    const errors = results.reduce((n, r) => n + r.errors + Object.entries(r.statusCodeStats ?? {}).filter(([code]) => Number(code) >= 400).reduce((m, [, s]) => m + (s.count ?? 0), 0), 0);
    return { perSec: round(requestsDone / elapsed, 1), p50Ms: round(Math.max(...results.map((r) => r.latency.p50))), p99Ms: round(Math.max(...results.map((r) => r.latency.p99))), errors, cpu };
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const totalCores = (cpu: Record<string, { busy: number }>) => round(Object.values(cpu).reduce((a, b) => a + b.busy, 0), 2);
  const throughput: Record<string, unknown> = {};
  let loadErrors = 0;
  for (const w of workloads) {
    console.log(`\n(c) ${w.label}: ${CONNECTIONS} connections, ${PHASE_SECONDS} s a phase, against web A alone and split across A and B`);
    const machineBefore = machine();
    await load([webA, webB], 5, w.requests); // warm-up: JIT and connections in both processes
    const phases: { one: Awaited<ReturnType<typeof load>>[]; two: Awaited<ReturnType<typeof load>>[] } = { one: [], two: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of r % 2 === 0 ? (['one', 'two'] as const) : (['two', 'one'] as const)) {
        const res = await load(side === 'one' ? [webA] : [webA, webB], PHASE_SECONDS, w.requests);
        phases[side].push(res);
        const busiest = Object.entries(res.cpu).sort(([, a], [, b]) => b.busy - a.busy).slice(0, 4).map(([k, v]) => `${k} ${v.busy}/${v.waiting}`).join(', ');
        console.log(`  round ${r + 1}, ${side === 'one' ? 'web A alone   ' : 'web A + web B '}: ${res.perSec} req/s · p50 ${res.p50Ms} ms · p99 ${res.p99Ms} ms · errors ${res.errors} · cores busy/waiting: ${busiest}`);
      }
    }
    const oneWeb = mean(phases.one.map((p) => p.perSec));
    const twoWebs = mean(phases.two.map((p) => p.perSec));
    const ratio = twoWebs / oneWeb;
    const cpuMean = (side: 'one' | 'two') => Object.fromEntries(Object.keys(phases[side][0]!.cpu).map((k) => [k, { busy: round(mean(phases[side].map((p) => p.cpu[k]!.busy)), 2), waiting: round(mean(phases[side].map((p) => p.cpu[k]!.waiting)), 2) }]));
    const cpuOne = cpuMean('one');
    const cpuTwo = cpuMean('two');
    const errors = [...phases.one, ...phases.two].reduce((n, p) => n + p.errors, 0);
    loadErrors += errors;
    console.log(`  ${w.name}: ${round(oneWeb)} → ${round(twoWebs)} req/s with the second web process, ratio ${ratio.toFixed(2)}`);
    for (const [label, cpu] of [['web A alone', cpuOne], ['web A + web B', cpuTwo]] as const) {
      console.log(`  ${label}, cores' worth busy / waiting for a core: ${Object.entries(cpu).map(([k, v]) => `${k} ${v.busy}/${v.waiting}`).join(' · ')} · ours busy in all ${totalCores(cpu)} of ${machineBefore.cores}`);
    }
    console.log(`  the machine: load average ${machineBefore.loadAvg1m} before and ${machine().loadAvg1m} after (other users' processes included)`);
    // what bounds the two-web phase: the process that used or waited for the most CPU
    const [dominant, d] = Object.entries(cpuTwo).sort(([, a], [, b]) => b.busy + b.waiting - (a.busy + a.waiting))[0]!;
    const webBusy = round(cpuTwo['web-a']!.busy + cpuTwo['web-b']!.busy, 2);
    console.log(`  what bounds it: ${dominant} (${d.busy} cores busy, ${d.waiting} waiting for a core) while the two web processes together kept ${webBusy} cores busy`);
    // CPU per request in each process: how many requests a second one could serve if it had the cores
    const msPerRequest = Object.fromEntries(Object.entries(cpuTwo).filter(([, v]) => v.busy >= 0.02).map(([k, v]) => [k, round((v.busy / twoWebs) * 1000, 1)]));
    const webMs = round((webBusy / twoWebs) * 1000, 1);
    console.log(`  CPU per request: ${Object.entries(msPerRequest).map(([k, v]) => `${k} ${v} ms`).join(' · ')} (web processes together ${webMs} ms)`);
    throughput[w.name] = {
      oneWebPerSec: round(oneWeb),
      twoWebsPerSec: round(twoWebs),
      ratio: round(ratio, 2),
      oneWebRuns: phases.one.map((p) => p.perSec),
      twoWebsRuns: phases.two.map((p) => p.perSec),
      p99Ms: { one: round(mean(phases.one.map((p) => p.p99Ms))), two: round(mean(phases.two.map((p) => p.p99Ms))) },
      cpuCoresOneWeb: cpuOne,
      cpuCoresTwoWebs: cpuTwo,
      machine: { cores: machineBefore.cores, loadAvg1mBefore: machineBefore.loadAvg1m },
      dominant,
      cpuMsPerRequest: { ...msPerRequest, webTogether: webMs },
      errors,
    };
  }
  // the web process's own work is what a second web process adds to: the check is on the PDF load
  const pdfRatio = (throughput.pdf as { ratio: number }).ratio;
  const pagesRatio = (throughput.pages as { ratio: number }).ratio;
  expect(THROUGHPUT_CHECK, pdfRatio > 1, `workbook PDFs ratio ${pdfRatio} (target > 1.0); reps' pages ratio ${pagesRatio} (bounded by the database on these cores)`);
  expect('no failed request under load', loadErrors === 0, `${loadErrors} errors`);

  const logErrors = Object.fromEntries(processes.map((p) => [p.name, loggedErrors(p).length]));
  for (const p of processes) for (const line of loggedErrors(p).slice(0, 3)) console.log(`  ${p.name} logged: ${line.slice(0, 400)}`);
  const result = {
    bench: 'scale',
    processes: { web: 2, worker: 2 },
    sessions: Object.fromEntries(checks.slice(0, 4).map((x) => [x.what, x.ok])),
    jobs: { queued: JOBS, distinctDelivered: unique.size, duplicates, workerA: byA.length, workerB: byB.length, sentInDb, seconds: round(deliveredMs / 1000, 1) },
    throughput: { connections: CONNECTIONS, phaseSeconds: PHASE_SECONDS, rounds: ROUNDS, webPinnedToOwnCore: PIN, target: 'pdf ratio > 1.0', ...throughput, errors: loadErrors },
    loggedErrorLines: logErrors,
    pass: checks.every((x) => x.ok),
  };
  console.log(JSON.stringify(result));
  // a broken session, a job run twice or a failed request is an error; a ratio below target is a figure
  await finish(checks.every((x) => x.ok || x.what === THROUGHPUT_CHECK) ? 0 : 1);
}

runBench(main);
