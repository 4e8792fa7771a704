import type { Role } from '../../engine/access.js';
import type { ApiTokenDoc, UserDoc } from './model.js';

/** What leaves the server about a person: never the password hash. */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  managerId: string | null;
  active: boolean;
  mustChangePassword: boolean;
  timezone: string;
  lastLoginAt: string | null;
  createdAt: string | null;
}

export function presentUser(u: UserDoc): PublicUser {
  return {
    id: String(u._id),
    email: u.email,
    name: u.name,
    role: u.role as Role,
    managerId: u.managerId ? String(u.managerId) : null,
    active: u.active ?? true,
    mustChangePassword: u.mustChangePassword ?? false,
    timezone: u.timezone ?? 'UTC',
    lastLoginAt: u.lastLoginAt ? new Date(u.lastLoginAt).toISOString() : null,
    createdAt: (u as { createdAt?: Date }).createdAt ? new Date((u as { createdAt: Date }).createdAt).toISOString() : null,
  };
}

/** What leaves the server about an API token: never the token or its hash. */
export interface PublicToken {
  id: string;
  name: string;
  prefix: string;
  createdAt: string | null;
  lastUsedAt: string | null;
  revoked: boolean;
}

export function presentToken(t: ApiTokenDoc): PublicToken {
  return {
    id: String(t._id),
    name: t.name,
    prefix: t.prefix,
    createdAt: (t as { createdAt?: Date }).createdAt ? new Date((t as { createdAt: Date }).createdAt).toISOString() : null,
    lastUsedAt: t.lastUsedAt ? new Date(t.lastUsedAt).toISOString() : null,
    revoked: Boolean(t.revokedAt),
  };
}
