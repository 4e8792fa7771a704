import type { Queue } from 'bullmq';
import nodemailer from 'nodemailer';
import { isValidObjectId } from 'mongoose';
import { z } from 'zod';
import { NotFound, ValidationFailed } from '../../errors.js';
import type { Logger } from '../../infra/logger.js';
import type { EmailModels, EmailMessageDoc, EmailStatus } from './model.js';
import type { EmailData, EmailTemplateName, EmailTemplates } from './templates.js';

/** The job that delivers one stored email (payload: its id). */
export const EMAIL_JOB = 'email.send';

export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** the Message-ID header: stable per stored email, so a receiver can recognise a duplicate */
  messageId: string;
}

/** What sends an email: SMTP (nodemailer) in real use; absent when SMTP_URL is not set. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string; response: string }>;
  close(): void;
}

/** nodemailer over SMTP_URL (smtp:// with STARTTLS when offered, smtps:// for TLS from the start). */
export function smtpMailer(url: string): Mailer {
  const transport = nodemailer.createTransport({ url, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 60_000 });
  return {
    async send(email) {
      const info = await transport.sendMail(email);
      return { messageId: info.messageId, response: info.response };
    },
    close: () => transport.close(),
  };
}

/** SMTP refused the email for good (5xx, a bad address) or it ran out of retries: retrying cannot help. */
export class EmailRefused extends Error {}

export interface SendEmail<T extends EmailTemplateName> {
  /** one address ("rep@example.com" or "Rep Name <rep@example.com>") */
  to: string;
  template: T;
  data: EmailData<T>;
  /**
   * Names the event, e.g. `review-requested:<submissionId>:<revision>`: a second send with the same
   * key (a retried request, a job run twice) stores and sends nothing.
   */
  dedupeKey: string;
}

export interface MailOptions {
  from: string;
  /** tries per email, SMTP errors included (a 5xx answer ends them at once) */
  attempts?: number;
  /** the first retry's delay; each next one doubles it (10 s → ~21 min over 8 tries) */
  backoffMs?: number;
}

const address = z.union([z.email(), z.string().regex(/^[^<>\r\n]*<[^<>\s]+@[^<>\s]+>$/)]);

export interface EmailSummary {
  id: string;
  to: string;
  subject: string;
  template: string;
  status: EmailStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

export interface EmailDetail extends EmailSummary {
  text: string;
  messageId: string | null;
  response: string | null;
}

/**
 * Every email goes through here. `send` stores the rendered email first (status `queued`) and then
 * enqueues a job; the worker's `deliver` sends it over SMTP, or — without SMTP_URL — puts it in
 * the outbox, where admins read it (/admin/outbox).
 */
export class MailService {
  readonly attempts: number;
  readonly backoffMs: number;

  constructor(
    private readonly m: EmailModels,
    private readonly templates: EmailTemplates,
    private readonly queue: Queue,
    private readonly mailer: Mailer | undefined,
    private readonly log: Logger,
    private readonly options: MailOptions,
  ) {
    this.attempts = options.attempts ?? 8;
    this.backoffMs = options.backoffMs ?? 10_000;
  }

  /** whether emails leave Onramp (SMTP_URL set) or stay in the outbox */
  get smtpConfigured(): boolean {
    return this.mailer !== undefined;
  }

  async send<T extends EmailTemplateName>(input: SendEmail<T>): Promise<{ id: string | null; created: boolean }> {
    const problems = [];
    if (!address.safeParse(input.to).success) problems.push({ path: 'to', message: 'must be an email address' });
    if (!input.dedupeKey || input.dedupeKey.length > 300) problems.push({ path: 'dedupeKey', message: 'is required (at most 300 characters)' });
    if (problems.length) throw new ValidationFailed(problems);
    const rendered = this.templates.render(input.template, input.data);
    let id: string;
    try {
      const doc = await this.m.EmailMessage.create({ dedupeKey: input.dedupeKey, template: input.template, to: input.to, ...rendered });
      id = String(doc._id);
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      // this event was mailed already. If its job was never enqueued (Redis was down), enqueue it
      // now: the job id is the message's, so a job that exists already is not added twice.
      const existing = await this.m.EmailMessage.findOne({ dedupeKey: input.dedupeKey }, { _id: 1, status: 1 }).lean();
      if (existing?.status === 'queued') await this.enqueue(String(existing._id));
      return { id: existing ? String(existing._id) : null, created: false };
    }
    await this.enqueue(id);
    return { id, created: true };
  }

  /**
   * The worker's half. Sends a queued email once: an email that is `sent`, `outbox` or `failed`
   * is left alone, so a job that runs again (a retry, a duplicate) never sends it again.
   *
   * At least once, not exactly once: if the process dies after the SMTP server accepted the email
   * and before `sent` is stored, the retry sends it a second time. The Message-ID stays the same,
   * so mail clients that collapse duplicates show it once.
   */
  async deliver(id: string): Promise<{ id: string; status: EmailStatus; skipped?: true }> {
    const msg = await this.m.EmailMessage.findById(id).lean();
    // FerretDB may not show a document just written on another connection: throw, and retry later
    if (!msg) throw new Error(`email ${id} not found (yet)`);
    if (msg.status !== 'queued') return { id, status: msg.status, skipped: true };
    if (!this.mailer) {
      await this.m.EmailMessage.updateOne({ _id: msg._id, status: 'queued' }, { $set: { status: 'outbox', sentAt: new Date() } });
      this.log.info({ emailId: id, to: msg.to, subject: msg.subject }, 'email kept in the outbox (SMTP_URL is not set)');
      return { id, status: 'outbox' };
    }
    const attempts = msg.attempts + 1;
    try {
      const info = await this.mailer.send({ from: this.options.from, to: msg.to, subject: msg.subject, html: msg.html, text: msg.text, messageId: messageIdFor(id, this.options.from) });
      await this.m.EmailMessage.updateOne(
        { _id: msg._id },
        { $set: { status: 'sent', sentAt: new Date(), attempts, lastError: null, messageId: info.messageId, response: info.response.slice(0, 500) } },
      );
      return { id, status: 'sent' };
    } catch (err) {
      const permanent = (err as { permanent?: boolean }).permanent === true || attempts >= this.attempts;
      const lastError = describeError(err);
      await this.m.EmailMessage.updateOne({ _id: msg._id }, { $set: { attempts, lastError, status: permanent ? 'failed' : 'queued' } });
      if (permanent) throw new EmailRefused(`email ${id} not sent: ${lastError}`);
      throw err;
    }
  }

  /** the newest emails first, for the outbox page */
  async list(limit = 200): Promise<EmailSummary[]> {
    const docs = await this.m.EmailMessage.find({}, { html: 0, text: 0 }).sort({ createdAt: -1, _id: -1 }).limit(limit).lean();
    return docs.map(summary);
  }

  async counts(): Promise<Record<EmailStatus, number>> {
    const [queued, sent, outbox, failed] = await Promise.all((['queued', 'sent', 'outbox', 'failed'] as const).map((status) => this.m.EmailMessage.countDocuments({ status })));
    return { queued: queued!, sent: sent!, outbox: outbox!, failed: failed! };
  }

  async get(id: string): Promise<EmailDetail & { html: string }> {
    const doc = isValidObjectId(id) && /^[a-f0-9]{24}$/.test(id) ? await this.m.EmailMessage.findById(id).lean() : null;
    if (!doc) throw new NotFound('No such email.');
    return { ...summary(doc), text: doc.text, html: doc.html, messageId: doc.messageId, response: doc.response };
  }

  private async enqueue(id: string): Promise<void> {
    try {
      await this.queue.add(EMAIL_JOB, { messageId: id }, { jobId: `email-${id}`, attempts: this.attempts, backoff: { type: 'exponential', delay: this.backoffMs } });
    } catch (err) {
      // the email is stored and shows as queued in the outbox; sending the same event again enqueues it
      this.log.warn({ err: (err as Error).message, emailId: id }, 'could not enqueue an email');
    }
  }
}

function summary(d: Omit<EmailMessageDoc, 'html' | 'text'>): EmailSummary {
  return {
    id: String(d._id),
    to: d.to,
    subject: d.subject,
    template: d.template,
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    sentAt: d.sentAt ? d.sentAt.toISOString() : null,
  };
}

/** `<email-<id>@<the sender's domain>>` */
export function messageIdFor(id: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'onramp.localhost';
  return `<email-${id}@${domain}>`;
}

function describeError(err: unknown): string {
  const e = err as { message?: string; responseCode?: number; code?: string };
  const text = [e.code, e.responseCode, e.message ?? String(err)].filter((v) => v !== undefined && v !== '').join(' ');
  return text.slice(0, 500);
}
