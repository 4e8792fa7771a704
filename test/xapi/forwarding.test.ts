import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import getPort from 'get-port';
import supertest from 'supertest';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalLocker } from '../../src/infra/locks.js';
import { connectRedis } from '../../src/infra/redis.js';
import { jobDepsOf, startWorker } from '../../src/jobs/worker.js';
import { XapiForwardClient, type ForwardClient, type SendOutcome } from '../../src/xapi/forward/client.js';
import { StatementForwarder } from '../../src/xapi/forward/outbox.js';
import { parseMixed, writeMixed, type AttachmentPart } from '../../src/xapi/lrs/multipart.js';
import { indexFields, StatementStore, STATEMENTS_COLLECTION, type StatementDoc } from '../../src/xapi/lrs/store.js';
import { DEMO_DOMAIN } from '../../src/features/accounts/demo-seed.js';
import { createTestContext, seedPeople, signIn, type TestContext } from '../support/context.js';

type Json = Record<string, unknown>;

const basic = (key: string, secret: string) => `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

/**
 * A stand-in for an external LRS, on a real port. Like a real one it stores a statement once by
 * id, accepts an identical re-send, and refuses a batch whole (409) when one id holds other
 * content. It can be told to fail the next requests with 500. `deliveries` counts, per id, the
 * requests it answered 2xx that carried the statement.
 */
class FakeLrs {
  readonly stored = new Map<string, string>();
  readonly deliveries = new Map<string, number>();
  /** attachment content received, by hash */
  readonly parts = new Map<string, Buffer>();
  requests = 0;
  failNext = 0;
  private server: Server | undefined;

  constructor(private readonly auth: string) {}

  listen(port: number): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    return new Promise((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    this.requests++;
    const answer = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    if (this.failNext > 0) {
      this.failNext--;
      return void answer(500, { error: 'temporarily down' });
    }
    if (req.headers.authorization !== this.auth) return void answer(401, { error: 'bad credentials' });
    if (req.method !== 'POST' || req.url !== '/xapi/statements' || req.headers['x-experience-api-version'] !== '1.0.3') return void answer(400, { error: `unexpected ${req.method} ${req.url}` });
    const raw = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    const mixed = type.startsWith('multipart/mixed') ? parseMixed(raw, type) : undefined;
    const body = (mixed ? mixed.json : JSON.parse(raw.toString('utf8'))) as Json | Json[];
    const batch = Array.isArray(body) ? body : [body];
    const needed = batch.flatMap((s) => ((s.attachments as Json[] | undefined) ?? []).filter((a) => !a.fileUrl).map((a) => String(a.sha2)));
    const missing = needed.find((h) => !mixed?.parts.some((p) => p.sha2 === h));
    if (missing) return void answer(400, { error: `no content for attachment ${missing}` });
    for (const p of mixed?.parts ?? []) this.parts.set(p.sha2, p.content);
    const conflict = batch.find((s) => this.stored.has(String(s.id)) && this.stored.get(String(s.id)) !== JSON.stringify(s));
    if (conflict) return void answer(409, { error: `a different statement ${String(conflict.id)} is stored` });
    for (const s of batch) {
      this.stored.set(String(s.id), JSON.stringify(s));
      this.deliveries.set(String(s.id), (this.deliveries.get(String(s.id)) ?? 0) + 1);
    }
    answer(200, batch.map((s) => s.id));
  }
}

const statement = (n: number, extra: Json = {}): Json => ({
  actor: { objectType: 'Agent', name: `Rep ${n % 7}`, mbox: `mailto:rep${n % 7}@example.com` },
  verb: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { 'en-US': 'experienced' } },
  object: { objectType: 'Activity', id: `https://lms.example.com/activities/forward-${n}` },
  ...extra,
});

describe('forwarding every statement to an external LRS through an outage', () => {
  const KEY = 'onramp-at-lrs';
  const SECRET = 'lrs-secret-for-onramp';
  let ctx: TestContext;
  let fake: FakeLrs;
  let port: number;
  let auth: string;
  let worker: Worker | undefined;
  let workerRedis: ReturnType<typeof connectRedis> | undefined;

  beforeAll(async () => {
    port = await getPort(); // nothing listens there yet: connections are refused
    fake = new FakeLrs(basic(KEY, SECRET));
    ctx = await createTestContext({ XAPI_FORWARD_URL: `http://127.0.0.1:${port}/xapi`, XAPI_FORWARD_KEY: KEY, XAPI_FORWARD_SECRET: SECRET, XAPI_FORWARD_BATCH: '50' });
    await seedPeople(ctx.container);
    const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Authoring tool', scopes: ['all'] });
    auth = basic(key, secret);
  });
  afterAll(async () => {
    await worker?.close();
    workerRedis?.disconnect();
    await fake?.close();
    await ctx?.close();
  });

  const post = (body: unknown) =>
    supertest(ctx.app).post('/xapi/statements').set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' }).send(body as object).expect(200);
  const backlog = () => ctx.container.forwarding.backlog();
  const storedIds = async () => (await ctx.container.mongo.db!.collection<StatementDoc>(STATEMENTS_COLLECTION).find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id);

  it('loses nothing and delivers each statement exactly once', async () => {
    const onrampAuthority = { objectType: 'Agent', name: 'Onramp', account: { homePage: ctx.config.publicUrl, name: 'onramp' } };
    // The external LRS already holds different content under one id Onramp will store.
    const clashing = randomUUID();
    fake.stored.set(clashing, JSON.stringify({ id: clashing, note: 'something else' }));

    // 1. The LRS is down (connection refused): 120 statements through /xapi, 60 of Onramp's own.
    const sent: string[] = [];
    for (let b = 0; b < 6; b++) {
      const batch = Array.from({ length: 20 }, (_, i) => statement(b * 20 + i, b % 2 ? { id: randomUUID() } : {}));
      sent.push(...((await post(batch)).body as string[]));
    }
    for (let b = 0; b < 2; b++) {
      sent.push(...(await ctx.container.statements.save(Array.from({ length: 30 }, (_, i) => statement(1000 + b * 30 + i, { id: randomUUID() })), onrampAuthority)));
    }
    await expect(ctx.container.forwarding.drain()).rejects.toThrow(/ECONNREFUSED/);
    let b1 = await backlog();
    expect(b1).toMatchObject({ enabled: true, target: `http://127.0.0.1:${port}/xapi/`, pending: 180, forwarded: 0, failed: 0 });
    expect(b1.oldestPending).toMatchObject({ attempts: 1, error: expect.stringMatching(/could not reach 127\.0\.0\.1:\d+: connect ECONNREFUSED/) });

    // 2. It answers again, but 500 for a while.
    await fake.listen(port);
    fake.failNext = 2;
    await expect(ctx.container.forwarding.drain()).rejects.toThrow(/500 Internal Server Error/);
    await expect(ctx.container.forwarding.drain()).rejects.toThrow(/500/);
    b1 = await backlog();
    expect(b1).toMatchObject({ pending: 180, forwarded: 0 });
    expect(b1.oldestPending).toMatchObject({ attempts: 3, error: expect.stringContaining('the external LRS answered 500') });
    expect(fake.deliveries.size).toBe(0);

    // 3. More statements meanwhile: 120 new ones (one of them the clashing id), identical re-sends
    //    of a whole batch and of single statements, one with an attachment's content (multipart),
    //    and a voiding statement.
    const more = Array.from({ length: 118 }, (_, i) => statement(2000 + i, { id: i === 57 ? clashing : randomUUID() }));
    for (let i = 0; i < more.length; i += 40) sent.push(...((await post(more.slice(i, i + 40))).body as string[]));
    const script = Buffer.from('Hi, this is Riley from Onramp. The reason for my call…');
    const sha2 = createHash('sha256').update(script).digest('hex');
    const withContent = statement(3000, { attachments: [{ usageType: 'http://id.tincanapi.com/attachment/supporting_media', display: { 'en-US': 'Call script' }, contentType: 'text/plain', length: script.length, sha2 }] });
    const mixed = writeMixed(withContent, [{ sha2, contentType: 'text/plain', content: script }]);
    sent.push(...((await supertest(ctx.app).post('/xapi/statements').set({ Authorization: auth, 'X-Experience-API-Version': '1.0.3', 'Content-Type': mixed.contentType }).send(mixed.body).expect(200)).body as string[]));
    expect((await post(more.slice(0, 40))).body).toEqual(sent.slice(180, 220)); // re-sent: same ids, nothing new
    expect((await post(more[90])).body).toEqual([more[90]!.id]);
    const voided = sent[3]!;
    sent.push(...((await post({ actor: statement(0).actor, verb: { id: 'http://adlnet.gov/expapi/verbs/voided' }, object: { objectType: 'StatementRef', id: voided } })).body as string[]));
    expect(new Set(sent).size).toBe(300);
    expect((await storedIds()).sort()).toEqual([...sent].sort());
    expect((await backlog()).pending).toBe(300);

    // 4. The real job path: the kicks queued while no worker ran, picked up by a worker now;
    //    two more drains race it (one batch in flight at a time, whoever sends it).
    workerRedis = connectRedis(ctx.config.redisUrl!, 'test-forward-worker');
    worker = startWorker(workerRedis, ctx.config.redisPrefix, jobDepsOf(ctx.container));
    await Promise.all([ctx.container.forwarding.drain(), ctx.container.forwarding.drain()]);
    await vi.waitFor(async () => expect((await backlog()).pending).toBe(0), { timeout: 60_000, interval: 200 });

    // The clashing statement failed for good (409), visibly; the queue went on without it.
    const b4 = await backlog();
    expect(b4).toMatchObject({ pending: 0, forwarded: 299, failed: 1 });
    expect(b4.failures).toEqual([expect.objectContaining({ id: clashing, error: expect.stringMatching(/refused this statement: 409 Conflict.*different statement with this id/) })]);
    expect(fake.deliveries.has(clashing)).toBe(false);

    // The admin sees it, and puts it back in the queue once the other LRS no longer holds the clash.
    const admin = await signIn(ctx.app, `admin@${DEMO_DOMAIN}`);
    let page = (await admin.agent.get('/admin/lrs/forwarding').expect(200)).text;
    expect(page).toContain(`http://127.0.0.1:${port}/xapi/`);
    expect(page).toMatch(/data-testid="forward-pending">0</);
    expect(page).toMatch(/data-testid="forward-forwarded">299</);
    expect(page).toMatch(/data-testid="forward-failed">1</);
    expect(page).toContain(clashing);
    expect(page).toContain('409 Conflict');
    fake.stored.delete(clashing);
    const retried = await admin.agent.post('/admin/lrs/forwarding/retry').type('form').send({ _csrf: admin.csrf }).expect(303);
    expect(retried.headers.location).toBe('/admin/lrs/forwarding');
    await vi.waitFor(async () => expect((await backlog()).forwarded).toBe(300), { timeout: 60_000, interval: 200 });

    // Every stored statement reached the LRS exactly once, exactly as Onramp stores it.
    const final = await backlog();
    expect(final).toMatchObject({ pending: 0, forwarded: 300, failed: 0, oldestPending: undefined, failures: [] });
    expect([...fake.deliveries.keys()].sort()).toEqual([...sent].sort());
    expect([...fake.deliveries].filter(([, n]) => n !== 1)).toEqual([]); // [id, deliveries] of any statement not delivered exactly once
    const docs = await ctx.container.mongo.db!.collection<StatementDoc>(STATEMENTS_COLLECTION).find({}).toArray();
    for (const d of docs) expect(fake.stored.get(d._id)).toBe(d.json);
    // so does attachment content, and voided and voiding statements travel like any other
    expect(fake.parts.get(sha2)).toEqual(script);
    expect(docs.find((d) => d._id === voided)?.voided).toBe(true);
    expect(JSON.parse(fake.stored.get(sent.at(-1)!)!)).toMatchObject({ verb: { id: 'http://adlnet.gov/expapi/verbs/voided' }, object: { id: voided } });

    page = (await admin.agent.get('/admin/lrs/forwarding').expect(200)).text;
    expect(page).toMatch(/data-testid="forward-forwarded">300</);
    expect(page).toMatch(/data-testid="forward-failed">0</);
    expect(page).toContain('No failed statements');
  });

  it('answers with what the LRS said: refused for good, or try again later (with a hint)', async () => {
    const client = new XapiForwardClient(`http://127.0.0.1:${port}/xapi/`, KEY, 'wrong-secret');
    const one = statement(1, { id: randomUUID() });
    expect(await client.send([one])).toEqual({ kind: 'unavailable', message: expect.stringMatching(/answered 401 Unauthorized.*XAPI_FORWARD_KEY and XAPI_FORWARD_SECRET/) });
    const good = new XapiForwardClient(`http://127.0.0.1:${port}/xapi/`, KEY, SECRET);
    expect(await good.send([one])).toEqual({ kind: 'accepted' });
    expect(await good.send([{ ...one, verb: { id: 'http://adlnet.gov/expapi/verbs/attempted' } }])).toMatchObject({ kind: 'refused', status: 409 });
    const nowhere = new XapiForwardClient(`http://127.0.0.1:${await getPort()}/xapi/`, KEY, SECRET);
    expect(await nowhere.send([one])).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('ECONNREFUSED') });
  });
});

/** Scripted answers, for the drain's failure handling. */
class ScriptedLrs implements ForwardClient {
  readonly calls: string[][] = [];
  readonly partsSent: string[][] = [];
  /** when set: every request fails with this (unreachable) */
  down: string | undefined;
  /** requests answered before it goes down */
  downAfter = Infinity;
  readonly conflicts = new Set<string>();

  async send(statements: Json[], parts: AttachmentPart[] = []): Promise<SendOutcome> {
    const ids = statements.map((s) => String(s.id));
    this.calls.push(ids);
    this.partsSent.push(parts.map((p) => p.sha2));
    if (this.down || this.calls.length > this.downAfter) return { kind: 'unavailable', message: this.down ?? 'could not reach lrs.example.com: connect ECONNREFUSED' };
    if (ids.some((id) => this.conflicts.has(id))) return { kind: 'refused', status: 409, message: '409 Conflict' };
    return { kind: 'accepted' };
  }
}

describe('the outbox drain', () => {
  let ctx: TestContext;
  let store: StatementStore;
  let lrs: ScriptedLrs;
  let forwarder: StatementForwarder;
  let kicks = 0;
  let seq = 0;
  let held: AttachmentPart[] = [];
  const attachments = async (hashes: string[]) => held.filter((p) => hashes.includes(p.sha2));

  beforeAll(async () => {
    ctx = await createTestContext();
    store = new StatementStore(ctx.container.mongo, { outbox: { notify: async () => void kicks++ }, locks: new LocalLocker() });
    await store.ensureIndexes();
  });
  afterAll(async () => ctx?.close());
  beforeEach(async () => {
    await store.col.deleteMany({});
    lrs = new ScriptedLrs();
    held = [];
    forwarder = new StatementForwarder(store, lrs, new LocalLocker(), { batchSize: 10, target: 'https://lrs.example.com/xapi/', kick: async () => void kicks++, attachments });
  });

  /** Stores statements as the LRS resource does (one insert, in order); returns their ids. */
  async function store_(count: number, extra: (i: number) => Json = () => ({})): Promise<string[]> {
    const at = new Date();
    const docs: StatementDoc[] = Array.from({ length: count }, (_, i) => {
      const full: Json = { ...statement(i, { id: randomUUID(), ...extra(i) }), stored: at.toISOString(), timestamp: at.toISOString(), version: '1.0.0', authority: { objectType: 'Agent', mbox: 'mailto:lrs@example.com' } };
      return { _id: String(full.id), json: JSON.stringify(full), stored: at, seq: seq++, voided: false, ...indexFields(full) };
    });
    await store.insertNew(docs);
    return docs.map((d) => d._id);
  }
  const states = async (ids: string[]) => Promise.all(ids.map(async (_id) => (await store.col.findOne({ _id }))!));

  it('keeps statements pending while the LRS is unreachable, counting attempts and keeping the error', async () => {
    const before = kicks;
    const ids = await store_(3);
    expect(kicks).toBe(before + 1); // one kick for the insert
    lrs.down = 'could not reach lrs.example.com: connect ECONNREFUSED 10.0.0.5:443';
    await expect(forwarder.drain()).rejects.toThrow(/ECONNREFUSED.*3 statement\(s\) stay pending/);
    await expect(forwarder.drain()).rejects.toThrow(/ECONNREFUSED/);
    for (const d of await states(ids)) expect(d).toMatchObject({ forward: 'pending', forwardAttempts: 2, forwardError: lrs.down });
    lrs.down = undefined;
    expect(await forwarder.drain()).toEqual({ forwarded: 3, failed: 0 });
    for (const d of await states(ids)) {
      expect(d).toMatchObject({ forward: 'forwarded', forwardAttempts: 3, forwardedAt: expect.any(Date) });
      expect(d.forwardError).toBeUndefined();
    }
    expect(lrs.calls).toEqual([ids, ids, ids]);
  });

  it('on a 409 sends the batch one by one: the clashing statement fails for good, the others go through in order', async () => {
    const ids = await store_(5);
    lrs.conflicts.add(ids[2]!);
    expect(await forwarder.drain()).toEqual({ forwarded: 4, failed: 1 });
    expect(lrs.calls).toEqual([ids, ...ids.map((id) => [id])]);
    const after = await states(ids);
    expect(after.map((d) => d.forward)).toEqual(['forwarded', 'forwarded', 'failed', 'forwarded', 'forwarded']);
    expect(after[2]!.forwardError).toMatch(/refused this statement: 409 Conflict — it holds a different statement with this id/);
    expect(await forwarder.drain()).toEqual({ forwarded: 0, failed: 0 }); // not retried by itself
    expect(lrs.calls).toHaveLength(6);
    expect(await forwarder.backlog()).toMatchObject({ pending: 0, forwarded: 4, failed: 1, failures: [expect.objectContaining({ id: ids[2] })] });

    lrs.conflicts.clear();
    const before = kicks;
    expect(await forwarder.retryFailed()).toBe(1);
    expect(kicks).toBe(before + 1);
    expect(await forwarder.drain()).toEqual({ forwarded: 1, failed: 0 });
    expect(lrs.calls.at(-1)).toEqual([ids[2]]);
  });

  it('leaves the rest pending when the LRS goes away during the one-by-one pass', async () => {
    const ids = await store_(4);
    lrs.conflicts.add(ids[0]!);
    lrs.downAfter = 3; // the batch, then two single sends
    await expect(forwarder.drain()).rejects.toThrow(/2 statement\(s\) stay pending/);
    expect((await states(ids)).map((d) => d.forward)).toEqual(['failed', 'forwarded', 'pending', 'pending']);
  });

  it('takes the oldest batch first, and keeps going until nothing is pending', async () => {
    const ids = await store_(25);
    expect(await forwarder.drain()).toEqual({ forwarded: 25, failed: 0 });
    expect(lrs.calls).toEqual([ids.slice(0, 10), ids.slice(10, 20), ids.slice(20)]);
  });

  it('sends attachment content along (once per hash), and fails a statement whose content it does not hold', async () => {
    const content = Buffer.from('notes');
    const sha2 = createHash('sha256').update(content).digest('hex');
    held = [{ sha2, contentType: 'text/plain', content }];
    const attachment = (hash: string) => ({ usageType: 'http://id.tincanapi.com/attachment/supporting_media', display: { 'en-US': 'notes' }, contentType: 'text/plain', length: 5, sha2: hash });
    const ids = await store_(5, (i) =>
      [{ attachments: [attachment(sha2)] }, { attachments: [{ ...attachment('b'.repeat(64)), fileUrl: 'https://files.example.com/notes.txt' }] }, { attachments: [attachment('c'.repeat(64))] }, {}, { attachments: [attachment(sha2)] }][i]!,
    );
    expect(await forwarder.drain()).toEqual({ forwarded: 4, failed: 1 });
    expect(lrs.calls).toEqual([[ids[0], ids[1], ids[3], ids[4]]]);
    expect(lrs.partsSent).toEqual([[sha2]]);
    expect((await states(ids))[2]).toMatchObject({ forward: 'failed', forwardError: expect.stringContaining(`does not hold the content of attachment(s) ${'c'.repeat(64)}`) });
  });

  it('does nothing when forwarding is off, and stores statements outside the outbox', async () => {
    const off = new StatementStore(ctx.container.mongo);
    const at = new Date();
    const full: Json = { ...statement(1, { id: randomUUID() }), stored: at.toISOString() };
    await off.insertNew([{ _id: String(full.id), json: JSON.stringify(full), stored: at, seq: 0, voided: false, ...indexFields(full) }]);
    expect((await store.col.findOne({ _id: String(full.id) }))?.forward).toBeUndefined();
    const idle = new StatementForwarder(off, undefined, new LocalLocker(), { batchSize: 10, target: undefined, kick: async () => undefined, attachments });
    expect(idle.enabled).toBe(false);
    expect(await idle.drain()).toEqual({ forwarded: 0, failed: 0 });
    expect(await idle.backlog()).toMatchObject({ enabled: false, pending: 0, forwarded: 0, failed: 0 });
  });
});
