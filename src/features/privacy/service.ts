import type { Collection } from 'mongodb';
import { Types } from 'mongoose';
import type { Container } from '../../container.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import { confirmsErasure, type StatementErasure } from '../../engine/privacy.js';
import { Conflict, NotFound, ValidationFailed } from '../../errors.js';
import { RedisLocker } from '../../infra/locks.js';
import { registrationOf } from '../../xapi/catalogue.js';
import { StatementStore } from '../../xapi/lrs/store.js';
import type { UserDoc } from '../accounts/model.js';
import { agentKeysOf, PERSONAL_DATA, type PersonalData, type PrivacyDeps, type Subject } from './registry.js';

/** Who asks: an admin, or the `onramp people` command run by whoever operates the server. */
export type Requester = Actor | 'cli';

export interface EraseInput {
  statements: StatementErasure;
  /** the person's email address, typed by whoever erases */
  confirm: string;
}

/**
 * `privacy_erasures`: one record per erasure (`_id` = the person's id), written before the first
 * step. It holds ids only — never a name or email — and outlives the account: what was erased,
 * when, by whom, with what choice for the statements. Until the erasure finishes it also holds the
 * ids a rerun needs after the enrollments are gone.
 */
export interface ErasureRecord {
  _id: string;
  by: string;
  statements: StatementErasure;
  startedAt: Date;
  finishedAt: Date | null;
  enrollmentIds?: string[];
  submissionIds?: string[];
  /** records changed per collection, written after each step (the runs of a rerun added up) */
  counts?: Record<string, number>;
}

export interface PersonalDataExport {
  format: 'onramp-personal-data/1';
  exportedAt: string;
  person: { id: string; name: string; email: string; role: string };
  /** collection → the person's records in it */
  collections: Record<string, unknown[]>;
}

export interface ErasureResult {
  personId: string;
  statements: StatementErasure;
  counts: Record<string, number>;
}

/**
 * Requests to export or erase everything Onramp holds about one person (admins only). Both walk
 * PERSONAL_DATA. Erasure is resumable without transactions: the account is made inactive and the
 * record written first, every step is idempotent, and the account is deleted last — an erasure
 * that stopped halfway is finished by running it again with the same choice.
 */
export class PrivacyService {
  readonly erasures: Collection<ErasureRecord>;

  constructor(
    private readonly d: PrivacyDeps,
    private readonly steps: readonly PersonalData[] = PERSONAL_DATA,
  ) {
    this.erasures = d.db.collection<ErasureRecord>('privacy_erasures');
  }

  private check(who: Requester): string {
    if (who === 'cli') return 'cli';
    requireAccess(who, 'users.manage');
    return who.id;
  }

  private async user(userId: string): Promise<UserDoc | null> {
    return Types.ObjectId.isValid(userId) ? this.d.models.User.findById(userId).lean<UserDoc>() : null;
  }

  /**
   * The person the command line names, by email address or id. An id whose account is gone still
   * names its erasure, so that one which stopped after deleting the account can be finished.
   */
  async find(emailOrId: string): Promise<{ id: string; email: string | null }> {
    const key = emailOrId.trim();
    if (/^[0-9a-f]{24}$/i.test(key)) {
      const id = key.toLowerCase();
      const user = await this.d.models.User.findById(id, { email: 1 }).lean<Pick<UserDoc, 'email'>>();
      if (user) return { id, email: user.email };
      if (await this.erasures.findOne({ _id: id }, { projection: { _id: 1 } })) return { id, email: null };
      throw new NotFound(`No one has the id ${key}, and no erasure of that id is recorded.`);
    }
    const user = await this.d.models.User.findOne({ email: key.toLowerCase() }, { email: 1 }).lean<Pick<UserDoc, '_id' | 'email'>>();
    if (!user) throw new NotFound(`No one has the email address ${key}.`);
    return { id: String(user._id), email: user.email };
  }

  private async subject(user: UserDoc, record: ErasureRecord | null): Promise<Subject> {
    const id = String(user._id);
    const [enrollments, submissions] = await Promise.all([
      this.d.models.Enrollment.find({ userId: user._id }, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>(),
      this.d.models.Submission.find({ repId: user._id }, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>(),
    ]);
    const enrollmentIds = [...new Set([...(record?.enrollmentIds ?? []), ...enrollments.map((e) => String(e._id))])];
    return {
      user,
      id,
      oid: user._id,
      ...agentKeysOf(this.d.homePage, user),
      enrollmentIds,
      registrations: enrollmentIds.map(registrationOf),
      submissionIds: [...new Set([...(record?.submissionIds ?? []), ...submissions.map((x) => String(x._id))])],
    };
  }

  /** Everything Onramp holds about the person, collection by collection. */
  async exportPerson(who: Requester, userId: string): Promise<PersonalDataExport> {
    const by = this.check(who);
    const user = await this.user(userId);
    if (!user) throw new NotFound('No such user.');
    const subject = await this.subject(user, await this.erasures.findOne({ _id: String(user._id) }));
    await this.d.audit.record(who, 'person.export', { type: 'user', id: subject.id });
    const collections: Record<string, unknown[]> = {};
    for (const step of this.steps) if (step.export) collections[step.collection] = await step.export(subject, this.d);
    this.d.log.info({ by, personId: subject.id }, 'personal data exported');
    return {
      format: 'onramp-personal-data/1',
      exportedAt: this.d.now().toISOString(),
      person: { id: subject.id, name: user.name, email: user.email, role: user.role },
      collections: JSON.parse(JSON.stringify(collections)) as Record<string, unknown[]>,
    };
  }

  /** An erasure of this person that started and has not finished (the account still exists), if any. */
  async unfinished(who: Requester, userId: string): Promise<ErasureRecord | null> {
    this.check(who);
    return Types.ObjectId.isValid(userId) ? this.erasures.findOne({ _id: userId }) : null;
  }

  /**
   * Erases the person. `input.confirm` must be their email address; `input.statements` says
   * whether their xAPI statements are voided or removed. Refused for one's own account and for a
   * manager anyone still reports to. One erasure of a person at a time: a second one asked for
   * while it runs (a double submit, the page and the command line) is refused, not queued.
   */
  async erase(who: Requester, userId: string, input: EraseInput): Promise<ErasureResult> {
    const by = this.check(who);
    let running = false;
    try {
      return await this.d.erasureLocks.withLock(`privacy-erase:${userId.trim().toLowerCase()}`, () => {
        running = true;
        return this.eraseNow(who, by, userId, input);
      });
    } catch (err) {
      if (!running && err instanceof Conflict) throw new Conflict('An erasure of this person is running right now: wait for it to finish, then look at their page again.');
      throw err;
    }
  }

  private async eraseNow(who: Requester, by: string, userId: string, { statements, confirm }: EraseInput): Promise<ErasureResult> {
    const user = await this.user(userId);
    if (!user) return this.resume(who, userId);
    const id = String(user._id);
    if (!confirmsErasure(confirm, user.email)) throw new ValidationFailed([{ path: 'confirm', message: 'is not this person’s email address: type it exactly to confirm the erasure' }]);
    if (by === id) throw new Conflict('You cannot erase your own account: ask another admin.');
    const reports = await this.d.models.User.countDocuments({ managerId: user._id });
    if (reports) throw new Conflict(`${user.name} is the manager of ${reports} rep(s): assign them to another manager first.`);

    const before = await this.erasures.findOne({ _id: id });
    if (before && before.statements !== statements) {
      throw new Conflict(`An erasure of this person that chose to ${before.statements} their statements started on ${before.startedAt.toISOString()}: run it again with the same choice to finish it.`);
    }
    const subject = await this.subject(user, before);
    const startedAt = before?.startedAt ?? this.d.now();
    subject.erasure = { statements, startedAt };
    // per collection, over every run: the record keeps them step by step, for a run that finishes another
    const counts: Record<string, number> = { ...before?.counts };
    // the audit entry before any change (no erasure without it; a failed one gets a second entry)
    await this.d.audit.recordThen(who, 'person.erase', { type: 'user', id }, { statements, rerun: before !== null }, async () => {
      // first the record (what a rerun needs once the enrollments are gone), then the account off:
      // signed out everywhere, tokens refused, no more reinforcement deliveries
      await this.erasures.updateOne(
        { _id: id },
        { $set: { by: before?.by ?? by, statements, startedAt, finishedAt: null, enrollmentIds: subject.enrollmentIds, submissionIds: subject.submissionIds } },
        { upsert: true },
      );
      await this.d.models.User.updateOne({ _id: user._id }, { $set: { active: false } });
      this.d.log.info({ by, personId: id, statements }, 'erasure of a person started');
      for (const step of this.steps) {
        if (!step.erase) continue;
        counts[step.collection] = (counts[step.collection] ?? 0) + (await step.erase(subject, this.d));
        await this.erasures.updateOne({ _id: id }, { $set: { [`counts.${step.collection}`]: counts[step.collection] } });
      }
      await this.finish(id);
    });
    this.d.log.info({ by, personId: id, statements, counts }, 'personal data erased');
    return { personId: id, statements, counts };
  }

  /**
   * The account is gone: it is deleted by the last step, so its erasure's record at most misses the
   * finishing touch (a crash after that step), which this gives it. A finished one is left as it is.
   */
  private async resume(who: Requester, userId: string): Promise<ErasureResult> {
    const record = Types.ObjectId.isValid(userId) ? await this.erasures.findOne({ _id: userId.toLowerCase() }) : null;
    if (!record) throw new NotFound('No such user.');
    const result = { personId: record._id, statements: record.statements, counts: record.counts ?? {} };
    if (record.finishedAt) return result;
    await this.d.audit.recordThen(who, 'person.erase', { type: 'user', id: record._id }, { statements: record.statements, rerun: true }, () => this.finish(record._id));
    this.d.log.info({ personId: record._id, statements: record.statements, counts: result.counts }, 'personal data erased');
    return result;
  }

  private async finish(id: string): Promise<void> {
    await this.erasures.updateOne({ _id: id }, { $set: { finishedAt: this.d.now() }, $unset: { enrollmentIds: '', submissionIds: '' } });
  }
}

/** What the service works with, over a container's connections, with the locks the features and the LRS take. */
export function privacyDeps(c: Container): PrivacyDeps {
  return {
    models: c.models,
    db: c.mongo.db!,
    // the LRS's write lock (its store in the container takes the same one): voided flags are never lost
    store: new StatementStore(c.mongo, { locks: new RedisLocker(c.redis, c.config.redisPrefix, 60_000, 30_000) }),
    statements: c.statements,
    sessions: c.sessions,
    summaries: c.summaries,
    deliveries: c.deliveries,
    queue: c.queue,
    audit: c.audit,
    locks: new RedisLocker(c.redis, c.config.redisPrefix, 10_000, 12_000),
    // not waited for: a second erasure of the person is refused at once; renewed while one runs, freed 30 s after its process dies
    erasureLocks: new RedisLocker(c.redis, c.config.redisPrefix, 30_000, 0, { renew: true }),
    homePage: c.config.publicUrl.replace(/\/+$/, ''),
    log: c.log,
    now: () => new Date(),
  };
}

/** The service over a container (the pages, the command line). */
export function privacyService(c: Container, steps: readonly PersonalData[] = PERSONAL_DATA): PrivacyService {
  return new PrivacyService(privacyDeps(c), steps);
}
