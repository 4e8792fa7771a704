import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ASSESSMENT_DEFAULTS, emptyFacts, MODALITIES, type CompletionRule, type CurriculumDef, type Modality, type ModuleDef, type ModuleState, type ProgressFacts } from '../../src/engine/curriculum.js';
import { addDays, computeRoadmap, isDone } from '../../src/engine/sequencing.js';

// Monday 26 Nov 2018: day 7 is Mon 3 Dec, the example in the product copy.
const START = '2018-11-26';

const DEFAULT_COMPLETION: Record<Modality, CompletionRule> = {
  elearning: { rule: 'viewed' },
  vilt: { rule: 'attended' },
  ilt: { rule: 'attended' },
  assessment: { rule: 'passed' },
  transfer: { rule: 'approved' },
};

type ModInput = Partial<Omit<ModuleDef, 'prerequisites'>> & { id: string; all?: string[]; any?: string[]; threshold?: number };

/** A module with defaults: elearning, phase p1, no gates, open from day 0, no due date. */
function mod({ id, all = [], any = [], threshold, ...rest }: ModInput): ModuleDef {
  const modality = rest.modality ?? 'elearning';
  return {
    id,
    title: id,
    phase: 'p1',
    modality,
    minutes: 10,
    objectives: [],
    prerequisites: { all, any },
    reviews: [],
    startDay: 0,
    dueDay: null,
    completion: DEFAULT_COMPLETION[modality],
    mastery: [],
    delay: null,
    assessment: threshold === undefined ? null : { ...ASSESSMENT_DEFAULTS, purpose: 'check', pools: [], threshold },
    form: null,
    rubric: null,
    body: '',
    ...rest,
  };
}

function curriculum(modules: ModuleDef[], masteryThreshold = 80): CurriculumDef {
  const phaseIds = [...new Set(modules.map((m) => m.phase))];
  return {
    id: 'c1',
    title: 'Onboarding',
    description: '',
    masteryThreshold,
    phases: phaseIds.map((id) => ({ id, title: id, description: '', targetDay: null })),
    modules,
  };
}

function facts(partial: Partial<ProgressFacts> = {}): ProgressFacts {
  return { ...emptyFacts(START), ...partial };
}

function roadmap(modules: ModuleDef[], f: Partial<ProgressFacts> = {}, today = START, masteryThreshold = 80) {
  return computeRoadmap(curriculum(modules, masteryThreshold), facts(f), today);
}

/** The status of the last module: the one under test, after whatever it depends on. */
function last(modules: ModuleDef[], f: Partial<ProgressFacts> = {}, today = START) {
  const r = roadmap(modules, f, today);
  const s = r.modules[r.modules.length - 1];
  if (!s) throw new Error('no modules');
  return s;
}

const T1 = '2018-11-27T10:00:00.000Z';
const T2 = '2018-11-28T15:30:00.000Z';
const T3 = '2018-11-29T09:00:00.000Z';

describe('addDays', () => {
  it.each([
    ['2018-11-26', 7, '2018-12-03'],
    ['2018-11-26', 0, '2018-11-26'],
    ['2018-12-31', 1, '2019-01-01'],
    ['2024-02-28', 1, '2024-02-29'],
    ['2023-02-28', 1, '2023-03-01'],
    ['2024-03-01', -1, '2024-02-29'],
    ['2024-03-30', 2, '2024-04-01'], // across the European DST change
    ['2024-11-02', 2, '2024-11-04'], // across the US DST change
    ['2018-11-26', 365, '2019-11-26'],
  ])('%s + %i = %s', (date, days, expected) => {
    expect(addDays(date, days)).toBe(expected);
  });

  it.each([['2024-02-30'], ['2024-13-01'], ['26/11/2018'], ['2018-11-26T00:00:00Z'], ['']])('rejects %j', (date) => {
    expect(() => addDays(date, 1)).toThrow(RangeError);
  });

  it('rejects fractional days', () => {
    expect(() => addDays(START, 1.5)).toThrow(RangeError);
  });
});

describe('isDone', () => {
  it.each<[ModuleState, boolean]>([
    ['completed', true],
    ['tested_out', true],
    ['locked', false],
    ['available', false],
    ['in_progress', false],
    ['awaiting_review', false],
  ])('%s → %s', (state, expected) => {
    expect(isDone({ id: 'x', state, overdue: false, reasons: [], hint: null, opensOn: null, dueOn: null, doneAt: null })).toBe(expected);
  });
});

describe('completion rules', () => {
  const cases: [string, ModuleDef, Partial<ProgressFacts>, ModuleState, string | null][] = [
    ['viewed: viewed', mod({ id: 'm' }), { completed: { m: T1 } }, 'completed', T1],
    ['viewed: not yet', mod({ id: 'm' }), {}, 'available', null],
    ['acknowledged: confirmed', mod({ id: 'm', completion: { rule: 'acknowledged', minMinutes: 5 } }), { completed: { m: T1 } }, 'completed', T1],
    ['acknowledged: only opened', mod({ id: 'm', completion: { rule: 'acknowledged' } }), { started: { m: T1 } }, 'in_progress', null],
    ['passed: exactly the module threshold', mod({ id: 'm', modality: 'assessment', threshold: 70 }), { scores: { m: { best: 70, at: T2 } } }, 'completed', T2],
    ['passed: below the module threshold', mod({ id: 'm', modality: 'assessment', threshold: 70 }), { scores: { m: { best: 69.9, at: T2 } } }, 'in_progress', null],
    ['passed: the curriculum threshold without an assessment definition', mod({ id: 'm', modality: 'assessment' }), { scores: { m: { best: 80, at: T2 } } }, 'completed', T2],
    ['passed: below the curriculum threshold', mod({ id: 'm', modality: 'assessment' }), { scores: { m: { best: 79, at: T2 } } }, 'in_progress', null],
    ['submitted: a pre-test is done once taken, whatever the score', mod({ id: 'm', modality: 'assessment', completion: { rule: 'submitted' } }), { scores: { m: { best: 20, at: T2 } } }, 'completed', T2],
    ['submitted: not taken yet', mod({ id: 'm', modality: 'assessment', completion: { rule: 'submitted' } }), {}, 'available', null],
    ['attended: no rubric needed', mod({ id: 'm', modality: 'vilt' }), { attendance: { m: { status: 'attended', at: T1 } } }, 'completed', T1],
    ['attended: rubric at the pass mark', mod({ id: 'm', modality: 'ilt', completion: { rule: 'attended', rubricPass: 75 } }), { attendance: { m: { status: 'attended', at: T1, rubricPercent: 75 } } }, 'completed', T1],
    ['attended: rubric below the pass mark', mod({ id: 'm', modality: 'ilt', completion: { rule: 'attended', rubricPass: 75 } }), { attendance: { m: { status: 'attended', at: T1, rubricPercent: 60 } } }, 'in_progress', null],
    ['attended: partial attendance', mod({ id: 'm', modality: 'vilt' }), { attendance: { m: { status: 'partial', at: T1 } } }, 'available', null],
    ['approved: approved and results logged (later of the two)', mod({ id: 'm', modality: 'transfer' }), { submissions: { m: { status: 'approved', at: T1 } }, resultsLogged: { m: T3 } }, 'completed', T3],
    ['approved: results logged before the approval', mod({ id: 'm', modality: 'transfer' }), { submissions: { m: { status: 'approved', at: T3 } }, resultsLogged: { m: T1 } }, 'completed', T3],
    ['approved: results not logged yet', mod({ id: 'm', modality: 'transfer' }), { submissions: { m: { status: 'approved', at: T1 } } }, 'in_progress', null],
    ['approved: results logged but not approved', mod({ id: 'm', modality: 'transfer' }), { submissions: { m: { status: 'submitted', at: T1 } }, resultsLogged: { m: T2 } }, 'awaiting_review', null],
    ['tested out: wins over nothing else', mod({ id: 'm', modality: 'assessment' }), { testedOut: { m: T1 } }, 'tested_out', T1],
    ['tested out: wins over completed', mod({ id: 'm' }), { testedOut: { m: T1 }, completed: { m: T2 } }, 'tested_out', T1],
  ];

  it.each(cases)('%s', (_name, m, f, state, doneAt) => {
    const s = last([m], f);
    expect(s.state).toBe(state);
    expect(s.doneAt).toBe(doneAt);
  });

  it('compares instants with different offsets as moments, not strings', () => {
    const s = last([mod({ id: 'm', modality: 'transfer' })], { submissions: { m: { status: 'approved', at: '2018-11-28T09:00:00+02:00' } }, resultsLogged: { m: '2018-11-28T08:00:00Z' } });
    expect(s.doneAt).toBe('2018-11-28T08:00:00Z');
  });

  it('keeps a done module done even when its gates are not met (facts are history)', () => {
    const s = last([mod({ id: 'a' }), mod({ id: 'b', all: ['a'], startDay: 30 })], { completed: { b: T1 } });
    expect(s).toMatchObject({ state: 'completed', reasons: [], hint: null, doneAt: T1 });
  });

  it('does not read inherited properties as facts', () => {
    expect(last([mod({ id: 'constructor' })]).state).toBe('available');
  });
});

describe('gates, one at a time', () => {
  const disc = mod({ id: 'disc', title: 'Discovery basics' });
  const a = mod({ id: 'a', title: 'A' });
  const b = mod({ id: 'b', title: 'B' });
  const c = mod({ id: 'c', title: 'C' });
  const check = mod({ id: 'check', title: 'Buying Process check', modality: 'assessment', threshold: 80 });

  const cases: [string, ModuleDef[], Partial<ProgressFacts>, string, string[]][] = [
    ['all: missing', [disc, mod({ id: 'x', all: ['disc'] })], {}, START, ["Complete 'Discovery basics' first."]],
    ['all: each missing one is a reason', [a, b, mod({ id: 'x', all: ['a', 'b'] })], {}, START, ["Complete 'A' first.", "Complete 'B' first."]],
    ['all: only the missing ones', [a, b, mod({ id: 'x', all: ['a', 'b'] })], { completed: { a: T1 } }, START, ["Complete 'B' first."]],
    ['all: done', [a, mod({ id: 'x', all: ['a'] })], { completed: { a: T1 } }, START, []],
    ['any: two, none done', [a, b, mod({ id: 'x', any: ['a', 'b'] })], {}, START, ["Complete one of 'A' or 'B' first."]],
    ['any: three, none done', [a, b, c, mod({ id: 'x', any: ['a', 'b', 'c'] })], {}, START, ["Complete one of 'A', 'B' or 'C' first."]],
    ['any: one, not done', [a, mod({ id: 'x', any: ['a'] })], {}, START, ["Complete 'A' first."]],
    ['any: one of them done', [a, b, mod({ id: 'x', any: ['a', 'b'] })], { completed: { b: T1 } }, START, []],
    ['mastery: not taken', [check, mod({ id: 'x', mastery: [{ assessment: 'check' }] })], {}, START, ["Pass 'Buying Process check' at 80% — you have not taken it yet."]],
    ['mastery: below', [check, mod({ id: 'x', mastery: [{ assessment: 'check' }] })], { scores: { check: { best: 70, at: T1 } } }, START, ["Pass 'Buying Process check' at 80% — your best so far is 70%."]],
    ['mastery: met', [check, mod({ id: 'x', mastery: [{ assessment: 'check' }] })], { scores: { check: { best: 80, at: T1 } } }, START, []],
    ['mastery: the gate raises the bar', [check, mod({ id: 'x', mastery: [{ assessment: 'check', threshold: 90 }] })], { scores: { check: { best: 85, at: T1 } } }, START, ["Pass 'Buying Process check' at 90% — your best so far is 85%."]],
    ['mastery: the gate lowers the bar', [check, mod({ id: 'x', mastery: [{ assessment: 'check', threshold: 60 }] })], { scores: { check: { best: 65, at: T1 } } }, START, []],
    ['mastery: the curriculum threshold', [mod({ id: 'q', title: 'Quiz', modality: 'assessment' }), mod({ id: 'x', mastery: [{ assessment: 'q' }] })], { scores: { q: { best: 79, at: T1 } } }, START, ["Pass 'Quiz' at 80% — your best so far is 79%."]],
    ['mastery: a fractional score is rounded down', [check, mod({ id: 'x', mastery: [{ assessment: 'check' }] })], { scores: { check: { best: 79.96, at: T1 } } }, START, ["Pass 'Buying Process check' at 80% — your best so far is 79.9%."]],
    ['mastery: tested out of the assessment', [check, mod({ id: 'x', mastery: [{ assessment: 'check' }] })], { testedOut: { check: T1 } }, START, []],
    ['startDay: before it', [mod({ id: 'x', startDay: 7 })], {}, '2018-12-02', ['Opens on day 7 of your onboarding (Mon 3 Dec).']],
    ['startDay: on the day', [mod({ id: 'x', startDay: 7 })], {}, '2018-12-03', []],
    ['startDay 0: before the enrollment starts', [mod({ id: 'x' })], {}, '2018-11-25', ['Opens when your onboarding starts (Mon 26 Nov).']],
    ['delay: after done, waiting', [a, mod({ id: 'x', delay: { after: ['a'], days: 14 } })], { completed: { a: T2 } }, '2018-12-11', ["Opens 14 days after you finish 'A' (Wed 12 Dec)."]],
    ['delay: after done, on the day', [a, mod({ id: 'x', delay: { after: ['a'], days: 14 } })], { completed: { a: T2 } }, '2018-12-12', []],
    ['delay: after not done', [a, b, mod({ id: 'x', delay: { after: ['a', 'b'], days: 14 } })], { completed: { a: T2 } }, '2019-06-01', ["Opens 14 days after you finish 'A' and 'B'."]],
    ['delay: counts from the latest of several', [a, b, mod({ id: 'x', delay: { after: ['a', 'b'], days: 14 } })], { completed: { a: T3, b: T1 } }, '2018-12-12', ["Opens 14 days after you finish 'A' and 'B' (Thu 13 Dec)."]],
    ['delay: one day', [a, mod({ id: 'x', delay: { after: ['a'], days: 1 } })], { completed: { a: T2 } }, T2.slice(0, 10), ["Opens 1 day after you finish 'A' (Thu 29 Nov)."]],
    ['delay: an empty after is no gate', [mod({ id: 'x', delay: { after: [], days: 14 } })], {}, START, []],
  ];

  it.each(cases)('%s', (_name, modules, f, today, reasons) => {
    const s = last(modules, f, today);
    expect(s.reasons).toEqual(reasons);
    expect(s.state).toBe(reasons.length > 0 ? 'locked' : 'available');
    expect(s.hint).toBe(reasons.length > 0 ? null : 'Work through the lesson.');
  });

  it.each([
    ['the start day when nothing else is known', mod({ id: 'x', startDay: 7 }), {}, '2018-12-03'],
    ['the start day while the delay is unknown', mod({ id: 'x', startDay: 7, delay: { after: ['a'], days: 14 } }), {}, '2018-12-03'],
    ['the delay when it is later', mod({ id: 'x', startDay: 7, delay: { after: ['a'], days: 14 } }), { completed: { a: T2 } }, '2018-12-12'],
    ['the start day when it is later', mod({ id: 'x', startDay: 30, delay: { after: ['a'], days: 14 } }), { completed: { a: T2 } }, '2018-12-26'],
  ])('opensOn is %s', (_name, m, f, opensOn) => {
    expect(last([a, m], f).opensOn).toBe(opensOn);
  });

  it('takes the calendar day of an instant as written (the rep’s offset)', () => {
    const s = last([a, mod({ id: 'x', delay: { after: ['a'], days: 1 } })], { completed: { a: '2018-11-28T23:30:00-08:00' } }, START);
    expect(s.opensOn).toBe('2018-11-29');
  });

  it('treats unknown module ids as not done, without crashing', () => {
    const s = last([mod({ id: 'x', all: ['ghost'], any: ['spook'], mastery: [{ assessment: 'phantom' }], delay: { after: ['wraith'], days: 2 } })]);
    expect(s.state).toBe('locked');
    expect(s.reasons).toEqual([
      "Complete 'ghost' first.",
      "Complete 'spook' first.",
      "Pass 'phantom' at 80% — you have not taken it yet.",
      "Opens 2 days after you finish 'wraith'.",
    ]);
  });
});

describe('gates together', () => {
  it('lists every unmet gate, in order: prerequisites, mastery, start day, delay', () => {
    const modules = [
      mod({ id: 'a', title: 'A' }),
      mod({ id: 'b', title: 'B' }),
      mod({ id: 'c', title: 'C' }),
      mod({ id: 'check', title: 'Buying Process check', modality: 'assessment', threshold: 80 }),
      mod({ id: 'x', all: ['a'], any: ['b', 'c'], mastery: [{ assessment: 'check' }], startDay: 7, delay: { after: ['a'], days: 14 } }),
    ];
    const s = last(modules, { scores: { check: { best: 70, at: T1 } } }, '2018-12-01');
    expect(s.state).toBe('locked');
    expect(s.reasons).toEqual([
      "Complete 'A' first.",
      "Complete one of 'B' or 'C' first.",
      "Pass 'Buying Process check' at 80% — your best so far is 70%.",
      'Opens on day 7 of your onboarding (Mon 3 Dec).',
      "Opens 14 days after you finish 'A'.",
    ]);
  });

  it('lists the gates still unmet once some are met', () => {
    const modules = [mod({ id: 'a', title: 'A' }), mod({ id: 'x', all: ['a'], startDay: 7, delay: { after: ['a'], days: 14 } })];
    expect(last(modules, { completed: { a: T2 } }, '2018-12-01').reasons).toEqual(['Opens on day 7 of your onboarding (Mon 3 Dec).', "Opens 14 days after you finish 'A' (Wed 12 Dec)."]);
  });

  it('counts a tested-out module as done for every kind of dependant', () => {
    const modules = [
      mod({ id: 'a' }),
      mod({ id: 'all', all: ['a'] }),
      mod({ id: 'any', any: ['a', 'zzz'] }),
      mod({ id: 'delay', delay: { after: ['a'], days: 3 } }),
    ];
    const r = roadmap(modules, { testedOut: { a: T1 } }, '2018-11-30');
    expect(r.modules.map((s) => s.state)).toEqual(['tested_out', 'available', 'available', 'available']);
  });

  it('keeps a dependant locked until the tested-out delay has passed', () => {
    const s = last([mod({ id: 'a', title: 'A' }), mod({ id: 'x', delay: { after: ['a'], days: 3 } })], { testedOut: { a: T1 } }, '2018-11-29');
    expect(s.reasons).toEqual(["Opens 3 days after you finish 'A' (Fri 30 Nov)."]);
  });
});

describe('open modules: state and hint', () => {
  const ilt = (rubricPass?: number) => mod({ id: 'm', modality: 'ilt', completion: { rule: 'attended', rubricPass } });
  const cases: [string, ModuleDef, Partial<ProgressFacts>, ModuleState, string][] = [
    ['elearning, not opened', mod({ id: 'm' }), {}, 'available', 'Work through the lesson.'],
    ['elearning, opened', mod({ id: 'm' }), { started: { m: T1 } }, 'in_progress', 'Work through the lesson.'],
    ['transfer, not started', mod({ id: 'm', modality: 'transfer' }), {}, 'available', "Build it and submit it for your manager's review."],
    ['transfer, started', mod({ id: 'm', modality: 'transfer' }), { started: { m: T1 } }, 'in_progress', "Build it and submit it for your manager's review."],
    ['transfer, draft', mod({ id: 'm', modality: 'transfer' }), { submissions: { m: { status: 'draft', at: T1 } } }, 'in_progress', "Finish your draft and submit it for your manager's review."],
    ['transfer, submitted', mod({ id: 'm', modality: 'transfer' }), { submissions: { m: { status: 'submitted', at: T1 } } }, 'awaiting_review', 'Waiting for your manager to review your submission.'],
    ['transfer, approved', mod({ id: 'm', modality: 'transfer' }), { submissions: { m: { status: 'approved', at: T1 } } }, 'in_progress', 'Your manager approved it — log your results to finish.'],
    ['transfer, returned', mod({ id: 'm', modality: 'transfer' }), { submissions: { m: { status: 'returned', at: T1 } } }, 'in_progress', 'Your manager asked for changes — revise and resubmit.'],
    ['vilt, nothing yet', mod({ id: 'm', modality: 'vilt' }), {}, 'available', 'Book a session.'],
    ['vilt, booked', mod({ id: 'm', modality: 'vilt' }), { bookings: { m: { sessionId: 's1', status: 'booked', startsAt: '2018-12-03T14:00:00Z' } } }, 'in_progress', 'Booked: attend the session on Mon 3 Dec.'],
    ['vilt, waitlisted', mod({ id: 'm', modality: 'vilt' }), { bookings: { m: { sessionId: 's1', status: 'waitlisted', startsAt: '2018-12-04T14:00:00Z' } } }, 'in_progress', 'On the waitlist for Tue 4 Dec.'],
    ['vilt, absent', mod({ id: 'm', modality: 'vilt' }), { started: { m: T1 }, attendance: { m: { status: 'absent', at: T2 } } }, 'available', 'You missed the session — book another one.'],
    ['ilt, partial', ilt(), { attendance: { m: { status: 'partial', at: T2 } } }, 'available', 'You missed the session — book another one.'],
    ['vilt, absent then booked again', mod({ id: 'm', modality: 'vilt' }), { attendance: { m: { status: 'absent', at: T2 } }, bookings: { m: { sessionId: 's2', status: 'booked', startsAt: '2018-12-05T14:00:00Z' } } }, 'in_progress', 'Booked: attend the session on Wed 5 Dec.'],
    ['vilt, absent from the booked session', mod({ id: 'm', modality: 'vilt' }), { attendance: { m: { status: 'absent', at: T2 } }, bookings: { m: { sessionId: 's1', status: 'booked', startsAt: T1 } } }, 'available', 'You missed the session — book another one.'],
    ['ilt, role play below the pass mark', ilt(75), { attendance: { m: { status: 'attended', at: T2, rubricPercent: 60 } } }, 'in_progress', 'Your role-play score was 60% — 75% passes. Book another session to try again.'],
    ['ilt, role play not scored yet', ilt(75), { attendance: { m: { status: 'attended', at: T2 } } }, 'in_progress', 'You attended — waiting for the instructor to score your role play.'],
    ['assessment, not taken', mod({ id: 'm', modality: 'assessment', threshold: 80 }), {}, 'available', 'Take the assessment.'],
    ['assessment, attempt started', mod({ id: 'm', modality: 'assessment', threshold: 80 }), { started: { m: T1 } }, 'in_progress', 'Take the assessment.'],
    ['assessment, below the threshold', mod({ id: 'm', modality: 'assessment', threshold: 80 }), { scores: { m: { best: 70, at: T1 } } }, 'in_progress', 'Your best so far is 70% — 80% passes.'],
  ];

  it.each(cases)('%s', (_name, m, f, state, hint) => {
    expect(last([m], f)).toMatchObject({ state, hint, reasons: [] });
  });

  it('gives no hint to locked or done modules', () => {
    const r = roadmap([mod({ id: 'a' }), mod({ id: 'b', all: ['zzz'] })], { completed: { a: T1 } });
    expect(r.modules.map((s) => s.hint)).toEqual([null, null]);
  });
});

describe('due dates, overdue and what comes next', () => {
  it.each([
    ['the day before it is due', '2018-12-02', false],
    ['the day it is due', '2018-12-03', false],
    ['the day after it is due', '2018-12-04', true],
  ])('%s is overdue: %s', (_name, today, overdue) => {
    const s = last([mod({ id: 'x', dueDay: 7 })], {}, today);
    expect(s).toMatchObject({ dueOn: '2018-12-03', overdue });
  });

  it('never marks a done module overdue, and marks a locked one', () => {
    const r = roadmap([mod({ id: 'a', dueDay: 1 }), mod({ id: 'b', dueDay: 1, all: ['zzz'] }), mod({ id: 'c' })], { completed: { a: T3 } }, '2018-12-10');
    expect(r.modules.map((s) => [s.state, s.overdue, s.dueOn])).toEqual([
      ['completed', false, '2018-11-27'],
      ['locked', true, '2018-11-27'],
      ['available', false, null],
    ]);
  });

  it('orders next: overdue first, then by due date (none last), then curriculum order', () => {
    const modules = [
      mod({ id: 'noDue1' }),
      mod({ id: 'due10', dueDay: 10 }),
      mod({ id: 'lockedOverdue', dueDay: 1, all: ['zzz'] }),
      mod({ id: 'due5', dueDay: 5 }),
      mod({ id: 'overdue3', dueDay: 3 }),
      mod({ id: 'done', dueDay: 1 }),
      mod({ id: 'overdue2', dueDay: 2 }),
      mod({ id: 'due5b', dueDay: 5, modality: 'transfer' }),
      mod({ id: 'noDue2', modality: 'vilt' }),
    ];
    const r = roadmap(modules, { completed: { done: T1 }, submissions: { due5b: { status: 'submitted', at: T1 } } }, '2018-11-30');
    expect(r.next).toEqual(['overdue2', 'overdue3', 'due5', 'due5b', 'due10', 'noDue1', 'noDue2']);
  });
});

describe('counts and phases', () => {
  const modules = [
    mod({ id: 'a', phase: 'foundations' }),
    mod({ id: 'b', phase: 'foundations', modality: 'assessment', threshold: 80 }),
    mod({ id: 'c', phase: 'practice' }),
    mod({ id: 'd', phase: 'practice' }),
  ];

  it('counts done modules and dates a finished phase by its latest completion', () => {
    const r = roadmap(modules, { completed: { a: T3, c: T1 }, testedOut: { b: T2 } });
    expect(r).toMatchObject({ done: 3, total: 4, completed: false });
    expect(r.phases).toEqual([
      { id: 'foundations', done: 2, total: 2, completedOn: '2018-11-29' },
      { id: 'practice', done: 1, total: 2, completedOn: null },
    ]);
  });

  it('is completed when every module is done', () => {
    const r = roadmap(modules, { completed: { a: T1, c: T1, d: '2018-12-02T08:00:00+01:00' }, scores: { b: { best: 90, at: T2 } } });
    expect(r).toMatchObject({ done: 4, total: 4, completed: true, next: [] });
    expect(r.phases.map((p) => p.completedOn)).toEqual(['2018-11-28', '2018-12-02']);
  });

  it('reports a phase without modules as not completed', () => {
    const c = curriculum([mod({ id: 'a' })]);
    c.phases.push({ id: 'empty', title: 'Empty', description: '', targetDay: null });
    expect(computeRoadmap(c, facts(), START).phases[1]).toEqual({ id: 'empty', done: 0, total: 0, completedOn: null });
  });
});

// ---- property: gates hold for any curriculum that is a DAG and any facts -------------------------

const INSTANT = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 23 })).map(([d, h]) => `${addDays(START, d)}T${String(h).padStart(2, '0')}:00:00.000Z`);
const SCORE = fc.integer({ min: 0, max: 100 });

/** A few of the earlier module ids. */
function someOf(ids: string[]) {
  return ids.length === 0 ? fc.constant<string[]>([]) : fc.subarray(ids, { maxLength: Math.min(3, ids.length) });
}

function moduleArb(i: number, modalities: Modality[]): fc.Arbitrary<ModuleDef> {
  const earlier = modalities.slice(0, i).map((_, j) => `m${j}`);
  const earlierAssessments = earlier.filter((_, j) => modalities[j] === 'assessment');
  const modality = modalities[i] ?? 'elearning';
  return fc
    .record({
      all: someOf(earlier),
      any: someOf(earlier),
      mastery: someOf(earlierAssessments).chain((ids) => fc.tuple(...ids.map((assessment) => fc.option(SCORE, { nil: undefined }).map((threshold) => ({ assessment, threshold }))))),
      startDay: fc.integer({ min: 0, max: 20 }),
      dueDay: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
      delay: fc.option(fc.record({ after: someOf(earlier), days: fc.integer({ min: 0, max: 14 }) }), { nil: null }),
      threshold: SCORE,
      rubricPass: fc.option(SCORE, { nil: undefined }),
      phase: fc.constantFrom('p1', 'p2', 'p3'),
    })
    .map(({ threshold, rubricPass, mastery, ...rest }) =>
      mod({
        id: `m${i}`,
        modality,
        ...rest,
        mastery: [...mastery],
        ...(modality === 'assessment' ? { threshold } : {}),
        ...(modality === 'vilt' || modality === 'ilt' ? { completion: { rule: 'attended', rubricPass } } : {}),
      }),
    );
}

const curriculumArb: fc.Arbitrary<CurriculumDef> = fc
  .array(fc.constantFrom(...MODALITIES), { minLength: 1, maxLength: 8 })
  .chain((modalities) => fc.tuple(...modalities.map((_, i) => moduleArb(i, modalities))))
  .map((modules) => curriculum(modules));

function factsArb(ids: string[]): fc.Arbitrary<ProgressFacts> {
  const per = <T>(value: fc.Arbitrary<T>) => fc.dictionary(fc.constantFrom(...ids), value, { maxKeys: ids.length });
  return fc
    .record({
      started: per(INSTANT),
      completed: per(INSTANT),
      scores: per(fc.record({ best: SCORE, at: INSTANT })),
      testedOut: per(INSTANT),
      attendance: per(fc.record({ status: fc.constantFrom('attended' as const, 'absent' as const, 'partial' as const), at: INSTANT, rubricPercent: fc.option(SCORE, { nil: undefined }) })),
      bookings: per(fc.record({ sessionId: fc.constant('s'), status: fc.constantFrom('booked' as const, 'waitlisted' as const), startsAt: INSTANT })),
      submissions: per(fc.record({ status: fc.constantFrom('draft' as const, 'submitted' as const, 'approved' as const, 'returned' as const), at: INSTANT })),
      resultsLogged: per(INSTANT),
    })
    .map((f) => ({ ...f, startDate: START }));
}

const scenarioArb = curriculumArb.chain((c) =>
  fc.record({ curriculum: fc.constant(c), facts: factsArb(c.modules.map((m) => m.id)), today: fc.integer({ min: -2, max: 60 }).map((d) => addDays(START, d)) }),
);

describe('property: any DAG curriculum, any facts', () => {
  it('opens no module while a prerequisite is missing, and is deterministic', () => {
    fc.assert(
      fc.property(scenarioArb, ({ curriculum: c, facts: f, today }) => {
        const r = computeRoadmap(c, f, today);
        const doneIds = new Set(r.modules.filter(isDone).map((s) => s.id));
        const done = (id: string) => doneIds.has(id);
        c.modules.forEach((m, i) => {
          const s = r.modules[i]!;
          if (!['available', 'in_progress', 'awaiting_review'].includes(s.state)) return;
          expect(m.prerequisites.all.every(done)).toBe(true);
          if (m.prerequisites.any.length > 0) expect(m.prerequisites.any.some(done)).toBe(true);
        });
        expect(computeRoadmap(c, f, today)).toEqual(r);
      }),
      { numRuns: 300 },
    );
  });

  it('locks exactly the modules with reasons, and next lists exactly the open ones', () => {
    fc.assert(
      fc.property(scenarioArb, ({ curriculum: c, facts: f, today }) => {
        const r = computeRoadmap(c, f, today);
        for (const s of r.modules) {
          expect(s.state === 'locked').toBe(s.reasons.length > 0);
          expect(isDone(s)).toBe(s.doneAt !== null);
          if (isDone(s)) expect(s.overdue).toBe(false);
        }
        const open = r.modules.filter((s) => ['available', 'in_progress', 'awaiting_review'].includes(s.state)).map((s) => s.id);
        expect([...r.next].sort()).toEqual([...open].sort());
        expect(r.done).toBe(r.modules.filter(isDone).length);
        expect(r.phases.reduce((n, p) => n + p.total, 0)).toBe(r.total);
      }),
      { numRuns: 300 },
    );
  });
});
