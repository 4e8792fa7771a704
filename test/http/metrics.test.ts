import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AssessmentService } from '../../src/features/assessments/service.js';
import { createMetrics, serveMetrics } from '../../src/infra/metrics.js';
import { createQueue } from '../../src/infra/queue.js';
import { connectRedis } from '../../src/infra/redis.js';
import { JOB_NAMES } from '../../src/jobs/registry.js';
import { jobDepsOf, startWorker } from '../../src/jobs/worker.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { captureLog } from '../support/log-capture.js';

/**
 * /metrics: Prometheus text, for the holder of METRICS_TOKEN only. Requests are counted by their
 * declared route, statements by what the LRS stored, queue depths read at scrape time, failed job
 * attempts in the worker (served on its own port). The matrix checks that without a token
 * /metrics is 404 for everyone.
 */
const TOKEN = 'metrics-token-0123456789-abcdefghij';
let ctx: TestContext;
let people: DemoPeople;
let lrsAuth: string;
let worker: Worker | undefined;
let workerRedis: Redis | undefined;
let workerServer: Server | undefined;
const logs = captureLog();

/** One sample: its name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

/** The value of the sample with exactly these labels; 0 when there is none yet. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value ?? 0;
}

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const res = await supertest(ctx.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
  return { text: res.text, samples: parse(res.text) };
}

const statement = () => ({
  id: randomUUID(),
  actor: { objectType: 'Agent', mbox: 'mailto:riley@example.com' },
  verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' },
  object: { objectType: 'Activity', id: 'https://lms.example.com/activities/metrics' },
});

beforeAll(async () => {
  ctx = await createTestContext({ METRICS_TOKEN: TOKEN }, { log: logs.logger });
  people = await seedPeople(ctx.container);
  const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'metrics test', scopes: ['all'] });
  lrsAuth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
});
afterAll(async () => {
  await worker?.close();
  workerRedis?.disconnect();
  await new Promise((r) => (workerServer ? workerServer.close(r) : r(undefined)));
  await ctx?.close();
});

describe('/metrics', () => {
  it('answers the METRICS_TOKEN only: not anonymous callers, a wrong token, an admin\'s session or API token', async () => {
    const http = supertest(ctx.app);
    const anonymous = await http.get('/metrics').expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="Onramp metrics"');
    expect(anonymous.text).not.toContain('onramp_');
    await http.get('/metrics').set('Authorization', `Bearer ${TOKEN}x`).expect(401);
    await http.get('/metrics').set('Authorization', `Basic ${Buffer.from(`metrics:${TOKEN}`).toString('base64')}`).expect(401);
    const admin = await signIn(ctx.app, people.admin.email);
    expect((await admin.agent.get('/metrics').expect(401)).text).not.toContain('onramp_');
    const { token: adminToken } = await ctx.container.accounts.createToken({ id: people.admin.id, role: 'admin' }, 'not for metrics');
    await http.get('/metrics').set('Authorization', `Bearer ${adminToken}`).expect(401);
    // the metrics token is nobody's account: it opens /metrics and nothing else
    await http.get('/api/me').set('Authorization', `Bearer ${TOKEN}`).expect(401);
    // the address matches as routes do (case, a trailing slash), and still only with the token
    await http.get('/Metrics/').expect(401);
    await http.get('/Metrics/').set('Authorization', `Bearer ${TOKEN}`).expect(200);

    const res = await http.get('/metrics').set('Authorization', `bearer ${TOKEN}`).expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parse(res.text);
    expect(valueOf(samples, 'onramp_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(samples, 'onramp_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(samples.filter((s) => !s.name.startsWith('onramp_'))).toEqual([]);
  });

  it('counts requests by declared route and status, the statements the LRS stored and the queue depths', async () => {
    const before = (await scrape()).samples;
    const http = supertest(ctx.app);
    for (let i = 0; i < 3; i++) await http.get('/healthz').expect(200);
    const admin = await signIn(ctx.app, people.admin.email);
    await admin.agent.get(`/users/${people.rep1.id}`).expect(200);
    await admin.agent.get('/users/0123456789abcdef01234567').expect(404);
    await http.get('/no/such/page').expect(404);
    await http.get(`/no/such/page/${people.rep2.id}`).expect(404);
    await http.get('/assets/favicon.svg').expect(200);

    // two statements, the same two again (stored already: nothing new), then one by PUT
    const xapi = { Authorization: lrsAuth, 'X-Experience-API-Version': '1.0.3' };
    const batch = [statement(), statement()];
    await http.post('/xapi/statements').set(xapi).send(batch).expect(200);
    await http.post('/xapi/statements').set(xapi).send(batch).expect(200);
    const one = statement();
    await http.put(`/xapi/statements?statementId=${one.id}`).set(xapi).send(one).expect(204);
    await http.post('/xapi/statements').set(xapi).send({ ...statement(), verb: 'not a verb' }).expect(400);

    // no worker runs here: one job waits, one is delayed for an hour
    await ctx.container.queue.add('attempts.expire', { attemptId: 'not-an-id' }, { jobId: 'metrics-bad-payload' });
    await ctx.container.queue.add('attempts.expire', { attemptId: 'a'.repeat(24) }, { jobId: 'metrics-later', delay: 3_600_000 });

    const { text, samples: after } = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    const get = (route: string, status: number) => ({ method: 'GET', route, status_code: String(status) });

    expect(delta('onramp_http_requests_total', get('/healthz', 200))).toBe(3);
    expect(delta('onramp_http_request_duration_seconds_count', get('/healthz', 200))).toBe(3);
    expect(delta('onramp_http_request_duration_seconds_bucket', { ...get('/healthz', 200), le: '+Inf' })).toBe(3);
    expect(delta('onramp_http_request_duration_seconds_sum', get('/healthz', 200))).toBeGreaterThan(0);
    expect(delta('onramp_http_requests_total', get('/users/:id', 200))).toBe(1);
    expect(delta('onramp_http_requests_total', get('/users/:id', 404))).toBe(1);
    expect(delta('onramp_http_requests_total', get('unmatched', 404))).toBe(2);
    expect(delta('onramp_http_requests_total', get('/assets', 200))).toBe(1);
    expect(delta('onramp_http_requests_total', { method: 'POST', route: '/xapi/statements', status_code: '200' })).toBe(2);
    expect(delta('onramp_http_requests_total', { method: 'POST', route: '/xapi/statements', status_code: '400' })).toBe(1);
    expect(delta('onramp_http_requests_total', { method: 'PUT', route: '/xapi/statements', status_code: '204' })).toBe(1);
    expect(delta('onramp_http_requests_total', get('/metrics', 200))).toBe(1); // the scrape before this one
    // the label is the declared path: no address, id or query string becomes a label value
    expect(text).not.toContain(people.rep1.id);
    expect(text).not.toContain(people.rep2.id);
    expect(text).not.toContain('statementId');

    expect(delta('onramp_xapi_statements_stored_total')).toBe(3);
    expect(delta('onramp_queue_jobs', { queue: 'onramp', state: 'waiting' })).toBe(1);
    expect(delta('onramp_queue_jobs', { queue: 'onramp', state: 'delayed' })).toBe(1);
    expect(valueOf(after, 'onramp_queue_jobs', { queue: 'onramp', state: 'active' })).toBe(0);
    expect(valueOf(after, 'onramp_queue_jobs', { queue: 'onramp', state: 'failed' })).toBe(0);
  });

  it('counts every failed job attempt in the worker, which serves its metrics on a port of its own', async () => {
    // the test's container stands in for the worker's: its registry is the one the worker serves
    workerServer = await serveMetrics(ctx.container.metrics, { host: '127.0.0.1', port: 0, token: TOKEN }, ctx.container.log);
    const base = `http://127.0.0.1:${(workerServer.address() as AddressInfo).port}`;
    const failing = { expire: () => Promise.reject(new Error('the database is away')) } as unknown as AssessmentService;
    workerRedis = connectRedis(ctx.config.redisUrl!, 'test-metrics-worker');
    worker = startWorker(workerRedis, ctx.config.redisPrefix, { ...jobDepsOf(ctx.container), assessments: failing }, 1);
    // the waiting bad payload (fails once, for good), a name nobody handles, and a job tried twice
    await ctx.container.queue.add('no.such.job', {}, { jobId: 'metrics-unknown' });
    await ctx.container.queue.add('attempts.expire', { attemptId: 'b'.repeat(24) }, { jobId: 'metrics-retried', attempts: 2, backoff: { type: 'fixed', delay: 10 } });

    await vi.waitFor(
      async () => {
        const { samples } = await scrape();
        expect(valueOf(samples, 'onramp_queue_jobs', { queue: 'onramp', state: 'failed' })).toBe(3);
        expect(valueOf(samples, 'onramp_queue_jobs', { queue: 'onramp', state: 'waiting' })).toBe(0);
      },
      { timeout: 20_000, interval: 200 },
    );

    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${base}/anything`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    const res = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const samples = parse(await res.text());
    expect(valueOf(samples, 'onramp_job_failures_total', { job: 'attempts.expire' })).toBe(3); // the bad payload once, the retried job twice
    expect(valueOf(samples, 'onramp_job_failures_total', { job: 'unknown' })).toBe(1);
    // every other job is there at 0 (so a first failure is an increase)
    const others = samples.filter((s) => s.name === 'onramp_job_failures_total' && !['attempts.expire', 'unknown'].includes(s.labels.job!));
    expect(others.map((s) => s.labels.job).sort()).toEqual(JOB_NAMES.filter((n) => n !== 'attempts.expire').sort());
    expect(others.map((s) => s.value)).toEqual(others.map(() => 0));
    expect(valueOf(samples, 'onramp_queue_jobs', { queue: 'onramp', state: 'delayed' })).toBe(1); // left alone, an hour away
  });

  it('still answers while Redis is away, without the queue depths it could not read', async () => {
    const away = connectRedis('redis://127.0.0.1:1', 'test-metrics-away'); // nothing listens there
    away.on('error', () => undefined);
    const queue = createQueue(away, 'away');
    queue.on('error', () => undefined);
    const metrics = createMetrics(ctx.container.log);
    metrics.watchQueue(queue);
    try {
      const started = Date.now();
      const samples = parse(await metrics.registry.metrics());
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(samples.filter((s) => s.name === 'onramp_queue_jobs')).toEqual([]);
      expect(valueOf(samples, 'onramp_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    } finally {
      away.disconnect();
      await queue.close().catch(() => undefined);
    }
  });
  it("counts a request whose client left before the answer once, as status 'aborted'", async () => {
    const before = (await scrape()).samples;
    // the next scrape takes its time; its client gives up first
    let answer!: (text: string) => void;
    const slow = vi.spyOn(ctx.container.metrics.registry, 'metrics').mockImplementationOnce(() => new Promise<string>((resolve) => (answer = resolve)));
    const server = ctx.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const req = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/metrics', headers: { Authorization: `Bearer ${TOKEN}` } });
      req.on('error', () => undefined); // the abort below
      req.end();
      await vi.waitFor(() => expect(slow).toHaveBeenCalled());
      req.destroy();
      await new Promise((r) => setTimeout(r, 200)); // the server sees the connection close
      answer('too late\n');
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      server.closeAllConnections();
      server.close();
    }
    const { samples: after } = await scrape();
    const delta = (status: string) => valueOf(after, 'onramp_http_requests_total', { method: 'GET', route: '/metrics', status_code: status }) - valueOf(before, 'onramp_http_requests_total', { method: 'GET', route: '/metrics', status_code: status });
    expect(delta('aborted')).toBe(1);
    expect(delta('200')).toBe(1); // the scrape before, not the aborted one again
    expect(valueOf(after, 'onramp_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status_code: 'aborted' })).toBe(1);
  });

  it('logs an answered scrape at debug and a refused one at warn', async () => {
    const from = logs.lines.length;
    const answered = await supertest(ctx.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    const refused = await supertest(ctx.app).get('/metrics').expect(401);
    const levelOf = (id: string) => logs.records().slice(from).find((r) => (r.req as { id?: string } | undefined)?.id === id && r.res)?.level;
    expect(levelOf(answered.headers['x-request-id'] as string)).toBe(20);
    expect(levelOf(refused.headers['x-request-id'] as string)).toBe(40);
  });

  it('logs an error of the worker metrics server once it listens, rather than dropping it', async () => {
    const own = captureLog();
    const server = await serveMetrics(ctx.container.metrics, { host: '127.0.0.1', port: 0, token: TOKEN }, own.logger(ctx.config));
    try {
      server.emit('error', Object.assign(new Error('accept failed'), { code: 'EMFILE' }));
      expect(own.records()).toEqual([expect.objectContaining({ level: 50, msg: 'the worker metrics server failed', err: expect.objectContaining({ message: 'accept failed' }) })]);
    } finally {
      server.close();
    }
  });

  it('reports every queue to each of two scrapes running at once', async () => {
    // two queues whose counts arrive when the test says, so that the scrapes interleave
    const pending: { queue: string; resolve: (counts: Record<string, number>) => void }[] = [];
    const fakeQueue = (name: string) => ({ name, getJobCounts: () => new Promise((resolve) => pending.push({ queue: name, resolve })) }) as unknown as Queue;
    const metrics = createMetrics(ctx.container.log);
    metrics.watchQueue(fakeQueue('first'));
    metrics.watchQueue(fakeQueue('second'));
    const counts = (n: number) => ({ waiting: n, active: 0, delayed: 0, failed: 0 });
    /** answers the oldest count asked of this queue, and lets what waits on it run */
    const answer = async (queue: string, n: number) => {
      pending.splice(pending.findIndex((p) => p.queue === queue), 1)[0]!.resolve(counts(n));
      await new Promise((r) => setImmediate(r));
    };

    const one = metrics.registry.metrics();
    await vi.waitFor(() => expect(pending).toHaveLength(2));
    await answer('first', 1); // the first scrape has one queue's figures …
    const two = metrics.registry.metrics(); // … when the second starts
    await vi.waitFor(() => expect(pending).toHaveLength(3));
    await answer('second', 2);
    const first = parse(await one);
    await answer('first', 3);
    await answer('second', 4);
    const second = parse(await two);

    const depths = (samples: Sample[]) => samples.filter((s) => s.name === 'onramp_queue_jobs' && s.labels.state === 'waiting').map((s) => [s.labels.queue, s.value]);
    expect(depths(first)).toEqual([
      ['first', 1],
      ['second', 2],
    ]);
    expect(depths(second)).toEqual([
      ['first', 3],
      ['second', 4],
    ]);
  });
});
