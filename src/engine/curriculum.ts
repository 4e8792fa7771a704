/**
 * A published curriculum as the engine sees it, and the facts of one enrollment. Pure data:
 * the content loader (src/content) builds CurriculumDef from files; the progress read model
 * (src/features/enrollment) keeps ProgressFacts. Dates: `YYYY-MM-DD` for calendar days (the rep's
 * local days), ISO 8601 instants for moments.
 */
export const MODALITIES = ['elearning', 'vilt', 'ilt', 'assessment', 'transfer'] as const;
export type Modality = (typeof MODALITIES)[number];

export const ASSESSMENT_PURPOSES = ['pretest', 'check', 'posttest', 'retest'] as const;
export type AssessmentPurpose = (typeof ASSESSMENT_PURPOSES)[number];

/** How a module completes. */
export type CompletionRule =
  /** elearning: opening the lesson completes it */
  | { rule: 'viewed' }
  /** elearning: the rep confirms they worked through it (after at least minMinutes, if set) */
  | { rule: 'acknowledged'; minMinutes?: number }
  /** assessment: a best score at or above the module's mastery threshold */
  | { rule: 'passed' }
  /** assessment: any scored attempt (a pre-test places the rep; passing sections test them out) */
  | { rule: 'submitted' }
  /** vilt / ilt: marked attended by the instructor; with rubricPass, also a rubric score at least that (percent) */
  | { rule: 'attended'; rubricPass?: number }
  /** transfer: the manager approved the submission and the rep logged their results */
  | { rule: 'approved' }
  /** elearning launched as a cmi5 AU: the AU's moveOn is satisfied (or it was waived) */
  | { rule: 'cmi5' };

export interface Prerequisites {
  /** every one of these must be done (completed or tested out) */
  all: string[];
  /** at least one of these must be done (ignored when empty) */
  any: string[];
}

/** Gate: a score at or above threshold on an assessment module. */
export interface MasteryGate {
  assessment: string;
  /** percent; defaults to that assessment module's threshold */
  threshold?: number;
}

/** Gate: opens `days` days after every module in `after` is done (delayed re-tests, spaced layering). */
export interface DelayGate {
  after: string[];
  days: number;
}

export interface AssessmentPool {
  bank: string;
  /** how many questions to draw; all of the pool when absent */
  draw?: number;
  /** only questions carrying one of these tags */
  tags?: string[];
}

export const SCORE_POLICIES = ['best', 'last', 'average'] as const;
export type ScorePolicy = (typeof SCORE_POLICIES)[number];
export const REVEAL_POLICIES = ['after-submit', 'after-pass', 'never'] as const;
export type RevealPolicy = (typeof REVEAL_POLICIES)[number];

export interface AssessmentDef {
  purpose: AssessmentPurpose;
  pools: AssessmentPool[];
  /** percent needed to pass; defaults to the curriculum's masteryThreshold */
  threshold: number;
  shuffleQuestions: boolean;
  shuffleOptions: boolean;
  /** minutes from start; the server scores an attempt as it stands once past it. null: no limit */
  timeLimitMinutes: number | null;
  /** null: unlimited */
  maxAttempts: number | null;
  /** hours to wait after a submitted attempt before the next */
  cooldownHours: number;
  /** which submitted attempts make the score that counts */
  scorePolicy: ScorePolicy;
  /** multiple-select questions earn part of their point for a partly right answer */
  partialCredit: boolean;
  /** when the rep sees the right answers and the feedback */
  revealAnswers: RevealPolicy;
  /** pretest: the sections of the test and the modules a passing section lets the rep test out of */
  testOut?: { pool: number; modules: string[] }[];
}

/** What an assessment does when its content says nothing else. */
export const ASSESSMENT_DEFAULTS: Omit<AssessmentDef, 'purpose' | 'pools' | 'threshold' | 'testOut'> = {
  shuffleQuestions: true,
  shuffleOptions: true,
  timeLimitMinutes: null,
  maxAttempts: null,
  cooldownHours: 0,
  scorePolicy: 'best',
  partialCredit: false,
  revealAnswers: 'after-submit',
};

export interface RubricCriterion {
  id: string;
  title: string;
  description?: string;
  /** the highest score for this criterion */
  max: number;
}

export interface Rubric {
  criteria: RubricCriterion[];
}

export interface ModuleDef {
  id: string;
  title: string;
  phase: string;
  modality: Modality;
  /** estimated minutes */
  minutes: number;
  objectives: string[];
  prerequisites: Prerequisites;
  /** modules this one layers on (reviews or re-tests); shown to the rep, not a gate by itself */
  reviews: string[];
  /** earliest start: day N after enrollment (day 0 = the start date) */
  startDay: number;
  /** due: day N after enrollment; null when there is no due date */
  dueDay: number | null;
  completion: CompletionRule;
  mastery: MasteryGate[];
  delay: DelayGate | null;
  /** modality assessment */
  assessment: AssessmentDef | null;
  /** modality transfer: the form (content/…/forms/<id>.yaml) the rep fills */
  form: string | null;
  /** modality ilt (or vilt): how the instructor scores the role play */
  rubric: Rubric | null;
  /** elearning launched as a cmi5 Assignable Unit: the package (cmi5/<package>) and the AU's id */
  cmi5?: { package: string; au: string } | null;
  /** the lesson, Markdown */
  body: string;
}

export interface PhaseDef {
  id: string;
  title: string;
  description: string;
  /** ramp target: the phase should be done by day N */
  targetDay: number | null;
}

export interface CurriculumDef {
  id: string;
  title: string;
  description: string;
  /** percent, the default for assessments */
  masteryThreshold: number;
  /** spaced reinforcement after modules (absent: the defaults, retention 0.9 and 3 per delivery) */
  reinforcement?: { retention: number; perDelivery: number };
  phases: PhaseDef[];
  /** in the order a rep meets them */
  modules: ModuleDef[];
  /** how the readiness score is built (absent: no readiness score) */
  readiness?: { objectives: ReadinessObjective[] };
}

export const EVIDENCE = ['pretest', 'posttest', 'retest', 'retention', 'results'] as const;
export type Evidence = (typeof EVIDENCE)[number];

/** One objective of the readiness score: the chain of evidence for it, and each link's weight. */
export interface ReadinessObjective {
  id: string;
  title: string;
  /** assessment modules */
  pretest?: string;
  posttest?: string;
  retest?: string;
  /** modules whose reinforcement answers count */
  retention: string[];
  /** a transfer module's activity-log field, against the field's target */
  results?: { module: string; field: string };
  weights: Partial<Record<Evidence, number>>;
}

// ---- the facts of one enrollment ------------------------------------------------------------------

export type AttendanceStatus = 'attended' | 'absent' | 'partial';
export type SubmissionStatus = 'draft' | 'submitted' | 'approved' | 'returned';

export interface ProgressFacts {
  /** the enrollment's day 0 */
  startDate: string;
  /** module → when the rep first opened it (or booked a session / started an attempt / draft) */
  started: Record<string, string>;
  /** module → when an elearning module was viewed or acknowledged (per its completion rule) */
  completed: Record<string, string>;
  /** assessment module → best percentage so far and when it was reached */
  scores: Record<string, { best: number; at: string }>;
  /** module → when a pre-test let the rep test out of it */
  testedOut: Record<string, string>;
  /** vilt / ilt module → attendance at a session, with the rubric percentage where scored */
  attendance: Record<string, { status: AttendanceStatus; at: string; rubricPercent?: number }>;
  /** vilt / ilt module → a booked (or waitlisted) session */
  bookings: Record<string, { sessionId: string; status: 'booked' | 'waitlisted'; startsAt: string }>;
  /** transfer module → the submission's review state */
  submissions: Record<string, { status: SubmissionStatus; at: string }>;
  /** transfer module → when the rep logged their on-the-job results */
  resultsLogged: Record<string, string>;
}

export function emptyFacts(startDate: string): ProgressFacts {
  return { startDate, started: {}, completed: {}, scores: {}, testedOut: {}, attendance: {}, bookings: {}, submissions: {}, resultsLogged: {} };
}

// ---- what the engine computes ---------------------------------------------------------------------

export const MODULE_STATES = ['locked', 'available', 'in_progress', 'awaiting_review', 'completed', 'tested_out'] as const;
export type ModuleState = (typeof MODULE_STATES)[number];

export interface ModuleStatus {
  id: string;
  state: ModuleState;
  /** not done and past its due date */
  overdue: boolean;
  /** why it is locked: one sentence a rep understands per unmet gate */
  reasons: string[];
  /** what to do now, for available / in-progress / awaiting-review modules */
  hint: string | null;
  /** YYYY-MM-DD: the earliest day it opens (start day, delays) when known */
  opensOn: string | null;
  /** YYYY-MM-DD */
  dueOn: string | null;
  /** ISO instant it was completed or tested out */
  doneAt: string | null;
}

export interface Roadmap {
  modules: ModuleStatus[];
  /** module ids in the order the rep should take them: overdue first, then by due date, then curriculum order */
  next: string[];
  done: number;
  total: number;
  /** phase → done / total */
  phases: { id: string; done: number; total: number; completedOn: string | null }[];
  completed: boolean;
}
