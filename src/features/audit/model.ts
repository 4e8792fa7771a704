import { Schema, type Connection, type Model, type Types } from 'mongoose';

/** A role, or who acts when no person does: 'system' (seeds, `onramp user …`), 'cli' (`onramp content publish`). */
export type AuditActorRole = 'rep' | 'manager' | 'trainer' | 'admin' | 'system' | 'cli';

/** A detail value: small and flat (the service refuses anything else). */
export type AuditValue = string | number | boolean | null | (string | number)[];

export interface AuditEntryDoc {
  _id: Types.ObjectId;
  at: Date;
  /** the person who acted; null for 'system' and 'cli' */
  actorId: string | null;
  actorRole: AuditActorRole;
  /** dotted, e.g. `user.role.change` */
  action: string;
  targetType: string;
  targetId: string;
  /** Onramp's id for the request (its log lines carry the same as `req.id`); null outside a request */
  requestId: string | null;
  /** the `X-Request-Id` the client or a proxy sent, if any: the client's to choose, so never evidence */
  clientRequestId: string | null;
  detail: Record<string, AuditValue>;
  /** true on the second entry written when a change failed after its entry was written */
  failed: boolean;
}

/**
 * `audit_log`: one document per action, appended and never changed. Only ids are kept (of the
 * actor and the target), no names or emails, so erasing a person leaves nothing of them here but ids.
 */
const schema = new Schema<AuditEntryDoc>(
  {
    at: { type: Date, required: true, index: true },
    actorId: { type: String, default: null },
    actorRole: { type: String, required: true },
    action: { type: String, required: true },
    targetType: { type: String, required: true },
    targetId: { type: String, required: true },
    requestId: { type: String, default: null },
    clientRequestId: { type: String, default: null },
    detail: { type: Schema.Types.Mixed, default: {} },
    failed: { type: Boolean, default: false },
  },
  { collection: 'audit_log', versionKey: false, minimize: false },
);
schema.index({ actorId: 1, at: -1 });
schema.index({ action: 1, at: -1 });
schema.index({ targetId: 1, at: -1 });

export function auditEntryModel(conn: Connection): Model<AuditEntryDoc> {
  return (conn.models.AuditEntry as Model<AuditEntryDoc>) ?? conn.model('AuditEntry', schema);
}
