import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { requireAccess, type Actor, type Role } from '../../engine/access.js';
import { NotFound, ValidationFailed } from '../../errors.js';
import { agentOf, curriculumIri, moduleIri, registrationOf, type CatalogueConfig } from '../../xapi/catalogue.js';
import type { StatementDoc } from '../../xapi/lrs/store.js';
import { agentKey } from '../../xapi/validate.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentDoc, EnrollmentModels } from '../enrollment/model.js';
import { presentStatement, type PresentOptions, type TimelineCategory, type TimelineRow } from './present.js';

/** Where the statements come from: the LRS's store (StatementStore.aboutPerson), or a fake in tests. */
export interface TimelineStatements {
  aboutPerson(q: { agents: string[]; registrations: string[]; limit: number; before?: Position }): Promise<Pick<StatementDoc, '_id' | 'json' | 'stored' | 'seq'>[]>;
}

/** A place in the store's order (stored, seq, id), newest first: the statement a page ended at. */
interface Position {
  stored: Date;
  seq: number;
  id: string;
}

export interface TimelineDeps {
  models: Pick<AccountModels & EnrollmentModels, 'User' | 'Enrollment'>;
  curricula: Pick<CurriculumService, 'version'>;
  statements: TimelineStatements;
  /** the LRS's catalogue settings: how Onramp's own statements name the person and the activities */
  catalogue: CatalogueConfig;
}

export interface TimelineQuery {
  /** continue after this position (the `next` of the page before) */
  before?: string;
  category?: TimelineCategory;
  /** rows per page (1–200, default 50) */
  limit?: number;
  /** the viewer's time zone */
  timeZone?: string;
}

export interface TimelinePerson {
  id: string;
  name: string;
  role: Role;
  managerId: string | null;
}

export interface TimelinePage {
  person: TimelinePerson;
  /** the person's enrollments, newest first, for links to their roadmaps */
  enrollments: { id: string; curriculumTitle: string }[];
  rows: TimelineRow[];
  /** the `before` of the next, older page; null when this page reaches the first event */
  next: string | null;
  /** the page stopped at the scan limit before it was full (a rare category): older ones may still match */
  partial: boolean;
}

export const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
/** statements read for one page at most when a category filter skips most of them */
export const PAGE_SCAN_LIMIT = 2_000;
/** a CSV export holds at most this many rows */
export const EXPORT_LIMIT = 10_000;

/** `before` tokens: the same (stored, seq, id) as the LRS's `more` links, base64url JSON. */
export function encodePosition(d: Pick<StatementDoc, '_id' | 'stored' | 'seq'>): string {
  return Buffer.from(JSON.stringify([d.stored.getTime(), d.seq, d._id])).toString('base64url');
}

export function decodePosition(token: string): Position | null {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 3) return null;
    const [stored, seq, id] = v as unknown[];
    if (typeof stored !== 'number' || !Number.isFinite(stored) || typeof seq !== 'number' || !Number.isInteger(seq) || typeof id !== 'string' || id.length > 100) return null;
    return { stored: new Date(stored), seq, id };
  } catch {
    return null;
  }
}

interface Subject {
  person: TimelinePerson;
  enrollments: TimelinePage['enrollments'];
  agents: string[];
  registrations: string[];
  present: PresentOptions;
}

/**
 * The learner timeline: every event of one person, newest first, read from the xAPI statements
 * (Onramp's own and other tools') rather than from the progress read model, so it shows exactly
 * what the record of learning holds. Access is enrollments.read: the person, their manager,
 * trainers and admins; anyone else gets NotFound.
 */
export class TimelineService {
  constructor(private readonly deps: TimelineDeps) {}

  /** One page of the timeline, newest first. */
  async page(actor: Actor, userId: string, q: TimelineQuery = {}): Promise<TimelinePage> {
    const before = q.before === undefined ? undefined : decodePosition(q.before);
    if (before === null) throw new ValidationFailed([{ path: 'before', message: 'is not a position in this timeline: start again from the newest events' }]);
    const limit = Math.min(Math.max(Math.trunc(q.limit ?? PAGE_SIZE), 1), MAX_PAGE_SIZE);
    const subject = await this.subject(actor, userId, q.timeZone);
    const read = await this.collect(subject, { before, category: q.category, limit, scanLimit: PAGE_SCAN_LIMIT, batch: q.category ? 250 : limit + 1 });
    return { person: subject.person, enrollments: subject.enrollments, ...read };
  }

  /** The whole timeline (with the category filter), newest first, for the CSV export: at most EXPORT_LIMIT rows. */
  async all(actor: Actor, userId: string, q: Pick<TimelineQuery, 'category' | 'timeZone'> = {}): Promise<TimelinePage> {
    const subject = await this.subject(actor, userId, q.timeZone);
    const read = await this.collect(subject, { before: undefined, category: q.category, limit: EXPORT_LIMIT, scanLimit: Number.POSITIVE_INFINITY, batch: 500 });
    return { person: subject.person, enrollments: subject.enrollments, ...read };
  }

  /** The person, if the actor may see them, with every identifier their statements carry. */
  private async subject(actor: Actor, userId: string, timeZone: string | undefined): Promise<Subject> {
    requireAccess(actor, 'enrollments.read');
    const { User, Enrollment } = this.deps.models;
    const user = Types.ObjectId.isValid(userId) ? await User.findById(userId).lean<UserDoc>() : null;
    if (!user) throw new NotFound('No such person.');
    const managerId = user.managerId ? String(user.managerId) : null;
    requireAccess(actor, 'enrollments.read', { userId: String(user._id), managerId });
    const person: TimelinePerson = { id: String(user._id), name: user.name, role: user.role as Role, managerId };

    const { catalogue } = this.deps;
    // Onramp names a person by account; other xAPI clients often by email (mbox or its SHA-1)
    const agents = [agentKey(agentOf(catalogue, { id: person.id, name: person.name }))];
    if (user.email) {
      const mbox = `mailto:${user.email}`;
      agents.push(agentKey({ mbox }), agentKey({ mbox_sha1sum: createHash('sha1').update(mbox).digest('hex') }));
    }

    // their enrollments: the registrations (which bring in what their manager did about them) and
    // the names of the curricula and modules, for statements that leave them out (a cmi5 AU's own)
    const docs = await Enrollment.find({ userId: user._id }).sort({ createdAt: -1 }).lean<EnrollmentDoc[]>();
    const activities = new Map<string, { name: string; href?: string }>();
    const enrollments: TimelinePage['enrollments'] = [];
    for (const e of docs) {
      const id = String(e._id);
      let title = e.curriculumId;
      try {
        const def = (await this.deps.curricula.version(e.versionId)).content.definition;
        title = def.title;
        activities.set(curriculumIri(catalogue, def.id), { name: def.title, href: `/enrollments/${id}` });
        for (const m of def.modules) activities.set(moduleIri(catalogue, def.id, m.id), { name: m.title, href: `/learn/${id}/modules/${encodeURIComponent(m.id)}` });
      } catch (err) {
        if (!(err instanceof NotFound)) throw err; // a version that is gone: the statements' own names
      }
      enrollments.push({ id, curriculumTitle: title });
    }
    const subjectKeys = agents.filter((k): k is string => k !== null);
    return {
      person,
      enrollments,
      agents: subjectKeys,
      registrations: docs.map((e) => registrationOf(String(e._id))),
      present: { timeZone, subject: subjectKeys, activity: (iri) => activities.get(iri) },
    };
  }

  /**
   * Reads statements in batches until `limit` rows of the category are found and one more shows
   * that an older page exists, or the statements run out, or `scanLimit` statements were read.
   */
  private async collect(
    subject: Subject,
    o: { before: Position | undefined; category: TimelineCategory | undefined; limit: number; scanLimit: number; batch: number },
  ): Promise<Pick<TimelinePage, 'rows' | 'next' | 'partial'>> {
    const rows: TimelineRow[] = [];
    let lastRow: Pick<StatementDoc, '_id' | 'stored' | 'seq'> | undefined;
    let from = o.before;
    let scanned = 0;
    for (;;) {
      const batch = await this.deps.statements.aboutPerson({ agents: subject.agents, registrations: subject.registrations, limit: o.batch, ...(from ? { before: from } : {}) });
      for (const doc of batch) {
        scanned += 1;
        const row = presentStatement(parse(doc.json), subject.present);
        if (o.category && row.category !== o.category) continue;
        if (rows.length === o.limit) return { rows, next: encodePosition(lastRow!), partial: false };
        rows.push(row);
        lastRow = doc;
      }
      const last = batch.at(-1);
      if (batch.length < o.batch || !last) return { rows, next: null, partial: false };
      from = { stored: last.stored, seq: last.seq, id: last._id };
      if (scanned >= o.scanLimit) {
        const full = rows.length === o.limit;
        return { rows, next: encodePosition(full ? lastRow! : last), partial: !full };
      }
    }
  }
}

function parse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return {};
  }
}
