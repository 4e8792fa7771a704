import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/env.js';
import { DEMO_DOMAIN, DEMO_PASSWORD } from '../../src/features/accounts/demo-seed.js';
import { findFerretdb } from '../../src/infra/embedded/ferretdb.js';
import { STATEMENTS_COLLECTION } from '../../src/xapi/lrs/store.js';
import { createTestContext, csrfFrom, seedPeople, type TestContext } from '../support/context.js';
import { DedicatedFerretdb, endAll, until } from './support/processes.js';

/**
 * The database crashes under load and comes back (issue: hardening). A FerretDB of this test's own
 * is SIGKILLed while a signed-in trainer reads pages and an xAPI client posts statements to the real
 * app on a real port, then started again on the same port and data. While it is down every request
 * must be answered quickly with 503 (a clear message, Retry-After), never hang and never 500, and
 * /readyz must say so; once it is back the app recovers by itself, and every statement the app
 * acknowledged (2xx) — before, during or after — is stored.
 */

/** No request may take longer than this, down or up (a hung request is the failure this guards against). */
const BOUND_MS = 3_000;
/** Requests still unanswered after this are counted as hung (and fail the test). */
const HANG_MS = 15_000;

interface Answer {
  kind: 'page' | 'read' | 'write';
  startedAt: number;
  ms: number;
  /** 0: no answer within HANG_MS, or the connection failed */
  status: number;
  retryAfter: string | null;
  contentType: string;
  body: string;
}

const dirs: string[] = [];
let ctx: TestContext | undefined;
let server: Server | undefined;

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await ctx?.close().catch(() => undefined); // its database, its Redis keys (sessions), its data folder
  await endAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}, 60_000);

/** A browser's cookies, enough for the sign-in form and the session. */
class Browser {
  private readonly jar = new Map<string, string>();

  constructor(private readonly base: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size) headers.set('Cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      this.jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  }

  async signIn(email: string): Promise<void> {
    const csrf = csrfFrom(await (await this.fetch('/login')).text());
    const res = await this.fetch('/login', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, email, password: DEMO_PASSWORD }).toString() });
    if (res.status !== 303) throw new Error(`sign-in as ${email} answered ${res.status}`);
  }
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! : 0;
};

describe('FerretDB SIGKILLed and restarted under load', () => {
  let db: DedicatedFerretdb;
  let base: string;
  let xapiAuth: string;
  let knownStatement: string;

  beforeAll(async () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    const bin = findFerretdb(config);
    if (!bin) throw new Error('no ferretdb binary: `npm run onramp -- prepare` builds it');
    const dir = mkdtempSync(join(tmpdir(), 'onramp-faults-ferretdb-'));
    dirs.push(dir);
    db = new DedicatedFerretdb(await getPort({ host: '127.0.0.1' }), dir, bin);
    await db.start();
    ctx = await createTestContext({ MONGODB_URL: db.url('onramp_faults') });
    await seedPeople(ctx.container);
    const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Load client', scopes: ['all'] });
    xapiAuth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
    knownStatement = randomUUID();
    await ctx.container.statements.save([statement(knownStatement)], { objectType: 'Agent', name: 'Onramp', account: { homePage: ctx.config.publicUrl, name: 'onramp' } });
    server = createServer(ctx.app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }, 120_000);

  function statement(id: string) {
    return {
      id,
      actor: { objectType: 'Agent', name: 'Load rep', mbox: 'mailto:load-rep@example.com' },
      verb: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { 'en-US': 'experienced' } },
      object: { objectType: 'Activity', id: `https://lms.example.com/activities/${id}` },
    };
  }

  async function timed(kind: Answer['kind'], go: () => Promise<Response>): Promise<Answer> {
    const startedAt = Date.now();
    try {
      const res = await go();
      const body = await res.text();
      return { kind, startedAt, ms: Date.now() - startedAt, status: res.status, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type') ?? '', body };
    } catch (err) {
      return { kind, startedAt, ms: Date.now() - startedAt, status: 0, retryAfter: null, contentType: '', body: String((err as Error).cause ?? err) };
    }
  }

  it('answers 503 quickly while it is down, recovers by itself, and keeps every acknowledged write', async () => {
    const trainer = new Browser(base);
    await trainer.signIn(`trainer@${DEMO_DOMAIN}`);
    const xapiHeaders = { Authorization: xapiAuth, 'X-Experience-API-Version': '1.0.3' };
    const answers: Answer[] = [];
    const acknowledged: { id: string; at: number }[] = [];
    let running = true;

    const readPages = async () => {
      while (running) answers.push(await timed('page', () => trainer.fetch('/account', { signal: AbortSignal.timeout(HANG_MS) })));
    };
    const readStatements = async () => {
      while (running) answers.push(await timed('read', () => fetch(`${base}/xapi/statements?statementId=${knownStatement}`, { headers: xapiHeaders, signal: AbortSignal.timeout(HANG_MS) })));
    };
    const writeStatements = async () => {
      while (running) {
        const id = randomUUID();
        const a = await timed('write', () =>
          fetch(`${base}/xapi/statements`, { method: 'POST', headers: { ...xapiHeaders, 'Content-Type': 'application/json' }, body: JSON.stringify(statement(id)), signal: AbortSignal.timeout(HANG_MS) }),
        );
        answers.push(a);
        if (a.status >= 200 && a.status < 300) {
          expect(JSON.parse(a.body)).toEqual([id]);
          acknowledged.push({ id, at: a.startedAt + a.ms });
        }
        await sleep(10);
      }
    };
    const readiness: { at: number; ms: number; status: number; body: string }[] = [];
    const pollReadiness = async () => {
      while (running) {
        const r = await timed('read', () => fetch(`${base}/readyz`, { signal: AbortSignal.timeout(HANG_MS) }));
        readiness.push({ at: r.startedAt, ms: r.ms, status: r.status, body: r.body });
        await sleep(250);
      }
    };
    const load = Promise.all([readPages(), readStatements(), writeStatements(), writeStatements(), pollReadiness()]);

    await sleep(3_000);
    const killedAt = Date.now();
    await db.kill();
    await sleep(6_000);
    const restartedAt = Date.now();
    await db.start();
    const upAt = Date.now();
    // recovered: a write and a page read, both started after the restart, answered 2xx
    const recoveredAt = await until(
      'the app to answer again after the restart',
      async () => {
        const ok = (kind: Answer['kind']) => answers.find((a) => a.kind === kind && a.startedAt >= upAt && a.status >= 200 && a.status < 400);
        const w = ok('write');
        const p = ok('page');
        return w && p ? Math.max(w.startedAt + w.ms, p.startedAt + p.ms) : null;
      },
      30_000,
      () => JSON.stringify(answers.slice(-5)),
    );
    await sleep(3_000);
    running = false;
    await load;

    const ok = answers.filter((a) => a.status >= 200 && a.status < 400);
    const unavailable = answers.filter((a) => a.status === 503);
    const other = answers.filter((a) => !ok.includes(a) && !unavailable.includes(a));
    const down = answers.filter((a) => a.startedAt > killedAt + 200 && a.startedAt + a.ms < restartedAt);
    const p99 = quantile(answers.map((a) => a.ms), 0.99);
    const max = Math.max(...answers.map((a) => a.ms));
    const readyDown = readiness.filter((r) => r.at > killedAt + 200 && r.at + r.ms < restartedAt);

    // every acknowledged statement is stored (read through the app's own, recovered, connection)
    const stored = new Set(
      (await ctx!.container.mongo.db!.collection<{ _id: string }>(STATEMENTS_COLLECTION).find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id),
    );
    const missing = acknowledged.filter((w) => !stored.has(w.id));
    const ackedWhen = (from: number, to: number) => acknowledged.filter((w) => w.at >= from && w.at < to).length;

    console.log(
      `ferretdb-kill: ${answers.length} requests, ${ok.length} ok, ${unavailable.length} 503 (${down.length} while it was down, p99 ${(p99 / 1000).toFixed(2)} s, max ${(max / 1000).toFixed(2)} s), ` +
        `${other.length} other errors, /readyz while down ${readyDown.filter((r) => r.status === 503).length}/${readyDown.length} not ready, ` +
        `acknowledged writes ${acknowledged.length - missing.length}/${acknowledged.length} present (${ackedWhen(0, killedAt)} before the kill, ${ackedWhen(killedAt, upAt)} while down, ${ackedWhen(upAt, Infinity)} after), recovered ${((recoveredAt - upAt) / 1000).toFixed(1)} s after FerretDB was up ` +
        `(down ${((upAt - killedAt) / 1000).toFixed(1)} s)`,
    );
    expect(other.map((a) => `${a.kind} ${a.status} after ${a.ms} ms (started ${a.startedAt - killedAt} ms after the kill): ${a.body.slice(0, 200)}`)).toEqual([]);
    expect(missing).toEqual([]);
    expect(down.length).toBeGreaterThan(10);
    for (const a of down) {
      expect(a.status, `${a.kind} while FerretDB was down`).toBe(503);
      expect(a.retryAfter).toMatch(/^\d+$/);
      if (a.kind === 'page') {
        expect(a.contentType).toMatch(/^text\/html/);
        expect(a.body).toContain('The database is not reachable');
      } else expect(JSON.parse(a.body)).toMatchObject({ error: { code: 'unavailable', message: expect.stringContaining('database') } });
    }
    expect(max, 'every request answered within the bound').toBeLessThanOrEqual(BOUND_MS);
    expect(readyDown.length).toBeGreaterThanOrEqual(2);
    expect(readyDown.every((r) => r.status === 503 && JSON.parse(r.body).status === 'unavailable')).toBe(true);
    expect(readiness.at(-1)!.status).toBe(200);
    expect(acknowledged.length).toBeGreaterThan(20);
    expect(ok.filter((a) => a.startedAt > recoveredAt).length).toBeGreaterThan(10); // and it stays up
  }, 90_000);

  /**
   * The hang the test above found once in a few crashes, made certain: the server closed the
   * connections, Node destroyed their sockets, and a command takes one of them from the pool before
   * the driver heard (its 'close' event comes a moment later). The unpatched driver writes to the
   * destroyed socket and waits for ever; infra/mongo.ts makes that write fail as a network error.
   */
  it('a command on a connection whose socket was just destroyed fails fast (or is retried) instead of hanging', async () => {
    const mongo = ctx!.container.mongo;
    const col = mongo.db!.collection('faults_race');
    await col.insertOne({ n: 0 });
    const destroyIdleSockets = () => {
      const topology = (mongo.getClient() as unknown as { topology: { s: { servers: Map<string, { pool: { connections: Iterable<{ socket: { destroy(): void } }> } }> } } }).topology;
      const sockets = [...topology.s.servers.values()].flatMap((s) => [...s.pool.connections]);
      for (const c of sockets) c.socket.destroy(); // what Node does on the server's FIN, before it emits 'close'
      return sockets.length;
    };
    const settle = <T,>(p: Promise<T>) =>
      Promise.race([p.then((v) => ({ outcome: 'ok' as const, v }), (err: Error) => ({ outcome: 'error' as const, v: err.name })), sleep(5_000).then(() => ({ outcome: 'hung' as const, v: null }))]);

    expect(destroyIdleSockets()).toBeGreaterThan(0);
    const read = await settle(col.findOne({ n: 0 })); // a read is retried once on a fresh connection
    expect(read.outcome, 'a read on a destroyed socket').toBe('ok');
    expect(destroyIdleSockets()).toBeGreaterThan(0);
    const write = await settle(col.insertOne({ n: 1 })); // FerretDB has no retryable writes: the error reaches the caller (→ 503)
    console.log(`driver-race: on a connection whose socket was destroyed, a read → ${read.outcome} (retried), a write → ${write.outcome} (${String(write.v)})`);
    expect(write).toEqual({ outcome: 'error', v: 'MongoNetworkError' });
  });
});
