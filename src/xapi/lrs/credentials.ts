import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { Conflict, NotFound, ValidationFailed } from '../../errors.js';
import { requireAccess, type Actor } from '../../engine/access.js';
import type { AuditLog } from '../../features/audit/service.js';

/**
 * Basic-auth credentials for xAPI clients (authoring tools, other LRSs, CRM integrations). Admins
 * issue them with scopes; the secret is shown once and stored as a SHA-256 hash (secrets are long
 * random strings, so a slow hash would only slow every xAPI request down).
 */
export const LRS_SCOPES = ['statements/read', 'statements/write', 'state', 'all'] as const;
export type LrsScope = (typeof LRS_SCOPES)[number];

export interface LrsCredentialDoc {
  _id: Types.ObjectId;
  key: string;
  secretHash: string;
  name: string;
  scopes: LrsScope[];
  createdAt: Date;
  revokedAt: Date | null;
}

const schema = new Schema<LrsCredentialDoc>(
  {
    key: { type: String, required: true, unique: true },
    secretHash: { type: String, required: true },
    name: { type: String, required: true },
    scopes: { type: [String], required: true },
    revokedAt: { type: Date, default: null },
  },
  { collection: 'lrs_credentials', timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);

export interface LrsCredentialModels {
  LrsCredential: Model<LrsCredentialDoc>;
}

export function lrsCredentialModels(conn: Connection): LrsCredentialModels {
  return { LrsCredential: (conn.models.LrsCredential as Model<LrsCredentialDoc>) ?? conn.model('LrsCredential', schema) };
}

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** What a request authenticated with: the credential's key and scopes. */
export interface LrsClient {
  key: string;
  name: string;
  scopes: LrsScope[];
  /** set when the client is a launched cmi5 AU: its session (the cmi5 rules apply) */
  cmi5Session?: string;
}

/** Credentials that are not issued here but by another part of Onramp (cmi5 session tokens). */
export type SessionAuthenticator = (key: string, secret: string) => Promise<LrsClient | undefined>;

export function allows(client: LrsClient, need: 'read' | 'write' | 'state'): boolean {
  if (client.scopes.includes('all')) return true;
  if (need === 'read') return client.scopes.includes('statements/read') || client.scopes.includes('statements/write');
  if (need === 'write') return client.scopes.includes('statements/write');
  return client.scopes.includes('state');
}

export class LrsCredentialService {
  /** verified credentials for a minute: an xAPI client sends the same header on every request */
  private readonly cache = new Map<string, { client: LrsClient; until: number }>();

  /** issuing and revoking are recorded in the audit log before they are made: the key and scopes, never the secret or the typed name */
  constructor(
    private readonly m: LrsCredentialModels,
    private readonly audit: AuditLog,
  ) {}

  async issue(actor: Actor | 'system', input: { name: string; scopes: LrsScope[]; key?: string; secret?: string }): Promise<{ key: string; secret: string }> {
    if (actor !== 'system') requireAccess(actor, 'lrs.manage');
    const problems = [];
    if (!input.name.trim()) problems.push({ path: 'name', message: 'is required' });
    if (!input.scopes.length || input.scopes.some((s) => !LRS_SCOPES.includes(s))) problems.push({ path: 'scopes', message: `choose from ${LRS_SCOPES.join(', ')}` });
    if (problems.length) throw new ValidationFailed(problems);
    const key = input.key ?? `lrs_${randomBytes(9).toString('base64url')}`;
    const secret = input.secret ?? randomBytes(24).toString('base64url');
    if (await this.m.LrsCredential.exists({ key })) throw new Conflict(`A credential with the key ${key} exists already.`);
    try {
      await this.audit.recordThen(actor, 'lrs.credential.issue', { type: 'lrs_credential', id: key }, { scopes: input.scopes }, () =>
        this.m.LrsCredential.create({ key, secretHash: hash(secret), name: input.name.trim(), scopes: input.scopes }),
      );
    } catch (err) {
      if ((err as { code?: number }).code === 11000) throw new Conflict(`A credential with the key ${key} exists already.`);
      throw err;
    }
    return { key, secret };
  }

  async list(actor: Actor): Promise<Omit<LrsCredentialDoc, 'secretHash'>[]> {
    requireAccess(actor, 'lrs.manage');
    return this.m.LrsCredential.find({}, { secretHash: 0 }).sort({ createdAt: -1 }).lean();
  }

  async revoke(actor: Actor, key: string): Promise<void> {
    requireAccess(actor, 'lrs.manage');
    const doc = await this.m.LrsCredential.findOne({ key }).lean<LrsCredentialDoc>();
    if (!doc) throw new NotFound('No such credential.');
    if (doc.revokedAt) return; // revoked already: nothing changes, nothing is recorded
    await this.audit.recordThen(actor, 'lrs.credential.revoke', { type: 'lrs_credential', id: key }, { scopes: doc.scopes }, () =>
      this.m.LrsCredential.updateOne({ key, revokedAt: null }, { $set: { revokedAt: new Date() } }),
    );
    this.cache.clear();
  }

  private sessions: SessionAuthenticator | undefined;

  /** cmi5 AUs authenticate with their session's token; those keys are checked by `fn`, uncached. */
  acceptSessions(fn: SessionAuthenticator): void {
    this.sessions = fn;
  }

  /** The client behind an `Authorization: Basic …` header, or undefined. */
  async authenticate(header: string | undefined): Promise<LrsClient | undefined> {
    if (!header?.startsWith('Basic ')) return undefined;
    const cached = this.cache.get(header);
    if (cached && cached.until > Date.now()) return cached.client;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) return undefined;
    const key = decoded.slice(0, colon);
    if (this.sessions && key.startsWith('cmi5-')) return this.sessions(key, decoded.slice(colon + 1));
    const doc = await this.m.LrsCredential.findOne({ key, revokedAt: null }).lean<LrsCredentialDoc>();
    if (!doc) return undefined;
    const given = Buffer.from(hash(decoded.slice(colon + 1)), 'hex');
    const stored = Buffer.from(doc.secretHash, 'hex');
    if (given.length !== stored.length || !timingSafeEqual(given, stored)) return undefined;
    const client = { key: doc.key, name: doc.name, scopes: doc.scopes };
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(header, { client, until: Date.now() + 60_000 });
    return client;
  }
}
