import type { CurriculumDef } from '../../engine/curriculum.js';
import { overdueOn, statusOn, type RepStatus, type RepSummary } from '../../engine/rep-summary.js';
import { formatDay } from '../enrollment/presenters.js';

/**
 * Small shared pieces of the coaching pages: bars drawn with width classes (the CSP forbids inline
 * styles; `.progress-0` … `.progress-100` are in app.css), status words, module titles.
 */

/** The width class of a bar for a percentage (clamped to 0–100, whole numbers). */
export function barClass(percent: number | null): string {
  const p = percent === null || !Number.isFinite(percent) ? 0 : Math.max(0, Math.min(100, Math.round(percent)));
  return `progress-${p}`;
}

export const STATUS_LABELS: Record<RepStatus, string> = { 'on-track': 'On track', behind: 'Behind', completed: 'Completed' };

export function titleOf(def: Pick<CurriculumDef, 'modules'> | undefined, moduleId: string): string {
  return def?.modules.find((m) => m.id === moduleId)?.title ?? moduleId;
}

/** "1 day" / "3 days" */
export function days(n: number): string {
  return `${n} day${n === 1 ? '' : 's'}`;
}

/** A number as the pages print it: whole numbers bare, others to one decimal. */
export function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** Where a rep stands today: on track, behind (with the modules past their due date) or completed. */
export function statusView(s: Pick<RepSummary, 'completed' | 'firstDue' | 'openDue' | 'completedOn'>, def: Pick<CurriculumDef, 'modules'> | undefined, today: string) {
  const status = statusOn(s, today);
  const overdue = overdueOn(s, today).map((o) => ({ moduleId: o.moduleId, title: titleOf(def, o.moduleId), dueOn: o.dueOn, due: formatDay(o.dueOn), daysLate: o.daysLate, text: `${titleOf(def, o.moduleId)} (due ${formatDay(o.dueOn)}, ${days(o.daysLate)} late)` }));
  return { status, statusLabel: STATUS_LABELS[status], behind: status === 'behind', completed: status === 'completed', overdue, completedOn: formatDay(s.completedOn) };
}
