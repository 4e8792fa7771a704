import { dayIn } from '../../engine/calendar.js';
import type { CurriculumDef } from '../../engine/curriculum.js';
import { roamOf, type Roam, type RoamDimension, type RepSummary } from '../../engine/rep-summary.js';
import type { Curriculum, StoredSummary, TeamData } from './coaching.js';
import { barClass, num, statusView } from './coaching-format.js';

/**
 * The manager's coaching view, as the page and the CSV show it: per rep the roadmap status and the
 * readiness score, and a ROAM card — Results vs objectives, Activity, Methodology — with the figures
 * behind each bar and the biggest gap to coach first. Pure: data in, view out.
 */

const COUNTED = new Set<RoamDimension['key']>(['results', 'activity']);

/** One figure of a ROAM dimension in words: "7 of 8 appointments (88%)", "Foundations check: 92%". */
function partText(key: RoamDimension['key'], p: RoamDimension['parts'][number]): { text: string; measured: boolean } {
  if (!COUNTED.has(key)) return { text: `${p.label}: ${p.value === null ? 'not yet' : `${num(p.value)}%`}`, measured: p.value !== null };
  if (p.value === null) return { text: `${p.label}: not logged yet`, measured: false };
  if (!p.target) return { text: `${num(p.value)} ${p.label} (no target set)`, measured: false };
  return { text: `${num(p.value)} of ${num(p.target)} ${p.label} (${p.percent}%)`, measured: true };
}

const EMPTY: Record<RoamDimension['key'], string> = {
  results: 'Not measured yet: nothing logged against the objectives.',
  activity: 'Not measured yet: no calls, contacts or presentations logged.',
  methodology: 'Not measured yet: no post-test or role-play scores.',
};

export interface RoamCardView {
  dimensions: {
    key: RoamDimension['key'];
    label: string;
    percent: number | null;
    measured: boolean;
    percentText: string;
    bar: string;
    isGap: boolean;
    parts: { text: string; measured: boolean }[];
    emptyText: string;
  }[];
  gap: { key: RoamDimension['key']; label: string; percent: number; coaching: string } | null;
  /** some logged activity is not confirmed by the manager yet */
  unconfirmed: boolean;
  /** nothing measured in any dimension */
  empty: boolean;
  /** the card in one sentence (for screen readers and the CSV) */
  text: string;
}

export function roamCard(s: Pick<RepSummary, 'activity' | 'scores' | 'rubric'>, def: Pick<CurriculumDef, 'modules'> | undefined): RoamCardView & { roam: Roam } {
  const roam = roamOf(s, def ?? { modules: [] });
  const dimensions = roam.dimensions.map((d) => ({
    key: d.key,
    label: d.label,
    percent: d.percent,
    measured: d.percent !== null,
    percentText: d.percent === null ? 'not measured yet' : `${d.percent}%`,
    bar: barClass(d.percent),
    isGap: roam.biggestGap === d.key,
    parts: d.parts.map((p) => partText(d.key, p)),
    emptyText: EMPTY[d.key],
  }));
  const gapDim = roam.dimensions.find((d) => d.key === roam.biggestGap);
  const gap = gapDim && gapDim.percent !== null ? { key: gapDim.key, label: gapDim.label, percent: gapDim.percent, coaching: gapDim.coaching } : null;
  const text = `${dimensions.map((d) => `${d.label}: ${d.percentText}`).join('; ')}.${gap ? ` Coach first: ${gap.label}.` : ''}`;
  return { roam, dimensions, gap, unconfirmed: Object.values(s.activity).some((a) => !a.confirmed), empty: dimensions.every((d) => !d.measured), text };
}

type Person = { repId: string; name: string; email: string; active: boolean; readinessHref: string };

function enrolledRow(person: Person, s: StoredSummary, curriculum: Curriculum | undefined, today: string) {
  const percent = s.total ? Math.round((100 * s.done) / s.total) : 0;
  const readiness = s.readiness?.score ?? null;
  return {
    ...person,
    enrolled: true as const,
    enrollmentId: s._id,
    curriculumTitle: curriculum?.title ?? s.curriculumId,
    cohort: s.cohort,
    done: s.done,
    total: s.total,
    percent,
    bar: barClass(percent),
    ...statusView(s, curriculum?.def, today),
    readiness,
    readinessText: readiness === null ? (s.readiness ? 'no evidence yet' : 'not set for this curriculum') : num(readiness),
    hasReadiness: s.readiness !== null,
    roam: roamCard(s, curriculum?.def),
    activity: s.activity,
  };
}

export type EnrolledRow = ReturnType<typeof enrolledRow>;
export type TeamRow = EnrolledRow | (Person & { enrolled: false });

export function presentTeam(data: TeamData, now: Date) {
  const rows = data.team.flatMap((rep): TeamRow[] => {
    const person: Person = { repId: rep.id, name: rep.name, email: rep.email, active: rep.active, readinessHref: `/people/${rep.id}/readiness` };
    const mine = data.summaries.filter((s) => s.userId === rep.id);
    if (!mine.length) return [{ ...person, enrolled: false }];
    const today = dayIn(rep.timezone || 'UTC', now);
    return mine.map((s) => enrolledRow(person, s, data.curricula.get(s.versionId), today));
  });
  const enrolled = rows.filter((r): r is EnrolledRow => r.enrolled);
  return {
    rows,
    enrolled,
    totals: {
      reps: data.team.length,
      onTrack: enrolled.filter((r) => r.status === 'on-track').length,
      behind: enrolled.filter((r) => r.status === 'behind').length,
      completed: enrolled.filter((r) => r.status === 'completed').length,
      notEnrolled: rows.filter((r) => !r.enrolled).length,
    },
    reviews: data.reviews,
  };
}

export const TEAM_CSV_HEADER = [
  'rep',
  'email',
  'curriculum',
  'cohort',
  'modules_done',
  'modules_total',
  'status',
  'overdue_modules',
  'readiness',
  'results_percent',
  'activity_percent',
  'methodology_percent',
  'biggest_gap',
  'appointments',
  'appointments_target',
  'calls',
  'calls_target',
  'contacts',
  'contacts_target',
  'presentations',
  'presentations_target',
  'results_confirmed',
  'methodology_detail',
];

/** The team's ROAM, one row per rep and enrollment (reps not enrolled are listed with blanks). */
export function teamCsvRows(view: ReturnType<typeof presentTeam>): unknown[][] {
  return view.rows.map((r) => {
    if (!r.enrolled) return [r.name, r.email, '', '', '', '', 'not enrolled', ...TEAM_CSV_HEADER.slice(7).map(() => '')];
    const dim = (key: RoamDimension['key']) => r.roam.roam.dimensions.find((d) => d.key === key)!;
    const part = (key: 'results' | 'activity', field: string) => dim(key).parts.find((p) => p.label === field);
    const counted = (key: 'results' | 'activity', field: string) => [part(key, field)?.value ?? '', part(key, field)?.target ?? ''];
    const logs = Object.values(r.activity);
    return [
      r.name,
      r.email,
      r.curriculumTitle,
      r.cohort,
      r.done,
      r.total,
      r.status,
      r.overdue.map((o) => `${o.title} (${o.daysLate} days late)`).join('; '),
      r.readiness ?? '',
      dim('results').percent ?? '',
      dim('activity').percent ?? '',
      dim('methodology').percent ?? '',
      r.roam.roam.biggestGap ?? '',
      ...counted('results', 'appointments'),
      ...counted('activity', 'calls'),
      ...counted('activity', 'contacts'),
      ...counted('activity', 'presentations'),
      logs.length ? (logs.every((l) => l.confirmed) ? 'yes' : 'no') : '',
      dim('methodology').parts.map((p) => `${p.label} ${p.value}%`).join('; '),
    ];
  });
}
