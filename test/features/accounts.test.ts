import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed } from '../../src/errors.js';
import type { AccountService } from '../../src/features/accounts/service.js';
import { createTestContext, seedPeople, type DemoPeople, type TestContext } from '../support/context.js';

let ctx: TestContext;
let accounts: AccountService;
let people: DemoPeople;
const admin = () => ({ id: people.admin.id, role: 'admin' as const });

beforeAll(async () => {
  ctx = await createTestContext();
  accounts = ctx.container.accounts;
  people = await seedPeople(ctx.container);
});
afterAll(() => ctx.close());

describe('creating users', () => {
  it('creates a rep under a manager and lets them sign in', async () => {
    const { user, temporaryPassword } = await accounts.create(admin(), {
      email: '  New.Rep@Example.com ',
      name: 'New Rep',
      role: 'rep',
      managerId: people.manager2.id,
      password: 'my own passphrase',
    });
    expect(temporaryPassword).toBeUndefined();
    expect(user).toMatchObject({ email: 'new.rep@example.com', role: 'rep', managerId: people.manager2.id, mustChangePassword: false });
    expect((await accounts.authenticate('NEW.REP@example.com', 'my own passphrase')).id).toBe(user.id);
  });

  it('generates a temporary password when none is given and asks for a new one at sign-in', async () => {
    const { user, temporaryPassword } = await accounts.create(admin(), { email: 'temp@example.com', name: 'Temp', role: 'trainer', managerId: null });
    expect(temporaryPassword).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    expect(user.mustChangePassword).toBe(true);
    await accounts.changeOwnPassword({ id: user.id, role: 'trainer' }, temporaryPassword!, 'a brand new passphrase');
    expect((await accounts.authenticate('temp@example.com', 'a brand new passphrase')).mustChangePassword).toBe(false);
  });

  it.each([
    [{ role: 'rep', managerId: null }, 'managerId', 'a rep needs a manager'],
    [{ role: 'rep', managerId: '0123456789abcdef01234567' }, 'managerId', 'is not an active manager'],
    [{ role: 'trainer', managerId: 'MANAGER' }, 'managerId', 'only reps have a manager'],
    [{ role: 'rep', managerId: 'MANAGER', password: 'short' }, 'password', 'at least 10 characters'],
  ])('refuses %j: %s %s', async (fields, path, message) => {
    const input = { email: `bad${Math.random()}@example.com`, name: 'Bad', password: 'long enough password', ...fields } as Parameters<AccountService['create']>[1];
    if (input.managerId === 'MANAGER') input.managerId = people.manager1.id;
    const err = await accounts.create(admin(), input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect((err as ValidationFailed).problems).toContainEqual({ path, message: expect.stringContaining(message) });
    expect(await ctx.container.models.User.countDocuments({ email: input.email })).toBe(0);
  });

  it('refuses a duplicate email with a conflict', async () => {
    await expect(
      accounts.create(admin(), { email: 'rep1@demo.onramp.dev', name: 'Again', role: 'trainer', managerId: null, password: 'long enough password' }),
    ).rejects.toThrow(Conflict);
  });

  it('lets only admins create users', async () => {
    await expect(
      accounts.create({ id: people.trainer.id, role: 'trainer' }, { email: 'x@example.com', name: 'X', role: 'trainer', managerId: null }),
    ).rejects.toThrow(Forbidden);
  });
});

describe('changing users', () => {
  it('moves a rep to another manager', async () => {
    const moved = await accounts.update(admin(), people.rep3.id, { managerId: people.manager2.id });
    expect(moved.managerId).toBe(people.manager2.id);
    const team2 = await accounts.team({ id: people.manager2.id, role: 'manager' });
    expect(team2.map((u) => u.email)).toContain('rep3@demo.onramp.dev');
    await accounts.update(admin(), people.rep3.id, { managerId: people.manager1.id });
  });

  it('will not demote or deactivate a manager who still has reps', async () => {
    await expect(accounts.update(admin(), people.manager1.id, { role: 'trainer' })).rejects.toThrow(/manages 3 active rep/);
    await expect(accounts.update(admin(), people.manager1.id, { active: false })).rejects.toThrow(Conflict);
  });

  it('clears the manager when a rep becomes a trainer', async () => {
    const { user } = await accounts.create(admin(), { email: 'promo@example.com', name: 'Promo', role: 'rep', managerId: people.manager1.id, password: 'long enough password' });
    const promoted = await accounts.update(admin(), user.id, { role: 'trainer' });
    expect(promoted).toMatchObject({ role: 'trainer', managerId: null });
  });

  it('keeps an admin from locking themselves out', async () => {
    await expect(accounts.update(admin(), people.admin.id, { active: false })).rejects.toThrow(/yourself/);
  });

  it('refuses sign-in for a deactivated user with the usual message', async () => {
    const { user } = await accounts.create(admin(), { email: 'gone@example.com', name: 'Gone', role: 'trainer', managerId: null, password: 'long enough password' });
    await accounts.update(admin(), user.id, { active: false });
    await expect(accounts.authenticate('gone@example.com', 'long enough password')).rejects.toThrow(Unauthenticated);
  });

  it('resets a password to a temporary one that works once shown', async () => {
    const { temporaryPassword } = await accounts.resetPassword(admin(), people.rep6.id);
    const user = await accounts.authenticate('rep6@demo.onramp.dev', temporaryPassword!);
    expect(user.mustChangePassword).toBe(true);
    await expect(accounts.authenticate('rep6@demo.onramp.dev', 'onramp-demo')).rejects.toThrow(Unauthenticated);
  });

  it('needs the current password to change your own', async () => {
    const err = await accounts.changeOwnPassword({ id: people.rep2.id, role: 'rep' }, 'wrong-current', 'a fine new passphrase').catch((e: unknown) => e);
    expect((err as ValidationFailed).problems[0]).toEqual({ path: 'currentPassword', message: 'is not your current password' });
  });

  it('answers NotFound for an unknown or malformed id', async () => {
    await expect(accounts.get(admin(), 'not-an-id')).rejects.toThrow(NotFound);
    await expect(accounts.get(admin(), '0123456789abcdef01234567')).rejects.toThrow(NotFound);
  });
});

describe('API tokens', () => {
  it('authenticates with a token until it is revoked, and stores only its hash', async () => {
    const rep = { id: people.rep1.id, role: 'rep' as const };
    const { token, record } = await accounts.createToken(rep, 'CRM sync');
    expect(token.startsWith('onr_')).toBe(true);
    expect(record.prefix).toBe(token.slice(0, 10));
    const stored = await ctx.container.models.ApiToken.findById(record.id).lean();
    expect(JSON.stringify(stored)).not.toContain(token);
    expect((await accounts.authenticateToken(token))?.id).toBe(people.rep1.id);
    await accounts.revokeToken(rep, record.id);
    expect(await accounts.authenticateToken(token)).toBeUndefined();
    expect((await accounts.listTokens(rep))[0]).toMatchObject({ name: 'CRM sync', revoked: true });
  });

  it("cannot revoke someone else's token", async () => {
    const { record } = await accounts.createToken({ id: people.rep1.id, role: 'rep' }, 'mine');
    await expect(accounts.revokeToken({ id: people.rep2.id, role: 'rep' }, record.id)).rejects.toThrow(NotFound);
  });
});
