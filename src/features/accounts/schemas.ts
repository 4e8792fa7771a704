import { z } from 'zod';
import { ROLES, type Role } from '../../engine/access.js';
import { PASSWORD_MAX_LENGTH } from '../../engine/password-policy.js';

/** Input shapes for accounts, shared by the JSON API, the HTML forms and the CLI. */

export const objectId = z.string().regex(/^[a-f0-9]{24}$/i, 'must be a 24-character id');
const email = z.string().trim().toLowerCase().min(1, 'is required').pipe(z.email('must be an email address')).pipe(z.string().max(254));
const name = z.string().trim().min(1, 'is required').max(120, 'must be at most 120 characters');
/** Absent: leave as is; an empty form field or null: no manager. */
const optionalManager = z
  .union([objectId, z.literal(''), z.null()])
  .optional()
  .transform((v) => (v === undefined ? undefined : v || null));

export const loginInput = z.object({
  email: z.string().trim().toLowerCase().min(1, 'is required').max(254),
  password: z.string().min(1, 'is required').max(PASSWORD_MAX_LENGTH),
  next: z.string().optional(),
});

export const createUserInput = z.object({
  email,
  name,
  role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }),
  managerId: optionalManager,
  /** when absent, a temporary password is generated and shown once */
  password: z.string().max(PASSWORD_MAX_LENGTH).optional().transform((v) => (v ? v : undefined)),
  timezone: z.string().trim().max(64).optional(),
});
/** What the service needs to create a user (the parsed form, API body or CLI options). */
export interface CreateUserInput {
  email: string;
  name: string;
  role: Role;
  managerId?: string | null;
  password?: string;
  timezone?: string;
}

export const updateUserInput = z
  .object({
    name: name.optional(),
    role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }).optional(),
    managerId: optionalManager,
    active: z
      .union([z.boolean(), z.enum(['true', 'false'])])
      .optional()
      .transform((v) => (v === undefined ? undefined : v === true || v === 'true')),
    timezone: z.string().trim().max(64).optional(),
  })
  .strict();
export interface UpdateUserInput {
  name?: string;
  role?: Role;
  /** undefined leaves the manager as it is; null removes it */
  managerId?: string | null;
  active?: boolean;
  timezone?: string;
}

export const changePasswordInput = z
  .object({
    currentPassword: z.string().min(1, 'is required').max(PASSWORD_MAX_LENGTH),
    newPassword: z.string().max(PASSWORD_MAX_LENGTH),
    confirmPassword: z.string().max(PASSWORD_MAX_LENGTH).optional(),
  })
  .refine((v) => v.confirmPassword === undefined || v.confirmPassword === v.newPassword, {
    path: ['confirmPassword'],
    message: 'does not match the new password',
  });

export const createTokenInput = z.object({
  name: z.string().trim().min(1, 'is required').max(80, 'must be at most 80 characters'),
});

export const listUsersQuery = z
  .object({
    role: z.union([z.enum(ROLES), z.literal('').transform(() => undefined)]).optional(),
  })
  .strict();
