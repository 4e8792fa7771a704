import { Types } from 'mongoose';
import { dayIn, isCalendarDate } from '../../engine/calendar.js';
import { emptyFacts, type CurriculumDef, type ModuleDef, type ProgressFacts, type Roadmap } from '../../engine/curriculum.js';
import { listScope, requireAccess, type Actor } from '../../engine/access.js';
import { computeRoadmap } from '../../engine/sequencing.js';
import { Conflict, GateLocked, NotFound, ValidationFailed } from '../../errors.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentDoc, EnrollmentModels } from './model.js';
import type { AccountService } from '../accounts/service.js';
import { checkRoster, parseRoster, type CheckedRow } from './roster.js';
import type { Locker } from '../../infra/locks.js';
import type { EnrollmentEvent } from '../../xapi/recorder.js';

export type Clock = () => Date;

export interface EnrollInput {
  userId: string;
  curriculumId: string;
  cohort?: string;
  startDate: string;
}

/** An enrollment with its curriculum and a roadmap computed for the rep's today. */
export interface EnrollmentView {
  enrollment: EnrollmentDoc;
  curriculum: CurriculumDef;
  roadmap: Roadmap;
  today: string;
  rep: Pick<UserDoc, 'name' | 'email' | 'timezone'> & { id: string; managerId: string | null };
}

const MAX_RETRIES = 8;

/** Who hears about enrollments and progress (the xAPI recorder); events are told after they are saved. */
export interface EnrollmentListener {
  enrolled(e: EnrollmentEvent, at: string, cohort: string, startDate: string): Promise<void>;
  progressed(e: EnrollmentEvent, before: { facts: ProgressFacts; roadmap: Roadmap }, after: { facts: ProgressFacts; roadmap: Roadmap }): Promise<void>;
}

export class EnrollmentService {
  private readonly listeners: EnrollmentListener[] = [];

  /** Wired once in the container: the xAPI recorder, reinforcement. */
  listen(listener: EnrollmentListener): void {
    this.listeners.push(listener);
  }

  /** The event as the listener needs it. */
  eventOf(view: Pick<EnrollmentView, 'enrollment' | 'curriculum' | 'rep'>): EnrollmentEvent {
    return { enrollmentId: String(view.enrollment._id), curriculum: view.curriculum, versionId: view.enrollment.versionId, rep: { id: view.rep.id, name: view.rep.name, email: view.rep.email } };
  }

  constructor(
    private readonly m: EnrollmentModels & AccountModels,
    private readonly curricula: CurriculumService,
    private readonly accounts: AccountService,
    private readonly locks: Locker,
    private readonly now: Clock = () => new Date(),
  ) {}

  private async rep(userId: Types.ObjectId | string): Promise<UserDoc> {
    const user = Types.ObjectId.isValid(userId) ? await this.m.User.findById(userId).lean<UserDoc>() : null;
    if (!user) throw new NotFound('No such rep.');
    return user;
  }

  /** Enrolls a rep on the curriculum's current version; enrolling again changes nothing. */
  async enroll(actor: Actor | 'system', input: EnrollInput): Promise<{ enrollment: EnrollmentDoc; created: boolean }> {
    if (actor !== 'system') requireAccess(actor, 'enrollments.manage');
    const problems = [];
    if (!isCalendarDate(input.startDate)) problems.push({ path: 'startDate', message: 'must be a date written YYYY-MM-DD' });
    const user = Types.ObjectId.isValid(input.userId) ? await this.m.User.findById(input.userId).lean<UserDoc>() : null;
    if (!user) problems.push({ path: 'userId', message: 'is not a user' });
    else if (user.role !== 'rep') problems.push({ path: 'userId', message: `${user.name} is a ${user.role}; only reps are enrolled` });
    else if (!user.active) problems.push({ path: 'userId', message: `${user.name} is inactive` });
    if (problems.length) throw new ValidationFailed(problems);
    const curriculum = await this.curricula.latest(input.curriculumId);
    const version = await this.curricula.version(curriculum.latestVersionId);
    const facts = emptyFacts(input.startDate);
    const today = dayIn(user!.timezone ?? 'UTC', this.now());
    const upsert = () => this.m.Enrollment.updateOne(
      { userId: user!._id, curriculumId: input.curriculumId },
      {
        $setOnInsert: {
          versionId: version._id,
          cohort: (input.cohort ?? '').trim(),
          startDate: input.startDate,
          enrolledBy: actor === 'system' ? 'system' : actor.id,
          facts,
          roadmap: computeRoadmap(version.content.definition, facts, today),
          computedOn: today,
          rev: 0,
        },
      },
      { upsert: true },
    );
    // two enrollments of one rep at once: the unique index lets one in, the other finds it
    const res = await upsert().catch((err: { code?: number }) => (err.code === 11000 ? { upsertedCount: 0 } : Promise.reject(err)));
    const enrollment = await this.m.Enrollment.findOne({ userId: user!._id, curriculumId: input.curriculumId }).lean<EnrollmentDoc>();
    if (res.upsertedCount === 1) {
      const rep = { id: String(user!._id), name: user!.name, email: user!.email };
      for (const l of this.listeners) await l.enrolled({ enrollmentId: String(enrollment!._id), curriculum: version.content.definition, versionId: version._id, rep }, enrollment!.createdAt.toISOString(), enrollment!.cohort, enrollment!.startDate);
    }
    return { enrollment: enrollment!, created: res.upsertedCount === 1 };
  }

  /** One enrollment as its reader may see it (rep: own; manager: team; trainer, admin: all). */
  async view(actor: Actor, enrollmentId: string): Promise<EnrollmentView> {
    requireAccess(actor, 'enrollments.read');
    const enrollment = Types.ObjectId.isValid(enrollmentId) ? await this.m.Enrollment.findById(enrollmentId).lean<EnrollmentDoc>() : null;
    if (!enrollment) throw new NotFound('No such enrollment.');
    const user = await this.rep(enrollment.userId);
    requireAccess(actor, 'enrollments.read', { userId: String(user._id), managerId: user.managerId ? String(user.managerId) : null });
    return this.present(enrollment, user);
  }

  private async present(enrollment: EnrollmentDoc, user: UserDoc): Promise<EnrollmentView> {
    const version = await this.curricula.version(enrollment.versionId);
    const today = dayIn(user.timezone ?? 'UTC', this.now());
    // Date gates move with the calendar: a roadmap computed on another day is recomputed (pure, cheap).
    const roadmap = enrollment.computedOn === today ? enrollment.roadmap : computeRoadmap(version.content.definition, enrollment.facts, today);
    return {
      enrollment,
      curriculum: version.content.definition,
      roadmap,
      today,
      rep: { id: String(user._id), name: user.name, email: user.email, timezone: user.timezone ?? 'UTC', managerId: user.managerId ? String(user.managerId) : null },
    };
  }

  /** The rep's own enrollments, newest first. */
  async mine(actor: Actor): Promise<EnrollmentView[]> {
    requireAccess(actor, 'enrollments.read');
    const user = await this.rep(actor.id);
    const docs = await this.m.Enrollment.find({ userId: user._id }).sort({ createdAt: -1 }).lean<EnrollmentDoc[]>();
    return Promise.all(docs.map((d) => this.present(d, user)));
  }

  /** Enrollments the actor may see: a manager's team, or everyone for trainers and admins. */
  async list(actor: Actor, filter: { cohort?: string; curriculumId?: string } = {}): Promise<EnrollmentView[]> {
    requireAccess(actor, 'enrollments.read');
    const scope = listScope(actor, 'enrollments.read');
    const userFilter: Record<string, unknown> = { role: 'rep' };
    if (scope.kind === 'team') userFilter.managerId = new Types.ObjectId(scope.managerId);
    if (scope.kind === 'own') userFilter._id = new Types.ObjectId(scope.selfId);
    const users = await this.m.User.find(userFilter).lean<UserDoc[]>();
    const byId = new Map(users.map((u) => [String(u._id), u]));
    const query: Record<string, unknown> = { userId: { $in: users.map((u) => u._id) } };
    if (filter.cohort) query.cohort = filter.cohort;
    if (filter.curriculumId) query.curriculumId = filter.curriculumId;
    const docs = await this.m.Enrollment.find(query).sort({ startDate: -1 }).lean<EnrollmentDoc[]>();
    return Promise.all(docs.map((d) => this.present(d, byId.get(String(d.userId))!)));
  }

  /**
   * Checks a CSV roster and, when `commit` is set and every row is good, creates the missing rep
   * accounts and enrolls everyone. A file with any bad row changes nothing. Re-importing the same
   * file is harmless: existing reps are enrolled once.
   */
  async importRoster(
    actor: Actor,
    curriculumId: string,
    csv: string,
    commit: boolean,
  ): Promise<{ rows: CheckedRow[]; problems: string[]; applied?: { created: { email: string; name: string; temporaryPassword: string }[]; enrolled: number; already: number } }> {
    requireAccess(actor, 'enrollments.manage');
    await this.curricula.latest(curriculumId); // NotFound for an unknown curriculum
    const parsed = parseRoster(csv);
    if (parsed.problems.length) return { rows: [], problems: parsed.problems };
    const emails = parsed.rows.map((r) => r.email);
    const managerEmails = parsed.rows.map((r) => r.managerEmail);
    const [users, managers] = await Promise.all([
      this.m.User.find({ email: { $in: emails } }).lean<UserDoc[]>(),
      this.m.User.find({ role: 'manager', active: true }).lean<UserDoc[]>(),
    ]);
    const managerById = new Map(managers.map((u) => [String(u._id), u.email]));
    const enrolledIds = new Set(
      (await this.m.Enrollment.find({ curriculumId, userId: { $in: users.map((u) => u._id) } }, { userId: 1 }).lean<EnrollmentDoc[]>()).map((e) => String(e.userId)),
    );
    const rows = checkRoster(parsed.rows, {
      users: new Map(users.map((u) => [u.email, { role: u.role, active: u.active ?? true, managerEmail: u.managerId ? (managerById.get(String(u.managerId)) ?? null) : null }])),
      managers: new Set(managers.map((m) => m.email).filter((e) => managerEmails.includes(e))),
      enrolled: new Set(users.filter((u) => enrolledIds.has(String(u._id))).map((u) => u.email)),
    });
    const problems = rows.flatMap((r) => r.problems.map((p) => `Line ${r.line}: ${p}`));
    if (!commit || problems.length) return { rows, problems };

    const managerIdByEmail = new Map(managers.map((m) => [m.email, String(m._id)]));
    const userIdByEmail = new Map(users.map((u) => [u.email, String(u._id)]));
    const created: { email: string; name: string; temporaryPassword: string }[] = [];
    let enrolled = 0;
    let already = 0;
    for (const row of rows) {
      let userId = userIdByEmail.get(row.email);
      if (!userId) {
        const made = await this.accounts.create('system', { email: row.email, name: row.name, role: 'rep', managerId: managerIdByEmail.get(row.managerEmail)! });
        userId = made.user.id;
        created.push({ email: row.email, name: row.name, temporaryPassword: made.temporaryPassword! });
      }
      const r = await this.enroll(actor, { userId, curriculumId, cohort: row.cohort, startDate: row.startDate });
      if (r.created) enrolled++;
      else already++;
    }
    return { rows, problems, applied: { created, enrolled, already } };
  }

  async cohorts(): Promise<string[]> {
    const rows = await this.m.Enrollment.aggregate<{ _id: string }>([{ $group: { _id: '$cohort' } }, { $sort: { _id: 1 } }]);
    return rows.map((r) => r._id).filter(Boolean);
  }

  /**
   * Applies one event to an enrollment: `change` returns the new facts (or null for "nothing to
   * do"). Facts and roadmap are written together in one update guarded by the revision (and a
   * per-enrollment lock, which FerretDB needs: see infra/locks.ts), retried when another event got
   * there first — no event is lost, none applied twice.
   */
  async applyEvent(enrollmentId: Types.ObjectId | string, change: (facts: ProgressFacts, view: EnrollmentView) => ProgressFacts | null): Promise<EnrollmentView> {
    return this.locks.withLock(`enrollment:${String(enrollmentId)}`, () => this.applyEventLocked(enrollmentId, change));
  }

  private async applyEventLocked(enrollmentId: Types.ObjectId | string, change: (facts: ProgressFacts, view: EnrollmentView) => ProgressFacts | null): Promise<EnrollmentView> {
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const doc = await this.m.Enrollment.findById(enrollmentId).lean<EnrollmentDoc>();
      if (!doc) throw new NotFound('No such enrollment.');
      const view = await this.present(doc, await this.rep(doc.userId));
      const facts = change(structuredClone(doc.facts), view);
      if (!facts) return view;
      const roadmap = computeRoadmap(view.curriculum, facts, view.today);
      const res = await this.m.Enrollment.updateOne(
        { _id: doc._id, rev: doc.rev },
        { $set: { facts, roadmap, computedOn: view.today }, $inc: { rev: 1 } },
      );
      if (res.modifiedCount === 1) {
        for (const l of this.listeners) await l.progressed(this.eventOf(view), { facts: doc.facts, roadmap: view.roadmap }, { facts, roadmap });
        return { ...view, enrollment: { ...doc, facts, roadmap, computedOn: view.today, rev: doc.rev + 1 }, roadmap };
      }
    }
    throw new Conflict('Your progress was being updated from elsewhere at the same moment. Please try again.');
  }

  /** The module as the rep works on it: refused while locked, with the reasons. */
  private moduleFor(view: EnrollmentView, moduleId: string): { module: ModuleDef; status: Roadmap['modules'][number] } {
    const module = view.curriculum.modules.find((m) => m.id === moduleId);
    const status = view.roadmap.modules.find((s) => s.id === moduleId);
    if (!module || !status) throw new NotFound('No such module in this curriculum.');
    return { module, status };
  }

  async module(actor: Actor, enrollmentId: string, moduleId: string) {
    const view = await this.view(actor, enrollmentId);
    return { view, ...this.moduleFor(view, moduleId) };
  }

  /** The rep opens a module: it starts (and, for "viewed" lessons, completes). Locked modules refuse. */
  async open(actor: Actor, enrollmentId: string, moduleId: string): Promise<EnrollmentView> {
    requireAccess(actor, 'learning.take');
    const first = await this.view(actor, enrollmentId);
    if (first.rep.id !== actor.id) throw new NotFound('No such enrollment.');
    const at = this.now().toISOString();
    return this.applyEvent(enrollmentId, (facts, view) => {
      const { module, status } = this.moduleFor(view, moduleId);
      if (status.state === 'locked') throw new GateLocked(`'${module.title}' is locked.`, status.reasons);
      let changed = false;
      if (!facts.started[moduleId]) {
        facts.started[moduleId] = at;
        changed = true;
      }
      if (module.completion.rule === 'viewed' && !facts.completed[moduleId]) {
        facts.completed[moduleId] = at;
        changed = true;
      }
      return changed ? facts : null;
    });
  }

  /**
   * A module that launches a cmi5 AU is done: the AU's moveOn is satisfied. Called by the cmi5
   * service once it has accepted the AU's statements (it checked who the session belongs to).
   */
  async auSatisfied(enrollmentId: string, moduleId: string, at: string): Promise<EnrollmentView> {
    return this.applyEvent(enrollmentId, (facts) => {
      if (facts.completed[moduleId]) return null;
      facts.started[moduleId] ??= at;
      facts.completed[moduleId] = at;
      return facts;
    });
  }

  /** The rep marks an "acknowledged" lesson done (after its minimum time, if it has one). */
  async acknowledge(actor: Actor, enrollmentId: string, moduleId: string): Promise<EnrollmentView> {
    requireAccess(actor, 'learning.take');
    const first = await this.view(actor, enrollmentId);
    if (first.rep.id !== actor.id) throw new NotFound('No such enrollment.');
    const now = this.now();
    return this.applyEvent(enrollmentId, (facts, view) => {
      const { module, status } = this.moduleFor(view, moduleId);
      if (status.state === 'locked') throw new GateLocked(`'${module.title}' is locked.`, status.reasons);
      if (facts.completed[moduleId]) return null; // done already: completing twice is harmless
      if (module.completion.rule !== 'acknowledged' && module.completion.rule !== 'viewed') {
        const by = { passed: 'passing its assessment', submitted: 'taking its assessment', attended: 'attending a session', approved: "your manager's approval", cmi5: 'finishing the course it launches' }[module.completion.rule];
        throw new Conflict(`'${module.title}' is completed by ${by}, not by marking it done.`);
      }
      const min = module.completion.rule === 'acknowledged' ? (module.completion.minMinutes ?? 0) : 0;
      const started = facts.started[moduleId];
      if (min > 0 && (!started || now.getTime() - Date.parse(started) < min * 60_000)) {
        const left = started ? Math.ceil((min * 60_000 - (now.getTime() - Date.parse(started))) / 60_000) : min;
        throw new Conflict(`Spend at least ${min} minutes with '${module.title}' before marking it done (${left} more).`);
      }
      facts.started[moduleId] ??= now.toISOString();
      facts.completed[moduleId] = now.toISOString();
      return facts;
    });
  }
}
