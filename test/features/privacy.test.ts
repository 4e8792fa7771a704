import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Schema, Types } from 'mongoose';
import supertest from 'supertest';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import type { Actor } from '../../src/engine/access.js';
import { Conflict } from '../../src/errors.js';
import type { Locker } from '../../src/infra/locks.js';
import { deliveryJobId } from '../../src/features/reinforcement/scheduler.js';
import type { PublicUser } from '../../src/features/accounts/presenters.js';
import type { DeliveryDoc } from '../../src/features/reinforcement/model.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { agentKeysOf, PERSONAL_DATA, type PersonalData, type PrivacyDeps, type Subject } from '../../src/features/privacy/registry.js';
import { privacyDeps, privacyService, PrivacyService, type PersonalDataExport } from '../../src/features/privacy/service.js';
import { registrationOf } from '../../src/xapi/catalogue.js';
import { StatementStore, VOIDED, type StatementDoc } from '../../src/xapi/lrs/store.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { deliverLater, fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';

/**
 * Requests to export or erase one person's data. Reps with a learning history in every collection
 * that holds a person's records (enrollment, attempt, reinforcement, transfer work reviewed and
 * approved with its PDF, a session seat, summaries, emails, an API token, xAPI statements from
 * Onramp and from another client, a State document, a cmi5 launch); then export, erase (void,
 * remove), an erasure that crashes halfway and is run again, and a manager whose review history
 * stays with the rep, pseudonymised.
 */
let ctx: TestContext;
let people: DemoPeople;
let admin: SignedIn;
let lrsAuth: string;
let homePage: string;
let sessionId: string;
const histories = new Map<string, { enrollmentId: string; submissionId: string }>();

const ACTIVITY = 'https://tools.example.com/xapi/activities/cold-call-sim';
const OLD_HOME = 'https://old-onramp.example.com';
const actorOf = (p: PublicUser): Actor => ({ id: p.id, role: p.role });
const xapi = (req: supertest.Test) => req.set('Authorization', lrsAuth).set('X-Experience-API-Version', '1.0.3');
const accountAgent = (id: string) => ({ objectType: 'Agent', account: { homePage, name: id } });

/** A rep's history: every kind of record Onramp keeps about a rep. */
async function seedHistory(rep: PublicUser, manager: PublicUser): Promise<void> {
  const c = ctx.container;
  const me = actorOf(rep);
  const enrollmentId = String((await c.enrollments.enroll('system', { userId: rep.id, curriculumId: 'demo', startDate: '2026-01-05' })).enrollment._id);
  await c.enrollments.acknowledge(me, enrollmentId, 'intro'); // statements, and a question in the reinforcement deck
  const attemptId = await c.assessments.start(me, enrollmentId, 'check');
  const attempt = (await c.models.Attempt.findById(attemptId).lean())!;
  await c.assessments.submit(me, attemptId, Object.fromEntries(attempt.drawn.items.map((i) => [i.questionId, [0]])));
  const deliveryId = await deliverLater(c, rep.id);
  const delivery = (await c.models.Delivery.findById(deliveryId).lean<DeliveryDoc>())!;
  await c.reinforcement.answer(me, deliveryId, delivery.items[0]!.key, { [delivery.items[0]!.drawn.questionId]: [0] });
  await unlockTransfer(c.enrollments, enrollmentId);
  const ws = await c.transfer.workspace(me, enrollmentId, 'script');
  const submissionId = String(ws.submission._id);
  await c.transfer.saveDraft(me, submissionId, { rev: ws.submission.rev, answers: { opening: `Hi, this is ${rep.name}.` } });
  await c.transfer.submit(me, submissionId); // a review request to the manager, by email
  await c.reviews.decide(actorOf(manager), submissionId, { action: 'approve' }); // the PDF, the approved statement with it, an email to the rep
  await c.sessions.book(me, enrollmentId, sessionId);
  await c.accounts.createToken(me, 'my script tool');
  await c.summaries.refresh(enrollmentId);
  // another xAPI client names them by email: a statement and a State document
  const mbox = `mailto:${rep.email}`;
  await xapi(supertest(ctx.app).post('/xapi/statements'))
    .send({ actor: { objectType: 'Agent', mbox, name: rep.name }, verb: { id: 'http://adlnet.gov/expapi/verbs/attempted', display: { 'en-US': 'attempted' } }, object: { objectType: 'Activity', id: ACTIVITY } })
    .expect(200);
  // and Onramp before its address changed (PUBLIC_URL): their account under another homePage
  await xapi(supertest(ctx.app).post('/xapi/statements'))
    .send({ actor: { account: { homePage: OLD_HOME, name: rep.id } }, verb: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { 'en-US': 'experienced' } }, object: { objectType: 'Activity', id: ACTIVITY } })
    .expect(200);
  await xapi(supertest(ctx.app).put(`/xapi/activities/state?${new URLSearchParams({ activityId: ACTIVITY, agent: JSON.stringify({ mbox }), stateId: 'progress' })}`))
    .send({ level: 3 })
    .expect(204);
  // a cmi5 launch of theirs (as Cmi5Service stores one)
  const registration = registrationOf(enrollmentId);
  const db = c.mongo.db!;
  await db.collection<{ _id: string; [field: string]: unknown }>('cmi5_sessions').insertOne({
    _id: randomUUID(),
    enrollmentId,
    moduleId: 'intro',
    versionId: 'demo@x',
    curriculumId: 'demo',
    repId: rep.id,
    registration,
    auId: 'au1',
    actor: { homePage, name: rep.id },
    state: 'launched',
    fetchTokenHash: 'fetch-token-hash',
    secretHash: 'secret-hash',
    launchedAt: new Date(),
  });
  await db.collection<{ _id: string; [field: string]: unknown }>('cmi5_registrations').insertOne({ _id: `${registration}|au1`, completed: true, passed: false, waived: false, satisfiedAt: null });
  histories.set(rep.id, { enrollmentId, submissionId });
}

/** The subject an export reads, for a person whose account is gone (what erasure must have left of them). */
function subjectOf(data: PersonalDataExport): Subject {
  const user = { ...(data.collections.users![0] as Record<string, unknown>), _id: data.person.id, email: data.person.email } as unknown as Subject['user'];
  const h = histories.get(data.person.id)!;
  return { user, id: data.person.id, oid: new Types.ObjectId(data.person.id), ...agentKeysOf(homePage, { _id: user._id, email: data.person.email }), enrollmentIds: [h.enrollmentId], registrations: [registrationOf(h.enrollmentId)], submissionIds: [h.submissionId] };
}

/** What each collection still holds of an erased person. */
async function leftOf(data: PersonalDataExport): Promise<Record<string, number>> {
  const deps = privacyDeps(ctx.container);
  const subject = subjectOf(data);
  const left: Record<string, number> = {};
  for (const p of PERSONAL_DATA) if (p.export) left[p.collection] = (await p.export(subject, deps)).length;
  return left;
}

const exportOf = async (p: PublicUser) => privacyService(ctx.container).exportPerson('cli', p.id);
const withoutMoment = ({ exportedAt: _at, collections: { audit_log: _audit, ...collections }, ...rest }: PersonalDataExport) => ({ ...rest, collections });
const statementIds = (data: PersonalDataExport) => (data.collections.xapi_statements as { id: string; voided: boolean; statement: { verb: { id: string } } }[]);

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  homePage = ctx.config.publicUrl.replace(/\/+$/, '');
  const live = '---\nid: live\ntitle: Live practice\nphase: basics\nmodality: vilt\nminutes: 60\n---\nA virtual session.\n';
  const { content, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/modules/04-live.md': live }));
  expect(problems).toEqual([]);
  await ctx.container.curricula.publish('cli', content!);
  const inAWeek = new Date(Date.now() + 7 * 86_400_000);
  sessionId = (
    await ctx.container.sessions.schedule(actorOf(people.trainer), { curriculumId: 'demo', moduleId: 'live', startsAt: inAWeek, endsAt: new Date(inAWeek.getTime() + 3_600_000), timeZone: 'UTC', capacity: 5, meetingUrl: 'https://meet.example.com/x', instructorId: people.trainer.id })
  ).id;
  const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Simulator', scopes: ['all'] });
  lrsAuth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
  for (const rep of [people.rep1, people.rep2, people.rep3, people.rep5]) await seedHistory(rep, people.manager1.id === rep.managerId ? people.manager1 : people.manager2);
  admin = await signIn(ctx.app, people.admin.email);
}, 120_000);
afterAll(() => ctx?.close());

describe('the list of collections (PERSONAL_DATA)', () => {
  const PERSON_FIELD = /(^|\.)(userId|repId|managerId|instructorId|delegateId|actorId|email|to|[a-z]+By)$/;
  const listed = new Map(PERSONAL_DATA.map((p) => [p.collection, p]));

  /** The person-like fields of a model's schema (sub-document arrays included) that its entry does not list. */
  function uncovered(models: { collection: { collectionName: string }; schema: Schema }[], list: Map<string, PersonalData>): string[] {
    const paths = (schema: Schema, prefix = ''): string[] => {
      const out: string[] = [];
      schema.eachPath((path, type) => {
        const full = `${prefix}${path}`;
        if (PERSON_FIELD.test(full)) out.push(full);
        const sub = (type as { schema?: Schema }).schema;
        if (sub) out.push(...paths(sub, `${full}.`));
      });
      return out;
    };
    return models.flatMap((m) => {
      const entry = list.get(m.collection.collectionName);
      if (!entry) return [`${m.collection.collectionName} (not listed)`];
      return paths(m.schema).filter((f) => !entry.fields.includes(f) && !entry.notPersonal?.includes(f)).map((f) => `${m.collection.collectionName}.${f}`);
    });
  }

  it('lists every model on the connection, with every field that holds a person', () => {
    const models = Object.values(ctx.container.mongo.models);
    expect(models.length).toBeGreaterThan(10);
    expect(uncovered(models, listed)).toEqual([]);
    // the check itself: a new model with a user id that nobody listed is caught
    const stray = { collection: { collectionName: 'coaching_notes' }, schema: new Schema({ userId: String, note: String, seats: [new Schema({ managerId: String })] }) };
    expect(uncovered([stray], listed)).toEqual(['coaching_notes (not listed)']);
    expect(uncovered([stray], new Map([['coaching_notes', { collection: 'coaching_notes', fields: ['userId'], erasure: '' }]]))).toEqual(['coaching_notes.seats.managerId']);
  });

  it('lists every collection the code names, and every collection the database holds', async () => {
    const named = new Set<string>();
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (e.name.endsWith('.ts')) {
          const text = readFileSync(path, 'utf8');
          for (const re of [/collection:\s*'([a-z0-9_]+)'/g, /\.collection(?:<[^>()]*>)?\('([a-z0-9_]+)'\)/g, /_COLLECTION\s*=\s*'([a-z0-9_]+)'/g]) for (const m of text.matchAll(re)) named.add(m[1]!);
        }
      }
    };
    walk(join(import.meta.dirname, '..', '..', 'src'));
    expect(named.size).toBeGreaterThan(15);
    expect([...named].filter((n) => !listed.has(n)), 'collections in src/ that PERSONAL_DATA does not list').toEqual([]);
    const inDb = (await ctx.container.mongo.db!.listCollections().toArray()).map((x) => x.name).filter((n) => !n.startsWith('system.'));
    expect(inDb.filter((n) => !listed.has(n)), 'collections in the database that PERSONAL_DATA does not list').toEqual([]);
  });
});

describe('export', () => {
  it('holds the person’s records from every collection, without secrets, and nothing of other reps', async () => {
    const data = await exportOf(people.rep1);
    expect(data.person).toMatchObject({ id: people.rep1.id, email: people.rep1.email, role: 'rep' });
    const exported = PERSONAL_DATA.filter((p) => p.export).map((p) => p.collection);
    expect(Object.keys(data.collections).sort()).toEqual([...exported].sort());
    const empty = Object.entries(data.collections).filter(([, list]) => list.length === 0).map(([name]) => name);
    expect(empty, 'a rep delegates no reviews').toEqual(['review_delegates']);

    const text = JSON.stringify(data);
    for (const other of [people.rep2, people.rep3, people.rep5]) {
      expect(text).not.toContain(other.id);
      expect(text).not.toContain(other.email);
    }
    for (const secret of ['passwordHash', 'tokenHash', 'secretHash', 'fetchTokenHash', 'secret-hash']) expect(text).not.toContain(secret);

    const c = data.collections;
    expect(c.users).toEqual([expect.objectContaining({ _id: people.rep1.id, email: people.rep1.email, name: people.rep1.name })]);
    expect(c.api_tokens).toEqual([expect.objectContaining({ name: 'my script tool', prefix: expect.stringMatching(/^onr_/) })]);
    expect(c.submissions).toEqual([expect.objectContaining({ status: 'approved', versions: [expect.objectContaining({ n: 1, kind: 'rep' })] })]);
    expect(c.submission_documents).toEqual([expect.objectContaining({ contentType: 'application/pdf', base64: expect.stringMatching(/^JVBER/) })]); // %PDF
    expect(c.live_sessions).toEqual([expect.objectContaining({ sessionId, seats: [expect.objectContaining({ status: 'booked' })], attendance: [] })]);
    expect((c.email_messages as { template: string }[]).map((m) => m.template)).toEqual(['submission-approved']);
    expect(c.xapi_documents).toEqual([expect.objectContaining({ docId: 'progress', content: '{"level":3}' })]);
    const verbs = statementIds(data).map((s) => s.statement.verb.id);
    expect(verbs).toContain('http://adlnet.gov/expapi/verbs/attempted'); // by the other client, as mbox
    expect(verbs).toContain('http://adlnet.gov/expapi/verbs/experienced'); // their account under an older address
    expect(verbs).toContain('http://activitystrea.ms/schema/1.0/approve'); // the manager's, in the rep's enrollment
    expect(c.xapi_attachments).toEqual([expect.objectContaining({ contentType: 'application/pdf' })]);
  });

  it('is a download for admins, and refused to everyone else', async () => {
    const res = await admin.agent.get(`/users/${people.rep1.id}/data-export`).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename=onramp-personal-data-${people.rep1.id}.json`);
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect((JSON.parse(res.text) as PersonalDataExport).collections.enrollments).toHaveLength(1);
    for (const who of [people.rep1, people.manager1, people.trainer]) {
      const s = await signIn(ctx.app, who.email);
      expect((await s.agent.get(`/users/${people.rep1.id}/data-export`)).status, who.email).toBe(403);
      expect((await s.agent.post(`/users/${people.rep1.id}/erase`).type('form').send({ _csrf: s.csrf, statements: 'void', confirm: people.rep1.email })).status, who.email).toBe(403);
    }
    const entries = await ctx.container.mongo.db!.collection('audit_log').find({ action: 'person.export', targetId: people.rep1.id }).toArray();
    expect(entries.length).toBeGreaterThan(0);
  });
});

describe('erase', () => {
  it('voids the statements: the voiding statements are stored, the originals kept but no longer returned; everything else is gone', async () => {
    // another client's statement of theirs that they voided themselves: voided already, and a voiding statement they sent
    const mbox = `mailto:${people.rep1.email}`;
    const selfVoided = randomUUID();
    const theirVoiding = randomUUID();
    const me = { objectType: 'Agent', mbox, name: people.rep1.name };
    await xapi(supertest(ctx.app).post('/xapi/statements'))
      .send([
        { id: selfVoided, actor: me, verb: { id: 'http://adlnet.gov/expapi/verbs/attempted', display: { 'en-US': 'attempted' } }, object: { objectType: 'Activity', id: ACTIVITY } },
        { id: theirVoiding, actor: me, verb: { id: VOIDED, display: { 'en-US': 'voided' } }, object: { objectType: 'StatementRef', id: selfVoided } },
      ])
      .expect(200);
    const before = await exportOf(people.rep1);
    expect(statementIds(before).map((s) => s.id)).toEqual(expect.arrayContaining([selfVoided, theirVoiding]));
    const other = withoutMoment(await exportOf(people.rep2));
    const originals = statementIds(before).filter((s) => !s.voided && s.statement.verb.id !== VOIDED).map((s) => s.id);
    expect(originals.length).toBeGreaterThan(8);

    // the typed confirmation: a wrong one changes nothing
    const wrong = await admin.agent.post(`/users/${people.rep1.id}/erase`).type('form').send({ _csrf: admin.csrf, statements: 'void', confirm: people.rep2.email });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('is not this person’s email address');
    expect((await ctx.container.accounts.findByEmail(people.rep1.email))?.active).toBe(true);
    expect((await admin.agent.get(`/users/${people.rep1.id}/erase`).expect(200)).text).toContain('Type their email address to confirm');

    const done = await admin.agent.post(`/users/${people.rep1.id}/erase`).type('form').send({ _csrf: admin.csrf, statements: 'void', confirm: ` ${people.rep1.email.toUpperCase()} ` });
    expect(done.status, done.text.slice(0, 300)).toBe(303);
    expect(done.headers.location).toBe('/users');

    const left = await leftOf(before);
    // voided statements stay (with the attachments they name), and so do the audit log's ids
    const { xapi_statements: statementsLeft, xapi_attachments: _kept, audit_log: _audit, ...rest } = left;
    expect(Object.entries(rest).filter(([, n]) => n > 0), 'records left').toEqual([]);
    // what is left of their statements is voided originals and the voiding statements
    const db = ctx.container.mongo.db!;
    const stored = await db.collection<StatementDoc>('xapi_statements').find({ _id: { $in: originals } }).toArray();
    expect(stored.map((s) => s.voided)).toEqual(originals.map(() => true));
    expect(await db.collection<StatementDoc>('xapi_statements').countDocuments({ verb: VOIDED, voids: { $in: originals } })).toBe(originals.length);
    expect(statementsLeft).toBeGreaterThanOrEqual(originals.length);
    for (const id of originals.slice(0, 5)) {
      await xapi(supertest(ctx.app).get(`/xapi/statements?statementId=${id}`)).expect(404);
      await xapi(supertest(ctx.app).get(`/xapi/statements?voidedStatementId=${id}`)).expect(200);
    }
    // nothing left anywhere in the statements or what statements borrowed names them: not their name, email or its hash
    const sha1 = createHash('sha1').update(mbox).digest('hex');
    for (const collection of ['xapi_statements', 'xapi_statement_refs']) {
      const raw = JSON.stringify(await db.collection(collection).find({}).toArray());
      for (const identifying of [people.rep1.name, people.rep1.email, sha1]) expect(raw.includes(identifying), `${identifying} in ${collection}`).toBe(false);
    }
    // so no query by their email finds anything; by their account, only voiding statements that name nobody
    for (const agent of [{ mbox }, { mbox_sha1sum: sha1 }, { account: { homePage: OLD_HOME, name: people.rep1.id } }]) {
      const res = await xapi(supertest(ctx.app).get(`/xapi/statements?${new URLSearchParams({ agent: JSON.stringify(agent) })}`)).expect(200);
      expect((res.body as { statements: unknown[] }).statements, JSON.stringify(agent)).toEqual([]);
    }
    const byAgent = await xapi(supertest(ctx.app).get(`/xapi/statements?${new URLSearchParams({ agent: JSON.stringify(accountAgent(people.rep1.id)), related_agents: 'true', limit: '100' })}`)).expect(200);
    const returned = (byAgent.body as { statements: { id: string; verb: { id: string }; actor: unknown }[] }).statements;
    expect(returned.every((s) => s.verb.id === VOIDED && !originals.includes(s.id))).toBe(true);
    // Onramp's, and the one they sent, now by their bare account
    expect(returned.filter((s) => s.id !== theirVoiding).map((s) => s.actor)).toEqual(returned.filter((s) => s.id !== theirVoiding).map(() => expect.objectContaining({ name: 'Onramp' })));
    expect(returned.find((s) => s.id === theirVoiding)?.actor).toEqual(accountAgent(people.rep1.id));
    expect(byAgent.text).not.toContain(people.rep1.name);
    expect(byAgent.text).not.toContain(people.rep1.email);

    // the account is gone, the erasure recorded without their data, the other rep untouched
    expect(await ctx.container.accounts.findByEmail(people.rep1.email)).toBeUndefined();
    expect((await admin.agent.get(`/users/${people.rep1.id}`)).status).toBe(404);
    const record = await db.collection('privacy_erasures').findOne({ _id: people.rep1.id as never });
    expect(record).toMatchObject({ by: people.admin.id, statements: 'void', finishedAt: expect.any(Date) });
    expect(JSON.stringify(record)).not.toContain(people.rep1.email);
    expect(JSON.stringify(record)).not.toContain(people.rep1.name);
    expect(await db.collection('audit_log').countDocuments({ action: 'person.erase', targetId: people.rep1.id, actorId: people.admin.id })).toBe(1);
    expect(withoutMoment(await exportOf(people.rep2))).toEqual(other);
    const session = (await ctx.container.models.LiveSession.findById(sessionId).lean())!;
    expect(session.seats.map((s) => String(s.userId))).not.toContain(people.rep1.id);
    expect(session.seats.filter((s) => String(s.userId) === people.rep2.id && s.status === 'booked')).toHaveLength(1);
  });

  it('removes the statements: gone from the LRS, with the attachment only they named', async () => {
    const before = await exportOf(people.rep3);
    const other = withoutMoment(await exportOf(people.rep2));
    const ids = statementIds(before).map((s) => s.id);
    const [pdf] = before.collections.xapi_attachments as { sha2: string }[];

    const r = await privacyService(ctx.container).erase({ id: people.admin.id, role: 'admin' }, people.rep3.id, { statements: 'remove', confirm: people.rep3.email });
    expect(r.counts.xapi_statements).toBeGreaterThanOrEqual(ids.length);

    const left = await leftOf(before);
    expect(Object.entries(left).filter(([name, n]) => name !== 'audit_log' && n > 0), 'records left').toEqual([]);
    const db = ctx.container.mongo.db!;
    expect(await db.collection<StatementDoc>('xapi_statements').countDocuments({ _id: { $in: ids } })).toBe(0);
    expect(await db.collection<{ _id: string }>('xapi_attachments').countDocuments({ _id: pdf!.sha2 })).toBe(0);
    for (const id of ids.slice(0, 3)) {
      await xapi(supertest(ctx.app).get(`/xapi/statements?statementId=${id}`)).expect(404);
      await xapi(supertest(ctx.app).get(`/xapi/statements?voidedStatementId=${id}`)).expect(404);
    }
    for (const agent of [accountAgent(people.rep3.id), { mbox: `mailto:${people.rep3.email}` }, { account: { homePage: OLD_HOME, name: people.rep3.id } }]) {
      const res = await xapi(supertest(ctx.app).get(`/xapi/statements?${new URLSearchParams({ agent: JSON.stringify(agent) })}`)).expect(200);
      expect((res.body as { statements: unknown[] }).statements).toEqual([]);
    }
    expect(withoutMoment(await exportOf(people.rep2))).toEqual(other);
  });

  it('finishes, when run again, an erasure that crashed halfway', async () => {
    const before = await exportOf(people.rep5);
    const crashing = PERSONAL_DATA.map((p) => (p.collection === 'submissions' ? { ...p, erase: () => Promise.reject(new Error('the process died here')) } : p));
    await expect(new PrivacyService(privacyDeps(ctx.container), crashing).erase('cli', people.rep5.id, { statements: 'void', confirm: people.rep5.email })).rejects.toThrow('the process died here');

    // halfway: the account inactive (signed out), the steps before the crash done, the later ones not
    const halfway = await leftOf(before);
    expect((await ctx.container.accounts.findByEmail(people.rep5.email))?.active).toBe(false);
    await expect(signIn(ctx.app, people.rep5.email)).rejects.toThrow(/failed with 401/);
    expect(halfway).toMatchObject({ reinforcement_decks: 0, live_sessions: 0, email_messages: 0, submissions: 1, enrollments: 1, users: 1 });
    const db = ctx.container.mongo.db!;
    expect(await db.collection('audit_log').countDocuments({ action: 'person.erase', targetId: people.rep5.id, failed: true })).toBe(1);
    const page = await admin.agent.get(`/users/${people.rep5.id}/erase`).expect(200);
    expect(page.text).toContain('did not finish');

    // another choice for the statements would leave them half voided, half removed: refused
    const other = await admin.agent.post(`/users/${people.rep5.id}/erase`).type('form').send({ _csrf: admin.csrf, statements: 'remove', confirm: people.rep5.email });
    expect(other.status).toBe(409);
    expect(other.text).toContain('run it again with the same choice');

    await admin.agent.post(`/users/${people.rep5.id}/erase`).type('form').send({ _csrf: admin.csrf, statements: 'void', confirm: people.rep5.email }).expect(303);
    const { xapi_statements: _voided, xapi_attachments: _kept, audit_log: _audit, ...rest } = await leftOf(before);
    expect(Object.entries(rest).filter(([, n]) => n > 0), 'records left').toEqual([]);
    expect(await db.collection('privacy_erasures').findOne({ _id: people.rep5.id as never })).toMatchObject({ by: 'cli', finishedAt: expect.any(Date) });
    // and once more: the person is gone, nothing to do
    await expect(privacyService(ctx.container).erase('cli', people.rep5.id, { statements: 'void', confirm: people.rep5.email })).resolves.toMatchObject({ personId: people.rep5.id });
  });

  it('keeps a manager’s review history with the rep, naming them by a bare id', async () => {
    const c = ctx.container;
    const asAdmin: Actor = { id: people.admin.id, role: 'admin' };
    await expect(privacyService(c).erase(asAdmin, people.manager2.id, { statements: 'void', confirm: people.manager2.email })).rejects.toThrow(/manager of 2 rep\(s\): assign them to another manager first/);
    await expect(privacyService(c).erase(asAdmin, people.admin.id, { statements: 'void', confirm: people.admin.email })).rejects.toThrow(/your own account/);

    const { user: manager } = await c.accounts.create('system', { email: 'manager3@example.com', name: 'Max Mentor', role: 'manager', managerId: null, password: 'correct horse battery' });
    const { user: rep } = await c.accounts.create('system', { email: 'rep7@example.com', name: 'Riley Rep', role: 'rep', managerId: manager.id, password: 'correct horse battery' });
    await seedHistory(rep, manager);
    await c.accounts.update(asAdmin, rep.id, { managerId: people.manager1.id });
    await c.reviewDelegates.set(asAdmin, manager.id, people.manager1.id);
    const { enrollmentId, submissionId } = histories.get(rep.id)!;
    const statements = c.mongo.db!.collection<StatementDoc>('xapi_statements');
    const approved = (await statements.findOne({ verb: 'http://activitystrea.ms/schema/1.0/approve', registration: registrationOf(enrollmentId) }))!;
    expect(JSON.parse(approved.json)).toMatchObject({ actor: { name: 'Max Mentor' } });
    const repsOwn = await statements.countDocuments({ registration: registrationOf(enrollmentId), voided: false });

    await privacyService(c).erase(asAdmin, manager.id, { statements: 'void', confirm: manager.email });

    const after = (await statements.findOne({ _id: approved._id }))!;
    expect(after.voided).toBe(false);
    const json = JSON.parse(after.json) as { actor: unknown };
    expect(json.actor).toEqual(accountAgent(manager.id));
    expect(after.json).not.toContain('Max Mentor');
    expect(after.json).not.toContain('manager3@example.com');
    expect(after.agents).toEqual([`account:${homePage}|${manager.id}`]);
    expect(await statements.countDocuments({ registration: registrationOf(enrollmentId), voided: false })).toBe(repsOwn);
    const sub = (await c.models.Submission.findById(submissionId).lean<SubmissionDoc>())!;
    expect(sub.status).toBe('approved');
    expect(sub.decisions!.map((d) => String(d.by))).toEqual([manager.id]);
    expect(await c.mongo.db!.collection('review_delegates').countDocuments({})).toBe(0);
    expect(await c.accounts.findByEmail('manager3@example.com')).toBeUndefined();
  });
});

describe('erasure against what runs beside it', () => {
  const asAdmin = (): Actor => ({ id: people.admin.id, role: 'admin' });
  const newRep = async (n: number, name: string) =>
    (await ctx.container.accounts.create('system', { email: `rep${n}@example.com`, name, role: 'rep', managerId: people.manager1.id, password: 'correct horse battery' })).user;

  it('gives up a seat on a session still to come the proper way, and never strips it after a refusal (a rerun gives it up)', async () => {
    const step = PERSONAL_DATA.find((p) => p.collection === 'live_sessions')!;
    const subject = subjectOf(await exportOf(people.rep2));
    const seatOf = async () => (await ctx.container.models.LiveSession.findById(sessionId).lean())!.seats.find((x) => String(x.userId) === people.rep2.id);
    expect(await seatOf()).toMatchObject({ status: 'booked' });
    // the session's lock not had in time (a booking at that moment): the seat stays booked, the step fails
    const busy = new Conflict('This is being changed by another request right now. Please try again.');
    await expect(step.erase!(subject, { ...privacyDeps(ctx.container), sessions: { cancel: () => Promise.reject(busy) } })).rejects.toBe(busy);
    expect(await seatOf()).toMatchObject({ status: 'booked' });
    // the session started between the read and the cancel: too late to give the seat up, so it is taken off
    let now = new Date();
    const started = async () => {
      now = new Date(Date.now() + 8 * 86_400_000);
      throw new Conflict('It has already started: it is too late to leave it.');
    };
    expect(await step.erase!(subject, { ...privacyDeps(ctx.container), now: () => now, sessions: { cancel: started } })).toBe(1);
    expect(await seatOf()).toBeUndefined();
  });

  it('takes the reinforcement deck and its job away again after the enrollments, when a step in between made them again', async () => {
    const c = ctx.container;
    const rep = await newRep(9, 'Dana Deck');
    await seedHistory(rep, people.manager1);
    const { enrollmentId } = histories.get(rep.id)!;
    const view = await c.enrollments.view(actorOf(rep), enrollmentId);
    const event = { enrollmentId, curriculum: view.curriculum, versionId: view.enrollment.versionId, rep: { id: rep.id, name: rep.name, email: rep.email } };
    // a module completed while the erasure runs (as a step's enrollment event would): the deck and its job come back
    let remade = 0;
    const steps = PERSONAL_DATA.map((p) =>
      p.collection === 'attempts'
        ? {
            ...p,
            erase: async (s: Subject, d: PrivacyDeps) => {
              await c.models.Deck.deleteOne({ _id: s.oid });
              remade = (await c.reinforcement.addModules(event, [{ moduleId: 'intro', at: new Date().toISOString() }])).added;
              return p.erase!(s, d);
            },
          }
        : p,
    );
    await new PrivacyService(privacyDeps(c), steps).erase(asAdmin(), rep.id, { statements: 'remove', confirm: rep.email });
    expect(remade).toBeGreaterThan(0);
    expect(await c.models.Deck.countDocuments({ _id: rep.id })).toBe(0);
    expect(await c.queue.getJob(deliveryJobId(rep.id))).toBeUndefined();
  });

  it('runs one erasure of a person at a time: a second one asked for meanwhile is refused', async () => {
    const rep = await newRep(8, 'Robin Twice');
    let entered = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const steps: PersonalData[] = [
      {
        collection: 'api_tokens',
        fields: [],
        erasure: '',
        erase: async () => {
          entered++;
          await gate;
          return 0;
        },
      },
    ];
    // the page and the command line: two services, two lockers, one Redis
    const run = () => new PrivacyService(privacyDeps(ctx.container), steps).erase('cli', rep.id, { statements: 'void', confirm: rep.email });
    const both = Promise.allSettled([run(), run()]);
    await vi.waitFor(() => expect(entered).toBe(1));
    await sleep(300); // time enough for the other to run a step too, had it not been refused
    open();
    const [a, b] = await both;
    expect(entered).toBe(1);
    const refused = [a, b].filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(Conflict);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toContain('An erasure of this person is running right now');
    // once it is over, it can run again
    await expect(run()).resolves.toMatchObject({ personId: rep.id });
  });

  it('is finished by `onramp people erase <id>` when it stopped after deleting the account', async () => {
    const rep = await newRep(10, 'Casey Crash');
    const crashing = [...PERSONAL_DATA, { collection: 'after_the_account', fields: [], erasure: '', erase: () => Promise.reject(new Error('the process died after the account')) }];
    await expect(new PrivacyService(privacyDeps(ctx.container), crashing).erase('cli', rep.id, { statements: 'void', confirm: rep.email })).rejects.toThrow('the process died after the account');
    expect(await ctx.container.accounts.findByEmail(rep.email)).toBeUndefined();
    const erasures = ctx.container.mongo.db!.collection<{ _id: string; finishedAt: Date | null; counts?: Record<string, number> }>('privacy_erasures');
    expect(await erasures.findOne({ _id: rep.id })).toMatchObject({ finishedAt: null, counts: expect.objectContaining({ users: 1 }) });

    // the command line names them by id now: by email they are not found, and an id nobody had names nothing
    const privacy = privacyService(ctx.container);
    await expect(privacy.find(rep.email)).rejects.toThrow(`No one has the email address ${rep.email}.`);
    await expect(privacy.find('0123456789abcdef01234567')).rejects.toThrow('No one has the id 0123456789abcdef01234567, and no erasure of that id is recorded.');
    await expect(privacy.find(rep.id.toUpperCase())).resolves.toEqual({ id: rep.id, email: null });
    const cli = (...args: string[]) => {
      const env = {
        ...process.env,
        NODE_ENV: 'test',
        MONGODB_URL: ctx.config.mongodbUrl!,
        REDIS_URL: ctx.config.redisUrl!,
        REDIS_PREFIX: ctx.config.redisPrefix,
        SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
        DATA_DIR: ctx.config.dataDir,
        LOG_LEVEL: 'warn',
      };
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'people', 'erase', ...args, '--statements', 'void'], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8', env });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const byId = cli(rep.id);
    expect(byId.code, byId.err).toBe(0);
    expect(byId.out).toContain(`Erased id ${rep.id}; statements voided. Records changed:`);
    expect(byId.out).toContain('  users: 1');
    expect(await erasures.findOne({ _id: rep.id })).toMatchObject({ finishedAt: expect.any(Date), counts: expect.objectContaining({ users: 1 }) });
  }, 60_000);
});

describe('the statement store’s erasure writes', () => {
  /** A store whose write lock counts the updates of `collection` made during each hold. */
  function counted(collection: 'col' | 'refs') {
    const holds: number[] = [];
    let updates = () => 0;
    const locks: Locker = {
      withLock: async (_key, fn) => {
        const before = updates();
        try {
          return await fn();
        } finally {
          holds.push(updates() - before);
        }
      },
    };
    const store = new StatementStore(ctx.container.mongo, { locks });
    const spy = vi.spyOn(store[collection], 'updateOne');
    updates = () => spy.mock.calls.length;
    return { store, holds };
  }

  it('hold the LRS write lock for a batch of 100 documents at a time, not for the whole erasure', async () => {
    const statements = counted('col');
    const json = JSON.stringify({ actor: { account: { homePage, name: 'x' } }, verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' }, object: { id: ACTIVITY } });
    await statements.store.rewrite(Array.from({ length: 250 }, () => ({ id: randomUUID(), json })));
    expect(statements.holds).toEqual([100, 100, 50]);

    const refs = counted('refs');
    const mbox = 'mbox:mailto:someone@example.com';
    const ids = Array.from({ length: 150 }, () => randomUUID());
    await refs.store.refs.insertMany(ids.map((_id, seq) => ({ _id, stored: new Date(), seq, refVerbs: [], refAgents: [mbox], refRelatedAgents: [mbox], refActivities: [], refRelatedActivities: [], refRegistrations: [] })));
    await refs.store.replaceRefAgents(ids, (k) => k === mbox, 'account:x|someone');
    expect(refs.holds).toEqual([100, 50]);
    expect(await refs.store.refs.countDocuments({ refAgents: mbox })).toBe(0);
  });
});
