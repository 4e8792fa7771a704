import type { Connection, Model } from 'mongoose';
import { requireAccess, type Actor } from '../../engine/access.js';
import { Unavailable } from '../../errors.js';
import type { Logger } from '../../infra/logger.js';
import { currentRequest } from '../../infra/request-context.js';
import { escapeRegex } from '../../infra/regex.js';
import { auditEntryModel, type AuditEntryDoc, type AuditValue } from './model.js';

export type { AuditEntryDoc, AuditValue } from './model.js';

/** Who acted: a signed-in person, or Onramp itself ('system': seeds and `onramp user …`; 'cli': `onramp content publish`). */
export type AuditActor = Actor | 'system' | 'cli';
/** What was acted on, e.g. `{ type: 'user', id: '65f…' }`. */
export interface AuditTarget {
  type: string;
  id: string;
}
/** A few flat facts about the action (ids, roles, counts); never passwords, tokens, secrets or what a rep answered. */
export type AuditDetail = Record<string, AuditValue>;

/** The actions Onramp records; the audit page offers them as filters (other features may add their own). */
export const AUDIT_ACTIONS = [
  'user.create',
  'user.update',
  'user.role.change',
  'user.deactivate',
  'user.reactivate',
  'user.password.reset',
  'user.password.change',
  'token.create',
  'token.revoke',
  'curriculum.publish',
  'review.approve',
  'review.return',
  'review.edit',
  'review.results.confirm',
  'review.delegate.set',
  'review.delegate.remove',
  'session.attendance.mark',
  'session.rubric.score',
  'lrs.credential.issue',
  'lrs.credential.revoke',
  'lrs.forwarding.retry',
  'email.view',
  'queue.board.open',
  'queue.board.change',
  'audit.export',
  'person.export',
  'person.erase',
] as const;

export const AUDIT_TARGET_TYPES = ['user', 'api_token', 'curriculum', 'submission', 'lrs_credential', 'xapi_forwarding', 'email', 'queue', 'audit_log'] as const;

const ACTION = /^[a-z][a-z-]*(\.[a-z][a-z-]*)+$/;
const TARGET_TYPE = /^[a-z][a-z_]*$/;
const DETAIL_KEY = /^[a-zA-Z][a-zA-Z0-9]*$/;
/** Keys that would hold what must never be in the log, whatever their value. */
const SENSITIVE_KEY = /password|passwd|passphrase|secret|token|hash|answers?$|cookie|authoriz/i;
const MAX_TEXT = 200;
const MAX_LIST = 50;
const MAX_DETAIL_JSON = 2000;

function valueProblem(v: unknown): string | null {
  if (v === null || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : 'must be a finite number';
  if (typeof v === 'string') return v.length <= MAX_TEXT ? null : `must be at most ${MAX_TEXT} characters`;
  if (Array.isArray(v)) {
    if (v.length > MAX_LIST) return `must list at most ${MAX_LIST} values`;
    return v.every((x) => (typeof x === 'string' && x.length <= MAX_TEXT) || (typeof x === 'number' && Number.isFinite(x))) ? null : `must list strings of at most ${MAX_TEXT} characters or numbers`;
  }
  return 'must be a string, number, boolean, null or a list of strings or numbers (no nested objects)';
}

/** What is wrong with one detail key and its value; empty when nothing. */
function detailProblems(key: string, value: unknown): string[] {
  const problems: string[] = [];
  if (!DETAIL_KEY.test(key) || key.length > 40) problems.push(`detail.${key}: keys are letters and digits (camelCase)`);
  else if (SENSITIVE_KEY.test(key)) problems.push(`detail.${key}: may not be recorded (passwords, tokens, secrets and answers never go into the audit log)`);
  const p = valueProblem(value);
  if (p) problems.push(`detail.${key}: ${p}`);
  return problems;
}

/**
 * What is wrong with an entry's input; empty when nothing. Pure. The detail must stay small and
 * flat, and a key that names a secret (password, token, secret, hash, answers, cookie,
 * authorization) is refused whatever its value: the log is read by people who must not see those.
 */
export function auditEntryProblems(action: string, target: AuditTarget, detail: unknown): string[] {
  const problems: string[] = [];
  if (!ACTION.test(action) || action.length > 64) problems.push(`action '${action}': dotted lower-case words (e.g. user.role.change), at most 64 characters`);
  if (!TARGET_TYPE.test(target.type) || target.type.length > 40) problems.push(`target.type '${target.type}': lower-case letters and _ (e.g. api_token)`);
  if (typeof target.id !== 'string' || !target.id || target.id.length > MAX_TEXT) problems.push(`target.id: 1 to ${MAX_TEXT} characters`);
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return [...problems, 'detail: must be an object'];
  const valueProblems = Object.entries(detail).flatMap(([key, value]) => detailProblems(key, value));
  problems.push(...valueProblems);
  // (only measured when every value is flat: a bigint or a cycle would make JSON.stringify throw)
  if (!valueProblems.length && JSON.stringify(detail).length > MAX_DETAIL_JSON) problems.push(`detail: at most ${MAX_DETAIL_JSON} characters as JSON`);
  return problems;
}

/** The detail's keys and values that break no rule: what a refused entry may still show in the process log. */
function recordablePart(detail: unknown): AuditDetail {
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return {};
  return Object.fromEntries(Object.entries(detail).filter(([key, value]) => !detailProblems(key, value).length)) as AuditDetail;
}

/** Which entries to read; every field optional. `action` also matches its sub-actions (`user` → `user.create`, …). */
export interface AuditFilter {
  actorId?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  /** at or after */
  from?: Date;
  /** strictly before */
  before?: Date;
}

/**
 * The audit log: who did what to what, when, in which request. Entries are appended and never
 * changed; this class has no way to change or remove one.
 *
 * Two ways to write, by what a lost entry would cost:
 * - `record` / `recordThen` fail closed, for admin actions and credentials: the entry is written
 *   before the change, and when it cannot be written the action is refused (`Unavailable`, 503) —
 *   no admin change without its entry. A change that fails after its entry was written gets a
 *   second entry with `failed: true`. An entry that breaks the rules throws (a programming error).
 * - `recordAfter` fails open, for work people did that must not be lost because the log is down (a
 *   manager's review, a trainer's rubric score): written after the change, and it never throws —
 *   when the entry cannot be written, or breaks the rules, it goes to the process log at error
 *   level (its only record; of a refused entry, what broke no rule) and the action stands.
 */
export class AuditLog {
  private readonly model: Model<AuditEntryDoc>;

  constructor(
    conn: Connection,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.model = auditEntryModel(conn);
  }

  /** The indexes, before the first write. */
  async init(): Promise<void> {
    await this.model.init();
  }

  /** Fail closed: writes the entry, or refuses (Unavailable) when it cannot. Call it before making the change. */
  async record(actor: AuditActor, action: string, target: AuditTarget, detail: AuditDetail = {}): Promise<void> {
    const problems = auditEntryProblems(action, target, detail);
    // a programming error, not bad user input: it fails the action wherever it is called
    if (problems.length) throw new Error(`Refused audit entry: ${problems.join('; ')}`);
    await this.write(this.entryOf(actor, action, target, detail, false), 'refuse');
  }

  /** Fail open: for a change already made. Never throws: a failed write or a refused entry is logged loudly instead. */
  async recordAfter(actor: AuditActor, action: string, target: AuditTarget, detail: AuditDetail = {}): Promise<void> {
    await this.keep(actor, action, target, detail, false);
  }

  /** `record`, then the change; when the change then fails, a second entry says so (`failed: true`) and the error goes on. */
  async recordThen<T>(actor: AuditActor, action: string, target: AuditTarget, detail: AuditDetail, change: () => Promise<T>): Promise<T> {
    await this.record(actor, action, target, detail);
    try {
      return await change();
    } catch (err) {
      const error = err instanceof Error ? err.name.slice(0, 60) : 'unknown';
      await this.keep(actor, action, target, { ...detail, error }, true);
      throw err;
    }
  }

  /** The fail-open write: whatever goes wrong is logged at error level, never thrown. */
  private async keep(actor: AuditActor, action: string, target: AuditTarget, detail: AuditDetail, failed: boolean): Promise<void> {
    const problems = auditEntryProblems(action, target, detail);
    if (problems.length) {
      const audit = { ...this.entryOf(actor, action, target, recordablePart(detail), failed), problems };
      this.log.error({ audit }, 'AUDIT LOG WRITE FAILED: the entry was refused (a programming error); the action stands; this log line is its only audit record');
      return;
    }
    await this.write(this.entryOf(actor, action, target, detail, failed), 'keep');
  }

  /** The entry as stored; builds, never checks (a caller checks first). */
  private entryOf(actor: AuditActor, action: string, target: AuditTarget, detail: AuditDetail, failed: boolean): Omit<AuditEntryDoc, '_id'> {
    const request = currentRequest();
    return {
      at: this.now(),
      actorId: typeof actor === 'string' ? null : actor.id,
      actorRole: typeof actor === 'string' ? actor : actor.role,
      action,
      targetType: target.type,
      targetId: target.id,
      requestId: request?.requestId ?? null,
      clientRequestId: request?.clientRequestId ?? null,
      detail,
      failed,
    };
  }

  private async write(entry: Omit<AuditEntryDoc, '_id'>, onFailure: 'refuse' | 'keep'): Promise<void> {
    try {
      await this.model.create(entry);
    } catch (err) {
      if (onFailure === 'keep') {
        this.log.error({ err, audit: entry }, 'AUDIT LOG WRITE FAILED: the action stands; this log line is its only audit record');
        return;
      }
      this.log.error({ err, audit: entry }, 'AUDIT LOG WRITE FAILED: the action was refused');
      throw new Unavailable('The audit log could not be written, so nothing was changed. Please try again in a moment.');
    }
  }

  // ---- reading -----------------------------------------------------------------------------------

  private query(f: AuditFilter): Record<string, unknown> {
    const q: Record<string, unknown> = {};
    if (f.actorId) q.actorId = f.actorId;
    if (f.action) q.action = { $regex: `^${escapeRegex(f.action)}(\\.|$)` };
    if (f.targetType) q.targetType = f.targetType;
    if (f.targetId) q.targetId = f.targetId;
    if (f.from || f.before) q.at = { ...(f.from ? { $gte: f.from } : {}), ...(f.before ? { $lt: f.before } : {}) };
    return q;
  }

  /** One page of matching entries, newest first, and how many match in all. */
  async page(actor: Actor, filter: AuditFilter, page: number, perPage: number): Promise<{ entries: AuditEntryDoc[]; total: number }> {
    requireAccess(actor, 'audit.read');
    const q = this.query(filter);
    const [entries, total] = await Promise.all([
      this.model
        .find(q)
        .sort({ at: -1, _id: -1 })
        .skip((page - 1) * perPage)
        .limit(perPage)
        .lean<AuditEntryDoc[]>(),
      this.model.countDocuments(q),
    ]);
    return { entries, total };
  }

  /** Every matching entry, newest first, a batch at a time (the CSV export). */
  async *batches(actor: Actor, filter: AuditFilter, size = 500): AsyncGenerator<AuditEntryDoc[]> {
    requireAccess(actor, 'audit.read');
    let batch: AuditEntryDoc[] = [];
    for await (const doc of this.model.find(this.query(filter)).sort({ at: -1, _id: -1 }).lean<AuditEntryDoc[]>().cursor({ batchSize: size })) {
      batch.push(doc as AuditEntryDoc);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }
}
