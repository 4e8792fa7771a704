import { Types } from 'mongoose';
import type { Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import { requireAccess, type Actor } from '../../engine/access.js';
import { NotFound, ValidationFailed } from '../../errors.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { AuditLog } from '../audit/service.js';

interface DelegateDoc {
  _id: string; // the manager who is away
  delegateId: string; // the manager who reviews for them meanwhile
  setBy: string;
  at: Date;
}

/**
 * Review delegates: an admin lets another manager review for a manager who is away. The rep's own
 * manager keeps reviewing too; removing the delegate ends it.
 */
export class ReviewDelegates {
  private readonly col: Collection<DelegateDoc>;

  constructor(
    conn: Connection,
    private readonly m: AccountModels,
    /** setting and removing a delegate are recorded before they are made */
    private readonly audit: AuditLog,
  ) {
    this.col = conn.db!.collection<DelegateDoc>('review_delegates');
  }

  /** The managers whose reviews this manager does: themselves and those who delegated to them. */
  async reviewsFor(managerId: string): Promise<string[]> {
    const delegating = await this.col.find({ delegateId: managerId }).toArray();
    return [managerId, ...delegating.map((d) => d._id)];
  }

  async delegateOf(managerId: string): Promise<string | null> {
    return (await this.col.findOne({ _id: managerId }))?.delegateId ?? null;
  }

  async list(actor: Actor): Promise<{ manager: UserDoc; delegate: UserDoc | null }[]> {
    requireAccess(actor, 'users.manage');
    const managers = await this.m.User.find({ role: 'manager', active: true }).sort({ name: 1 }).lean<UserDoc[]>();
    const byId = new Map(managers.map((u) => [String(u._id), u]));
    const all = await this.col.find({}).toArray();
    return managers.map((manager) => {
      const d = all.find((x) => x._id === String(manager._id));
      return { manager, delegate: d ? (byId.get(d.delegateId) ?? null) : null };
    });
  }

  /** Sets (or with null, removes) who reviews for a manager. */
  async set(actor: Actor, managerId: string, delegateId: string | null): Promise<void> {
    requireAccess(actor, 'users.manage');
    const manager = Types.ObjectId.isValid(managerId) ? await this.m.User.findOne({ _id: managerId, role: 'manager' }).lean<UserDoc>() : null;
    if (!manager) throw new NotFound('No such manager.');
    if (delegateId === null) {
      const current = await this.delegateOf(managerId);
      if (!current) return; // none to remove: nothing changes, nothing is recorded
      await this.audit.recordThen(actor, 'review.delegate.remove', { type: 'user', id: managerId }, { delegateId: current }, () => this.col.deleteOne({ _id: managerId }));
      return;
    }
    const delegate = Types.ObjectId.isValid(delegateId) ? await this.m.User.findOne({ _id: delegateId, role: 'manager', active: true }).lean<UserDoc>() : null;
    if (!delegate) throw new ValidationFailed([{ path: 'delegateId', message: 'choose an active manager' }]);
    if (delegateId === managerId) throw new ValidationFailed([{ path: 'delegateId', message: 'a manager cannot delegate to themselves' }]);
    await this.audit.recordThen(actor, 'review.delegate.set', { type: 'user', id: managerId }, { delegateId }, () =>
      this.col.updateOne({ _id: managerId }, { $set: { delegateId, setBy: actor.id, at: new Date() } }, { upsert: true }),
    );
  }
}
