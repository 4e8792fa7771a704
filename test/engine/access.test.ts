import { describe, expect, it } from 'vitest';
import { canAccess, hasPermission, listScope, PERMISSIONS, requireAccess, ROLES, type Permission, type Role } from '../../src/engine/access.js';
import { Forbidden, NotFound } from '../../src/errors.js';

const manager = { id: 'm1', role: 'manager' as const };
const rep = { id: 'r1', role: 'rep' as const };
const trainer = { id: 't1', role: 'trainer' as const };

describe('canAccess', () => {
  const own = { userId: 'r1', managerId: 'm1' };
  const teammate = { userId: 'r2', managerId: 'm1' };
  const otherTeam = { userId: 'r4', managerId: 'm2' };

  it.each([
    ['rep reads own profile', rep, own, true],
    ['rep reads a teammate', rep, teammate, false],
    ['rep reads another team', rep, otherTeam, false],
    ['manager reads own rep', manager, own, true],
    ['manager reads another team', manager, otherTeam, false],
    ['manager reads themselves', manager, { userId: 'm1', managerId: null }, true],
    ['trainer reads anyone', trainer, otherTeam, true],
  ] as const)('%s → %s', (_name, actor, target, expected) => {
    expect(canAccess(actor, 'users.read', target)).toBe(expected);
  });

  it('gives nothing to a role absent from the permission row', () => {
    expect(canAccess(rep, 'users.manage', { userId: 'r1' })).toBe(false);
    expect(hasPermission('rep', 'users.manage')).toBe(false);
    expect(hasPermission('admin', 'users.manage')).toBe(true);
  });

  it('does not treat a missing manager as a match', () => {
    expect(canAccess(manager, 'users.read', { userId: 'x', managerId: null })).toBe(false);
  });
});

describe('listScope', () => {
  it.each<[Role, Permission, string]>([
    ['rep', 'users.list', 'none'],
    ['manager', 'users.list', 'team'],
    ['trainer', 'users.list', 'all'],
    ['admin', 'users.list', 'all'],
    ['rep', 'tokens.manage', 'own'],
  ])('%s / %s → %s', (role, permission, kind) => {
    expect(listScope({ id: 'x', role }, permission).kind).toBe(kind);
  });
});

describe('requireAccess', () => {
  it('is Forbidden for a role without the permission and NotFound outside scope', () => {
    expect(() => requireAccess(rep, 'users.manage')).toThrow(Forbidden);
    expect(() => requireAccess(rep, 'users.read', { userId: 'r2', managerId: 'm1' })).toThrow(NotFound);
    expect(() => requireAccess(manager, 'users.read', { userId: 'r2', managerId: 'm1' })).not.toThrow();
  });
});

describe('the permission table', () => {
  it('only names known roles and scopes', () => {
    for (const row of Object.values(PERMISSIONS)) {
      for (const [role, scope] of Object.entries(row)) {
        expect(ROLES).toContain(role);
        expect(['own', 'team', 'all']).toContain(scope);
      }
    }
  });
});
