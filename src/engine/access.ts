import { Forbidden, NotFound } from '../errors.js';

/**
 * Who may do what: one table from permission to the scope each role has. Pure: no I/O.
 *
 * Scopes: 'own' — only records about yourself; 'team' — yourself and the reps you manage;
 * 'all' — everyone. A role absent from a permission's row has no access at all.
 */
export const ROLES = ['rep', 'manager', 'trainer', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export type Scope = 'own' | 'team' | 'all';

export const PERMISSIONS = {
  /** the signed-in home page and own profile */
  'home.view': { rep: 'own', manager: 'own', trainer: 'own', admin: 'own' },
  /** read a person's profile (name, role, manager) */
  'users.read': { rep: 'own', manager: 'team', trainer: 'all', admin: 'all' },
  /** list people: reps see no list, managers their team */
  'users.list': { manager: 'team', trainer: 'all', admin: 'all' },
  /** create users, change roles and managers, reset passwords */
  'users.manage': { admin: 'all' },
  /** own API tokens for machine clients */
  'tokens.manage': { rep: 'own', manager: 'own', trainer: 'own', admin: 'own' },
  /** see published curricula and their versions */
  'curricula.read': { manager: 'all', trainer: 'all', admin: 'all' },
  /** publish content as a new version */
  'curricula.publish': { trainer: 'all', admin: 'all' },
  /** enroll reps (one by one or by CSV) */
  'enrollments.manage': { trainer: 'all', admin: 'all' },
  /** see a rep's enrollments and roadmap */
  'enrollments.read': { rep: 'own', manager: 'team', trainer: 'all', admin: 'all' },
  /** lists of enrollments: a manager's team, or everyone */
  'enrollments.list': { manager: 'team', trainer: 'all', admin: 'all' },
  /** work through one's own modules (open, complete, book, submit) */
  'learning.take': { rep: 'own' },
  /** review the transfer work of the reps one manages: approve, request changes, confirm results */
  'reviews.manage': { manager: 'team' },
  /** schedule live sessions, mark attendance, score role plays */
  'sessions.manage': { trainer: 'all', admin: 'all' },
  /** see the live sessions on offer */
  'sessions.read': { rep: 'all', manager: 'all', trainer: 'all', admin: 'all' },
  /** assessment results and item analysis across reps */
  'assessments.analyze': { trainer: 'all', admin: 'all' },
  /** issue and revoke xAPI client credentials */
  'lrs.manage': { admin: 'all' },
  /** system status: service versions, queue state */
  'system.view': { admin: 'all' },
  /** read and export the audit log (admin actions, reviews, grade changes) */
  'audit.read': { admin: 'all' },
} as const satisfies Record<string, Partial<Record<Role, Scope>>>;

export type Permission = keyof typeof PERMISSIONS;

export interface Actor {
  id: string;
  role: Role;
}

/** A record about a person: the person it is about and that person's manager. */
export interface PersonTarget {
  userId: string;
  managerId?: string | null;
}

export function scopeOf(role: Role, permission: Permission): Scope | undefined {
  const row: Partial<Record<Role, Scope>> = PERMISSIONS[permission];
  return row[role];
}

/** Whether the role has the permission for at least some target (route-level check). */
export function hasPermission(role: Role, permission: Permission): boolean {
  return scopeOf(role, permission) !== undefined;
}

/** Whether the actor may act on this particular target. */
export function canAccess(actor: Actor, permission: Permission, target: PersonTarget): boolean {
  const scope = scopeOf(actor.role, permission);
  switch (scope) {
    case 'all':
      return true;
    case 'team':
      return target.userId === actor.id || (target.managerId != null && target.managerId === actor.id);
    case 'own':
      return target.userId === actor.id;
    default:
      return false;
  }
}

/** The filter a list query needs so that it returns only what the actor may see. */
export type ListScope = { kind: 'all' } | { kind: 'team'; managerId: string; selfId: string } | { kind: 'own'; selfId: string } | { kind: 'none' };

export function listScope(actor: Actor, permission: Permission): ListScope {
  const scope = scopeOf(actor.role, permission);
  if (scope === 'all') return { kind: 'all' };
  if (scope === 'team') return { kind: 'team', managerId: actor.id, selfId: actor.id };
  if (scope === 'own') return { kind: 'own', selfId: actor.id };
  return { kind: 'none' };
}

/**
 * Throws when the actor may not do this: Forbidden when their role lacks the permission
 * altogether, NotFound when the target is outside their scope (so that scoping does not reveal
 * whether someone else's record exists).
 */
export function requireAccess(actor: Actor, permission: Permission, target?: PersonTarget): void {
  if (!hasPermission(actor.role, permission)) throw new Forbidden(`Your role (${actor.role}) may not do this.`);
  if (target && !canAccess(actor, permission, target)) throw new NotFound('Not found.');
}
