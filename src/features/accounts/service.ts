import { createHash, randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { Conflict, NotFound, Unauthenticated, ValidationFailed } from '../../errors.js';
import { listScope, requireAccess, type Actor, type Role } from '../../engine/access.js';
import { passwordProblems } from '../../engine/password-policy.js';
import type { AccountModels, ApiTokenDoc, UserDoc } from './model.js';
import { dummyPasswordHash, hashPassword, temporaryPassword, verifyPassword } from './passwords.js';
import { presentToken, presentUser, type PublicToken, type PublicUser } from './presenters.js';
import type { CreateUserInput, UpdateUserInput } from './schemas.js';

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

export class AccountService {
  constructor(private readonly m: AccountModels) {}

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
    try {
      const doc = await this.m.User.create({
        email: input.email,
        name: input.name,
        role: input.role,
        managerId,
        passwordHash: await hashPassword(password),
        mustChangePassword: Boolean(generated),
        timezone: input.timezone || 'UTC',
      });
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
    const updated = await this.m.User.findOneAndUpdate({ _id: current._id }, { $set: set }, { returnDocument: 'after' }).lean<UserDoc>();
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
    await this.m.User.updateOne(
      { _id: user._id },
      { $set: { passwordHash: await hashPassword(chosen), mustChangePassword: Boolean(generated) } },
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
    await this.m.User.updateOne({ _id: user._id }, { $set: { passwordHash: await hashPassword(newPassword), mustChangePassword: false } });
  }

  // ---- API tokens ------------------------------------------------------------------------------

  async createToken(actor: Actor, name: string): Promise<{ token: string; record: PublicToken }> {
    requireAccess(actor, 'tokens.manage');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const doc = await this.m.ApiToken.create({
      userId: new Types.ObjectId(actor.id),
      name,
      tokenHash: sha256(token),
      prefix: token.slice(0, TOKEN_PREFIX.length + 6),
    });
    return { token, record: presentToken(doc.toObject() as ApiTokenDoc) };
  }

  async listTokens(actor: Actor): Promise<PublicToken[]> {
    requireAccess(actor, 'tokens.manage');
    const docs = await this.m.ApiToken.find({ userId: new Types.ObjectId(actor.id) }).sort({ createdAt: -1 }).lean<ApiTokenDoc[]>();
    return docs.map(presentToken);
  }

  async revokeToken(actor: Actor, id: string): Promise<void> {
    requireAccess(actor, 'tokens.manage');
    const res = Types.ObjectId.isValid(id)
      ? await this.m.ApiToken.updateOne({ _id: id, userId: new Types.ObjectId(actor.id), revokedAt: null }, { $set: { revokedAt: new Date() } })
      : { matchedCount: 0 };
    if (res.matchedCount === 0) {
      const exists = Types.ObjectId.isValid(id) && (await this.m.ApiToken.exists({ _id: id, userId: new Types.ObjectId(actor.id) }));
      if (!exists) throw new NotFound('No such token.');
      // already revoked: revoking again changes nothing
    }
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
