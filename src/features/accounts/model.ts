import { Schema, type Connection, type InferSchemaType, type Model, Types } from 'mongoose';
import { ROLES } from '../../engine/access.js';

const userSchema = new Schema(
  {
    email: { type: String, required: true, unique: true, lowercase: true, trim: true },
    name: { type: String, required: true, trim: true },
    role: { type: String, enum: ROLES, required: true },
    /** the rep's frontline manager; null for everyone else */
    managerId: { type: Schema.Types.ObjectId, ref: 'User', default: null, index: true },
    passwordHash: { type: String, required: true },
    /** set when an admin resets the password: the user is asked to choose their own */
    mustChangePassword: { type: Boolean, default: false },
    active: { type: Boolean, default: true },
    timezone: { type: String, default: 'UTC' },
    lastLoginAt: { type: Date, default: null },
  },
  { timestamps: true, collection: 'users' },
);

export type UserDoc = InferSchemaType<typeof userSchema> & { _id: Types.ObjectId };

const apiTokenSchema = new Schema(
  {
    userId: { type: Schema.Types.ObjectId, ref: 'User', required: true, index: true },
    name: { type: String, required: true, trim: true },
    /** sha256 of the token; the token itself is shown once and never stored */
    tokenHash: { type: String, required: true, unique: true },
    /** first characters, so a user can tell their tokens apart */
    prefix: { type: String, required: true },
    lastUsedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  { timestamps: true, collection: 'api_tokens' },
);

export type ApiTokenDoc = InferSchemaType<typeof apiTokenSchema> & { _id: Types.ObjectId };

export interface AccountModels {
  User: Model<UserDoc>;
  ApiToken: Model<ApiTokenDoc>;
}

export function accountModels(conn: Connection): AccountModels {
  return {
    User: conn.models.User ?? conn.model('User', userSchema),
    ApiToken: conn.models.ApiToken ?? conn.model('ApiToken', apiTokenSchema),
  } as AccountModels;
}
