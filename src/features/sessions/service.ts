import { Types } from 'mongoose';
import { requireAccess, type Actor, type Role } from '../../engine/access.js';
import { isTimeZone } from '../../engine/calendar.js';
import type { AttendanceStatus, Modality, ModuleDef, ProgressFacts, RubricCriterion } from '../../engine/curriculum.js';
import { Conflict, GateLocked, NotFound, ValidationFailed, type FieldProblem } from '../../errors.js';
import type { Locker } from '../../infra/locks.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { AuditLog } from '../audit/service.js';
import type { CurriculumDoc, CurriculumModels, CurriculumVersionDoc } from '../curricula/model.js';
import type { EnrollmentDoc, EnrollmentModels } from '../enrollment/model.js';
import type { EnrollmentService, EnrollmentView } from '../enrollment/service.js';
import { buildInvite } from './ics.js';
import { ATTENDANCE_STATUSES, type AttendanceDoc, type LiveSessionDoc, type LiveSessionModels, type SeatDoc } from './model.js';
import { presentSeats, presentSession, type LiveSessionView, type SeatView, type SessionSummary } from './presenters.js';
import { formatSessionTime, isoInZone, zonedTimeToUtc } from './time.js';

/** What the service reads and writes: live sessions, plus users, enrollments and curriculum versions (read only). */
export type LiveSessionServiceModels = LiveSessionModels & EnrollmentModels & AccountModels & CurriculumModels;

export interface ScheduleInput {
  curriculumId: string;
  moduleId: string;
  /** defaults to the module's title */
  title?: string;
  /** a Date, an ISO instant with offset, or a wall-clock `YYYY-MM-DDTHH:mm` in `timeZone` */
  startsAt: Date | string;
  endsAt: Date | string;
  timeZone: string;
  capacity: number;
  /** the room (required for ILT) */
  location?: string;
  /** http(s) link (required for vILT) */
  meetingUrl?: string;
  instructorId: string;
  notes?: string;
}

export interface SessionFilter {
  curriculumId?: string;
  moduleId?: string;
  instructorId?: string;
  includeCancelled?: boolean;
  /** also sessions that ended up to this many days ago (to mark attendance); default 0 */
  recentDays?: number;
}

export interface AttendanceEntry {
  userId: string;
  status: AttendanceStatus;
}

/** A rep on a session's roster, with their attendance and the rubric of their curriculum version. */
export interface RosterEntry extends SeatView {
  name: string;
  email: string;
  attendance: {
    status: AttendanceStatus;
    at: string;
    rubricScores: Record<string, number> | null;
    rubricPercent: number | null;
    feedback: string;
  } | null;
  rubric: RubricCriterion[] | null;
  rubricPass: number | null;
}

export interface SessionDetail extends SessionSummary {
  roster: RosterEntry[];
}

export interface BookResult {
  session: SessionSummary;
  seat: SeatView;
  /** the rep's calendar invite for the seat */
  ics: string;
  /** other sessions of the same module the rep was moved out of */
  released: string[];
  /** this was a repeated click: the seat was there already */
  already: boolean;
}

export interface InviteFor {
  userId: string;
  name: string;
  email: string;
  ics: string;
}

export interface CancelResult {
  session: SessionSummary;
  seat: SeatView;
  enrollmentId: string;
  moduleId: string;
  /** the rep's CANCEL invite */
  ics: string;
  /** reps moved from the waitlist to a seat, with their updated invites */
  promoted: InviteFor[];
}

export interface SchedulingOptions {
  curricula: { id: string; title: string; versionId: string; modules: { id: string; title: string; modality: 'vilt' | 'ilt' }[] }[];
  instructors: { id: string; name: string; email: string; role: string }[];
}

type Clock = () => Date;

const MAX_TITLE = 160;
const MAX_PLACE = 300;
const MAX_NOTES = 4000;
const MAX_FEEDBACK = 4000;
const MAX_CAPACITY = 1000;
const MODALITY_NOUNS: Record<Modality, string> = { elearning: 'an eLearning', assessment: 'an assessment', transfer: 'an on-the-job (transfer)', vilt: 'a virtual', ilt: 'a classroom' };
const INSTRUCTOR_ROLES: Role[] = ['trainer', 'admin'];

function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function oid(id: string | Types.ObjectId): Types.ObjectId | null {
  if (id instanceof Types.ObjectId) return id;
  return typeof id === 'string' && /^[a-f0-9]{24}$/i.test(id) ? new Types.ObjectId(id) : null;
}

/** A copy to change: seats and attendance records are copied, ids and dates are replaced rather than mutated. */
function cloneSession(d: LiveSessionDoc): LiveSessionDoc {
  return {
    ...d,
    seats: d.seats.map((x) => ({ ...x })),
    attendance: d.attendance.map((a) => ({ ...a, rubricScores: a.rubricScores ? { ...a.rubricScores } : null })),
  };
}

/** Runs fn over items a few at a time: facts of different enrollments are written in parallel (each has its own lock). */
async function inBatches<T>(items: T[], fn: (item: T) => Promise<unknown>, size = 8): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function isActive(seat: SeatDoc): boolean {
  return seat.status === 'booked' || seat.status === 'waitlisted';
}

function sameUser(a: Types.ObjectId | string, b: Types.ObjectId | string): boolean {
  return String(a) === String(b);
}

/** An http(s) URL with a plain host name: normalised, or null. */
function httpUrl(value: string): string | null {
  if (/\s/.test(value)) return null;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    if (!/^[a-z0-9.-]+$/i.test(url.hostname) || url.username || url.password) return null;
    return url.href;
  } catch {
    return null;
  }
}

/** The attendance fact a session record gives the module. */
function attendanceFact(s: LiveSessionDoc, record: AttendanceDoc, timeZone: string): ProgressFacts['attendance'][string] {
  return {
    status: record.status,
    at: isoInZone(new Date(s.startsAt), timeZone),
    ...(record.rubricPercent != null && record.status !== 'absent' ? { rubricPercent: record.rubricPercent } : {}),
  };
}

/** Whether an attendance fact completes a module by its rule (attended, and the rubric pass where set). */
function completes(fact: ProgressFacts['attendance'][string] | undefined, module: ModuleDef): boolean {
  if (!fact || fact.status !== 'attended') return false;
  const pass = module.completion.rule === 'attended' ? module.completion.rubricPass : undefined;
  return pass === undefined || (fact.rubricPercent !== undefined && fact.rubricPercent >= pass);
}

/**
 * Live sessions for vILT and ILT modules: scheduling, booking with capacity and a waitlist,
 * calendar invites, attendance and rubric scores. A session is one document, changed only under
 * its lock (`session:<id>`); what a session means for a rep's progress is written to the
 * enrollment's facts through EnrollmentService.applyEvent, inside the same lock, so the seat and
 * the booking fact never disagree for long — and a repeated request repairs them.
 */
/** A seat or attendance change of one rep, as told to listeners (the xAPI recorder) after it is saved. */
export interface SessionChange {
  view: EnrollmentView;
  session: { id: string; title: string; modality: 'vilt' | 'ilt'; moduleId: string; startsAt: string; endsAt: string };
}

export type SeatRelease = 'rep' | 'session-cancelled' | 'module-done';

/** Who hears about bookings and attendance (the xAPI recorder). */
export interface SessionListener {
  seatTaken(e: SessionChange & { status: 'booked' | 'waitlisted'; sequence: number; at: string }): Promise<void>;
  seatReleased(e: SessionChange & { sequence: number; at: string; reason: SeatRelease }): Promise<void>;
  attendanceMarked(
    e: SessionChange & {
      instructor: { id: string; name: string; email: string };
      status: AttendanceStatus;
      markedAt: string;
      /** what was marked before, when this re-marks it */
      previous: { status: AttendanceStatus; markedAt: string } | null;
      rubric: { scores: Record<string, number>; points: number; maxPoints: number; passed: boolean | null; feedback: string } | null;
    },
  ): Promise<void>;
}

export class LiveSessionService {
  /** published versions never change: each process may keep the ones it read */
  private readonly versionCache = new Map<string, CurriculumVersionDoc>();
  private readonly listeners: SessionListener[] = [];

  listen(listener: SessionListener): void {
    this.listeners.push(listener);
  }

  private async tell(fn: (l: SessionListener) => Promise<void>): Promise<void> {
    for (const l of this.listeners) await fn(l);
  }

  private change_(s: LiveSessionDoc, view: EnrollmentView): SessionChange {
    return {
      view,
      session: { id: String(s._id), title: s.title, modality: s.modality, moduleId: s.moduleId, startsAt: new Date(s.startsAt).toISOString(), endsAt: new Date(s.endsAt).toISOString() },
    };
  }

  constructor(
    private readonly m: LiveSessionServiceModels,
    private readonly enrollments: EnrollmentService,
    private readonly locks: Locker,
    private readonly now: Clock = () => new Date(),
    /** attendance and rubric scores, recorded once made (fail open: a trainer's marks are never lost to the log) */
    private readonly audit?: AuditLog,
  ) {}

  // ---- reading ---------------------------------------------------------------------------------

  private async load(sessionId: string | Types.ObjectId): Promise<LiveSessionDoc> {
    const id = oid(sessionId);
    const doc = id ? await this.m.LiveSession.findById(id).lean<LiveSessionDoc>() : null;
    if (!doc) throw new NotFound('No such session.');
    return doc;
  }

  private async version(versionId: string): Promise<CurriculumVersionDoc> {
    const cached = this.versionCache.get(versionId);
    if (cached) return cached;
    const doc = await this.m.CurriculumVersion.findById(versionId).lean<CurriculumVersionDoc>();
    if (!doc) throw new NotFound(`No curriculum version '${versionId}'.`);
    if (this.versionCache.size >= 50) this.versionCache.delete(this.versionCache.keys().next().value!);
    this.versionCache.set(versionId, doc);
    return doc;
  }

  private async usersById(ids: (Types.ObjectId | string)[]): Promise<Map<string, UserDoc>> {
    const unique = [...new Set(ids.map(String))].map((id) => oid(id)).filter((id): id is Types.ObjectId => id !== null);
    if (!unique.length) return new Map();
    const users = await this.m.User.find({ _id: { $in: unique } }).lean<UserDoc[]>();
    return new Map(users.map((u) => [String(u._id), u]));
  }

  private async summaries(docs: LiveSessionDoc[]): Promise<SessionSummary[]> {
    const users = await this.usersById(docs.map((d) => d.instructorId));
    const now = this.now();
    return docs.map((d) => {
      const u = users.get(String(d.instructorId));
      return presentSession(d, u ? { id: String(u._id), name: u.name, email: u.email } : undefined, now);
    });
  }

  private async summary(doc: LiveSessionDoc): Promise<SessionSummary> {
    return (await this.summaries([doc]))[0]!;
  }

  /** Sessions on offer: those not yet over (and, with recentDays, those that ended lately), soonest first. */
  async upcoming(actor: Actor, filter: SessionFilter = {}): Promise<SessionSummary[]> {
    requireAccess(actor, 'sessions.read');
    const since = new Date(this.now().getTime() - Math.max(0, filter.recentDays ?? 0) * 86_400_000);
    const query: Record<string, unknown> = { endsAt: { $gt: since } };
    if (filter.curriculumId) query.curriculumId = filter.curriculumId;
    if (filter.moduleId) query.moduleId = filter.moduleId;
    if (filter.instructorId) {
      const id = oid(filter.instructorId);
      if (!id) return [];
      query.instructorId = id;
    }
    if (!filter.includeCancelled) query.cancelledAt = null;
    const docs = await this.m.LiveSession.find(query).sort({ startsAt: 1, _id: 1 }).limit(500).lean<LiveSessionDoc[]>();
    return this.summaries(docs);
  }

  /**
   * The sessions of one module that are not over and not cancelled, soonest first, with their
   * seats — for the rep's module page (see presenters.sessionsForRep).
   */
  async forModule(curriculumId: string, moduleId: string): Promise<LiveSessionView[]> {
    const docs = await this.m.LiveSession.find({ curriculumId, moduleId, cancelledAt: null, endsAt: { $gt: this.now() } })
      .sort({ startsAt: 1, _id: 1 })
      .lean<LiveSessionDoc[]>();
    const summaries = await this.summaries(docs);
    return summaries.map((s, i) => ({ ...s, seats: presentSeats(docs[i]!.seats) }));
  }

  /** Which module a session is for (to send a rep back to the module page). */
  async moduleOf(sessionId: string): Promise<{ curriculumId: string; moduleId: string }> {
    const s = await this.load(sessionId);
    return { curriculumId: s.curriculumId, moduleId: s.moduleId };
  }

  /** The trainer's view of one session: roster, attendance, and each attendee's rubric. */
  async get(actor: Actor, sessionId: string): Promise<SessionDetail> {
    requireAccess(actor, 'sessions.manage');
    const s = await this.load(sessionId);
    const summary = await this.summary(s);
    const [people, enrollments] = await Promise.all([
      this.usersById(s.seats.map((x) => x.userId)),
      this.m.Enrollment.find({ _id: { $in: s.seats.map((x) => x.enrollmentId) } }, { versionId: 1 }).lean<Pick<EnrollmentDoc, '_id' | 'versionId'>[]>(),
    ]);
    const versionOf = new Map(enrollments.map((e) => [String(e._id), e.versionId]));
    const moduleByVersion = new Map<string, ModuleDef | undefined>();
    for (const versionId of new Set([...versionOf.values(), s.versionId])) {
      moduleByVersion.set(versionId, (await this.version(versionId)).content.definition.modules.find((m) => m.id === s.moduleId));
    }
    const roster = presentSeats(s.seats).map((seat): RosterEntry => {
      const person = people.get(seat.userId);
      const record = s.attendance.find((a) => sameUser(a.userId, seat.userId));
      const module = moduleByVersion.get(versionOf.get(seat.enrollmentId) ?? s.versionId);
      const pass = module?.completion.rule === 'attended' ? module.completion.rubricPass : undefined;
      return {
        ...seat,
        name: person?.name ?? 'Unknown rep',
        email: person?.email ?? '',
        attendance: record
          ? {
              status: record.status,
              at: new Date(record.at).toISOString(),
              rubricScores: record.rubricScores ?? null,
              rubricPercent: record.rubricPercent ?? null,
              feedback: record.feedback ?? '',
            }
          : null,
        rubric: module?.rubric?.criteria ?? null,
        rubricPass: pass ?? null,
      };
    });
    return { ...summary, roster };
  }

  /** What the scheduling form offers: the vILT and ILT modules of each curriculum's current version, and the instructors. */
  async schedulingOptions(actor: Actor): Promise<SchedulingOptions> {
    requireAccess(actor, 'sessions.manage');
    const [curricula, instructors] = await Promise.all([
      this.m.Curriculum.find().sort({ title: 1 }).lean<CurriculumDoc[]>(),
      this.m.User.find({ role: { $in: INSTRUCTOR_ROLES }, active: true }).sort({ name: 1 }).lean<UserDoc[]>(),
    ]);
    const withModules = [];
    for (const c of curricula) {
      const def = (await this.version(c.latestVersionId)).content.definition;
      const modules = def.modules
        .filter((m): m is ModuleDef & { modality: 'vilt' | 'ilt' } => m.modality === 'vilt' || m.modality === 'ilt')
        .map((m) => ({ id: m.id, title: m.title, modality: m.modality }));
      if (modules.length) withModules.push({ id: c._id, title: c.title, versionId: c.latestVersionId, modules });
    }
    return { curricula: withModules, instructors: instructors.map((u) => ({ id: String(u._id), name: u.name, email: u.email, role: u.role })) };
  }

  // ---- scheduling ------------------------------------------------------------------------------

  private instant(value: Date | string, timeZone: string, path: string, problems: FieldProblem[]): Date | null {
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) problems.push({ path, message: 'is not a valid date and time' });
      return Number.isNaN(value.getTime()) ? null : value;
    }
    const text = typeof value === 'string' ? value.trim() : '';
    if (!text) {
      problems.push({ path, message: 'is required' });
      return null;
    }
    if (/(?:Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
      const ms = Date.parse(text);
      if (Number.isNaN(ms)) problems.push({ path, message: 'is not a valid date and time' });
      return Number.isNaN(ms) ? null : new Date(ms);
    }
    if (!timeZone || !isTimeZone(timeZone)) return null; // reported on timeZone
    const local = zonedTimeToUtc(text, timeZone);
    if (local.ok) return local.date;
    problems.push({
      path,
      message: local.reason === 'nonexistent' ? `does not exist in ${timeZone}: the clocks skip that hour — choose another time` : 'must be a date and time (YYYY-MM-DD HH:mm)',
    });
    return null;
  }

  /** Schedules a session of a vILT or ILT module of a curriculum's current version. */
  async schedule(actor: Actor, input: ScheduleInput): Promise<SessionSummary> {
    requireAccess(actor, 'sessions.manage');
    const problems: FieldProblem[] = [];
    const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

    const curriculumId = text(input.curriculumId);
    const moduleId = text(input.moduleId);
    let module: ModuleDef | undefined;
    let versionId = '';
    const curriculum = curriculumId ? await this.m.Curriculum.findById(curriculumId).lean<CurriculumDoc>() : null;
    if (!curriculum) problems.push({ path: 'curriculumId', message: curriculumId ? 'is not a published curriculum' : 'is required' });
    else {
      versionId = curriculum.latestVersionId;
      const def = (await this.version(versionId)).content.definition;
      module = def.modules.find((m) => m.id === moduleId);
      if (!moduleId) problems.push({ path: 'moduleId', message: 'is required' });
      else if (!module) problems.push({ path: 'moduleId', message: `is not a module of the current version of '${def.title}'` });
      else if (module.modality !== 'vilt' && module.modality !== 'ilt') {
        problems.push({ path: 'moduleId', message: `'${module.title}' is ${MODALITY_NOUNS[module.modality]} module; only virtual (vilt) and classroom (ilt) modules have sessions` });
        module = undefined;
      }
    }

    const timeZone = text(input.timeZone);
    if (!timeZone) problems.push({ path: 'timeZone', message: 'is required' });
    else if (!isTimeZone(timeZone)) problems.push({ path: 'timeZone', message: 'is not a known time zone (e.g. Europe/Berlin)' });

    const startsAt = this.instant(input.startsAt, timeZone, 'startsAt', problems);
    const endsAt = this.instant(input.endsAt, timeZone, 'endsAt', problems);
    if (startsAt && startsAt.getTime() <= this.now().getTime()) problems.push({ path: 'startsAt', message: 'must be in the future' });
    if (startsAt && endsAt && endsAt.getTime() <= startsAt.getTime()) problems.push({ path: 'endsAt', message: 'must be after the start' });

    const capacity = input.capacity;
    if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      problems.push({ path: 'capacity', message: `must be a whole number from 1 to ${MAX_CAPACITY}` });
    }

    const location = text(input.location);
    const rawUrl = text(input.meetingUrl);
    const meetingUrl = rawUrl ? httpUrl(rawUrl) : '';
    if (rawUrl && meetingUrl === null) problems.push({ path: 'meetingUrl', message: 'must be a web link starting with https:// or http://' });
    else if (module?.modality === 'vilt' && !meetingUrl) problems.push({ path: 'meetingUrl', message: 'is required for a virtual session' });
    if (module?.modality === 'ilt' && !location) problems.push({ path: 'location', message: 'is required for a classroom session' });
    if (location.length > MAX_PLACE) problems.push({ path: 'location', message: `must be at most ${MAX_PLACE} characters` });
    if ((meetingUrl ?? '').length > MAX_PLACE * 2) problems.push({ path: 'meetingUrl', message: `must be at most ${MAX_PLACE * 2} characters` });

    const title = text(input.title) || module?.title || '';
    if (title.length > MAX_TITLE) problems.push({ path: 'title', message: `must be at most ${MAX_TITLE} characters` });
    const notes = text(input.notes);
    if (notes.length > MAX_NOTES) problems.push({ path: 'notes', message: `must be at most ${MAX_NOTES} characters` });

    const instructorId = oid(text(input.instructorId));
    const instructor = instructorId ? await this.m.User.findById(instructorId).lean<UserDoc>() : null;
    if (!instructor) problems.push({ path: 'instructorId', message: text(input.instructorId) ? 'is not a user' : 'is required' });
    else if (!INSTRUCTOR_ROLES.includes(instructor.role as Role)) problems.push({ path: 'instructorId', message: `${instructor.name} is a ${instructor.role}; instructors are trainers or admins` });
    else if (instructor.active === false) problems.push({ path: 'instructorId', message: `${instructor.name} is inactive` });

    if (problems.length || !module || !startsAt || !endsAt || !instructor) throw new ValidationFailed(problems);
    const modality: 'vilt' | 'ilt' = module.modality === 'vilt' ? 'vilt' : 'ilt';

    const doc = await this.m.LiveSession.create({
      curriculumId,
      moduleId,
      versionId,
      modality,
      moduleTitle: module.title,
      title,
      startsAt,
      endsAt,
      timeZone,
      capacity,
      location,
      meetingUrl: meetingUrl ?? '',
      instructorId: instructor._id,
      notes,
      createdBy: actor.id,
      cancelledAt: null,
      seats: [],
      attendance: [],
      rev: 0,
    });
    return this.summary(doc.toObject() as LiveSessionDoc);
  }

  // ---- changing one session --------------------------------------------------------------------

  /**
   * Read-modify-write of one session under its lock. `fn` changes the document it is given and
   * says whether anything changed; `after` runs once the change is stored, still under the lock
   * (it writes the enrollments' facts, so that a concurrent change of the same seat waits for it).
   */
  private async change<T>(
    sessionId: string | Types.ObjectId,
    fn: (s: LiveSessionDoc, now: Date) => { changed: boolean; value: T },
    after?: (s: LiveSessionDoc, value: T) => Promise<void>,
  ): Promise<{ session: LiveSessionDoc; value: T }> {
    const id = oid(sessionId);
    if (!id) throw new NotFound('No such session.');
    return this.locks.withLock(`session:${String(id)}`, async () => {
      const current = await this.load(id);
      const s = cloneSession(current);
      const now = this.now();
      const { changed, value } = fn(s, now);
      if (changed) {
        const res = await this.m.LiveSession.updateOne(
          { _id: current._id, rev: current.rev },
          { $set: { seats: s.seats, attendance: s.attendance, cancelledAt: s.cancelledAt }, $inc: { rev: 1 } },
        );
        if (res.modifiedCount !== 1) throw new Conflict('This session was being changed from elsewhere at the same moment. Please try again.');
        s.rev = current.rev + 1;
      }
      if (after) await after(s, value);
      return { session: s, value };
    });
  }

  private assertBookable(s: LiveSessionDoc, now: Date): void {
    if (s.cancelledAt) throw new Conflict(`'${s.title}' on ${this.when(s)} has been cancelled. Please choose another session.`);
    if (now >= s.startsAt) throw new Conflict(`'${s.title}' on ${this.when(s)} has already started. Please choose another session.`);
  }

  private when(s: LiveSessionDoc): string {
    return formatSessionTime(new Date(s.startsAt), new Date(s.endsAt), s.timeZone);
  }

  /** Moves waitlisted reps (in waitlist order) to free seats; returns the promoted seats. */
  private fillSeats(s: LiveSessionDoc, now: Date): SeatDoc[] {
    const promoted: SeatDoc[] = [];
    let booked = s.seats.filter((x) => x.status === 'booked').length;
    for (const seat of s.seats) {
      if (booked >= s.capacity) break;
      if (seat.status !== 'waitlisted') continue;
      seat.status = 'booked';
      seat.at = now;
      seat.sequence += 1;
      booked++;
      promoted.push(seat);
    }
    return promoted;
  }

  /** facts.bookings[module] follows the seat: booked or waitlisted on this session. */
  private async writeBookingFact(s: LiveSessionDoc, seat: SeatDoc): Promise<EnrollmentView> {
    const view = await this.writeBookingFactOnly(s, seat);
    if (seat.status === 'booked' || seat.status === 'waitlisted') {
      await this.tell((l) => l.seatTaken({ ...this.change_(s, view), status: seat.status as 'booked' | 'waitlisted', sequence: seat.sequence, at: new Date(seat.at).toISOString() }));
    }
    return view;
  }

  private async writeBookingFactOnly(s: LiveSessionDoc, seat: SeatDoc): Promise<EnrollmentView> {
    const sessionId = String(s._id);
    const startedAt = this.now().toISOString();
    return this.enrollments.applyEvent(seat.enrollmentId, (facts, view) => {
      if (seat.status !== 'booked' && seat.status !== 'waitlisted') return null;
      const want = { sessionId, status: seat.status, startsAt: isoInZone(new Date(s.startsAt), view.rep.timezone) };
      const have = own(facts.bookings, s.moduleId);
      let changed = false;
      if (!have || have.sessionId !== want.sessionId || have.status !== want.status || have.startsAt !== want.startsAt) {
        facts.bookings[s.moduleId] = want;
        changed = true;
      }
      if (own(facts.started, s.moduleId) === undefined) {
        facts.started[s.moduleId] = startedAt;
        changed = true;
      }
      return changed ? facts : null;
    });
  }

  /** Removes facts.bookings[module] when it points at this session (not when the rep has moved on). */
  private async dropBookingFact(s: LiveSessionDoc, seat: SeatDoc, reason: SeatRelease): Promise<void> {
    const sessionId = String(s._id);
    const view = await this.enrollments.applyEvent(seat.enrollmentId, (facts) => {
      if (own(facts.bookings, s.moduleId)?.sessionId !== sessionId) return null;
      delete facts.bookings[s.moduleId];
      return facts;
    });
    await this.tell((l) => l.seatReleased({ ...this.change_(s, view), sequence: seat.sequence, at: new Date(seat.at).toISOString(), reason }));
  }

  /**
   * Writes a session's attendance record into the module's facts and drops the booking fact for
   * this session. An attendance fact from a later session is kept, and so is one from another
   * session that already completes the module (a done module stays done).
   */
  private async writeAttendanceFact(s: LiveSessionDoc, record: AttendanceDoc, enrollmentId: Types.ObjectId, previous: { status: AttendanceStatus; at: Date } | null = null): Promise<EnrollmentView> {
    const view = await this.writeAttendanceFactOnly(s, record, enrollmentId);
    const instructor = await this.m.User.findById(s.instructorId).lean<UserDoc>();
    const module = view.curriculum.modules.find((m) => m.id === s.moduleId);
    const pass = module?.completion.rule === 'attended' ? module.completion.rubricPass : undefined;
    const maxPoints = module?.rubric?.criteria.reduce((sum, c) => sum + c.max, 0) ?? 0;
    const scores = record.rubricScores;
    await this.tell((l) =>
      l.attendanceMarked({
        ...this.change_(s, view),
        instructor: { id: String(s.instructorId), name: instructor?.name ?? 'Instructor', email: instructor?.email ?? '' },
        status: record.status,
        markedAt: new Date(record.at).toISOString(),
        previous: previous && previous.status !== record.status ? { status: previous.status, markedAt: new Date(previous.at).toISOString() } : null,
        rubric:
          scores && record.rubricPercent !== null
            ? { scores, points: Object.values(scores).reduce((a, b) => a + b, 0), maxPoints, passed: pass === undefined ? null : record.rubricPercent >= pass, feedback: record.feedback }
            : null,
      }),
    );
    return view;
  }

  private async writeAttendanceFactOnly(s: LiveSessionDoc, record: AttendanceDoc, enrollmentId: Types.ObjectId): Promise<EnrollmentView> {
    const sessionId = String(s._id);
    return this.enrollments.applyEvent(enrollmentId, (facts, view) => {
      const module = view.curriculum.modules.find((m) => m.id === s.moduleId);
      const want = attendanceFact(s, record, view.rep.timezone);
      const have = own(facts.attendance, s.moduleId);
      const fromThisSession = have !== undefined && Date.parse(have.at) === new Date(s.startsAt).getTime();
      const keep = have !== undefined && !fromThisSession && (Date.parse(have.at) > new Date(s.startsAt).getTime() || (module !== undefined && completes(have, module)));
      let changed = false;
      if (!keep && JSON.stringify(have) !== JSON.stringify(want)) {
        facts.attendance[s.moduleId] = want;
        changed = true;
      }
      if (own(facts.bookings, s.moduleId)?.sessionId === sessionId) {
        delete facts.bookings[s.moduleId];
        changed = true;
      }
      if (own(facts.started, s.moduleId) === undefined) {
        facts.started[s.moduleId] = want.at;
        changed = true;
      }
      return changed ? facts : null;
    });
  }

  private async invitesFor(s: LiveSessionDoc, seats: SeatDoc[]): Promise<InviteFor[]> {
    if (!seats.length) return [];
    const users = await this.usersById([s.instructorId, ...seats.map((x) => x.userId)]);
    return seats.map((seat) => {
      const rep = users.get(String(seat.userId));
      return { userId: String(seat.userId), name: rep?.name ?? '', email: rep?.email ?? '', ics: this.renderInvite(s, seat, rep, users.get(String(s.instructorId))) };
    });
  }

  private seatView(s: LiveSessionDoc, userId: Types.ObjectId | string): SeatView {
    const seat = presentSeats(s.seats).find((x) => x.userId === String(userId));
    if (!seat) throw new NotFound('You have no seat on this session.');
    return seat;
  }

  /**
   * Releases the rep's seat on a session that has not started: the first waitlisted rep takes a
   * freed seat. Returns null when the rep held no active seat there.
   */
  private async releaseSeat(sessionId: Types.ObjectId, userId: string, reason: SeatRelease = 'rep'): Promise<{ session: LiveSessionDoc; seat: SeatDoc; promoted: SeatDoc[] } | null> {
    const { session, value } = await this.change(
      sessionId,
      (s, now) => {
        const seat = s.seats.find((x) => sameUser(x.userId, userId) && isActive(x));
        if (!seat || s.cancelledAt) return { changed: false, value: null };
        if (now >= s.startsAt) throw new Conflict(`'${s.title}' on ${this.when(s)} has already started: it is too late to leave it. Please talk to your trainer.`);
        const wasBooked = seat.status === 'booked';
        seat.status = 'cancelled';
        seat.at = now;
        seat.sequence += 1;
        return { changed: true, value: { seat, promoted: wasBooked ? this.fillSeats(s, now) : [] } };
      },
      async (s, value) => {
        if (!value) return;
        await this.dropBookingFact(s, value.seat, reason);
        for (const p of value.promoted) await this.writeBookingFact(s, p);
      },
    );
    return value ? { session, ...value } : null;
  }

  // ---- the rep ---------------------------------------------------------------------------------

  /**
   * The rep books a session for a module of their own enrollment: a seat while there is one,
   * else a place on the waitlist. A seat on another session of the same module is released
   * first (moving); a second click changes nothing.
   */
  async book(actor: Actor, enrollmentId: string, sessionId: string): Promise<BookResult> {
    requireAccess(actor, 'learning.take');
    const view = await this.enrollments.view(actor, enrollmentId);
    if (view.rep.id !== actor.id) throw new NotFound('No such enrollment.');
    const target = await this.load(sessionId);
    if (target.curriculumId !== view.enrollment.curriculumId) throw new NotFound('No such session.');
    const module = view.curriculum.modules.find((m) => m.id === target.moduleId);
    const status = view.roadmap.modules.find((m) => m.id === target.moduleId);
    if (!module || !status) throw new Conflict(`This session is for '${target.moduleTitle}', which is not part of your version of the curriculum.`);
    if (status.state === 'locked') throw new GateLocked(`'${module.title}' is locked.`, status.reasons);
    if (status.state === 'completed' || status.state === 'tested_out') throw new Conflict(`You have already completed '${module.title}'.`);
    this.assertBookable(target, this.now());

    // moving: give up a seat on another upcoming session of this module first
    const released: string[] = [];
    const others = await this.m.LiveSession.find({
      curriculumId: target.curriculumId,
      moduleId: target.moduleId,
      _id: { $ne: target._id },
      cancelledAt: null,
      startsAt: { $gt: this.now() },
    }).lean<LiveSessionDoc[]>();
    for (const other of others) {
      if (!other.seats.some((x) => sameUser(x.userId, actor.id) && isActive(x))) continue;
      if (await this.releaseSeat(other._id, actor.id)) released.push(String(other._id));
    }

    const enrollmentOid = view.enrollment._id;
    const { session, value } = await this.change(
      target._id,
      (s, now) => {
        this.assertBookable(s, now);
        const existing = s.seats.find((x) => sameUser(x.userId, actor.id) && isActive(x));
        if (existing) return { changed: false, value: { seat: existing, promoted: [] as SeatDoc[], already: true } };
        // a rep who left and comes back joins at the end of the queue, with a newer invite
        const previous = s.seats.findIndex((x) => sameUser(x.userId, actor.id));
        const sequence = previous >= 0 ? s.seats[previous]!.sequence + 1 : 0;
        if (previous >= 0) s.seats.splice(previous, 1);
        const promoted = this.fillSeats(s, now);
        const booked = s.seats.filter((x) => x.status === 'booked').length;
        const seat: SeatDoc = {
          userId: new Types.ObjectId(actor.id),
          enrollmentId: enrollmentOid,
          status: booked < s.capacity ? 'booked' : 'waitlisted',
          at: now,
          sequence,
        };
        s.seats.push(seat);
        return { changed: true, value: { seat, promoted, already: false } };
      },
      async (s, v) => {
        await this.writeBookingFact(s, v.seat);
        for (const p of v.promoted) await this.writeBookingFact(s, p);
      },
    );
    const [invite] = await this.invitesFor(session, [value.seat]);
    return { session: await this.summary(session), seat: this.seatView(session, actor.id), ics: invite!.ics, released, already: value.already };
  }

  /** The rep leaves a session: the seat is freed for the first rep on the waitlist. Leaving twice is harmless. */
  async cancel(actor: Actor, sessionId: string): Promise<CancelResult> {
    requireAccess(actor, 'learning.take');
    const before = await this.load(sessionId);
    const mine = before.seats.find((x) => sameUser(x.userId, actor.id));
    if (!mine) throw new NotFound('You have no seat on this session.');
    const released = await this.releaseSeat(before._id, actor.id);
    const session = released?.session ?? before;
    // null: the seat was given up before (or the session cancelled): leaving again changes nothing
    const seat = released?.seat ?? mine;
    const [invite, ...promoted] = await this.invitesFor(session, [seat, ...(released?.promoted ?? [])]);
    return {
      session: await this.summary(session),
      seat: this.seatView(session, actor.id),
      enrollmentId: String(seat.enrollmentId),
      moduleId: session.moduleId,
      ics: invite!.ics,
      promoted,
    };
  }

  // ---- the trainer -----------------------------------------------------------------------------

  /** Cancels a session that has not started: every seat is released and every rep's booking fact removed. */
  async cancelSession(actor: Actor, sessionId: string): Promise<{ session: SessionSummary; invites: InviteFor[] }> {
    requireAccess(actor, 'sessions.manage');
    const { session, value } = await this.change(
      sessionId,
      (s, now) => {
        if (s.cancelledAt) return { changed: false, value: [] as SeatDoc[] };
        if (now >= s.startsAt) throw new Conflict(`'${s.title}' on ${this.when(s)} has already started and can no longer be cancelled.`);
        s.cancelledAt = now;
        const affected = s.seats.filter(isActive);
        for (const seat of affected) {
          seat.status = 'cancelled';
          seat.at = now;
          seat.sequence += 1;
        }
        return { changed: true, value: affected };
      },
      async (s, affected) => inBatches(affected, (seat) => this.dropBookingFact(s, seat, 'session-cancelled')),
    );
    return { session: await this.summary(session), invites: await this.invitesFor(session, value) };
  }

  /**
   * Records who attended (attended / partial / absent) once the session has started. Each rep's
   * module facts get the attendance (with the rubric percentage, if already scored) and lose the
   * booking for this session; the engine completes the module from there.
   */
  async markAttendance(actor: Actor, sessionId: string, entries: AttendanceEntry[]): Promise<{ session: SessionSummary; marked: number }> {
    requireAccess(actor, 'sessions.manage');
    const before = await this.load(sessionId);
    const problems: FieldProblem[] = [];
    if (!entries.length) problems.push({ path: 'attendance', message: 'mark at least one rep' });
    const byUser = new Map<string, AttendanceStatus>();
    for (const e of entries) {
      const seat = before.seats.find((x) => sameUser(x.userId, e.userId) && x.status === 'booked');
      if (!ATTENDANCE_STATUSES.includes(e.status)) problems.push({ path: `attendance.${e.userId}`, message: 'must be attended, partial or absent' });
      else if (!seat) problems.push({ path: `attendance.${e.userId}`, message: 'has no booked seat on this session' });
      else byUser.set(String(e.userId), e.status);
    }
    if (problems.length) throw new ValidationFailed(problems);

    const { session, value } = await this.change(
      before._id,
      (s, now) => {
        if (s.cancelledAt) throw new Conflict('This session was cancelled: there is no attendance to mark.');
        if (now < s.startsAt) throw new Conflict(`Attendance can be marked once the session has started (${this.when(s)}).`);
        const marked: { record: AttendanceDoc; enrollmentId: Types.ObjectId; previous: { status: AttendanceStatus; at: Date } | null }[] = [];
        let changed = false;
        for (const [userId, status] of byUser) {
          const seat = s.seats.find((x) => sameUser(x.userId, userId) && x.status === 'booked');
          if (!seat) continue; // left between the check and the lock: nothing to mark
          let record = s.attendance.find((a) => sameUser(a.userId, userId));
          const previous = record ? { status: record.status, at: record.at } : null;
          if (!record) {
            record = { userId: seat.userId, status, at: now, rubricScores: null, rubricPercent: null, feedback: '' };
            s.attendance.push(record);
            changed = true;
          } else if (record.status !== status) {
            record.status = status;
            record.at = now;
            changed = true;
          }
          marked.push({ record, enrollmentId: seat.enrollmentId, previous });
        }
        return { changed, value: marked };
      },
      async (s, marked) => inBatches(marked, (m) => this.writeAttendanceFact(s, m.record, m.enrollmentId, m.previous)),
    );
    for (const m of value) {
      if (m.previous?.status === m.record.status) continue; // marked the same again: nothing changed
      const detail = { sessionId: String(session._id), moduleId: session.moduleId, status: m.record.status, previous: m.previous?.status ?? null };
      await this.audit?.recordAfter(actor, 'session.attendance.mark', { type: 'user', id: String(m.record.userId) }, detail);
    }
    await this.releaseFutureSeatsOfDone(session, value.map((m) => m.enrollmentId));
    return { session: await this.summary(session), marked: value.length };
  }

  /**
   * Scores an attendee's role play on the module's rubric (from the rep's curriculum version):
   * every criterion a whole number from 0 to its max. The percentage goes into the module facts,
   * where a score at or above the module's rubricPass completes it.
   */
  async scoreRubric(
    actor: Actor,
    sessionId: string,
    userId: string,
    scores: Record<string, number>,
    feedback = '',
  ): Promise<{ rubricPercent: number; points: number; maxPoints: number; passed: boolean | null; moduleState: string }> {
    requireAccess(actor, 'sessions.manage');
    const before = await this.load(sessionId);
    const record = before.attendance.find((a) => sameUser(a.userId, userId));
    const seat = before.seats.find((x) => sameUser(x.userId, userId));
    if (!seat) throw new NotFound('This rep has no seat on this session.');
    if (!record || record.status === 'absent') throw new Conflict('Only a rep marked attended or partial can be scored: mark attendance first.');
    const view = await this.enrollments.view(actor, String(seat.enrollmentId));
    const module = view.curriculum.modules.find((m) => m.id === before.moduleId);
    if (!module?.rubric) throw new Conflict(`'${module?.title ?? before.moduleTitle}' has no rubric to score.`);

    const problems: FieldProblem[] = [];
    const criteria = module.rubric.criteria;
    for (const key of Object.keys(scores)) {
      if (!criteria.some((c) => c.id === key)) problems.push({ path: `scores.${key}`, message: 'is not a criterion of this rubric' });
    }
    let points = 0;
    for (const c of criteria) {
      const v = own(scores, c.id);
      if (v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v))) problems.push({ path: `scores.${c.id}`, message: 'is required' });
      else if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > c.max) problems.push({ path: `scores.${c.id}`, message: `must be a whole number from 0 to ${c.max}` });
      else points += v;
    }
    const text = typeof feedback === 'string' ? feedback.trim() : '';
    if (text.length > MAX_FEEDBACK) problems.push({ path: 'feedback', message: `must be at most ${MAX_FEEDBACK} characters` });
    if (problems.length) throw new ValidationFailed(problems);
    const maxPoints = criteria.reduce((sum, c) => sum + c.max, 0);
    const rubricPercent = Math.round((100 * points) / maxPoints);
    const clean = Object.fromEntries(criteria.map((c) => [c.id, scores[c.id]!]));

    const { session } = await this.change(
      before._id,
      (s) => {
        const r = s.attendance.find((a) => sameUser(a.userId, userId));
        if (!r || r.status === 'absent') throw new Conflict('Only a rep marked attended or partial can be scored: mark attendance first.');
        r.rubricScores = clean;
        r.rubricPercent = rubricPercent;
        r.feedback = text;
        return { changed: true, value: r };
      },
      async (s, r) => {
        await this.writeAttendanceFact(s, r, seat.enrollmentId);
      },
    );
    const pass = module.completion.rule === 'attended' ? module.completion.rubricPass : undefined;
    const scored = { sessionId: String(session._id), moduleId: session.moduleId, points, maxPoints, rubricPercent, previousPercent: record.rubricPercent ?? null, passed: pass === undefined ? null : rubricPercent >= pass };
    await this.audit?.recordAfter(actor, 'session.rubric.score', { type: 'user', id: userId }, scored);
    await this.releaseFutureSeatsOfDone(session, [seat.enrollmentId]);
    const state = (await this.enrollments.view(actor, String(seat.enrollmentId))).roadmap.modules.find((m) => m.id === before.moduleId)?.state ?? 'unknown';
    return { rubricPercent, points, maxPoints, passed: pass === undefined ? null : rubricPercent >= pass, moduleState: state };
  }

  /** Once a module is done, the rep's seats on its later sessions go to someone who needs them. */
  private async releaseFutureSeatsOfDone(s: LiveSessionDoc, enrollmentIds: Types.ObjectId[]): Promise<void> {
    if (!enrollmentIds.length) return;
    const enrollments = await this.m.Enrollment.find({ _id: { $in: enrollmentIds } }).lean<EnrollmentDoc[]>();
    const done = enrollments.filter((e) => ['completed', 'tested_out'].includes(e.roadmap.modules.find((m) => m.id === s.moduleId)?.state ?? ''));
    if (!done.length) return;
    const later = await this.m.LiveSession.find({
      curriculumId: s.curriculumId,
      moduleId: s.moduleId,
      _id: { $ne: s._id },
      cancelledAt: null,
      startsAt: { $gt: this.now() },
    }).lean<LiveSessionDoc[]>();
    for (const e of done) {
      for (const other of later) {
        if (other.seats.some((x) => sameUser(x.userId, e.userId) && isActive(x))) await this.releaseSeat(other._id, String(e.userId), 'module-done');
      }
    }
  }

  // ---- calendar invites ------------------------------------------------------------------------

  private renderInvite(s: LiveSessionDoc, seat: SeatDoc, rep: UserDoc | undefined, instructor: UserDoc | undefined): string {
    const cancelled = Boolean(s.cancelledAt) || seat.status === 'cancelled';
    const when = this.when(s);
    const lines = [
      `${s.modality === 'vilt' ? 'Virtual session' : 'Classroom session'} for the module '${s.moduleTitle}'.`,
      `When: ${when}`,
      s.location ? `Where: ${s.location}` : '',
      s.meetingUrl ? `Join: ${s.meetingUrl}` : '',
      seat.status === 'waitlisted' ? 'You are on the waitlist: you will get an updated invite if a seat frees up.' : '',
      cancelled ? (s.cancelledAt ? 'This session has been cancelled. Please book another one from your roadmap.' : 'You have left this session.') : '',
      s.notes ? `\n${s.notes}` : '',
    ].filter(Boolean);
    return buildInvite({
      sessionId: String(s._id),
      method: cancelled ? 'CANCEL' : 'REQUEST',
      status: cancelled ? 'CANCELLED' : seat.status === 'waitlisted' ? 'TENTATIVE' : 'CONFIRMED',
      sequence: seat.sequence,
      title: s.title,
      description: lines.join('\n'),
      startsAt: new Date(s.startsAt),
      endsAt: new Date(s.endsAt),
      location: s.location || s.meetingUrl || undefined,
      url: s.meetingUrl || undefined,
      organizer: { name: instructor?.name ?? 'Onramp', email: instructor?.email ?? 'noreply@onramp.invalid' },
      attendee: { name: rep?.name ?? 'Rep', email: rep?.email ?? 'noreply@onramp.invalid' },
      stamp: this.now(),
    });
  }

  /** The .ics for a rep's seat: REQUEST while booked or waitlisted, CANCEL once the seat or the session is cancelled. */
  async invite(sessionId: string, userId: string): Promise<string> {
    const s = await this.load(sessionId);
    const seat = s.seats.find((x) => sameUser(x.userId, userId));
    if (!seat) throw new NotFound('You have no seat on this session.');
    const users = await this.usersById([s.instructorId, seat.userId]);
    return this.renderInvite(s, seat, users.get(String(seat.userId)), users.get(String(s.instructorId)));
  }
}
