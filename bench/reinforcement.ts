/**
 * Spaced reinforcement on BullMQ (issue 7), against the real local services (FerretDB + Redis),
 * each figure side by side with plain BullMQ doing the same work in the same run.
 *
 *   npm run bench -- reinforcement      (BENCH_REPS, default 100000; BENCH_DELIVERY_REPS, default 500;
 *                                        BENCH_PROBES, default 500; BENCH_ROUNDS, default 5;
 *                                        BENCH_WORKER_CONCURRENCY, default 4)
 *
 * 1. Scheduling: BENCH_REPS reps × 20 deck items built in memory (FSRS states from the real
 *    `newItem`/`answer`, varied due dates, eight IANA time zones, varied windows, quiet hours and
 *    pauses). Onramp's path: for each rep the real planner (`nextDayWindow` + `planDelivery`, as
 *    ReinforcementService plans a deck) and then `DeliveryScheduler.ensureMany` over a queue from
 *    the real `createQueue`. Against it: plain `queue.addBulk` of the same jobs (name, `{ userId }`,
 *    job id `rf-<userId>`, the same target instants, the same chunk of 1000) on a plain BullMQ Queue
 *    with the same options, already planned. The queue's keys are deleted before every run; the
 *    two sides alternate order over BENCH_ROUNDS rounds and the best run of each counts.
 * 2. Redis memory per scheduled rep: INFO used_memory after a run minus before it (empty queue),
 *    ÷ reps (median over the rounds), for Onramp's jobs and for an empty-payload delayed job with
 *    BullMQ's default ids on a queue with the same options.
 * 3. Worker deliveries/s: BENCH_DELIVERY_REPS reps (user + deck documents with FSRS histories over
 *    the sample curriculum's 18 reinforcement questions, the curriculum published) all due now,
 *    scheduled with ensureMany (delay 0) while the backlog of part 1 stays delayed in the same queue;
 *    the real worker (startWorker + jobDepsOf, BENCH_WORKER_CONCURRENCY) delivers and queues the
 *    emails, which it also sends (to the outbox). Each rep must end with exactly one delivery
 *    document and one email.
 * 4. Promotion lateness: BENCH_PROBES delayed jobs due over the next ~10 s on the same queue (a plain
 *    BullMQ Worker on it records them: the real worker would refuse `bench.probe`), with the whole
 *    backlog of part 1 still delayed there, days out; each job's lateness is
 *    processedOn − (timestamp + opts.delay). Then the same probes on the emptied queue, for comparison.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import { Types } from 'mongoose';
import type { Redis } from 'ioredis';
import { loadConfig } from '../src/config/env.js';
import { createContainer } from '../src/container.js';
import { createLogger } from '../src/infra/logger.js';
import { startLocalServices } from '../src/infra/embedded/index.js';
import { connectRedis } from '../src/infra/redis.js';
import { createQueue, QUEUE_NAME } from '../src/infra/queue.js';
import { findCurriculumFolders } from '../src/content/load.js';
import { validateCurriculum } from '../src/content/validate.js';
import { answer, DEFAULT_DECK, DEFAULT_SCHEDULE, newItem, nextDayWindow, planDelivery, reinforcementItems, type DeckItem, type RepSchedule } from '../src/engine/reinforcement.js';
import { DELIVER_JOB, DeliveryScheduler, JOB_OPTIONS } from '../src/features/reinforcement/scheduler.js';
import type { DeckDoc, StoredItem } from '../src/features/reinforcement/model.js';
import { jobDepsOf, startWorker } from '../src/jobs/worker.js';

const REPS = Number(process.env.BENCH_REPS ?? 100_000);
const ITEMS = 20;
const DELIVERY_REPS = Number(process.env.BENCH_DELIVERY_REPS ?? 500);
const PROBES = Number(process.env.BENCH_PROBES ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY ?? 4);
/** ensureMany's default chunk; the raw side sends the same */
const CHUNK = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const log = createLogger({ logLevel: 'warn', logPretty: false }, 'bench');
const dataDir = mkdtempSync(join(tmpdir(), 'onramp-bench-'));
const services = await startLocalServices(loadConfig({ DATA_DIR: dataDir, MONGODB_URL: '', REDIS_URL: '' }), log);
const config = loadConfig({
  NODE_ENV: 'test',
  MONGODB_URL: services.mongodbUrl.replace(/\/[^/]*$/, '/bench'),
  REDIS_URL: services.redisUrl,
  REDIS_PREFIX: `bench_${randomUUID().slice(0, 8)}`, // a prefix of this run's own
  SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-00',
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  LOG_PRETTY: 'false',
}) as ReturnType<typeof loadConfig> & { mongodbUrl: string; redisUrl: string };
const c = await createContainer(config, log, 'bench');
const prefix = config.redisPrefix;
/** the queue's keys: what createQueue and startWorker use (`<prefix>:bull:onramp:*`) */
const queueKeys = `${prefix}:bull:${QUEUE_NAME}:*`;
console.log(`services: ${services.descriptions.join(' · ')}`);

// ------------------------------------------------------------------ helpers

/** a small deterministic PRNG, so every run builds the same decks */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

/** Deletes every key of the queue (synchronously: DEL, so used_memory is settled after it). */
async function clearQueue(redis: Redis): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', queueKeys, 'COUNT', 5000);
    cursor = next;
    for (let i = 0; i < keys.length; i += 1000) deleted += await redis.del(...keys.slice(i, i + 1000));
  } while (cursor !== '0');
  return deleted;
}

const pct = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const round = (n: number, digits = 0) => Number(n.toFixed(digits));

// ------------------------------------------------------------------ part 1 & 2: scheduling, memory

const ZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Sydney'];
const now0 = new Date();
const rnd = mulberry32(7);

/**
 * FSRS histories from the real engine: an item learned 5–120 days ago, answered at its due dates
 * (a few hours to a day late), right four times in five, until the next answer would be in the
 * future. Decks draw from this pool and shift each item by minutes to days, so due dates spread.
 */
const POOL = 4000;
const pool: DeckItem[] = [];
for (let p = 0; p < POOL; p++) {
  let item = newItem(`pool.q${p}`, `m${p % 9}`, new Date(now0.getTime() - (5 + rnd() * 115) * DAY));
  for (let k = 0; k < 8; k++) {
    const at = new Date(new Date(item.card.due).getTime() + rnd() * DAY);
    if (at.getTime() > now0.getTime()) break;
    item = answer(item, rnd() < 0.8, at, DEFAULT_DECK);
  }
  pool.push(item);
}

interface Rep {
  id: string;
  items: DeckItem[];
  schedule: RepSchedule;
  lastDeliveryAt: Date | null;
  perDelivery: number;
}

function scheduleFor(i: number): RepSchedule {
  const window = [{ from: 9, to: 17 }, { from: 8, to: 12 }, { from: 13, to: 18 }, { from: 10, to: 16 }][i % 4]!;
  const days = i % 7 === 0 ? [1, 3, 5] : [1, 2, 3, 4, 5];
  const quiet = i % 4 === 0 && window.from < 12 && window.to > 13 ? { from: 12, to: 13 } : null;
  const pauseStart = new Date(now0.getTime() + (1 + (i % 10)) * DAY).toISOString().slice(0, 10);
  const pause = i % 20 === 0 ? { from: pauseStart, to: new Date(Date.parse(pauseStart) + 7 * DAY).toISOString().slice(0, 10) } : null;
  return { ...DEFAULT_SCHEDULE, timeZone: ZONES[i % ZONES.length]!, window, days, quiet, pause };
}

console.log(`building ${REPS} decks × ${ITEMS} items in memory…`);
const reps: Rep[] = [];
for (let r = 0; r < REPS; r++) {
  const items: DeckItem[] = [];
  for (let k = 0; k < ITEMS; k++) {
    const tpl = pool[Math.floor(rnd() * POOL)]!;
    const shift = Math.round((rnd() - 0.5) * 4 * DAY);
    const card = { ...tpl.card, due: new Date(new Date(tpl.card.due).getTime() + shift), last_review: tpl.card.last_review ? new Date(new Date(tpl.card.last_review).getTime() + shift) : undefined };
    items.push({ key: `bank${k % 3}.q${k}`, moduleId: tpl.moduleId, card, history: tpl.history, retired: tpl.retired });
  }
  // everyone had a delivery in the last two hours (a resync after the day's deliveries): the next
  // one is on a later day, so none of these jobs comes due while the bench runs (part 4 needs that)
  reps.push({ id: new Types.ObjectId().toHexString(), items, schedule: scheduleFor(r), lastDeliveryAt: new Date(now0.getTime() - rnd() * 2 * HOUR), perDelivery: DEFAULT_DECK.perDelivery });
}

/** What ReinforcementService plans for a deck (its private `plan`): not before the day after the last delivery. */
function planAll(now: Date): { userId: string; at: Date }[] {
  const entries: { userId: string; at: Date }[] = [];
  for (const rep of reps) {
    const notBefore = rep.lastDeliveryAt ? nextDayWindow(rep.lastDeliveryAt, rep.schedule) : null;
    const { at } = planDelivery(rep.items, now, rep.schedule, rep.perDelivery, notBefore);
    if (at) entries.push({ userId: rep.id, at });
  }
  return entries;
}

// warm-up (JIT) on the planner; its result is what the raw side sends: the same jobs, already planned
const planned = planAll(new Date());
const delays = planned.map((e) => e.at.getTime() - Date.now()).sort((a, b) => a - b);
console.log(`planned ${planned.length} reps: next delivery in ${(delays[0]! / HOUR).toFixed(1)} h at the soonest, ${(pct(delays, 0.5) / DAY).toFixed(1)} days median, ${(delays.at(-1)! / DAY).toFixed(1)} days at the latest`);
if (delays[0]! < HOUR) throw new Error('a backlog job would come due during the bench: part 4 needs them all in the future');

const benchRedis = connectRedis(config.redisUrl, 'onramp-bench-queues');
const ours = createQueue(benchRedis, prefix);
const scheduler = new DeliveryScheduler(ours);
// Both baselines use a plain BullMQ Queue with the same options as Onramp's (prefix, connection and
// defaultJobOptions: attempts, backoff, removeOnComplete/Fail, which BullMQ stores in every job).
// - raw: the same jobs as DeliveryScheduler's, with the per-job options it sets (the stored jobs are
//   compared field by field after the rounds, so a change in the scheduler cannot go unnoticed);
// - empty: `add(name, {}, { delay })`, BullMQ's own ids and the queue's default options: what any
//   delayed job costs. Onramp's payload, job id and per-job options count against it.
const raw = new Queue(QUEUE_NAME, { connection: benchRedis as unknown as ConnectionOptions, prefix: `${prefix}:bull`, defaultJobOptions: ours.defaultJobOptions });
/** the per-job options DeliveryScheduler adds to each delivery job */
const DELIVERY_JOB_OPTIONS = JOB_OPTIONS;
const sampleKey = `${prefix}:bull:${QUEUE_NAME}:rf-${planned[0]!.userId}`;
const samples: Partial<Record<Side, Record<string, string>>> = {};
await Promise.all([ours.waitUntilReady(), raw.waitUntilReady()]);

type Side = 'onramp' | 'raw' | 'empty';
interface Run {
  side: Side;
  ms: number;
  planMs: number;
  jobs: number;
  bytes: number;
}
const runs: Run[] = [];

async function runSide(side: Side): Promise<Run> {
  await clearQueue(benchRedis);
  await sleep(200);
  const before = await usedMemory(benchRedis);
  const t0 = performance.now();
  let planMs = 0;
  let jobs = 0;
  if (side === 'onramp') {
    const entries = planAll(new Date());
    planMs = performance.now() - t0;
    jobs = await scheduler.ensureMany(entries);
  } else {
    for (let i = 0; i < planned.length; i += CHUNK) {
      const chunk = planned.slice(i, i + CHUNK);
      const now = Date.now();
      await raw.addBulk(
        side === 'raw'
          ? chunk.map((e) => ({ name: DELIVER_JOB, data: { userId: e.userId }, opts: { ...DELIVERY_JOB_OPTIONS, jobId: `rf-${e.userId}`, delay: Math.max(0, e.at.getTime() - now) } }))
          : chunk.map((e) => ({ name: DELIVER_JOB, data: {}, opts: { delay: Math.max(0, e.at.getTime() - now) } })), // BullMQ's own ids
      );
      jobs += chunk.length;
    }
  }
  const ms = performance.now() - t0;
  await sleep(200);
  const bytes = (await usedMemory(benchRedis)) - before;
  const delayed = await ours.getDelayedCount();
  if (delayed !== jobs) throw new Error(`${side}: ${delayed} delayed jobs in Redis, expected ${jobs}`);
  if (side !== 'empty') samples[side] = await benchRedis.hgetall(sampleKey);
  const run = { side, ms, planMs, jobs, bytes };
  runs.push(run);
  const perS = (jobs / ms) * 1000;
  console.log(`  ${side.padEnd(6)} ${jobs} jobs in ${(ms / 1000).toFixed(2)} s = ${Math.round(perS)} reps/s${side === 'onramp' ? ` (planner ${(planMs / 1000).toFixed(2)} s, ensureMany ${((ms - planMs) / 1000).toFixed(2)} s)` : ''} · Redis +${(bytes / 1048576).toFixed(1)} MB = ${Math.round(bytes / jobs)} B/job`);
  return run;
}

console.log(`scheduling ${REPS} reps (${ROUNDS} rounds, sides alternating, the queue emptied before each run):`);
for (let r = 0; r < ROUNDS; r++) {
  console.log(` round ${r + 1}`);
  await runSide('empty');
  // the last round ends with Onramp's side: its jobs stay as the backlog of parts 3 and 4
  const order: Side[] = (ROUNDS - 1 - r) % 2 === 0 ? ['raw', 'onramp'] : ['onramp', 'raw'];
  for (const side of order) await runSide(side);
}
// the two sides stored the same job: name, payload, id and options alike, due at the same instant
{
  const [a, b] = [samples.onramp!, samples.raw!];
  const opts = (h: Record<string, string>) => {
    const { delay: _delay, ...rest } = JSON.parse(h.opts!) as Record<string, unknown>;
    return JSON.stringify(Object.entries(rest).sort(([x], [y]) => x.localeCompare(y)));
  };
  const runAt = (h: Record<string, string>) => Number(h.timestamp) + Number(h.delay);
  if (a.name !== b.name || a.data !== b.data || opts(a) !== opts(b) || Math.abs(runAt(a) - runAt(b)) > 1000) {
    throw new Error(`the raw side's job differs from Onramp's:\n${JSON.stringify(a)}\n${JSON.stringify(b)}`);
  }
  console.log(`the two sides' jobs compared (${sampleKey.split(':').pop()}): same name, payload, id and options, due within ${Math.abs(runAt(a) - runAt(b))} ms of each other`);
}
const best = (side: Side) => runs.filter((x) => x.side === side).reduce((a, b) => (b.ms < a.ms ? b : a));
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const bytesPer = (side: Side) => median(runs.filter((x) => x.side === side).map((x) => x.bytes / x.jobs));
const onrampBest = best('onramp');
const rawBest = best('raw');
const onrampPerSec = (onrampBest.jobs / onrampBest.ms) * 1000;
const rawPerSec = (rawBest.jobs / rawBest.ms) * 1000;
const emptyPerSec = (best('empty').jobs / best('empty').ms) * 1000;
const schedulingRatio = onrampPerSec / rawPerSec;
const onrampBytes = bytesPer('onramp');
const emptyBytes = bytesPer('empty');
const rawBytes = bytesPer('raw');
const memoryRatio = onrampBytes / emptyBytes;
const sampleId = `rf-${planned[0]!.userId}`;
const sampleBytes = await benchRedis.call('MEMORY', 'USAGE', `${prefix}:bull:${QUEUE_NAME}:${sampleId}`);
const spread = (side: Side) => {
  const perS = runs.filter((x) => x.side === side).map((x) => (x.jobs / x.ms) * 1000);
  return `${Math.round(Math.min(...perS))}–${Math.round(Math.max(...perS))}`;
};
console.log(`runs (reps/s, slowest–fastest): Onramp ${spread('onramp')} · raw ${spread('raw')} · empty ${spread('empty')}`);
console.log(`scheduling: Onramp ${Math.round(onrampPerSec)} reps/s (planner ${(onrampBest.planMs / 1000).toFixed(2)} s + ensureMany ${((onrampBest.ms - onrampBest.planMs) / 1000).toFixed(2)} s) · raw addBulk ${Math.round(rawPerSec)} reps/s · ratio ${schedulingRatio.toFixed(2)} (target ≥ 0.7)`);
console.log(`memory per rep: Onramp ${Math.round(onrampBytes)} B · same job via raw addBulk ${Math.round(rawBytes)} B · empty-payload delayed job ${Math.round(emptyBytes)} B · ratio ${memoryRatio.toFixed(2)} (target ≤ 1.3); one job hash (MEMORY USAGE ${sampleId}): ${String(sampleBytes)} B`);

// ------------------------------------------------------------------ part 3: the worker delivers

// On FerretDB v1 this figure falls as BENCH_DELIVERY_REPS grows: an updateOne by _id on the decks
// takes longer the more decks there are (19 ms at 30, 113 ms at 300, measured alone), and the
// delivery's queries by userId scan the deliveries. MongoDB serves both by index.
console.log(`worker: ${DELIVERY_REPS} reps due now, the real worker (concurrency ${CONCURRENCY}), with the ${onrampBest.jobs} delayed jobs of part 1 still queued…`);
const folder = findCurriculumFolders('content').find((f) => f.name === 'new-rep-onboarding');
if (!folder) throw new Error('content/curricula/new-rep-onboarding is missing');
const validated = validateCurriculum(folder.name, folder.files, folder.packages);
if (!validated.content) throw new Error(`the sample curriculum does not validate: ${validated.problems.length} problems`);
const published = await c.curricula.publish('cli', validated.content, validated.packages ?? []);
const content = validated.content;
const questions = content.definition.modules.flatMap((m) => reinforcementItems(content.banks as never, m.id).map((key) => ({ key, moduleId: m.id })));
const settings = content.definition.reinforcement ?? DEFAULT_DECK;
const seedNow = new Date();
const rndDeck = mulberry32(11);
const seededIds: Types.ObjectId[] = [];
const users = [];
const decks: DeckDoc[] = [];
for (let i = 0; i < DELIVERY_REPS; i++) {
  const _id = new Types.ObjectId();
  seededIds.push(_id);
  const schedule = scheduleFor(i);
  users.push({ _id, email: `rep${i}@bench.example.com`, name: `Bench Rep ${i}`, role: 'rep', passwordHash: 'not-a-real-hash', active: true, timezone: schedule.timeZone });
  // every question of the sample, learned 3–40 days ago, answered at its due dates until now: some due, some not
  const items: StoredItem[] = questions.map(({ key, moduleId }) => {
    const learned = new Date(seedNow.getTime() - (3 + rndDeck() * 37) * DAY);
    let item = newItem(key, moduleId, new Date(learned.getTime() + DAY));
    for (let k = 0; k < 6; k++) {
      const at = new Date(new Date(item.card.due).getTime() + rndDeck() * 6 * HOUR);
      if (at.getTime() > seedNow.getTime() - HOUR) break;
      item = answer(item, rndDeck() < 0.8, at, settings);
    }
    return { ...item, enrollmentId: new Types.ObjectId().toHexString(), curriculumId: content.definition.id, versionId: published.versionId, learnedAt: learned.toISOString() };
  });
  // at least one question due now, so every rep has something to deliver
  items[i % items.length]!.card = { ...items[i % items.length]!.card, due: new Date(seedNow.getTime() - HOUR) };
  const slot = new Date(seedNow.getTime() - rndDeck() * HOUR); // due now: the slot has passed
  decks.push({ _id, items, schedule, retention: settings.retention, perDelivery: settings.perDelivery, nextDeliveryAt: slot, lastDeliveryAt: new Date(slot.getTime() - 2 * DAY), rev: 0, createdAt: seedNow, updatedAt: seedNow });
}
await c.models.User.insertMany(users);
await c.models.Deck.insertMany(decks);

const workerRedis = connectRedis(config.redisUrl, 'onramp-bench-worker');
const worker = startWorker(workerRedis, prefix, jobDepsOf(c), CONCURRENCY);
await worker.waitUntilReady();
const t0 = performance.now();
const t0Date = new Date();
// the real path (ReinforcementService.resync): one job per rep, due now → delay 0
await c.deliveries.ensureMany(decks.map((d) => ({ userId: String(d._id), at: d.nextDeliveryAt! })));
async function until(what: string, done: () => Promise<boolean>, ms = 1_800_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
// Delivered = the handler finished: the delivery stored, the email queued, the deck saved and, last,
// the rep's job moved back to the delayed set at the next slot. Polled in Redis (a pipeline of ZSCOREs):
// polling FerretDB would scan the decks and take CPU from the worker being measured.
const delayedKey = `${prefix}:bull:${QUEUE_NAME}:delayed`;
const seededJobIds = seededIds.map((id) => `rf-${String(id)}`);
const movedOn = async () => {
  const res = (await benchRedis.pipeline(seededJobIds.map((id) => ['zscore', delayedKey, id])).exec()) ?? [];
  return res.filter(([, score]) => score !== null).length;
};
await until('the deliveries', async () => (await movedOn()) === DELIVERY_REPS);
const deliverMs = performance.now() - t0;
// the emails: the worker has nothing left to run (email.send jobs done)
await until('the emails', async () => {
  const n = await ours.getJobCounts('wait', 'active', 'prioritized');
  return Object.values(n).every((v) => v === 0);
});
const emailedMs = performance.now() - t0;
const movedDecks = await c.models.Deck.countDocuments({ _id: { $in: seededIds }, nextDeliveryAt: { $gt: t0Date } });
await worker.close();
workerRedis.disconnect();

const perRep = new Map<string, { deliveries: number; emails: number }>(seededIds.map((id) => [String(id), { deliveries: 0, emails: 0 }]));
for (const d of await c.models.Delivery.find({}, { userId: 1 }).lean()) perRep.get(String(d.userId))!.deliveries++;
const userByEmail = new Map(users.map((u) => [u.email, String(u._id)]));
const emails = await c.models.EmailMessage.find({ template: 'reinforcement-delivery' }, { to: 1, status: 1 }).lean();
const inOutbox = emails.filter((e) => e.status === 'outbox').length;
for (const e of emails) perRep.get(userByEmail.get(/<([^>]+)>/.exec(e.to)![1]!)!)!.emails++;
const counts = [...perRep.values()];
const duplicates = counts.reduce((n, x) => n + Math.max(0, x.deliveries - 1) + Math.max(0, x.emails - 1), 0);
const missing = counts.filter((x) => x.deliveries === 0 || x.emails === 0).length;
const deliveriesCount = counts.reduce((n, x) => n + x.deliveries, 0);
const failed = await ours.getFailedCount();
const deliveriesPerSec = (DELIVERY_REPS / deliverMs) * 1000;
console.log(
  `worker: ${deliveriesCount} deliveries in ${(deliverMs / 1000).toFixed(2)} s = ${deliveriesPerSec.toFixed(1)} deliveries/s (emails in the outbox after ${(emailedMs / 1000).toFixed(2)} s) · ${emails.length} emails (${inOutbox} in the outbox) · decks moved to their next slot ${movedDecks} · duplicates ${duplicates} · missing ${missing} · failed jobs ${failed}`,
);

// ------------------------------------------------------------------ part 4: promotion lateness

async function probeLateness(label: string): Promise<{ p50: number; p95: number; p99: number; max: number; backlog: number }> {
  const backlog = await ours.getDelayedCount();
  const probeRedis = connectRedis(config.redisUrl, 'onramp-bench-probes');
  const lateness: number[] = [];
  let unexpected = 0;
  // a plain worker on the same queue (the real one would refuse `bench.probe`); the backlog is days out, so only probes come due
  const probeWorker = new Worker(
    QUEUE_NAME,
    async (job) => {
      if (job.name !== 'bench.probe') {
        unexpected++;
        return;
      }
      // job.delay is set to 0 when BullMQ promotes a delayed job; opts.delay keeps the delay it was added with
      lateness.push(job.processedOn! - (job.timestamp + (job.opts.delay ?? 0)));
    },
    { connection: probeRedis as unknown as ConnectionOptions, prefix: `${prefix}:bull`, concurrency: 4 },
  );
  await probeWorker.waitUntilReady();
  await ours.addBulk(Array.from({ length: PROBES }, (_, i) => ({ name: 'bench.probe', data: {}, opts: { delay: 500 + Math.round((i * 10_000) / PROBES) } })));
  await until(`the ${label} probes`, async () => lateness.length + unexpected >= PROBES, 120_000);
  await probeWorker.close();
  probeRedis.disconnect();
  if (unexpected) throw new Error(`${unexpected} jobs other than probes came due: the backlog was not all in the future`);
  const sorted = lateness.sort((a, b) => a - b);
  const r = { p50: pct(sorted, 0.5), p95: pct(sorted, 0.95), p99: pct(sorted, 0.99), max: sorted.at(-1)!, backlog };
  console.log(`lateness, ${PROBES} probes due over 10 s, ${label} (${backlog} delayed jobs): p50 ${r.p50} ms · p95 ${r.p95} ms · p99 ${r.p99} ms · max ${r.max} ms`);
  return r;
}
const withBacklog = await probeLateness('with the backlog');
await clearQueue(benchRedis);
const emptyQueue = await probeLateness('on an empty queue');

// ------------------------------------------------------------------ the result

await Promise.all([ours.close(), raw.close()]);
await clearQueue(benchRedis);
benchRedis.disconnect();
const result = {
  bench: 'reinforcement',
  reps: REPS,
  items: ITEMS,
  scheduling: {
    onrampPerSec: Math.round(onrampPerSec),
    rawPerSec: Math.round(rawPerSec),
    ratio: round(schedulingRatio, 2),
    target: 0.7,
    pass: schedulingRatio >= 0.7,
    plannerMs: Math.round(onrampBest.planMs),
    ensureManyMs: Math.round(onrampBest.ms - onrampBest.planMs),
    emptyJobPerSec: Math.round(emptyPerSec),
    rounds: ROUNDS,
  },
  memory: { onrampBytesPerRep: Math.round(onrampBytes), emptyJobBytes: Math.round(emptyBytes), rawSameJobBytes: Math.round(rawBytes), ratio: round(memoryRatio, 2), target: 1.3, pass: memoryRatio <= 1.3 },
  worker: { deliveries: deliveriesCount, reps: DELIVERY_REPS, concurrency: CONCURRENCY, seconds: round(deliverMs / 1000, 2), perSec: round(deliveriesPerSec, 1), emails: emails.length, emailsInOutbox: inOutbox, emailsSeconds: round(emailedMs / 1000, 2), decksMoved: movedDecks, duplicates, missing, failedJobs: failed },
  lateness: {
    probes: PROBES,
    backlog: withBacklog.backlog,
    p50Ms: withBacklog.p50,
    p95Ms: withBacklog.p95,
    p99Ms: withBacklog.p99,
    maxMs: withBacklog.max,
    emptyQueueP99Ms: emptyQueue.p99,
    targetMs: 1000,
    pass: withBacklog.p99 < 1000,
  },
};
await c.mongo.dropDatabase().catch(() => undefined);
await c.close();
await services.stop();
rmSync(dataDir, { recursive: true, force: true });
console.log(JSON.stringify(result));
process.exit(0);
