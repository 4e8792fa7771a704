import type { Logger } from '../../infra/logger.js';
import type { MailService } from '../email/service.js';
import type { TransferListener } from './events.js';

/**
 * Emails for the review workflow: the manager hears of a submission, the rep of the decision.
 * Each email names its event (submission and version), so a retried request mails once. A failure
 * to queue an email is logged, never thrown at the person whose work was just saved.
 */
export class TransferMailer implements TransferListener {
  constructor(
    private readonly mail: MailService,
    private readonly log: Logger,
  ) {}

  private async send(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.error({ err }, 'could not queue a review email');
    }
  }

  async submitted(e: Parameters<TransferListener['submitted']>[0]): Promise<void> {
    if (!e.manager?.email) return;
    await this.send(() =>
      this.mail.send({
        to: `${e.manager!.name} <${e.manager!.email!}>`,
        template: 'review-requested',
        data: { managerName: e.manager!.name, repName: e.view.rep.name, itemTitle: e.form.title, curriculumTitle: e.view.curriculum.title, link: `/reviews/${e.submissionId}` },
        dedupeKey: `review-requested:${e.submissionId}:v${e.version}`,
      }),
    );
  }

  async reviewed(e: Parameters<TransferListener['reviewed']>[0]): Promise<void> {
    const rep = e.view.rep;
    const link = `/learn/${String(e.view.enrollment._id)}/modules/${e.moduleId}/build`;
    await this.send(() =>
      this.mail.send({
        to: `${rep.name} <${rep.email}>`,
        template: e.decision === 'approved' ? 'submission-approved' : 'changes-requested',
        data: { repName: rep.name, managerName: e.manager.name, itemTitle: e.form.title, comment: e.comment || undefined, link },
        dedupeKey: `${e.decision}:${e.submissionId}:v${e.version}`,
      }),
    );
  }

  async resultsLogged(): Promise<void> {
    // the manager sees results to confirm in their review queue; no email for this one
  }
}
