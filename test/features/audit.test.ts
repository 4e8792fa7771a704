import { once } from 'node:events';
import { get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import supertest from 'supertest';
import { Types, type Model } from 'mongoose';
import { validateCurriculum } from '../../src/content/validate.js';
import type { AuditEntryDoc, AuditFilter } from '../../src/features/audit/service.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';
import { captureLog } from '../support/log-capture.js';

/** The audit log as the services write it, over HTTP where the request id matters. */
let ctx: TestContext;
let people: DemoPeople;
let admin: SignedIn;
let manager: SignedIn;
const logs = captureLog();

const form = `id: script
title: Call script
steps:
  - id: opening
    title: Opening
    fields:
      - id: opening
        label: Your opening
        type: longText
        required: true
  - id: ask
    title: The ask
    fields:
      - id: ask
        label: Your ask
        type: longText
        required: true
activityLog:
  periodDays: 10
  fields:
    - id: calls
      label: Calls
      type: number
`;

const asAdmin = () => ({ id: people.admin.id, role: 'admin' as const });
const entries = async (filter: AuditFilter) => (await ctx.container.audit.page(asAdmin(), filter, 1, 200)).entries;
const auditModel = () => ctx.container.mongo.model('AuditEntry') as Model<AuditEntryDoc>;
const failedWrites = () => logs.records().filter((r) => String(r.msg).startsWith('AUDIT LOG WRITE FAILED'));

/** A rep of manager1 builds and submits the script (the rep's side, over HTTP): the submission's id. */
async function submitScript(repKey: 'rep1' | 'rep2' | 'rep3', opening: string): Promise<{ id: string; rep: SignedIn; enrollmentId: string }> {
  const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people[repKey].id, curriculumId: 'demo', startDate: '2026-01-05' });
  const enrollmentId = String(enrollment._id);
  await unlockTransfer(ctx.container.enrollments, enrollmentId);
  const rep = await signIn(ctx.app, people[repKey].email);
  await rep.agent.get(`/learn/${enrollmentId}/modules/script/build`).expect(200);
  const d = (await ctx.container.models.Submission.findOne({ enrollmentId }).lean<SubmissionDoc>())!;
  await rep.agent.put(`/api/submissions/${String(d._id)}/draft`).set('X-CSRF-Token', rep.csrf).set('Accept', 'application/json').send({ rev: d.rev, answers: { opening, ask: 'Can we meet Tuesday at 10?' } }).expect(200);
  await rep.agent.post(`/submissions/${String(d._id)}/submit`).type('form').send({ _csrf: rep.csrf }).expect(303);
  return { id: String(d._id), rep, enrollmentId };
}

beforeAll(async () => {
  ctx = await createTestContext({}, { log: logs.logger });
  people = await seedPeople(ctx.container);
  const { content, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/forms/script.yaml': form }));
  expect(problems).toEqual([]);
  await ctx.container.curricula.publish('cli', content!);
  admin = await signIn(ctx.app, people.admin.email);
  manager = await signIn(ctx.app, people.manager1.email);
});
afterAll(() => ctx?.close());

describe('admin actions', () => {
  it('records a user created from the form with who, the request id and the role — never the password', async () => {
    const res = await admin.agent.post('/users').type('form').send({ _csrf: admin.csrf, name: 'Quinn Audit', email: 'quinn.audit@example.com', role: 'rep', managerId: people.manager2.id, password: '' }).expect(201);
    const temporary = /<code class="secret">([^<]+)<\/code>/.exec(res.text)![1]!;
    const quinn = (await ctx.container.accounts.findByEmail('quinn.audit@example.com'))!;
    const [entry, ...more] = await entries({ action: 'user.create', actorId: people.admin.id });
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ actorId: people.admin.id, actorRole: 'admin', targetType: 'user', targetId: quinn.id, requestId: res.headers['x-request-id'], failed: false });
    expect(entry!.detail).toEqual({ role: 'rep', managerId: people.manager2.id, temporary: true });
    expect(Date.now() - entry!.at.getTime()).toBeLessThan(60_000);
    // the demo users were created by 'system' (the seed), without a person or a request
    const seeded = await entries({ action: 'user.create', targetId: people.rep1.id });
    expect(seeded).toEqual([expect.objectContaining({ actorId: null, actorRole: 'system', requestId: null })]);
    expect(JSON.stringify(await entries({}))).not.toContain(temporary);
  });

  it('records a role change, a deactivation, a reactivation and an edit as one entry each, and a save that changes nothing not at all', async () => {
    const { user } = await ctx.container.accounts.create('system', { email: 'pat@example.com', name: 'Pat Trainer', role: 'trainer', managerId: null, password: 'correct horse battery' });
    const save = (fields: Record<string, string>) => admin.agent.post(`/users/${user.id}`).type('form').send({ _csrf: admin.csrf, name: 'Pat Trainer', role: 'trainer', ...fields }).expect(303);
    await save({ role: 'admin' });
    await save({ role: 'admin', active: 'false' });
    await save({ role: 'admin', active: 'true' });
    await save({ role: 'admin', name: 'Patricia Secretname' });
    await save({ role: 'admin', name: 'Patricia Secretname' }); // nothing changes
    const made = (await entries({ targetId: user.id, actorId: people.admin.id })).reverse();
    expect(made.map((e) => [e.action, e.detail])).toEqual([
      ['user.role.change', { fields: ['role'], roleFrom: 'trainer', roleTo: 'admin' }],
      ['user.deactivate', { fields: ['active'], active: false }],
      ['user.reactivate', { fields: ['active'], active: true }],
      ['user.update', { fields: ['name'] }],
    ]);
    expect(JSON.stringify(made)).not.toContain('Secretname'); // names are not copied into the log
  });

  it('records password resets and own password changes, never a password', async () => {
    const reset = await admin.agent.post(`/users/${people.rep6.id}/password-reset`).type('form').send({ _csrf: admin.csrf }).expect(200);
    const temporary = /<code class="secret">([^<]+)<\/code>/.exec(reset.text)![1]!;
    const rep6 = await signIn(ctx.app, people.rep6.email, temporary);
    await rep6.agent.post('/account/password').type('form').send({ _csrf: rep6.csrf, currentPassword: temporary, newPassword: 'a much better passphrase', confirmPassword: 'a much better passphrase' }).expect(303);
    const made = (await entries({ action: 'user.password', targetId: people.rep6.id })).reverse();
    expect(made.map((e) => [e.action, e.actorId, e.detail])).toEqual([
      ['user.password.reset', people.admin.id, { temporary: true }],
      ['user.password.change', people.rep6.id, {}],
    ]);
    const all = JSON.stringify(await entries({}));
    expect(all).not.toContain(temporary);
    expect(all).not.toContain('a much better passphrase');
  });

  it('records API tokens created and revoked (once) by id, never the token or the name typed for it', async () => {
    const created = await manager.agent.post('/account/tokens').type('form').send({ _csrf: manager.csrf, name: 'CRM sync' }).expect(201);
    const token = /<code class="secret">(onr_[^<]+)<\/code>/.exec(created.text)![1]!;
    const id = (await ctx.container.accounts.listTokens({ id: people.manager1.id, role: 'manager' }))[0]!.id;
    await manager.agent.post(`/account/tokens/${id}/revoke`).type('form').send({ _csrf: manager.csrf }).expect(303);
    await manager.agent.post(`/account/tokens/${id}/revoke`).type('form').send({ _csrf: manager.csrf }).expect(303);
    const made = (await entries({ targetType: 'api_token', targetId: id })).reverse();
    expect(made.map((e) => [e.action, e.actorId, e.detail])).toEqual([
      ['token.create', people.manager1.id, {}],
      ['token.revoke', people.manager1.id, {}],
    ]);
    expect(JSON.stringify(await entries({}))).not.toContain(token.slice(4));
    expect(JSON.stringify(await entries({}))).not.toContain('CRM sync');
  });

  it('records xAPI credentials issued and revoked by key and scopes (never the secret or the name typed), and forwarding retries', async () => {
    const issued = await admin.agent.post('/admin/lrs').type('form').send({ _csrf: admin.csrf, name: 'Authoring tool', scopes: 'statements/write' }).expect(201);
    const secret = /Secret <code class="secret">([^<]+)<\/code>/.exec(issued.text)?.[1];
    expect(secret).toBeDefined();
    const [entry] = await entries({ action: 'lrs.credential.issue', actorId: people.admin.id });
    expect(entry).toMatchObject({ targetType: 'lrs_credential', detail: { scopes: ['statements/write'] } });
    await admin.agent.post(`/admin/lrs/${entry!.targetId}/revoke`).type('form').send({ _csrf: admin.csrf }).expect(303);
    await admin.agent.post('/admin/lrs/forwarding/retry').type('form').send({ _csrf: admin.csrf }).expect(303);
    expect((await entries({ targetId: entry!.targetId })).map((e) => [e.action, e.detail])).toEqual([
      ['lrs.credential.revoke', { scopes: ['statements/write'] }],
      ['lrs.credential.issue', { scopes: ['statements/write'] }],
    ]);
    expect(await entries({ action: 'lrs.forwarding.retry' })).toHaveLength(1);
    expect(JSON.stringify(await entries({}))).not.toContain(secret);
    expect(JSON.stringify(await entries({}))).not.toContain('Authoring tool');
  });

  it('records review delegates set and removed (nothing when there is none to remove)', async () => {
    const post = (delegateId: string) => admin.agent.post('/admin/review-delegates').type('form').send({ _csrf: admin.csrf, managerId: people.manager2.id, delegateId }).expect(303);
    await post(people.manager1.id);
    await post('');
    await post('');
    const made = (await entries({ action: 'review.delegate', targetId: people.manager2.id })).reverse();
    expect(made.map((e) => [e.action, e.detail])).toEqual([
      ['review.delegate.set', { delegateId: people.manager1.id }],
      ['review.delegate.remove', { delegateId: people.manager1.id }],
    ]);
  });

  it('records publishing (by the command line or a person), and nothing for unchanged content', async () => {
    const revised = validateCurriculum('demo', fixtureFiles({ 'demo/forms/script.yaml': form, 'demo/modules/01-intro.md': '---\nid: intro\ntitle: Introduction, revised\nphase: basics\nmodality: elearning\nminutes: 12\n---\nRead this again.\n' }));
    expect(revised.problems).toEqual([]);
    const changed = revised.content!;
    const first = await ctx.container.curricula.publish({ id: people.trainer.id, role: 'trainer' }, changed);
    await ctx.container.curricula.publish({ id: people.trainer.id, role: 'trainer' }, changed);
    const made = await entries({ action: 'curriculum.publish', targetId: 'demo' });
    expect(made.map((e) => [e.actorRole, e.actorId])).toEqual([
      ['trainer', people.trainer.id],
      ['cli', null],
    ]);
    expect(made[0]!.detail).toEqual({ versionId: first.versionId, previousVersionId: made[1]!.detail.versionId, changes: first.changes.length });
  });

  it('records opening an email in the outbox and using the queue board', async () => {
    const { id } = await ctx.container.email.send({ to: people.manager1.email, template: 'review-overdue', data: { managerName: 'Morgan', repName: 'Riley', itemTitle: 'Call script', submittedAt: new Date(), link: '/' }, dedupeKey: 'audit-test' });
    await admin.agent.get(`/admin/outbox/${id}`).expect(200);
    await admin.agent.get(`/admin/outbox/${id}/html`).expect(200);
    expect((await entries({ action: 'email.view', targetId: id! })).map((e) => e.detail.format)).toEqual(['html', 'text']);

    await admin.agent.get('/admin/queues').expect(200);
    await admin.agent.get('/admin/queues/api/queues').expect(200); // the board polling: not recorded
    await admin.agent.put('/admin/queues/api/queues/onramp/retry/failed').set('Sec-Fetch-Site', 'same-origin').expect(200);
    const board = (await entries({ action: 'queue.board', actorId: people.admin.id })).reverse();
    expect(board.map((e) => [e.action, e.targetId, e.detail])).toEqual([
      ['queue.board.open', 'onramp', { method: 'GET', path: '/' }],
      ['queue.board.change', 'onramp', { method: 'PUT', path: '/api/queues/onramp/retry/failed' }],
    ]);
  });
});

describe('reviews', () => {
  it("records the manager's decisions and confirmed results, never what the rep or the manager wrote", async () => {
    const { id, rep, enrollmentId } = await submitScript('rep1', 'Hi Dana, this is Sam.');
    const returned = await manager.agent.post(`/reviews/${id}/decision`).type('form').send({ _csrf: manager.csrf, action: 'return', c_opening: 'Ask for 30 seconds first.' }).expect(303);
    const d = (await ctx.container.models.Submission.findById(id).lean<SubmissionDoc>())!;
    await rep.agent.put(`/api/submissions/${id}/draft`).set('X-CSRF-Token', rep.csrf).set('Accept', 'application/json').send({ rev: d.rev, answers: { opening: 'Hi Dana, may I take 30 seconds?', ask: 'Can we meet Tuesday at 10?' } }).expect(200);
    await rep.agent.post(`/submissions/${id}/submit`).type('form').send({ _csrf: rep.csrf }).expect(303);
    await manager.agent.post(`/reviews/${id}/decision`).type('form').send({ _csrf: manager.csrf, action: 'edit', f_opening: 'Hi Dana, may I take 30 seconds?', f_ask: 'Tuesday at 10 or Thursday at 2?' }).expect(303);
    await rep.agent.post(`/learn/${enrollmentId}/modules/script/results`).type('form').send({ _csrf: rep.csrf, r_calls: '40' }).expect(303);
    await manager.agent.post(`/reviews/${id}/confirm`).type('form').send({ _csrf: manager.csrf }).expect(303);

    const made = (await entries({ targetType: 'submission', targetId: id })).reverse();
    expect(made.map((e) => [e.action, e.actorId, e.detail])).toEqual([
      ['review.return', people.manager1.id, { repId: people.rep1.id, moduleId: 'script', version: 1, commented: ['opening'] }],
      ['review.edit', people.manager1.id, { repId: people.rep1.id, moduleId: 'script', version: 3, editedFrom: 2, edited: ['ask'], commented: [] }],
      ['review.results.confirm', people.manager1.id, { repId: people.rep1.id, moduleId: 'script' }],
    ]);
    expect(made[0]!.requestId).toBe(returned.headers['x-request-id']);
    const all = JSON.stringify(made);
    for (const text of ['Hi Dana', 'Thursday at 2', 'Ask for 30 seconds', '"calls"']) expect(all).not.toContain(text);
  });

  it('keeps a decision when the audit log cannot be written, and logs the whole entry loudly instead', async () => {
    const { id } = await submitScript('rep2', 'Hello, it is Sam again.');
    const before = failedWrites().length;
    const create = vi.spyOn(auditModel(), 'create').mockRejectedValueOnce(new Error('audit storage is down'));
    try {
      await manager.agent.post(`/reviews/${id}/decision`).type('form').send({ _csrf: manager.csrf, action: 'approve' }).expect(303);
    } finally {
      create.mockRestore();
    }
    expect((await ctx.container.models.Submission.findById(id).lean<SubmissionDoc>())!.status).toBe('approved');
    expect(await entries({ targetId: id })).toEqual([]);
    const [line] = failedWrites().slice(before);
    expect(line).toMatchObject({ level: 50, msg: 'AUDIT LOG WRITE FAILED: the action stands; this log line is its only audit record', audit: { action: 'review.approve', actorId: people.manager1.id, targetId: id } });
    expect((line!.err as { message: string }).message).toBe('audit storage is down');
  });
});

describe('failing closed', () => {
  it('refuses an admin action whose entry cannot be written: 503, nothing changed, a loud log line', async () => {
    const before = failedWrites().length;
    const create = vi.spyOn(auditModel(), 'create').mockRejectedValueOnce(new Error('audit storage is down'));
    try {
      const res = await admin.agent.post('/users').type('form').send({ _csrf: admin.csrf, name: 'Never Made', email: 'never.made@example.com', role: 'trainer', password: 'a long enough password' });
      expect(res.status).toBe(503);
      expect(res.text).toContain('The audit log could not be written, so nothing was changed.');
    } finally {
      create.mockRestore();
    }
    expect(await ctx.container.accounts.findByEmail('never.made@example.com')).toBeUndefined();
    expect(failedWrites().slice(before)).toEqual([expect.objectContaining({ level: 50, msg: 'AUDIT LOG WRITE FAILED: the action was refused', audit: expect.objectContaining({ action: 'user.create' }) })]);
  });

  it('adds a second entry, marked failed, when the change fails after its entry was written', async () => {
    const update = vi.spyOn(ctx.container.models.User, 'updateOne').mockRejectedValueOnce(new Error('write conflict'));
    try {
      await admin.agent.post(`/users/${people.rep5.id}/password-reset`).type('form').send({ _csrf: admin.csrf }).expect(500);
    } finally {
      update.mockRestore();
    }
    const made = await entries({ action: 'user.password.reset', targetId: people.rep5.id });
    expect(made.map((e) => [e.failed, e.detail])).toEqual([
      [true, { temporary: true, error: 'Error' }],
      [false, { temporary: true }],
    ]);
    expect(made[0]!.requestId).toBe(made[1]!.requestId);
    await signIn(ctx.app, people.rep5.email); // the old password still works: nothing was reset
  });

  it('refuses to record a detail that could hold a secret, and the action with it', async () => {
    const record = (detail: Record<string, string>) => ctx.container.audit.record('system', 'user.update', { type: 'user', id: people.rep1.id }, detail);
    await expect(record({ password: 'x' })).rejects.toThrow(/detail\.password: may not be recorded/);
    await expect(record({ apiToken: 'onr_x' })).rejects.toThrow(/detail\.apiToken: may not be recorded/);
    expect(await entries({ action: 'user.update', targetId: people.rep1.id })).toEqual([]);
  });
});

describe('the audit log page', () => {
  it('is only for admins', async () => {
    const trainer = await signIn(ctx.app, people.trainer.email);
    await trainer.agent.get('/admin/audit').expect(403);
    await trainer.agent.get('/admin/audit.csv').expect(403);
    await supertest(ctx.app).get('/admin/audit').expect(303);
  });

  it('pages 50 entries at a time, newest first, with names for people', async () => {
    for (let i = 0; i < 55; i++) await ctx.container.audit.record(asAdmin(), 'user.update', { type: 'user', id: people.rep4.id }, { n: i });
    const first = await admin.agent.get(`/admin/audit?target=${encodeURIComponent(people.rep4.email)}`).expect(200);
    expect(first.text).toContain('56 entries match · page 1 of 2');
    expect(first.text.match(/<code>user\.update<\/code>/g)).toHaveLength(50);
    expect(first.text).toContain('>n: 54<'); // newest first
    expect(first.text).not.toContain('>n: 4<');
    expect(first.text).toContain(people.rep4.name);
    expect(first.text).toContain(`<a href="/users/${people.admin.id}">${people.admin.name}</a>`);
    const older = /href="([^"]*)" rel="next"/.exec(first.text)![1]!.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=');
    expect(older).toBe(`/admin/audit?target=${encodeURIComponent(people.rep4.email)}&page=2`);
    const second = await admin.agent.get(older).expect(200);
    expect(second.text).toContain('page 2 of 2');
    expect(second.text.match(/<code>user\.(update|create)<\/code>/g)).toHaveLength(6); // the 5 oldest updates and the seed's create
    expect(second.text).toContain('rel="prev"');
    expect(second.text).not.toContain('rel="next"');
  });

  it('filters by who, by action or its start, by target kind and by day', async () => {
    const count = async (qs: string) => Number(/(\d+) entries match/.exec((await admin.agent.get(`/admin/audit?${qs}`).expect(200)).text)?.[1] ?? 0);
    expect(await count(`actor=${encodeURIComponent(people.manager1.email)}&action=token`)).toBe(2);
    expect(await count(`actor=${people.manager1.id}&action=review`)).toBe(3); // the approval that failed to record is not there
    expect(await count('action=user.password')).toBe((await entries({ action: 'user.password' })).length);
    expect(await count('targetType=lrs_credential')).toBe(2);
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(await count(`from=${today}&to=${today}&action=review.delegate`)).toBe(2);
    expect(await count(`from=${tomorrow}&action=review.delegate`)).toBe(0);
    const none = await admin.agent.get(`/admin/audit?from=${tomorrow}`).expect(200);
    expect(none.text).toContain('No entries match');
  });

  it('explains filters it cannot use, and reads nothing', async () => {
    const bad = await admin.agent.get('/admin/audit?actor=nobody%40example.com&from=2026-02-30&to=2026-01-01').expect(422);
    expect(bad.text).toContain('<strong>from</strong>: is not a date in the calendar');
    const unknown = await admin.agent.get('/admin/audit?actor=nobody%40example.com').expect(422);
    expect(unknown.text).toContain('<strong>actor</strong>: no user has the email nobody@example.com');
    const backwards = await admin.agent.get('/admin/audit?from=2026-03-01&to=2026-01-01').expect(422);
    expect(backwards.text).toContain('<strong>to</strong>: must not be before from (2026-03-01)');
    const extra = await admin.agent.get('/admin/audit?sort=oldest').expect(422);
    expect(extra.text).toContain('sort');
    const csv = await admin.agent.get('/admin/audit.csv?action=User!').set('Accept', 'application/json').expect(422);
    expect(csv.body.error.problems[0].path).toBe('action');
  });

  it('exports what matches as CSV, and records the export', async () => {
    const res = await admin.agent.get('/admin/audit.csv?action=token').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="?audit-log-\d{4}-\d{2}-\d{2}\.csv"?$/);
    const lines = res.text.trim().split('\r\n');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(lines[0]).toBe('at,actor_id,actor_name,actor_role,action,target_type,target_id,target_name,request_id,client_request_id,failed,detail');
    expect(lines.slice(1).map((l) => l.split(',')[4])).toEqual(['token.revoke', 'token.create']);
    expect(lines[2]).toContain(`${people.manager1.id},${people.manager1.name},manager,token.create,api_token,`);
    expect(lines[2]).toMatch(/,false,\{\}$/);
    const [exported] = await entries({ action: 'audit.export' });
    expect(exported).toMatchObject({ actorId: people.admin.id, targetType: 'audit_log', detail: { action: 'token' }, requestId: res.headers['x-request-id'] });
  });
});

describe('request ids', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it("stamps Onramp's own request id, and keeps a client's X-Request-Id apart: echoed as before, never the entry's id", async () => {
    const created = await admin.agent.post('/account/tokens').set('X-Request-Id', 'chosen-by-client').type('form').send({ _csrf: admin.csrf, name: 'request ids' }).expect(201);
    expect(created.headers['x-request-id']).toBe('chosen-by-client');
    const [entry] = await entries({ action: 'token.create', actorId: people.admin.id });
    expect(entry!.requestId).toMatch(UUID);
    expect(entry!.clientRequestId).toBe('chosen-by-client');
    // the entry's id is the one the request's log line carries, with the client's beside it
    const line = logs.records().find((r) => (r.req as { id?: string } | undefined)?.id === entry!.requestId && r.res);
    expect(line?.req).toEqual({ id: entry!.requestId, clientRequestId: 'chosen-by-client', method: 'POST', url: '/account/tokens' });
    const page = await admin.agent.get(`/admin/audit?action=token.create&actor=${people.admin.id}`).expect(200);
    expect(page.text).toContain(`<code class="small">${entry!.requestId}</code>`);
    expect(page.text).toContain('client <code>chosen-by-client</code>');

    // a header that is not a short token is not kept at all: the response carries Onramp's id
    const revoked = await admin.agent.post(`/account/tokens/${entry!.targetId}/revoke`).set('X-Request-Id', 'not an id; <b>').type('form').send({ _csrf: admin.csrf }).expect(303);
    const [revoke] = await entries({ action: 'token.revoke', actorId: people.admin.id });
    expect(revoke).toMatchObject({ requestId: revoked.headers['x-request-id'], clientRequestId: null });
    expect(revoke!.requestId).toMatch(UUID);
  });
});

describe('the CSV export as a stream', () => {
  it('reads the log only as fast as the client takes the file, and stops when the client leaves', async () => {
    const { token } = await ctx.container.accounts.createToken(asAdmin(), 'csv stream');
    const row: AuditEntryDoc = { _id: new Types.ObjectId(), at: new Date(), actorId: null, actorRole: 'system', action: 'user.update', targetType: 'queue', targetId: 'onramp', requestId: null, clientRequestId: null, detail: { note: 'n'.repeat(190) }, failed: false };
    const batch = Array.from({ length: 500 }, () => row); // about 150 kB of CSV
    const BATCHES = 400; // about 60 MB: far more than the socket buffers hold
    let read = 0;
    let stopped = false;
    vi.spyOn(ctx.container.audit, 'batches').mockImplementationOnce(async function* () {
      try {
        for (; read < BATCHES; ) {
          read++;
          yield batch;
        }
      } finally {
        stopped = true;
      }
    });
    const server = ctx.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const req = httpGet({ host: '127.0.0.1', port, path: '/admin/audit.csv', headers: { Authorization: `Bearer ${token}` } });
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      expect(res.statusCode).toBe(200);
      res.pause(); // a client that does not read
      // the export reads until the buffers are full, then waits
      let seen = -1;
      await vi.waitFor(
        () => {
          const settled = read === seen;
          seen = read;
          expect(settled).toBe(true);
        },
        { timeout: 15_000, interval: 300 },
      );
      expect(read).toBeLessThan(BATCHES / 2);
      expect(stopped).toBe(false);
      // the client goes away: no more reading
      req.destroy();
      await vi.waitFor(() => expect(stopped).toBe(true), { timeout: 5_000 });
      expect(read).toBeLessThan(BATCHES / 2);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
