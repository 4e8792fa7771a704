import { addDays } from '../../engine/sequencing.js';
import type { ProgressFacts } from '../../engine/curriculum.js';
import type { AccountService } from '../accounts/service.js';
import type { EnrollmentService } from '../enrollment/service.js';
import type { LiveSessionService } from '../sessions/service.js';
import type { SubmissionModels } from '../transfer/model.js';
import { DEMO_SCRIPT_MODULE, seedDemoSubmissions, type DemoSubmissionRep } from './submissions.js';

export const DEMO_CURRICULUM = 'new-rep-onboarding';

/** An instant on a given day after the start, at 10:00 UTC. */
const at = (start: string, day: number) => `${addDays(start, day)}T10:00:00.000Z`;

interface DemoRep {
  email: string;
  /** days since the rep started */
  daysIn: number;
  cohort: string;
  /** what has happened so far */
  facts: (start: string) => Partial<ProgressFacts>;
}

/**
 * The demo reps at different points of the sample curriculum, so that every state shows: done,
 * tested out, in progress, locked with reasons, awaiting review, overdue. rep6 is not enrolled.
 */
const DEMO_REPS: DemoRep[] = [
  {
    email: 'rep1@demo.onramp.dev',
    daysIn: 2,
    cohort: 'Demo cohort A',
    facts: (s) => ({
      started: { 'foundations-pretest': at(s, 0), 'market-and-personas': at(s, 1) },
      scores: { 'foundations-pretest': { best: 45, at: at(s, 0) } },
      completed: { 'market-and-personas': at(s, 1) },
    }),
  },
  {
    email: 'rep2@demo.onramp.dev',
    daysIn: 12,
    cohort: 'Demo cohort A',
    facts: (s) => ({
      started: { 'foundations-pretest': at(s, 0), 'buying-process': at(s, 2), 'value-proposition': at(s, 4), 'foundations-check': at(s, 9) },
      scores: { 'foundations-pretest': { best: 62, at: at(s, 0) }, 'foundations-check': { best: 70, at: at(s, 9) } },
      testedOut: { 'market-and-personas': at(s, 0), 'problems-risks-opportunities': at(s, 0) },
      completed: { 'buying-process': at(s, 3), 'value-proposition': at(s, 6) },
    }),
  },
  {
    email: 'rep3@demo.onramp.dev',
    daysIn: 20,
    cohort: 'Demo cohort A',
    facts: (s) => ({
      started: {
        'foundations-pretest': at(s, 0),
        'market-and-personas': at(s, 1),
        'problems-risks-opportunities': at(s, 2),
        'buying-process': at(s, 4),
        'value-proposition': at(s, 6),
        'foundations-check': at(s, 9),
        'appointment-setting': at(s, 11),
        'appointment-script': at(s, 13),
      },
      scores: { 'foundations-pretest': { best: 38, at: at(s, 0) }, 'foundations-check': { best: 88, at: at(s, 10) } },
      completed: {
        'market-and-personas': at(s, 1),
        'problems-risks-opportunities': at(s, 3),
        'buying-process': at(s, 5),
        'value-proposition': at(s, 7),
        'value-statement-drill': at(s, 8),
        'appointment-setting': at(s, 12),
      },
      submissions: { 'appointment-script': { status: 'submitted', at: at(s, 16) } },
    }),
  },
  {
    email: 'rep4@demo.onramp.dev',
    daysIn: 34,
    cohort: 'Demo cohort B',
    facts: (s) => ({
      started: {
        'foundations-pretest': at(s, 0),
        'buying-process': at(s, 1),
        'value-proposition': at(s, 2),
        'foundations-check': at(s, 4),
        'appointment-setting': at(s, 6),
        'appointment-script': at(s, 8),
        'prospecting-check': at(s, 15),
      },
      scores: { 'foundations-pretest': { best: 81, at: at(s, 0) }, 'foundations-check': { best: 92, at: at(s, 5) }, 'prospecting-check': { best: 85, at: at(s, 16) } },
      testedOut: { 'market-and-personas': at(s, 0), 'problems-risks-opportunities': at(s, 0) },
      completed: { 'buying-process': at(s, 1), 'value-proposition': at(s, 3), 'value-statement-drill': at(s, 3), 'appointment-setting': at(s, 7) },
      submissions: { 'appointment-script': { status: 'approved', at: at(s, 12) } },
      resultsLogged: { 'appointment-script': at(s, 20) },
    }),
  },
  {
    email: 'rep5@demo.onramp.dev',
    daysIn: 9,
    cohort: 'Demo cohort B',
    facts: () => ({}),
  },
];

/**
 * Enrolls the demo reps on the sample curriculum with some history, on an empty demo database.
 * Their facts go through the same event path as real progress; the transfer facts get the
 * submission documents they describe (when `submissions` is given).
 */
export async function seedDemoLearning(
  deps: { accounts: AccountService; enrollments: EnrollmentService; sessions: LiveSessionService; submissions?: SubmissionModels },
  today: string,
): Promise<number> {
  let count = 0;
  const enrolledIds = new Map<string, string>();
  const transfer: DemoSubmissionRep[] = [];
  for (const r of DEMO_REPS) {
    const user = await deps.accounts.findByEmail(r.email);
    if (!user) continue;
    const startDate = addDays(today, -r.daysIn);
    const { enrollment, created } = await deps.enrollments.enroll('system', { userId: user.id, curriculumId: DEMO_CURRICULUM, cohort: r.cohort, startDate });
    if (!created) continue;
    const history = r.facts(startDate);
    await deps.enrollments.applyEvent(enrollment._id, (facts) => ({ ...facts, ...history }));
    enrolledIds.set(r.email, String(enrollment._id));
    const submission = history.submissions?.[DEMO_SCRIPT_MODULE];
    if (submission) transfer.push({ enrollment, repId: user.id, managerId: user.managerId, submission, resultsLogged: history.resultsLogged?.[DEMO_SCRIPT_MODULE] });
    count++;
  }
  if (deps.submissions) await seedDemoSubmissions(deps.submissions, transfer);
  await seedDemoSessions(deps, today, enrolledIds);
  return count;
}

/** A virtual session and a classroom workshop on the calendar, with rep4 booked on the first. */
async function seedDemoSessions(
  deps: { accounts: AccountService; sessions: LiveSessionService },
  today: string,
  enrollmentIds: Map<string, string>,
): Promise<void> {
  const trainer = await deps.accounts.findByEmail('trainer@demo.onramp.dev');
  if (!trainer) return;
  const actor = { id: trainer.id, role: trainer.role };
  const common = { curriculumId: DEMO_CURRICULUM, timeZone: 'America/Chicago', instructorId: trainer.id };
  const vilt = await deps.sessions.schedule(actor, {
    ...common,
    moduleId: 'roleplay-prep-vilt',
    startsAt: `${addDays(today, 5)}T10:00`,
    endsAt: `${addDays(today, 5)}T11:30`,
    capacity: 12,
    meetingUrl: 'https://meet.example.com/crewline-roleplay-prep',
  });
  await deps.sessions.schedule(actor, {
    ...common,
    moduleId: 'roleplay-workshop',
    startsAt: `${addDays(today, 12)}T09:00`,
    endsAt: `${addDays(today, 12)}T16:30`,
    capacity: 8,
    location: 'Chicago office, Training Room 3 (4th floor)',
  });
  const rep4 = await deps.accounts.findByEmail('rep4@demo.onramp.dev');
  const rep4Enrollment = enrollmentIds.get('rep4@demo.onramp.dev');
  if (rep4 && rep4Enrollment) await deps.sessions.book({ id: rep4.id, role: 'rep' }, rep4Enrollment, vilt.id);
}
