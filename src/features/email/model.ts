import { Schema, type Connection, type Model, type Types } from 'mongoose';

/**
 * One document per email, written before anything is sent: what the worker sends, what the
 * outbox page shows, and (by `dedupeKey`, unique) the guard that one event never mails twice.
 *
 * queued → sent (SMTP accepted it) | outbox (no SMTP configured: kept here for admins to read)
 *        → failed (refused for good, or out of retries; `lastError` says why)
 */
export const EMAIL_STATUSES = ['queued', 'sent', 'outbox', 'failed'] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

export interface EmailMessageDoc {
  _id: Types.ObjectId;
  /** the event this email is about, e.g. `review-requested:<submissionId>:<revision>` */
  dedupeKey: string;
  template: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  status: EmailStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  /** when SMTP accepted it, or when it was put in the outbox */
  sentAt: Date | null;
  /** the Message-ID header */
  messageId: string | null;
  /** the SMTP server's answer */
  response: string | null;
}

const schema = new Schema<EmailMessageDoc>(
  {
    dedupeKey: { type: String, required: true, unique: true },
    template: { type: String, required: true },
    to: { type: String, required: true },
    subject: { type: String, required: true },
    html: { type: String, required: true },
    text: { type: String, required: true },
    status: { type: String, enum: EMAIL_STATUSES, required: true, default: 'queued' },
    attempts: { type: Number, required: true, default: 0 },
    lastError: { type: String, default: null },
    sentAt: { type: Date, default: null },
    messageId: { type: String, default: null },
    response: { type: String, default: null },
  },
  { collection: 'email_messages', timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);

export interface EmailModels {
  EmailMessage: Model<EmailMessageDoc>;
}

export function emailModels(conn: Connection): EmailModels {
  return { EmailMessage: (conn.models.EmailMessage as Model<EmailMessageDoc>) ?? conn.model('EmailMessage', schema) };
}
