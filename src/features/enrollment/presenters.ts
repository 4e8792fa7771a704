import type { ModuleState } from '../../engine/curriculum.js';
import type { EnrollmentView } from './service.js';
import { modalityLabel } from '../curricula/pages.js';

export const STATE_LABELS: Record<ModuleState, string> = {
  locked: 'Locked',
  available: 'Ready to start',
  in_progress: 'In progress',
  awaiting_review: 'Waiting for review',
  completed: 'Completed',
  tested_out: 'Tested out',
};

const dayFormat = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });

/** `2027-01-04` → `Mon 4 Jan` */
export function formatDay(date: string | null): string | null {
  return date ? dayFormat.format(new Date(`${date}T00:00:00Z`)).replace(',', '') : null;
}

/** A roadmap as the pages show it: phases with their modules, states, reasons and dates. */
export function presentRoadmap(view: EnrollmentView) {
  const { curriculum, roadmap, enrollment } = view;
  const statusOf = new Map(roadmap.modules.map((s) => [s.id, s]));
  const titleOf = new Map(curriculum.modules.map((m) => [m.id, m.title]));
  const base = `/learn/${String(enrollment._id)}/modules`;
  const modules = curriculum.modules.map((m, i) => {
    const s = statusOf.get(m.id)!;
    return {
      id: m.id,
      number: i + 1,
      title: m.title,
      phase: m.phase,
      minutes: m.minutes,
      modality: m.modality,
      modalityLabel: modalityLabel(m.modality),
      state: s.state,
      stateLabel: STATE_LABELS[s.state],
      locked: s.state === 'locked',
      done: s.state === 'completed' || s.state === 'tested_out',
      overdue: s.overdue,
      reasons: s.reasons,
      hint: s.hint,
      due: formatDay(s.dueOn),
      opens: formatDay(s.opensOn),
      reviews: m.reviews.map((r) => titleOf.get(r) ?? r),
      href: `${base}/${m.id}`,
    };
  });
  const byId = new Map(modules.map((m) => [m.id, m]));
  return {
    enrollmentId: String(enrollment._id),
    curriculumTitle: curriculum.title,
    versionId: enrollment.versionId,
    cohort: enrollment.cohort,
    startDate: formatDay(enrollment.startDate),
    done: roadmap.done,
    total: roadmap.total,
    percent: roadmap.total ? Math.round((100 * roadmap.done) / roadmap.total) : 0,
    completed: roadmap.completed,
    overdue: modules.filter((m) => m.overdue && !m.done).length,
    next: roadmap.next.map((id) => byId.get(id)!).filter(Boolean),
    phases: curriculum.phases.map((p) => {
      const progress = roadmap.phases.find((x) => x.id === p.id);
      return {
        ...p,
        done: progress?.done ?? 0,
        total: progress?.total ?? 0,
        completedOn: formatDay(progress?.completedOn ?? null),
        modules: modules.filter((m) => m.phase === p.id),
      };
    }),
  };
}
