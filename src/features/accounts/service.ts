import { createHash, randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { Conflict, NotFound, Unauthenticated, ValidationFailed } from '../../errors.js';
import { listScope, requireAccess, type Actor, type Role } from '../../engine/access.js';
import { passwordProblems } from '../../engine/password-policy.js';
import type { AccountModels, ApiTokenDoc, UserDoc } from './model.js';
import { dummyPasswordHash, hashPassword, temporaryPassword, verifyPassword } from './passwords.js';
import { presentToken, presentUser, type PublicToken, type PublicUser } from './presenters.js';
import type { CreateUserInput, UpdateUserInput } from './schemas.js';
import type { AuditDetail, AuditLog } from '../audit/service.js';

export const TOKEN_PREFIX = 'onr_';

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}

export function actorOf(user: Pick<PublicUser, 'id' | 'role'>): Actor {
  return { id: user.id, role: user.role };
}

/**
 * People, passwords and API tokens. Every change of an account or a credential is in the audit log,
 * written before the change (no entry, no change).
 */
export class AccountService {
  constructor(
    private readonly m: AccountModels,
    private readonly audit: AuditLog,
  ) {}

  // ---- signing in ----------------------------------------------------------------------------

  /** The same error for an unknown email, a wrong password and a deactivated account. */
  async authenticate(email: string, password: string): Promise<PublicUser> {
    const user = await this.m.User.findOne({ email: email.trim().toLowerCase() }).lean<UserDoc>();
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!user || !ok || !user.active) throw new Unauthenticated('Email or password is incorrect.');
    await this.m.User.updateOne({ _id: user._id }, { $set: { lastLoginAt: new Date() } });
    return presentUser(user);
  }

  /** The signed-in user behind a session; undefined when they were deleted or deactivated since. */
  async findActive(id: string): Promise<PublicUser | undefined> {
    if (!Types.ObjectId.isValid(id)) return undefined;
    const user = await this.m.User.findOne({ _id: id, active: true }).lean<UserDoc>();
    return user ? presentUser(user) : undefined;
  }

  async findByEmail(email: string): Promise<PublicUser | undefined> {
    const user = await this.m.User.findOne({ email: email.trim().toLowerCase() }).lean<UserDoc>();
    return user ? presentUser(user) : undefined;
  }

  // ---- people ----------------------------------------------------------------------------------

  async get(actor: Actor, id: string): Promise<PublicUser> {
    requireAccess(actor, 'users.read');
    const user = Types.ObjectId.isValid(id) ? await this.m.User.findById(id).lean<UserDoc>() : null;
    if (!user) throw new NotFound('No such user.');
    requireAccess(actor, 'users.read', { userId: String(user._id), managerId: user.managerId ? String(user.managerId) : null });
    return presentUser(user);
  }

  async list(actor: Actor, filter: { role?: Role } = {}): Promise<PublicUser[]> {
    requireAccess(actor, 'users.list');
    const scope = listScope(actor, 'users.list');
    const query: Record<string, unknown> = {};
    if (scope.kind === 'team') query.managerId = new Types.ObjectId(scope.managerId);
    if (scope.kind === 'own') query._id = new Types.ObjectId(scope.selfId);
    if (filter.role) query.role = filter.role;
    const users = await this.m.User.find(query).sort({ name: 1 }).lean<UserDoc[]>();
    return users.map(presentUser);
  }

  /** The reps who report to a manager (what a manager's home shows). */
  async team(actor: Actor): Promise<PublicUser[]> {
    const users = await this.m.User.find({ managerId: new Types.ObjectId(actor.id) }).sort({ name: 1 }).lean<UserDoc[]>();
    return users.map(presentUser);
  }

  async managers(): Promise<PublicUser[]> {
    const users = await this.m.User.find({ role: 'manager', active: true }).sort({ name: 1 }).lean<UserDoc[]>();
    return users.map(presentUser);
  }

  async countByRole(): Promise<Record<Role, number>> {
    const counts: Record<Role, number> = { rep: 0, manager: 0, trainer: 0, admin: 0 };
    await Promise.all(
      (Object.keys(counts) as Role[]).map(async (role) => {
        counts[role] = await this.m.User.countDocuments({ role, active: true });
      }),
    );
    return counts;
  }

  async isEmpty(): Promise<boolean> {
    return (await this.m.User.estimatedDocumentCount()) === 0;
  }

  /** A rep must report to an active manager; nobody else has one. */
  private async checkManager(role: Role, managerId: string | null, selfId?: string): Promise<Types.ObjectId | null> {
    if (role !== 'rep') {
      if (managerId) throw new ValidationFailed([{ path: 'managerId', message: `only reps have a manager, not a ${role}` }]);
      return null;
    }
    if (!managerId) throw new ValidationFailed([{ path: 'managerId', message: 'a rep needs a manager: choose one (create the manager first if needed)' }]);
    if (managerId === selfId) throw new ValidationFailed([{ path: 'managerId', message: 'a person cannot manage themselves' }]);
    const manager = await this.m.User.findOne({ _id: managerId, role: 'manager', active: true }).lean<UserDoc>();
    if (!manager) throw new ValidationFailed([{ path: 'managerId', message: 'is not an active manager' }]);
    return manager._id;
  }

  /**
   * Creates a user. Without a password, a temporary one is generated, returned once, and the
   * user is asked to change it at first sign-in.
   */
  async create(actor: Actor | 'system', input: CreateUserInput): Promise<{ user: PublicUser; temporaryPassword?: string }> {
    if (actor !== 'system') requireAccess(actor, 'users.manage');
    const generated = input.password ? undefined : temporaryPassword();
    const password = input.password ?? generated!;
    const problems = passwordProblems(password, input);
    if (problems.length) throw new ValidationFailed(problems.map((message) => ({ path: 'password', message })));
    const managerId = await this.checkManager(input.role, input.managerId ?? null);
    const email = input.email.trim().toLowerCase();
    // checked before the audit entry is written, so that a taken email leaves no entry (the unique index still decides a race)
    if (await this.m.User.exists({ email })) throw new Conflict(`A user with the email ${input.email} already exists.`);
    const _id = new Types.ObjectId();
    const passwordHash = await hashPassword(password);
    const detail = { role: input.role, managerId: managerId ? String(managerId) : null, temporary: Boolean(generated) };
    try {
      const doc = await this.audit.recordThen(actor, 'user.create', { type: 'user', id: String(_id) }, detail, () =>
        this.m.User.create({ _id, email, name: input.name, role: input.role, managerId, passwordHash, mustChangePassword: Boolean(generated), timezone: input.timezone || 'UTC' }),
      );
      return { user: presentUser(doc.toObject() as UserDoc), ...(generated ? { temporaryPassword: generated } : {}) };
    } catch (err) {
      if (isDuplicateKey(err)) throw new Conflict(`A user with the email ${input.email} already exists.`);
      throw err;
    }
  }

  async update(actor: Actor, id: string, input: UpdateUserInput): Promise<PublicUser> {
    requireAccess(actor, 'users.manage');
    const current = Types.ObjectId.isValid(id) ? await this.m.User.findById(id).lean<UserDoc>() : null;
    if (!current) throw new NotFound('No such user.');
    const role = input.role ?? current.role;
    const roleChanged = role !== current.role;
    const managerInput = input.managerId !== undefined ? input.managerId : current.managerId ? String(current.managerId) : null;
    const managerId = await this.checkManager(role, role === 'rep' ? managerInput : null, id);
    if (current.role === 'manager' && (roleChanged || input.active === false)) {
      const reps = await this.m.User.countDocuments({ managerId: current._id, active: true });
      if (reps > 0) throw new Conflict(`${current.name} manages ${reps} active rep(s): assign them to another manager first.`);
    }
    if (String(current._id) === actor.id && (roleChanged || input.active === false)) {
      throw new Conflict('You cannot change your own role or deactivate yourself; ask another admin.');
    }
    const set: Record<string, unknown> = { role, managerId };
    if (input.name !== undefined) set.name = input.name;
    if (input.active !== undefined) set.active = input.active;
    if (input.timezone !== undefined) set.timezone = input.timezone;
    const write = () => this.m.User.findOneAndUpdate({ _id: current._id }, { $set: set }, { returnDocument: 'after' }).lean<UserDoc>();
    const change = changeOf(current, { role, managerId: managerId ? String(managerId) : null, name: input.name, active: input.active, timezone: input.timezone });
    const updated = change ? await this.audit.recordThen(actor, change.action, { type: 'user', id }, change.detail, write) : await write();
    if (!updated) throw new NotFound('No such user.');
    return presentUser(updated);
  }

  /** Admin reset: a new temporary password, returned once; the user must change it at next sign-in. */
  async resetPassword(actor: Actor | 'system', id: string, password?: string): Promise<{ user: PublicUser; temporaryPassword?: string }> {
    if (actor !== 'system') requireAccess(actor, 'users.manage');
    const user = Types.ObjectId.isValid(id) ? await this.m.User.findById(id).lean<UserDoc>() : null;
    if (!user) throw new NotFound('No such user.');
    const generated = password ? undefined : temporaryPassword();
    const chosen = password ?? generated!;
    const problems = passwordProblems(chosen, user);
    if (problems.length) throw new ValidationFailed(problems.map((message) => ({ path: 'password', message })));
    const passwordHash = await hashPassword(chosen);
    await this.audit.recordThen(actor, 'user.password.reset', { type: 'user', id: String(user._id) }, { temporary: Boolean(generated) }, () =>
      this.m.User.updateOne({ _id: user._id }, { $set: { passwordHash, mustChangePassword: Boolean(generated) } }),
    );
    return { user: presentUser(user), ...(generated ? { temporaryPassword: generated } : {}) };
  }

  async changeOwnPassword(actor: Actor, currentPassword: string, newPassword: string): Promise<void> {
    requireAccess(actor, 'home.view');
    const user = await this.m.User.findById(actor.id).lean<UserDoc>();
    if (!user) throw new NotFound('No such user.');
    if (!(await verifyPassword(user.passwordHash, currentPassword))) {
      throw new ValidationFailed([{ path: 'currentPassword', message: 'is not your current password' }]);
    }
    const problems = passwordProblems(newPassword, user);
    if (newPassword === currentPassword) problems.push('must differ from the current password');
    if (problems.length) throw new ValidationFailed(problems.map((message) => ({ path: 'newPassword', message })));
    const passwordHash = await hashPassword(newPassword);
    await this.audit.recordThen(actor, 'user.password.change', { type: 'user', id: actor.id }, {}, () =>
      this.m.User.updateOne({ _id: user._id }, { $set: { passwordHash, mustChangePassword: false } }),
    );
  }

  // ---- API tokens ------------------------------------------------------------------------------

  async createToken(actor: Actor, name: string): Promise<{ token: string; record: PublicToken }> {
    requireAccess(actor, 'tokens.manage');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const _id = new Types.ObjectId();
    // the audit entry names the token by its id only: its name is free text the user typed
    const doc = await this.audit.recordThen(actor, 'token.create', { type: 'api_token', id: String(_id) }, {}, () =>
      this.m.ApiToken.create({
        _id,
        userId: new Types.ObjectId(actor.id),
        name,
        tokenHash: sha256(token),
        prefix: token.slice(0, TOKEN_PREFIX.length + 6),
      }),
    );
    return { token, record: presentToken(doc.toObject() as ApiTokenDoc) };
  }

  async listTokens(actor: Actor): Promise<PublicToken[]> {
    requireAccess(actor, 'tokens.manage');
    const docs = await this.m.ApiToken.find({ userId: new Types.ObjectId(actor.id) }).sort({ createdAt: -1 }).lean<ApiTokenDoc[]>();
    return docs.map(presentToken);
  }

  async revokeToken(actor: Actor, id: string): Promise<void> {
    requireAccess(actor, 'tokens.manage');
    const mine = Types.ObjectId.isValid(id) ? await this.m.ApiToken.findOne({ _id: id, userId: new Types.ObjectId(actor.id) }).lean<ApiTokenDoc>() : null;
    if (!mine) throw new NotFound('No such token.');
    if (mine.revokedAt) return; // already revoked: revoking again changes nothing (and records nothing)
    await this.audit.recordThen(actor, 'token.revoke', { type: 'api_token', id }, {}, () =>
      this.m.ApiToken.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: new Date() } }),
    );
  }

  /** The user behind a bearer token, or undefined for an unknown, revoked or orphaned token. */
  async authenticateToken(token: string): Promise<PublicUser | undefined> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return undefined;
    const doc = await this.m.ApiToken.findOne({ tokenHash: sha256(token), revokedAt: null }).lean<ApiTokenDoc>();
    if (!doc) return undefined;
    const user = await this.findActive(String(doc.userId));
    if (!user) return undefined;
    // last use, to the minute: one write a minute per token at most
    const minuteAgo = new Date(Date.now() - 60_000);
    if (!doc.lastUsedAt || doc.lastUsedAt < minuteAgo) {
      await this.m.ApiToken.updateOne({ _id: doc._id }, { $set: { lastUsedAt: new Date() } });
    }
    return user;
  }
}

/**
 * What an admin's edit changes, as one audit entry: the most telling action (a role change, a
 * deactivation or reactivation, else an update), the fields changed, and the old and new role,
 * activity and manager (ids, never names). Undefined when nothing changes.
 */
export function changeOf(
  current: Pick<UserDoc, 'role' | 'managerId' | 'name' | 'active' | 'timezone'>,
  next: { role: Role; managerId: string | null; name?: string; active?: boolean; timezone?: string },
): { action: string; detail: AuditDetail } | undefined {
  const managerBefore = current.managerId ? String(current.managerId) : null;
  const activeBefore = current.active ?? true;
  const fields: string[] = [];
  if (next.role !== current.role) fields.push('role');
  if (next.managerId !== managerBefore) fields.push('managerId');
  if (next.active !== undefined && next.active !== activeBefore) fields.push('active');
  if (next.name !== undefined && next.name !== current.name) fields.push('name');
  if (next.timezone !== undefined && next.timezone !== current.timezone) fields.push('timezone');
  if (!fields.length) return undefined;
  const detail: AuditDetail = { fields };
  if (fields.includes('role')) Object.assign(detail, { roleFrom: current.role, roleTo: next.role });
  if (fields.includes('managerId')) Object.assign(detail, { managerFrom: managerBefore, managerTo: next.managerId });
  if (fields.includes('active')) detail.active = next.active!;
  const action = fields.includes('role') ? 'user.role.change' : fields.includes('active') ? (next.active ? 'user.reactivate' : 'user.deactivate') : 'user.update';
  return { action, detail };
}
