import { Types } from 'mongoose';
import type { Logger } from '../../infra/logger.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { CurriculumModels, CurriculumVersionDoc } from '../curricula/model.js';
import type { MailService } from '../email/service.js';
import type { SubmissionDoc, SubmissionModels } from './model.js';

export interface ReminderResult {
  /** submissions waiting past their review due date */
  overdue: number;
  /** reminders stored and queued in this run */
  queued: number;
  /** already reminded today (same dedupe key) */
  already: number;
  /** no active manager with an email address, or the email could not be queued */
  skipped: number;
}

/** The dedupe key of a reminder: one per submission, submitted version and (UTC) day. */
export const reminderKey = (submissionId: string, version: number, now: Date): string => `review-overdue:${submissionId}:v${version}:${now.toISOString().slice(0, 10)}`;

/**
 * The `reviews.remindOverdue` job: every submission still waiting for its manager after its
 * review due date gets a `review-overdue` email to that manager, at most once a day (the dedupe
 * key names the day), until the manager decides.
 */
export async function remindOverdueReviews(m: SubmissionModels & AccountModels & CurriculumModels, email: MailService, log: Logger, now = new Date()): Promise<ReminderResult> {
  const subs = await m.Submission.find({ status: 'submitted', reviewDueAt: { $lt: now } }).lean<SubmissionDoc[]>();
  const result: ReminderResult = { overdue: subs.length, queued: 0, already: 0, skipped: 0 };
  if (!subs.length) return result;

  const people = [...new Set(subs.flatMap((s) => [String(s.repId), ...(s.managerId ? [String(s.managerId)] : [])]))].map((id) => new Types.ObjectId(id));
  const users = new Map((await m.User.find({ _id: { $in: people } }, { name: 1, email: 1, active: 1, timezone: 1 }).lean<UserDoc[]>()).map((u) => [String(u._id), u]));
  const versions = new Map(
    (await m.CurriculumVersion.find({ _id: { $in: [...new Set(subs.map((s) => s.versionId))] } }).lean<CurriculumVersionDoc[]>()).map((v) => [v._id, v]),
  );

  for (const s of subs) {
    const id = String(s._id);
    const manager = s.managerId ? users.get(String(s.managerId)) : undefined;
    const version = (s.versions ?? []).at(-1)?.n;
    if (!manager?.active || !manager.email || !s.submittedAt || version === undefined) {
      result.skipped++;
      continue;
    }
    const rep = users.get(String(s.repId));
    const form = versions.get(s.versionId)?.content.forms[s.formId];
    try {
      const sent = await email.send({
        to: `${manager.name} <${manager.email}>`,
        template: 'review-overdue',
        data: {
          managerName: manager.name,
          repName: rep?.name ?? 'Your rep',
          itemTitle: form?.title ?? s.moduleId,
          submittedAt: s.submittedAt,
          ...(s.reviewDueAt ? { dueAt: s.reviewDueAt } : {}),
          ...(manager.timezone ? { timeZone: manager.timezone } : {}),
          link: `/reviews/${id}`,
        },
        dedupeKey: reminderKey(id, version, now),
      });
      if (sent.created) result.queued++;
      else result.already++;
    } catch (err) {
      result.skipped++;
      log.error({ err, submissionId: id }, 'could not queue an overdue-review reminder');
    }
  }
  return result;
}
