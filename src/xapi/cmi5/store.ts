import { Binary, type Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import { contentTypeOf, type PackageSource } from './package.js';
import { packageHash } from './package.js';
import type { LaunchMode, RegistrationFacts, SessionState } from './rules.js';

/** One file of a stored package: packages are immutable, keyed by their content hash. */
interface FileDoc {
  _id: string; // `${hash}/${path}`
  contentType: string;
  data: Binary;
}

/** One launch of an AU. */
export interface SessionDoc {
  _id: string; // the cmi5 session id (a UUID)
  enrollmentId: string;
  moduleId: string;
  versionId: string;
  curriculumId: string;
  repId: string;
  /** the package's content hash (where its files are) and the AU's publisher id */
  packageHash: string;
  packageName: string;
  auId: string;
  registration: string;
  activityId: string;
  actor: { homePage: string; name: string };
  launchMode: LaunchMode;
  moveOn: string;
  masteryScore: number | null;
  state: SessionState;
  verbs: string[];
  preferencesRead: boolean;
  /** sha256 of the one-time fetch token */
  fetchTokenHash: string;
  fetchedAt: Date | null;
  /** sha256 of the auth token's secret, set when the AU fetches it */
  secretHash: string | null;
  launchedAt: Date;
  lastAt: Date;
}

export interface RegistrationDoc extends RegistrationFacts {
  _id: string; // `${registration}|${auId}`
  satisfiedAt: Date | null;
}

/** Largest file a package may hold: one MongoDB document each. */
export const MAX_PACKAGE_FILE = 15 * 1024 * 1024;

export class Cmi5Store {
  readonly files: Collection<FileDoc>;
  readonly sessions: Collection<SessionDoc>;
  readonly registrations: Collection<RegistrationDoc>;

  constructor(conn: Connection) {
    this.files = conn.db!.collection<FileDoc>('cmi5_files');
    this.sessions = conn.db!.collection<SessionDoc>('cmi5_sessions');
    this.registrations = conn.db!.collection<RegistrationDoc>('cmi5_registrations');
  }

  async ensureIndexes(): Promise<void> {
    await this.sessions.createIndex({ registration: 1, auId: 1, state: 1 });
  }

  /**
   * Stores a package's files under its hash, once: a marker document written last says the
   * package is complete, so an interrupted import is simply done again.
   */
  async putPackage(pkg: PackageSource): Promise<string> {
    const hash = packageHash(pkg.files);
    const marker = `${hash}/.onramp-complete`;
    if (await this.files.findOne({ _id: marker }, { projection: { _id: 1 } })) return hash;
    for (const [path, data] of pkg.files) {
      if (data.length > MAX_PACKAGE_FILE) throw new Error(`${pkg.origin}: ${path} is larger than ${MAX_PACKAGE_FILE / 1024 / 1024} MB`);
      await this.files.updateOne({ _id: `${hash}/${path}` }, { $set: { contentType: contentTypeOf(path), data: new Binary(data) } }, { upsert: true });
    }
    await this.files.updateOne({ _id: marker }, { $set: { contentType: 'text/plain', data: new Binary(Buffer.alloc(0)) } }, { upsert: true });
    return hash;
  }

  async file(hash: string, path: string): Promise<{ contentType: string; data: Buffer } | null> {
    if (path.startsWith('.onramp')) return null;
    const doc = await this.files.findOne({ _id: `${hash}/${path}` });
    return doc ? { contentType: doc.contentType, data: Buffer.from(doc.data.buffer) } : null;
  }

  async registration(registration: string, auId: string): Promise<RegistrationDoc> {
    return (await this.registrations.findOne({ _id: `${registration}|${auId}` })) ?? { _id: `${registration}|${auId}`, completed: false, passed: false, waived: false, satisfiedAt: null };
  }

  async saveRegistration(doc: RegistrationDoc): Promise<void> {
    const { _id, ...rest } = doc;
    await this.registrations.updateOne({ _id }, { $set: rest }, { upsert: true });
  }
}
