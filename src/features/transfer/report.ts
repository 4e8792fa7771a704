import { Types } from 'mongoose';
import { requireAccess, type Actor } from '../../engine/access.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { CurriculumService } from '../curricula/service.js';
import type { EnrollmentDoc, EnrollmentModels } from '../enrollment/model.js';
import type { SubmissionDoc, SubmissionModels } from './model.js';

/**
 * The trainer's transfer report: how managers take part in reviews (reviews done, turnaround,
 * who waits, coaching recorded) and what each rep's transfer activity produced on the job.
 * The computation is pure (plain submission documents in, rows out); `TransferReport` loads them.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The fields of a submission the report reads. */
export type ReportSubmission = Pick<SubmissionDoc, '_id' | 'repId' | 'managerId' | 'status' | 'versions' | 'submittedAt' | 'reviewDueAt'> &
  Partial<Pick<SubmissionDoc, 'decisions' | 'approvedAt' | 'coaching' | 'results' | 'resultsLoggedAt' | 'resultsConfirmedAt' | 'moduleId'>>;

export interface ManagerRow {
  managerId: string;
  name: string;
  /** decisions made (approve, return, edit-and-approve) */
  decisions: number;
  /** submissions with at least one decision by this manager */
  reviewed: number;
  /** median time from a submitted version to the decision that answered it; null without decisions */
  medianTurnaroundHours: number | null;
  /** submitted, waiting for this manager's decision now */
  pending: number;
  /** of those, past their review due date */
  overdue: number;
  /** distinct reps with a submission waiting more than N days */
  repsWaiting: number;
  /** submissions with a meeting recorded (coaching.metAt) */
  meetings: number;
  /** submissions with an observation recorded (coaching.observedAt) */
  observations: number;
}

export interface RepRow {
  submissionId: string;
  repId: string;
  repName: string;
  managerName: string;
  curriculum: string;
  module: string;
  status: SubmissionDoc['status'];
  /** versions the rep submitted (a returned and resubmitted piece of work has 2 or more) */
  submittedVersions: number;
  submittedAt: Date | null;
  reviewDueAt: Date | null;
  overdue: boolean;
  approvedAt: Date | null;
  calls: number | null;
  contacts: number | null;
  presentations: number | null;
  appointments: number | null;
  metWithManager: boolean | null;
  /** contacts / calls; null when there were no calls */
  contactRate: number | null;
  /** appointments / contacts; null when there were no contacts */
  appointmentRate: number | null;
  resultsLoggedAt: Date | null;
  resultsConfirmedAt: Date | null;
}

/** The median of some numbers (the mean of the middle two for an even count); null for none. */
export function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** num / den, or null when the denominator is 0 (or either is not a count). */
export function ratio(num: number | null, den: number | null): number | null {
  if (num === null || den === null || !Number.isFinite(num) || !Number.isFinite(den) || den <= 0) return null;
  return num / den;
}

export const isOverdue = (s: Pick<ReportSubmission, 'status' | 'reviewDueAt'>, now: Date): boolean => s.status === 'submitted' && !!s.reviewDueAt && new Date(s.reviewDueAt).getTime() < now.getTime();

/**
 * Each decision with the time since the rep submitted the version it answered: the latest rep
 * version at or before the decided version (an edit-and-approve decides on the manager's own new
 * version, which answers the rep's version before it). A returned-and-resubmitted piece of work
 * counts once per answered version.
 */
export function turnarounds(s: ReportSubmission): { by: string; version: number; ms: number }[] {
  const out = [];
  const repVersions = (s.versions ?? []).filter((v) => v.kind === 'rep');
  for (const d of s.decisions ?? []) {
    const answered = repVersions.filter((v) => v.n <= d.version).at(-1);
    if (!answered) continue;
    out.push({ by: String(d.by), version: answered.n, ms: Math.max(0, new Date(d.at).getTime() - new Date(answered.at).getTime()) });
  }
  return out;
}

const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function managerRows(subs: ReportSubmission[], names: Map<string, string>, opts: { now: Date; waitingDays: number }): ManagerRow[] {
  const rows = new Map<string, ManagerRow & { times: number[]; reviewedIds: Set<string>; waitingReps: Set<string> }>();
  const row = (id: string) => {
    let r = rows.get(id);
    if (!r) {
      r = { managerId: id, name: names.get(id) ?? id, decisions: 0, reviewed: 0, medianTurnaroundHours: null, pending: 0, overdue: 0, repsWaiting: 0, meetings: 0, observations: 0, times: [], reviewedIds: new Set(), waitingReps: new Set() };
      rows.set(id, r);
    }
    return r;
  };
  for (const s of subs) {
    for (const t of turnarounds(s)) {
      const r = row(t.by);
      r.decisions++;
      r.times.push(t.ms);
      r.reviewedIds.add(String(s._id));
    }
    if (!s.managerId) continue;
    const r = row(String(s.managerId));
    if (s.status === 'submitted') {
      r.pending++;
      if (isOverdue(s, opts.now)) r.overdue++;
      if (s.submittedAt && opts.now.getTime() - new Date(s.submittedAt).getTime() > opts.waitingDays * DAY) r.waitingReps.add(String(s.repId));
    }
    if (s.coaching?.metAt) r.meetings++;
    if (s.coaching?.observedAt) r.observations++;
  }
  return [...rows.values()]
    .map(({ times, reviewedIds, waitingReps, ...r }) => {
      const m = median(times);
      return { ...r, reviewed: reviewedIds.size, repsWaiting: waitingReps.size, medianTurnaroundHours: m === null ? null : m / HOUR };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface RepContext {
  names: Map<string, string>;
  /** curriculum and module titles of a submission */
  where: (s: ReportSubmission) => { curriculum: string; module: string };
  now: Date;
}

export function repRows(subs: ReportSubmission[], ctx: RepContext): RepRow[] {
  return subs
    .map((s): RepRow => {
      const results = (s.results ?? {}) as Record<string, unknown>;
      const calls = count(results.calls);
      const contacts = count(results.contacts);
      const appointments = count(results.appointments);
      const met = results.metWithManager;
      return {
        submissionId: String(s._id),
        repId: String(s.repId),
        repName: ctx.names.get(String(s.repId)) ?? String(s.repId),
        managerName: s.managerId ? (ctx.names.get(String(s.managerId)) ?? String(s.managerId)) : '',
        ...ctx.where(s),
        status: s.status,
        submittedVersions: (s.versions ?? []).filter((v) => v.kind === 'rep').length,
        submittedAt: s.submittedAt ?? null,
        reviewDueAt: s.reviewDueAt ?? null,
        overdue: isOverdue(s, ctx.now),
        approvedAt: s.approvedAt ?? null,
        calls,
        contacts,
        presentations: count(results.presentations),
        appointments,
        metWithManager: typeof met === 'boolean' ? met : null,
        contactRate: ratio(contacts, calls),
        appointmentRate: ratio(appointments, contacts),
        resultsLoggedAt: s.resultsLoggedAt ?? null,
        resultsConfirmedAt: s.resultsConfirmedAt ?? null,
      };
    })
    .sort((a, b) => a.repName.localeCompare(b.repName) || a.curriculum.localeCompare(b.curriculum) || a.module.localeCompare(b.module));
}

export interface TransferReportFilter {
  curriculumId?: string;
  /** "reps waiting more than N days" */
  waitingDays: number;
}

export interface TransferReportData {
  managers: ManagerRow[];
  reps: RepRow[];
  curricula: { id: string; title: string }[];
}

/** Loads submissions (never drafts), their enrollments and people, and computes the report. */
export class TransferReport {
  constructor(
    private readonly m: SubmissionModels & EnrollmentModels & AccountModels,
    private readonly curricula: CurriculumService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async load(actor: Actor, filter: TransferReportFilter): Promise<TransferReportData> {
    requireAccess(actor, 'assessments.analyze');
    const curricula = (await this.curricula.list(actor)).map((c) => ({ id: c._id, title: c.title }));
    const subs = await this.m.Submission.find({ status: { $in: ['submitted', 'returned', 'approved'] } }).lean<SubmissionDoc[]>();
    const enrollmentIds = [...new Set(subs.map((s) => String(s.enrollmentId)))].map((id) => new Types.ObjectId(id));
    const enrollments = enrollmentIds.length ? await this.m.Enrollment.find({ _id: { $in: enrollmentIds } }, { curriculumId: 1 }).lean<EnrollmentDoc[]>() : [];
    const curriculumOf = new Map(enrollments.map((e) => [String(e._id), e.curriculumId]));
    const shown = subs.filter((s) => curriculumOf.has(String(s.enrollmentId)) && (!filter.curriculumId || curriculumOf.get(String(s.enrollmentId)) === filter.curriculumId));

    const people = new Set<string>();
    for (const s of shown) {
      people.add(String(s.repId));
      if (s.managerId) people.add(String(s.managerId));
      for (const d of s.decisions ?? []) people.add(String(d.by));
    }
    const users = people.size ? await this.m.User.find({ _id: { $in: [...people].map((id) => new Types.ObjectId(id)) } }, { name: 1 }).lean<UserDoc[]>() : [];
    const names = new Map(users.map((u) => [String(u._id), u.name]));

    const titles = new Map(curricula.map((c) => [c.id, c.title]));
    const modules = new Map<string, Map<string, string>>();
    for (const versionId of new Set(shown.map((s) => s.versionId))) {
      const v = await this.curricula.version(versionId).catch(() => null);
      modules.set(versionId, new Map((v?.content.definition.modules ?? []).map((mod) => [mod.id, mod.title])));
    }
    const where = (s: ReportSubmission) => {
      const doc = s as SubmissionDoc;
      const curriculumId = curriculumOf.get(String(doc.enrollmentId)) ?? '';
      return { curriculum: titles.get(curriculumId) ?? curriculumId, module: modules.get(doc.versionId)?.get(doc.moduleId) ?? doc.moduleId };
    };
    const now = this.now();
    return { managers: managerRows(shown, names, { now, waitingDays: filter.waitingDays }), reps: repRows(shown, { names, where, now }), curricula };
  }
}
