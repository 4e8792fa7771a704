import { dayIn } from '../../engine/calendar.js';
import type { AssessmentPurpose } from '../../engine/curriculum.js';
import { addDays } from '../../engine/sequencing.js';
import { formatDay } from '../enrollment/presenters.js';
import type { ProgressData } from './coaching.js';
import { barClass, days, num, statusView, titleOf } from './coaching-format.js';

/**
 * The rep's *My progress*: their roadmap and phases against the ramp target days, their scores,
 * on-the-job results, booked sessions, reinforcement streak and recall, and readiness. Pure.
 */

const PURPOSES: Record<AssessmentPurpose, string> = { pretest: 'Pre-test (baseline)', check: 'Check', posttest: 'Post-test', retest: 'Re-test' };
const DAY = 86_400_000;
const daysBetween = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY);
const pct = (part: number, whole: number) => (whole ? Math.round((100 * part) / whole) : 0);

function phaseText(p: { completedOn: string | null; days: number | null; targetDay: number | null }, dayNow: number): { text: string; late: boolean } {
  if (p.completedOn && p.days !== null) {
    if (p.targetDay === null) return { text: `Finished on day ${p.days}.`, late: false };
    const diff = p.targetDay - p.days;
    return { text: `Finished on day ${p.days} (target day ${p.targetDay}): ${diff > 0 ? `${days(diff)} early` : diff === 0 ? 'on target' : `${days(-diff)} late`}.`, late: diff < 0 };
  }
  if (p.targetDay === null) return { text: 'No target day.', late: false };
  if (dayNow <= p.targetDay) return { text: `${days(p.targetDay - dayNow)} left to target day ${p.targetDay}.`, late: false };
  return { text: `${days(dayNow - p.targetDay)} past target day ${p.targetDay}.`, late: true };
}

export function presentProgress(data: ProgressData, now: Date) {
  const today = dayIn(data.rep.timezone || 'UTC', now);
  const enrollments = data.summaries.map((s) => {
    const curriculum = data.curricula.get(s.versionId);
    const def = curriculum?.def;
    const dayNow = daysBetween(s.startDate, today);
    const done = new Set(s.doneModules);
    const phases = (def?.phases ?? []).map((phase) => {
      const inPhase = (def?.modules ?? []).filter((m) => m.phase === phase.id);
      const doneHere = inPhase.filter((m) => done.has(m.id)).length;
      const stored = s.phases.find((p) => p.id === phase.id) ?? { completedOn: null, days: null, targetDay: phase.targetDay };
      const percent = pct(doneHere, inPhase.length);
      return {
        title: phase.title,
        done: doneHere,
        total: inPhase.length,
        percent,
        bar: barClass(percent),
        targetDay: phase.targetDay,
        targetDate: phase.targetDay === null ? null : formatDay(addDays(s.startDate, phase.targetDay)),
        completed: !!stored.completedOn,
        ...phaseText({ ...stored, targetDay: phase.targetDay }, dayNow),
      };
    });
    const scores = (def?.modules ?? [])
      .filter((m) => m.modality === 'assessment' && m.assessment)
      .map((m) => {
        const best = s.scores[m.id] ?? null;
        const threshold = m.assessment!.threshold;
        const baseline = m.assessment!.purpose === 'pretest';
        return {
          title: m.title,
          purpose: PURPOSES[m.assessment!.purpose],
          best,
          bestText: best === null ? 'not taken yet' : `${num(best)}%`,
          bar: barClass(best),
          threshold,
          baseline,
          passed: best !== null && !baseline && best >= threshold,
          below: best !== null && !baseline && best < threshold,
        };
      });
    const rubric = (def?.modules ?? [])
      .filter((m) => m.rubric)
      .map((m) => {
        const value = s.rubric[m.id] ?? null;
        return { title: m.title, value, text: value === null ? 'not scored yet' : `${num(value)}%`, bar: barClass(value) };
      });
    const activity = Object.entries(s.activity).map(([moduleId, a]) => ({
      title: titleOf(def, moduleId),
      confirmed: a.confirmed,
      loggedOn: a.loggedAt ? formatDay(a.loggedAt.slice(0, 10)) : null,
      metWithManager: a.values.metWithManager === 1,
      fields: Object.entries(a.targets).map(([field, target]) => {
        const value = a.values[field] ?? null;
        const percent = value === null ? null : Math.min(100, pct(value, target));
        return { field, value, target, percent, text: value === null ? `${field}: not logged` : `${num(value)} of ${num(target)} ${field}`, percentText: percent === null ? '—' : `${percent}%`, bar: barClass(percent) };
      }),
    }));
    const r = s.retention;
    const recall = r.answered ? pct(r.correct, r.answered) : null;
    return {
      enrollmentId: s._id,
      curriculumTitle: curriculum?.title ?? s.curriculumId,
      cohort: s.cohort,
      startedOn: formatDay(s.startDate),
      dayNow,
      done: s.done,
      total: s.total,
      percent: pct(s.done, s.total),
      bar: barClass(pct(s.done, s.total)),
      ...statusView(s, def, today),
      phases,
      scores,
      rubric,
      activity,
      retention: {
        streak: r.streak,
        answered: r.answered,
        correct: r.correct,
        recall,
        recallText: recall === null ? 'no answers yet' : `${recall}%`,
        bar: barClass(recall),
        modules: Object.entries(r.byModule).map(([moduleId, m]) => ({ title: titleOf(def, moduleId), answered: m.answered, correct: m.correct, recall: `${pct(m.correct, m.answered)}%` })),
      },
      readiness: s.readiness?.score ?? null,
      readinessText: s.readiness ? (s.readiness.score === null ? 'no evidence yet' : num(s.readiness.score)) : 'not set for this curriculum',
      hasReadiness: s.readiness !== null,
      readinessHref: `/people/${data.rep.id}/readiness`,
    };
  });
  const bookings = data.bookings.map((b) => ({
    id: b.session.id,
    title: b.session.title,
    moduleTitle: b.session.moduleTitle,
    modalityLabel: b.session.modalityLabel,
    modality: b.session.modality,
    when: b.session.when,
    where: b.session.where,
    meetingUrl: b.session.meetingUrl,
    inProgress: b.session.state === 'in_progress',
    waitlisted: b.status === 'waitlisted',
    waitlistPosition: b.waitlistPosition,
    moduleHref: `/learn/${b.enrollmentId}/modules/${b.session.moduleId}`,
    icsHref: `/sessions/${b.session.id}/invite.ics`,
  }));
  return { rep: data.rep, enrollments, bookings, readinessHref: `/people/${data.rep.id}/readiness` };
}
