import { Types } from 'mongoose';
import { requireAccess, type Actor } from '../../engine/access.js';
import type { CurriculumDef } from '../../engine/curriculum.js';
import { overdueOn, statusOn, type RepSummary } from '../../engine/rep-summary.js';
import { ValidationFailed } from '../../errors.js';
import type { AccountModels, UserDoc } from '../accounts/model.js';
import type { CurriculumVersionDoc } from '../curricula/model.js';
import type { CurriculumService } from '../curricula/service.js';
import { DashboardCells, rawFromCells } from './cells.js';

/**
 * The trainer dashboard: status, completion funnel, time to ramp, overdue reps, assessment scores,
 * manager participation, on-the-job results and retention for one curriculum, filtered by version,
 * cohort, manager and start date. It reads the curriculum's `dashboard_cells` (one row per
 * enrollment, kept by the worker: see cells.ts), plus the names of the people it lists and the
 * curriculum's definition, and counts in pure code: `rawFromCells` gathers the rows (one entry
 * per rep, as a count of 1), `shapeDashboard` turns them into sums, means, medians and shares.
 */

export interface DashboardFilters {
  curriculumId: string;
  versionId?: string;
  cohort?: string;
  /** the manager's user id */
  managerId?: string;
  /** reps who started on or after this day, YYYY-MM-DD */
  from?: string;
  /** reps who started on or before this day, YYYY-MM-DD */
  to?: string;
}

/** The transfer modules of the version shown: the reps who logged results for one of them are listed. */
export interface DashboardPlan {
  transferModules: string[];
}

export const OVERDUE_PAGE_LIMIT = 50;
export const RESULTS_PAGE_LIMIT = 50;

// ---- what the dashboard counts ------------------------------------------------------------------------

interface Counted<K> {
  _id: K;
  n: number;
}
interface Place {
  versionId: string;
  cohort?: string | null;
  managerId?: string | null;
}

export interface DashboardRaw {
  choices: Counted<Place>[];
  status: Counted<Place & { completed?: boolean | null; firstDue?: string | null; transfer?: RepSummary['transfer'] | null }>[];
  progress: Counted<{ done?: string[] | null; started?: string[] | null; phases?: RepSummary['phases'] | null }>[];
  outcomes: Counted<{ scores?: Record<string, number> | null; answered?: number | null; correct?: number | null }>[];
  overdue: Pick<RepSummary, '_id' | 'userId' | 'managerId' | 'cohort' | 'openDue'>[];
  results: Pick<RepSummary, '_id' | 'userId' | 'managerId' | 'cohort' | 'activity'>[];
}

export const emptyRaw = (): DashboardRaw => ({ choices: [], status: [], progress: [], outcomes: [], overdue: [], results: [] });

// ---- the figures -----------------------------------------------------------------------------------

export interface StatusCounts {
  enrolled: number;
  onTrack: number;
  behind: number;
  completed: number;
}

export interface StatusRow extends StatusCounts {
  versionId: string;
  cohort: string;
}

export interface FunnelRow {
  moduleId: string;
  title: string;
  phase: string;
  modality: string;
  /** reps who opened it */
  started: number;
  /** reps who completed it or tested out of it */
  done: number;
  /** done ÷ enrolled, 0–1; null with nobody enrolled */
  doneShare: number | null;
}

export interface RampRow {
  phaseId: string;
  title: string;
  /** the version's ramp target: done by day N */
  targetDay: number | null;
  /** reps who finished the phase */
  finished: number;
  medianDays: number | null;
  maxDays: number | null;
  /** of those who finished, how many by their version's target day (null: no target) */
  withinTarget: number | null;
  withinTargetShare: number | null;
}

export interface OverdueRow {
  enrollmentId: string;
  userId: string;
  rep: string;
  managerId: string | null;
  manager: string;
  cohort: string;
  /** the modules past due, most overdue first */
  modules: { moduleId: string; title: string; dueOn: string; daysLate: number }[];
  daysLate: number;
}

export interface AssessmentRow {
  moduleId: string;
  title: string;
  purpose: string;
  /** percent to pass */
  threshold: number;
  /** reps with a score */
  reps: number;
  /** the mean of their best scores, percent */
  meanBest: number | null;
  atOrAbove: number;
  atOrAboveShare: number | null;
}

export interface ManagerRow extends StatusCounts {
  managerId: string | null;
  name: string;
  /** reps who logged on-the-job results */
  logged: number;
  /** reps whose log says they met their manager about it */
  met: number;
  /** reps whose results the manager confirmed */
  confirmed: number;
  /** transfer work waiting for the manager's review */
  waiting: number;
  /** transfer work the manager approved (or approved and confirmed) */
  approved: number;
}

export interface ResultField {
  id: string;
  label: string;
}

export interface ResultTotal extends ResultField {
  /** the sum of what the reps logged */
  logged: number;
  /** the sum of their targets (reps whose form has one) */
  target: number | null;
  /** logged ÷ target over the reps with a target, 0–1 */
  share: number | null;
}

export interface ResultRow {
  enrollmentId: string;
  userId: string;
  rep: string;
  manager: string;
  cohort: string;
  moduleId: string;
  module: string;
  values: Record<string, number | null>;
  targets: Record<string, number | null>;
  met: boolean;
  confirmed: boolean;
  loggedOn: string | null;
  /** contacts ÷ calls and appointments ÷ contacts; null without calls / contacts (or without those fields) */
  contactRate: number | null;
  appointmentRate: number | null;
}

export interface RetentionTotals {
  /** reps who answered at least one reinforcement question */
  reps: number;
  answered: number;
  correct: number;
  /** correct ÷ answered, 0–1 */
  recall: number | null;
}

export interface DashboardFigures {
  today: string;
  status: StatusCounts & { rows: StatusRow[] };
  funnel: FunnelRow[];
  ramp: RampRow[];
  overdue: { total: number; rows: OverdueRow[] };
  assessments: AssessmentRow[];
  managers: ManagerRow[];
  results: { fields: ResultField[]; totals: ResultTotal[]; reps: number; contactRate: number | null; appointmentRate: number | null; rows: ResultRow[] };
  retention: RetentionTotals;
}

export interface ShapeContext {
  today: string;
  /** the version whose modules, phases and thresholds the tables follow (the one filtered on, else the current one) */
  definition: CurriculumDef;
  /** module titles of every version seen (the shown version's titles win) */
  moduleTitles: Map<string, string>;
  /** transfer module → its activity log's number fields */
  resultFields: Record<string, ResultField[]>;
  /** user id → name */
  names: Map<string, string>;
}

export const NO_MANAGER = 'No manager';
const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);
const sum = <T>(rows: T[], of: (r: T) => number) => rows.reduce((s, r) => s + of(r), 0);

/** The median of a histogram (value → how many), the mean of the middle two for an even count; null when empty. */
export function histogramMedian(bins: { value: number; n: number }[]): number | null {
  const sorted = bins.filter((b) => b.n > 0).sort((a, b) => a.value - b.value);
  const total = sum(sorted, (b) => b.n);
  if (!total) return null;
  const at = (k: number) => {
    let seen = 0;
    for (const b of sorted) {
      seen += b.n;
      if (k < seen) return b.value;
    }
    return sorted.at(-1)!.value;
  };
  return total % 2 ? at((total - 1) / 2) : (at(total / 2 - 1) + at(total / 2)) / 2;
}

const ratio = (num: number | null | undefined, den: number | null | undefined) => (typeof num === 'number' && typeof den === 'number' && den > 0 ? num / den : null);

/**
 * Turns what the cells hold into the dashboard's figures. Pure: the statuses follow
 * `statusOn` (completed, else behind once the earliest open due date is before today), the overdue
 * modules `overdueOn`.
 */
export function shapeDashboard(raw: DashboardRaw, ctx: ShapeContext): DashboardFigures {
  const def = ctx.definition;
  const titleOf = (moduleId: string) => ctx.moduleTitles.get(moduleId) ?? def.modules.find((m) => m.id === moduleId)?.title ?? moduleId;
  const nameOf = (id: string | null | undefined) => (id ? (ctx.names.get(id) ?? id) : NO_MANAGER);

  // status, per version and cohort and per manager
  const blank = (): StatusCounts => ({ enrolled: 0, onTrack: 0, behind: 0, completed: 0 });
  const places = new Map<string, StatusRow>();
  const managers = new Map<string | null, ManagerRow>();
  const placeRow = (p: Place) => {
    const key = JSON.stringify([p.versionId, p.cohort ?? '']);
    let row = places.get(key);
    if (!row) places.set(key, (row = { versionId: p.versionId, cohort: p.cohort ?? '', ...blank() }));
    return row;
  };
  const managerRow = (p: Place) => {
    const id = p.managerId ?? null;
    let row = managers.get(id);
    if (!row) managers.set(id, (row = { managerId: id, name: nameOf(id), ...blank(), logged: 0, met: 0, confirmed: 0, waiting: 0, approved: 0 }));
    return row;
  };
  const STATUS_FIELD = { completed: 'completed', behind: 'behind', 'on-track': 'onTrack' } as const;
  for (const { _id, n } of raw.status) {
    const status = statusOn({ completed: _id.completed === true, firstDue: _id.firstDue ?? null }, ctx.today);
    for (const row of [placeRow(_id), managerRow(_id)]) {
      row.enrolled += n;
      row[STATUS_FIELD[status]] += n;
    }
  }
  // the managers' reviews, from where each rep's transfer work stands
  for (const { _id, n } of raw.status) {
    if (!_id.transfer) continue;
    for (const t of Object.values(_id.transfer)) {
      if (t.status === 'submitted') managerRow({ versionId: '', managerId: _id.managerId }).waiting += n;
      if (t.status === 'approved') managerRow({ versionId: '', managerId: _id.managerId }).approved += n;
    }
  }
  const statusRows = [...places.values()].sort((a, b) => a.versionId.localeCompare(b.versionId) || a.cohort.localeCompare(b.cohort));
  const total: StatusCounts = {
    enrolled: sum(statusRows, (r) => r.enrolled),
    onTrack: sum(statusRows, (r) => r.onTrack),
    behind: sum(statusRows, (r) => r.behind),
    completed: sum(statusRows, (r) => r.completed),
  };

  // the funnel, in curriculum order (modules only older versions have come last), and the days each
  // phase took: from the reps per progress state
  const doneBy = new Map<string, number>();
  const startedBy = new Map<string, number>();
  const rampBins = new Map<string, { days: number; targetDay: number | null; n: number }[]>();
  const add = (counts: Map<string, number>, ids: string[] | null | undefined, n: number) => {
    for (const id of new Set(ids ?? [])) counts.set(id, (counts.get(id) ?? 0) + n);
  };
  for (const { _id, n } of raw.progress) {
    add(doneBy, _id.done, n);
    add(startedBy, _id.started, n);
    for (const p of _id.phases ?? []) {
      if (typeof p.days !== 'number') continue;
      const bins = rampBins.get(p.id) ?? [];
      rampBins.set(p.id, bins);
      bins.push({ days: p.days, targetDay: typeof p.targetDay === 'number' ? p.targetDay : null, n });
    }
  }
  const known = new Set(def.modules.map((m) => m.id));
  const extra = [...new Set([...doneBy.keys(), ...startedBy.keys()])].filter((id) => !known.has(id)).sort();
  const funnel: FunnelRow[] = [...def.modules.map((m) => ({ id: m.id, phase: m.phase, modality: m.modality as string })), ...extra.map((id) => ({ id, phase: '', modality: '' }))].map((m) => {
    const done = doneBy.get(m.id) ?? 0;
    return { moduleId: m.id, title: titleOf(m.id), phase: def.phases.find((p) => p.id === m.phase)?.title ?? m.phase, modality: m.modality, started: startedBy.get(m.id) ?? 0, done, doneShare: share(done, total.enrolled) };
  });

  // time to ramp: each rep against their own version's target day
  const ramp: RampRow[] = def.phases.map((p) => {
    const bins = rampBins.get(p.id) ?? [];
    const finished = sum(bins, (b) => b.n);
    const targeted = bins.filter((b) => b.targetDay !== null);
    const within = targeted.length ? sum(targeted.filter((b) => b.days <= b.targetDay!), (b) => b.n) : null;
    return {
      phaseId: p.id,
      title: p.title,
      targetDay: p.targetDay,
      finished,
      medianDays: histogramMedian(bins.map((b) => ({ value: b.days, n: b.n }))),
      maxDays: bins.length ? Math.max(...bins.map((b) => b.days)) : null,
      withinTarget: within,
      withinTargetShare: within === null ? null : share(within, sum(targeted, (b) => b.n)),
    };
  });

  // overdue reps, most overdue first
  const overdueRows: OverdueRow[] = raw.overdue
    .map((s) => {
      const modules = overdueOn(s, ctx.today)
        .map((d) => ({ ...d, title: titleOf(d.moduleId) }))
        .sort((a, b) => b.daysLate - a.daysLate || a.dueOn.localeCompare(b.dueOn));
      return {
        enrollmentId: String(s._id),
        userId: s.userId,
        rep: ctx.names.get(s.userId) ?? s.userId,
        managerId: s.managerId ?? null,
        manager: s.managerId ? nameOf(s.managerId) : '',
        cohort: s.cohort ?? '',
        modules,
        daysLate: modules[0]?.daysLate ?? 0,
      };
    })
    .filter((r) => r.modules.length)
    .sort((a, b) => b.daysLate - a.daysLate || a.rep.localeCompare(b.rep));

  // assessments: per module, from the reps per best-score map
  const assessments: AssessmentRow[] = def.modules
    .filter((m) => m.modality === 'assessment' && m.assessment)
    .map((m) => {
      const bins = raw.outcomes.flatMap(({ _id, n }) => (typeof _id.scores?.[m.id] === 'number' ? [{ _id: _id.scores[m.id]!, n }] : []));
      const reps = sum(bins, (b) => b.n);
      const threshold = m.assessment!.threshold;
      const atOrAbove = sum(bins.filter((b) => b._id >= threshold), (b) => b.n);
      return {
        moduleId: m.id,
        title: m.title,
        purpose: m.assessment!.purpose,
        threshold,
        reps,
        meanBest: reps ? sum(bins, (b) => b._id * b.n) / reps : null,
        atOrAbove,
        atOrAboveShare: share(atOrAbove, reps),
      };
    });

  // on-the-job results: one row per rep and transfer module logged
  const fieldsById = new Map<string, ResultField>();
  for (const fields of Object.values(ctx.resultFields)) for (const f of fields) if (!fieldsById.has(f.id)) fieldsById.set(f.id, f);
  const fields = [...fieldsById.values()];
  const resultRows: ResultRow[] = [];
  const loggedReps = new Set<string>();
  for (const s of raw.results) {
    const mgr = managerRow({ versionId: '', managerId: s.managerId });
    let met = false;
    let confirmed = false;
    for (const [moduleId, a] of Object.entries(s.activity ?? {})) {
      const values = Object.fromEntries(fields.map((f) => [f.id, typeof a.values?.[f.id] === 'number' ? a.values[f.id]! : null]));
      const targets = Object.fromEntries(fields.map((f) => [f.id, typeof a.targets?.[f.id] === 'number' ? a.targets[f.id]! : null]));
      const rowMet = a.values?.metWithManager === 1;
      met ||= rowMet;
      confirmed ||= a.confirmed === true;
      resultRows.push({
        enrollmentId: String(s._id),
        userId: s.userId,
        rep: ctx.names.get(s.userId) ?? s.userId,
        manager: s.managerId ? nameOf(s.managerId) : '',
        cohort: s.cohort ?? '',
        moduleId,
        module: titleOf(moduleId),
        values,
        targets,
        met: rowMet,
        confirmed: a.confirmed === true,
        loggedOn: a.loggedAt ? a.loggedAt.slice(0, 10) : null,
        contactRate: ratio(values.contacts, values.calls),
        appointmentRate: ratio(values.appointments, values.contacts),
      });
    }
    if (!loggedReps.has(String(s._id))) {
      loggedReps.add(String(s._id));
      mgr.logged++;
      if (met) mgr.met++;
      if (confirmed) mgr.confirmed++;
    }
  }
  resultRows.sort((a, b) => a.rep.localeCompare(b.rep) || a.module.localeCompare(b.module));
  const totals: ResultTotal[] = fields.map((f) => {
    const logged = sum(resultRows, (r) => r.values[f.id] ?? 0);
    const withTarget = resultRows.filter((r) => r.targets[f.id] !== null);
    const target = withTarget.length ? sum(withTarget, (r) => r.targets[f.id]!) : null;
    return { ...f, logged, target, share: target ? sum(withTarget, (r) => r.values[f.id] ?? 0) / target : null };
  });
  const totalOf = (id: string) => (fieldsById.has(id) ? (totals.find((t) => t.id === id)?.logged ?? null) : null);

  // retention: answers from the reps per (answered, correct)
  const answering = raw.outcomes.filter((r) => (r._id.answered ?? 0) > 0);
  const answered = sum(answering, (r) => r._id.answered! * r.n);
  const correct = sum(answering, (r) => (r._id.correct ?? 0) * r.n);

  return {
    today: ctx.today,
    status: { ...total, rows: statusRows },
    funnel,
    ramp,
    overdue: { total: total.behind, rows: overdueRows },
    assessments,
    managers: [...managers.values()].filter((m) => m.enrolled > 0 || m.logged > 0).sort((a, b) => Number(a.managerId === null) - Number(b.managerId === null) || a.name.localeCompare(b.name)),
    results: { fields, totals, reps: loggedReps.size, contactRate: ratio(totalOf('contacts'), totalOf('calls')), appointmentRate: ratio(totalOf('appointments'), totalOf('contacts')), rows: resultRows },
    retention: { reps: sum(answering, (r) => r.n), answered, correct, recall: share(correct, answered) },
  };
}

// ---- the service -----------------------------------------------------------------------------------

/** The parts of the dashboard: the page (the overdue list capped), or one table's CSV (every row). */
export type DashboardSection = 'page' | 'status' | 'funnel' | 'ramp' | 'overdue' | 'assessments' | 'managers' | 'results';

export interface VersionChoice {
  id: string;
  label: string;
  current: boolean;
}

export interface TrainerDashboardView {
  curricula: { id: string; title: string }[];
  /** null: nothing is published yet */
  curriculum: { id: string; title: string; latestVersionId: string } | null;
  filters: DashboardFilters | null;
  choices: { versions: VersionChoice[]; cohorts: string[]; managers: { id: string; name: string }[] };
  figures: DashboardFigures | null;
}

/** "a3f9c1d2e4b5 (current)", "0f12… · published 2026-01-05" */
function versionLabel(doc: Pick<CurriculumVersionDoc, '_id' | 'publishedAt'> | null, id: string, current: boolean): string {
  const hash = id.split('@')[1] ?? id;
  const published = doc ? ` · published ${new Date(doc.publishedAt).toISOString().slice(0, 10)}` : '';
  return `${hash}${published}${current ? ' (current)' : ''}`;
}

export class TrainerDashboard {
  constructor(
    private readonly m: AccountModels,
    private readonly cells: DashboardCells,
    private readonly curricula: CurriculumService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Today as the dashboard judges it (UTC). */
  today(): string {
    return this.now().toISOString().slice(0, 10);
  }

  async load(actor: Actor, requested: Omit<DashboardFilters, 'curriculumId'> & { curriculumId?: string }, section: DashboardSection = 'page'): Promise<TrainerDashboardView> {
    requireAccess(actor, 'assessments.analyze');
    const list = (await this.curricula.list(actor)).map((c) => ({ id: c._id, title: c.title, latestVersionId: c.latestVersionId }));
    const curricula = list.map(({ id, title }) => ({ id, title }));
    const noChoices = { versions: [], cohorts: [], managers: [] };
    if (!list.length) {
      if (requested.curriculumId) throw new ValidationFailed([{ path: 'curriculum', message: 'no curriculum has been published yet' }], 'No curriculum has been published yet.');
      return { curricula, curriculum: null, filters: null, choices: noChoices, figures: null };
    }
    const curriculum = requested.curriculumId ? list.find((c) => c.id === requested.curriculumId) : list[0]!;
    if (!curriculum) {
      throw new ValidationFailed(
        [{ path: 'curriculum', message: `no curriculum '${requested.curriculumId}' has been published (choose one of ${list.map((c) => c.id).join(', ')})` }],
        `No curriculum '${requested.curriculumId}' has been published.`,
      );
    }
    const filters: DashboardFilters = { ...requested, curriculumId: curriculum.id };

    const shownVersionId = filters.versionId ?? curriculum.latestVersionId;
    const shown = await this.curricula.version(shownVersionId).catch(() => null);
    if (!shown || shown.curriculumId !== curriculum.id) {
      throw new ValidationFailed([{ path: 'version', message: `'${shownVersionId}' is not a version of ${curriculum.title}` }], `'${shownVersionId}' is not a version of ${curriculum.title}.`);
    }
    const def = shown.content.definition;
    const plan: DashboardPlan = { transferModules: def.modules.filter((m) => m.modality === 'transfer').map((m) => m.id) };
    const today = this.today();
    const { cells, everyCell } = await this.cells.read(filters);
    const raw = rawFromCells(cells, filters, today, plan, { ...(section === 'page' ? { overdueLimit: OVERDUE_PAGE_LIMIT } : {}), ...(everyCell ? { everyCell } : {}) });

    // the filters' choices, and a cohort or manager nobody on this curriculum has is a mistake
    const cohorts = [...new Set(raw.choices.map((c) => c._id.cohort ?? ''))].sort();
    const managerIds = [...new Set(raw.choices.map((c) => c._id.managerId).filter((id): id is string => !!id))];
    if (filters.cohort !== undefined && !cohorts.includes(filters.cohort)) {
      throw new ValidationFailed([{ path: 'cohort', message: `no rep of ${curriculum.title} is in cohort '${filters.cohort}'` }], `No rep of ${curriculum.title} is in cohort '${filters.cohort}'.`);
    }
    if (filters.managerId && !managerIds.includes(filters.managerId)) {
      throw new ValidationFailed([{ path: 'manager', message: `no rep of ${curriculum.title} reports to manager '${filters.managerId}'` }], `No rep of ${curriculum.title} reports to manager '${filters.managerId}'.`);
    }

    // names: the managers, and the reps the tables list
    const listed = [...raw.overdue, ...raw.results];
    const people = new Set([...managerIds, ...listed.map((s) => s.userId), ...listed.map((s) => s.managerId ?? '')].filter((id) => Types.ObjectId.isValid(id)));
    const users = people.size ? await this.m.User.find({ _id: { $in: [...people].map((id) => new Types.ObjectId(id)) } }, { name: 1 }).lean<Pick<UserDoc, '_id' | 'name'>[]>() : [];
    const names = new Map(users.map((u) => [String(u._id), u.name]));

    // versions: their labels, and the titles of modules only older versions have
    const versionIds = [...new Set([curriculum.latestVersionId, ...raw.choices.map((c) => c._id.versionId)])];
    const versions = new Map<string, CurriculumVersionDoc | null>(await Promise.all(versionIds.map(async (id) => [id, await this.curricula.version(id).catch(() => null)] as const)));
    const moduleTitles = new Map<string, string>();
    for (const v of versions.values()) for (const m of v?.content.definition.modules ?? []) moduleTitles.set(m.id, m.title);
    for (const m of def.modules) moduleTitles.set(m.id, m.title);
    const resultFields: Record<string, ResultField[]> = {};
    for (const id of plan.transferModules) {
      const form = shown.content.forms[def.modules.find((m) => m.id === id)!.form ?? ''];
      resultFields[id] = (form?.activityLog.fields ?? []).filter((f) => f.type === 'number').map((f) => ({ id: f.id, label: f.label.replace(/\s*\(.*$/, '') }));
    }

    const figures = shapeDashboard(raw, { today, definition: def, moduleTitles, resultFields, names });
    return {
      curricula,
      curriculum: { id: curriculum.id, title: curriculum.title, latestVersionId: curriculum.latestVersionId },
      filters,
      choices: {
        versions: versionIds
          .map((id) => ({ id, label: versionLabel(versions.get(id) ?? null, id, id === curriculum.latestVersionId), current: id === curriculum.latestVersionId, at: versions.get(id)?.publishedAt ?? null }))
          .sort((a, b) => Number(b.current) - Number(a.current) || new Date(b.at ?? 0).getTime() - new Date(a.at ?? 0).getTime())
          .map(({ id, label, current }) => ({ id, label, current })),
        cohorts,
        managers: managerIds.map((id) => ({ id, name: names.get(id) ?? id })).sort((a, b) => a.name.localeCompare(b.name)),
      },
      figures,
    };
  }
}
