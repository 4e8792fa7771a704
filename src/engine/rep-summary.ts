import type { CurriculumDef, ProgressFacts, Roadmap } from './curriculum.js';
import { computeReadiness, type Readiness, type ReadinessEvidence } from './readiness.js';

/**
 * One rep's enrollment boiled down to what the dashboards show: the rollup the trainer dashboard,
 * the manager's view and the rep's own view read (one small document per enrollment, refreshed when
 * something about the rep changes), so no dashboard ever scans statements, attempts or submissions.
 * Pure: built from the enrollment's facts and roadmap plus the evidence gathered for readiness.
 *
 * Anything that depends on today (overdue, behind) is kept as dates and decided when read, so a
 * summary never goes stale just because a day passed.
 */
export interface RepSummary {
  /** the enrollment id */
  _id: string;
  userId: string;
  managerId: string | null;
  cohort: string;
  curriculumId: string;
  versionId: string;
  /** YYYY-MM-DD, day 0 */
  startDate: string;
  done: number;
  total: number;
  completed: boolean;
  /** YYYY-MM-DD the whole roadmap was finished */
  completedOn: string | null;
  /** modules done (completed or tested out), and started */
  doneModules: string[];
  startedModules: string[];
  /** modules not done yet that have a due date: behind when one is past it */
  openDue: { moduleId: string; dueOn: string }[];
  /** the earliest of openDue (for a cheap "behind" filter), or null */
  firstDue: string | null;
  /** per phase: when it was finished and in how many days from the start, against its target day */
  phases: { id: string; completedOn: string | null; days: number | null; targetDay: number | null }[];
  /** assessment module → best percentage */
  scores: Record<string, number>;
  /** live-session module → rubric percentage */
  rubric: Record<string, number>;
  /** transfer module → where its submission stands in the manager's review, and since when */
  transfer: Record<string, { status: string; at: string }>;
  /** transfer module → the logged activity and the form's targets */
  activity: Record<string, { values: Record<string, number>; targets: Record<string, number>; confirmed: boolean; loggedAt: string | null }>;
  /** reinforcement: answers overall and per module, the streak */
  retention: { answered: number; correct: number; byModule: Record<string, { answered: number; correct: number }>; streak: number };
  readiness: Readiness | null;
}

export interface SummaryInput {
  enrollment: { id: string; userId: string; cohort: string; curriculumId: string; versionId: string; startDate: string; facts: ProgressFacts; roadmap: Roadmap };
  managerId: string | null;
  curriculum: CurriculumDef;
  /** transfer module → the logged results (numbers) and whether they are confirmed */
  results: Record<string, { values: Record<string, unknown>; confirmed: boolean; loggedAt: string | null }>;
  /** transfer module → the form's activity-log targets */
  targets: Record<string, Record<string, number>>;
  retention: Record<string, { answered: number; correct: number }>;
  streak: number;
}

const DAY = 86_400_000;
const daysBetween = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY);

export function summarize(input: SummaryInput): RepSummary {
  const { enrollment: e, curriculum } = input;
  const status = new Map(e.roadmap.modules.map((s) => [s.id, s]));
  const doneModules = e.roadmap.modules.filter((s) => s.state === 'completed' || s.state === 'tested_out').map((s) => s.id);
  const openDue = e.roadmap.modules
    .filter((s) => s.state !== 'completed' && s.state !== 'tested_out' && s.dueOn)
    .map((s) => ({ moduleId: s.id, dueOn: s.dueOn! }))
    .sort((a, b) => a.dueOn.localeCompare(b.dueOn));
  const doneDays = doneModules.map((id) => status.get(id)?.doneAt?.slice(0, 10)).filter((d): d is string => !!d);
  const completedOn = e.roadmap.completed && doneDays.length ? doneDays.sort().at(-1)! : null;
  const activity: RepSummary['activity'] = {};
  for (const [moduleId, r] of Object.entries(input.results)) {
    const values = Object.fromEntries(Object.entries(r.values).filter((kv): kv is [string, number] => typeof kv[1] === 'number'));
    if (r.values.metWithManager === true) values.metWithManager = 1;
    activity[moduleId] = { values, targets: input.targets[moduleId] ?? {}, confirmed: r.confirmed, loggedAt: r.loggedAt };
  }
  const scores = Object.fromEntries(Object.entries(e.facts.scores).map(([m, s]) => [m, s.best]));
  const rubric = Object.fromEntries(Object.entries(e.facts.attendance).filter(([, a]) => typeof a.rubricPercent === 'number').map(([m, a]) => [m, a.rubricPercent!]));
  const answered = Object.values(input.retention).reduce((s, r) => s + r.answered, 0);
  const correct = Object.values(input.retention).reduce((s, r) => s + r.correct, 0);
  const evidence: ReadinessEvidence = { scores, retention: input.retention, results: Object.fromEntries(Object.entries(activity).map(([m, a]) => [m, { values: a.values, targets: a.targets, confirmed: a.confirmed }])) };
  return {
    _id: e.id,
    userId: e.userId,
    managerId: input.managerId,
    cohort: e.cohort,
    curriculumId: e.curriculumId,
    versionId: e.versionId,
    startDate: e.startDate,
    done: e.roadmap.done,
    total: e.roadmap.total,
    completed: e.roadmap.completed,
    completedOn,
    doneModules,
    startedModules: Object.keys(e.facts.started),
    openDue,
    firstDue: openDue[0]?.dueOn ?? null,
    phases: curriculum.phases.map((p) => {
      const done = e.roadmap.phases.find((x) => x.id === p.id)?.completedOn ?? null;
      return { id: p.id, completedOn: done, days: done ? daysBetween(e.startDate, done) : null, targetDay: p.targetDay };
    }),
    scores,
    rubric,
    transfer: Object.fromEntries(Object.entries(e.facts.submissions).map(([m, x]) => [m, { status: x.status, at: x.at }])),
    activity,
    retention: { answered, correct, byModule: input.retention, streak: input.streak },
    readiness: computeReadiness(curriculum, evidence),
  };
}

export type RepStatus = 'completed' | 'behind' | 'on-track';

/** Decided when read: behind once a module not done is past its due date. */
export function statusOn(s: Pick<RepSummary, 'completed' | 'firstDue'>, today: string): RepStatus {
  if (s.completed) return 'completed';
  return s.firstDue !== null && s.firstDue < today ? 'behind' : 'on-track';
}

/** The modules a rep is late on, today, with how many days. */
export function overdueOn(s: Pick<RepSummary, 'openDue'>, today: string): { moduleId: string; dueOn: string; daysLate: number }[] {
  return s.openDue.filter((d) => d.dueOn < today).map((d) => ({ ...d, daysLate: daysBetween(d.dueOn, today) }));
}

// ---- ROAM: Results vs Objectives, Activity, Methodology -----------------------------------------------

export interface RoamDimension {
  key: 'results' | 'activity' | 'methodology';
  label: string;
  /** 0–100 (of target, or the scores' mean); null: nothing to go on yet */
  percent: number | null;
  /** the figures behind it, in words */
  parts: { label: string; value: number | null; target: number | null; percent: number | null }[];
  /** what to coach when this is the gap */
  coaching: string;
}

export interface Roam {
  dimensions: RoamDimension[];
  /** the dimension furthest below 100%, where the manager coaches first; null when nothing is measured */
  biggestGap: RoamDimension['key'] | null;
}

const RESULT_FIELDS = ['appointments'];
const ACTIVITY_FIELDS = ['calls', 'contacts', 'presentations'];

/**
 * ROAM for one rep: Results against their objectives (appointments set against the form's target),
 * Activity (calls, contacts, presentations logged against targets), Methodology (assessment scores
 * after learning and role-play rubric scores). The biggest gap is the lowest percentage.
 */
export function roamOf(s: Pick<RepSummary, 'activity' | 'scores' | 'rubric'>, curriculum: Pick<CurriculumDef, 'modules'>): Roam {
  const logs = Object.values(s.activity);
  const part = (field: string) => {
    const value = logs.length ? logs.reduce((sum, l) => sum + (l.values[field] ?? 0), 0) : null;
    const target = logs.reduce((sum, l) => sum + (l.targets[field] ?? 0), 0) || null;
    return { label: field, value, target, percent: value !== null && target ? Math.round(Math.min(100, (value / target) * 100)) : null };
  };
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? Math.round(v.reduce((a, b) => a + b, 0) / v.length) : null;
  };
  const results = RESULT_FIELDS.map(part);
  const activity = ACTIVITY_FIELDS.map(part);
  const titled = (id: string) => curriculum.modules.find((m) => m.id === id);
  const methodology = [
    ...Object.entries(s.scores)
      .filter(([id]) => titled(id)?.assessment?.purpose !== 'pretest')
      .map(([id, v]) => ({ label: titled(id)?.title ?? id, value: v, target: 100, percent: Math.round(v) })),
    ...Object.entries(s.rubric).map(([id, v]) => ({ label: `${titled(id)?.title ?? id} (role-play rubric)`, value: v, target: 100, percent: Math.round(v) })),
  ];
  const dimensions: RoamDimension[] = [
    { key: 'results', label: 'Results vs objectives', percent: mean(results.map((p) => p.percent)), parts: results, coaching: 'Conversion: listen to calls together — are contacts turning into meetings? Practise the ask and the common concerns.' },
    { key: 'activity', label: 'Activity', percent: mean(activity.map((p) => p.percent)), parts: activity, coaching: 'Volume: block calling time in the calendar and review the call list together; check the rep is reaching the intended person.' },
    { key: 'methodology', label: 'Methodology', percent: mean(methodology.map((p) => p.percent)), parts: methodology, coaching: 'Skills: review the missed topics of the checks and role-play the weak rubric criteria before the next calls.' },
  ];
  const measured = dimensions.filter((d) => d.percent !== null);
  const gap = measured.length ? measured.reduce((lo, d) => (d.percent! < lo.percent! ? d : lo)) : null;
  return { dimensions, biggestGap: gap && gap.percent! < 100 ? gap.key : null };
}
