import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from 'mongoose';
import { validateCurriculum } from '../../src/content/validate.js';
import type { AuditDetail, AuditEntryDoc } from '../../src/features/audit/service.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { registrationOf } from '../../src/xapi/catalogue.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type TestContext } from '../support/context.js';
import { fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';
import { captureLog } from '../support/log-capture.js';

/**
 * `recordAfter` fails open and never throws: an entry the rules refuse (a programming error) is
 * logged loudly like a failed write, and the work it records goes on — here a manager's review of
 * a form with more sections than an entry's list may name.
 */
let ctx: TestContext;
let people: DemoPeople;
const logs = captureLog();

/** one more section than an audit entry's list may hold (50) */
const SECTIONS = 51;
const form = `id: script
title: Call script
steps:
${Array.from({ length: SECTIONS }, (_, i) => `  - id: s${i}\n    title: Section ${i}\n    fields:\n      - id: f${i}\n        label: Part ${i}\n        type: longText\n`).join('')}`;

const auditModel = () => ctx.container.mongo.model('AuditEntry') as Model<AuditEntryDoc>;
const failedWrites = () => logs.records().filter((r) => String(r.msg).startsWith('AUDIT LOG WRITE FAILED'));
const REFUSED = 'AUDIT LOG WRITE FAILED: the entry was refused (a programming error); the action stands; this log line is its only audit record';

beforeAll(async () => {
  ctx = await createTestContext({}, { log: logs.logger });
  people = await seedPeople(ctx.container);
  const { content, problems } = validateCurriculum('demo', fixtureFiles({ 'demo/forms/script.yaml': form }));
  expect(problems).toEqual([]);
  await ctx.container.curricula.publish('cli', content!);
});
afterAll(() => ctx?.close());

describe('recordAfter', () => {
  it('never throws for an entry that breaks the rules: one loud line, without what was refused', async () => {
    const before = failedWrites().length;
    const manager = { id: people.manager1.id, role: 'manager' as const };
    await expect(ctx.container.audit.recordAfter(manager, 'review.approve', { type: 'submission', id: 'x1' }, { version: 2, password: 'Amber-Walrus-Sextant-8812', notes: { nested: true } } as unknown as AuditDetail)).resolves.toBeUndefined();
    expect(await auditModel().countDocuments({ targetId: 'x1' })).toBe(0);
    const lines = failedWrites().slice(before);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        msg: REFUSED,
        audit: expect.objectContaining({
          action: 'review.approve',
          actorId: people.manager1.id,
          targetId: 'x1',
          detail: { version: 2 }, // what broke no rule
          problems: [
            'detail.password: may not be recorded (passwords, tokens, secrets and answers never go into the audit log)',
            'detail.notes: must be a string, number, boolean, null or a list of strings or numbers (no nested objects)',
          ],
        }),
      }),
    ]);
    expect(logs.lines.join('\n')).not.toContain('Amber-Walrus-Sextant-8812');
  });

  it("keeps a manager's decision, its xAPI fact and the rep's email when its entry is refused", async () => {
    const { enrollment } = await ctx.container.enrollments.enroll('system', { userId: people.rep1.id, curriculumId: 'demo', startDate: '2026-01-05' });
    const enrollmentId = String(enrollment._id);
    await unlockTransfer(ctx.container.enrollments, enrollmentId);
    const rep = await signIn(ctx.app, people.rep1.email);
    await rep.agent.get(`/learn/${enrollmentId}/modules/script/build`).expect(200);
    const d = (await ctx.container.models.Submission.findOne({ enrollmentId }).lean<SubmissionDoc>())!;
    const id = String(d._id);
    const answers = Object.fromEntries(Array.from({ length: SECTIONS }, (_, i) => [`f${i}`, `Part ${i} of my script.`]));
    await rep.agent.put(`/api/submissions/${id}/draft`).set('X-CSRF-Token', rep.csrf).set('Accept', 'application/json').send({ rev: d.rev, answers }).expect(200);
    await rep.agent.post(`/submissions/${id}/submit`).type('form').send({ _csrf: rep.csrf }).expect(303);

    const before = failedWrites().length;
    const manager = await signIn(ctx.app, people.manager1.email);
    const comments = Object.fromEntries(Array.from({ length: SECTIONS }, (_, i) => [`c_s${i}`, `Tighten section ${i}.`]));
    await manager.agent.post(`/reviews/${id}/decision`).type('form').send({ _csrf: manager.csrf, action: 'return', ...comments }).expect(303);

    expect((await ctx.container.models.Submission.findById(id).lean<SubmissionDoc>())!.status).toBe('returned');
    // the steps after the entry ran: the rep was told, and the return is an xAPI statement
    const mails = await ctx.container.models.EmailMessage.find({ template: 'changes-requested' }).lean();
    expect(mails.map((m) => String(m.to).replace(/.*<|>/g, ''))).toEqual([people.rep1.email]);
    const { statements } = await ctx.container.statements.query({ limit: 100, ascending: true, registration: registrationOf(enrollmentId) }, 'exact', [], '', new URLSearchParams());
    expect((statements as { verb: { id: string } }[]).map((s) => s.verb.id.split('/').pop())).toContain('return');
    // and the entry is in the process log, loudly
    expect(await auditModel().countDocuments({ targetId: id })).toBe(0);
    expect(failedWrites().slice(before)).toEqual([
      expect.objectContaining({
        level: 50,
        msg: REFUSED,
        audit: expect.objectContaining({ action: 'review.return', actorId: people.manager1.id, targetId: id, detail: { repId: people.rep1.id, moduleId: 'script', version: 1 }, problems: ['detail.commented: must list at most 50 values'] }),
      }),
    ]);
  });
});

describe('recordThen', () => {
  it("throws the change's own error when its failed twin is too big to record, and logs the twin", async () => {
    const before = failedWrites().length;
    const detail = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'y'.repeat(190)])); // just under 2,000 characters as JSON
    const change = () => Promise.reject(new RangeError('the change failed'));
    await expect(ctx.container.audit.recordThen('system', 'user.update', { type: 'user', id: people.rep2.id }, detail, change)).rejects.toThrow('the change failed');
    expect(await auditModel().find({ action: 'user.update', targetId: people.rep2.id }).lean()).toEqual([expect.objectContaining({ failed: false, detail })]);
    expect(failedWrites().slice(before)).toEqual([
      expect.objectContaining({ msg: REFUSED, audit: expect.objectContaining({ failed: true, detail: { ...detail, error: 'RangeError' }, problems: ['detail: at most 2000 characters as JSON'] }) }),
    ]);
  });
});
