import { describe, expect, it } from 'vitest';
import type { CurriculumDef, ModuleDef, ModuleStatus, ProgressFacts, Roadmap } from '../../src/engine/curriculum.js';
import { emptyFacts } from '../../src/engine/curriculum.js';
import { overdueOn, roamOf, statusOn, summarize, type RepSummary, type SummaryInput } from '../../src/engine/rep-summary.js';

/** The dashboards' rollup and what is read from it (status, overdue, ROAM), with hand-counted numbers. */

const mod = (id: string, title: string, phase: string, extra: Partial<ModuleDef> = {}): ModuleDef => ({ id, title, phase, assessment: null, ...extra }) as ModuleDef;
const assessment = (purpose: 'pretest' | 'check' | 'posttest' | 'retest') => ({ assessment: { purpose, threshold: 80 } as ModuleDef['assessment'] });

const CURRICULUM = {
  id: 'c',
  title: 'Onboarding',
  description: '',
  masteryThreshold: 80,
  phases: [
    { id: 'p1', title: 'Foundations', description: '', targetDay: 7 },
    { id: 'p2', title: 'Practice', description: '', targetDay: 30 },
  ],
  modules: [
    mod('pre', 'Pre-test', 'p1', assessment('pretest')),
    mod('lesson', 'Lesson', 'p1'),
    mod('post', 'Post-test', 'p2', assessment('posttest')),
    mod('call', 'Call block', 'p2', { modality: 'transfer' }),
    mod('workshop', 'Workshop', 'p2', { modality: 'ilt' }),
    mod('live', 'Live session', 'p2', { modality: 'vilt' }),
  ],
  readiness: {
    objectives: [{ id: 'o', title: 'Sets appointments', posttest: 'post', retention: ['lesson'], results: { module: 'call', field: 'appointments' }, weights: { posttest: 30, retention: 20, results: 50 } }],
  },
} as unknown as CurriculumDef;

const status = (id: string, state: ModuleStatus['state'], dueOn: string | null = null, doneAt: string | null = null): ModuleStatus => ({ id, state, overdue: false, reasons: [], hint: null, opensOn: null, dueOn, doneAt });

const ROADMAP: Roadmap = {
  modules: [
    status('pre', 'completed', '2026-01-05', '2026-01-05T10:00:00.000Z'),
    status('lesson', 'tested_out', '2026-01-07', '2026-01-06T09:00:00.000Z'),
    status('post', 'in_progress', '2026-01-10'),
    status('call', 'awaiting_review', '2026-01-08'),
    status('workshop', 'locked', null),
    status('live', 'completed', null, '2026-01-09T15:00:00.000Z'),
  ],
  next: [],
  done: 3,
  total: 6,
  phases: [
    { id: 'p1', done: 2, total: 2, completedOn: '2026-01-06' },
    { id: 'p2', done: 1, total: 4, completedOn: null },
  ],
  completed: false,
};

const FACTS: ProgressFacts = {
  ...emptyFacts('2026-01-05'),
  started: { pre: '2026-01-05T09:00:00.000Z', post: '2026-01-09T09:00:00.000Z' },
  scores: { pre: { best: 40, at: '2026-01-05T10:00:00.000Z' }, post: { best: 85, at: '2026-01-09T10:00:00.000Z' } },
  attendance: { workshop: { status: 'attended', at: '2026-01-09T15:00:00.000Z', rubricPercent: 75 }, live: { status: 'attended', at: '2026-01-09T15:00:00.000Z' } },
};

const input = (over: Partial<SummaryInput> = {}): SummaryInput => ({
  enrollment: { id: 'e1', userId: 'u1', cohort: 'Spring', curriculumId: 'c', versionId: 'c@1', startDate: '2026-01-05', facts: FACTS, roadmap: ROADMAP },
  managerId: 'm1',
  curriculum: CURRICULUM,
  results: { call: { values: { metWithManager: true, calls: 40, contacts: 15, presentations: 6, appointments: 6, notes: 'a good week' }, confirmed: true, loggedAt: '2026-01-20T10:00:00.000Z' } },
  targets: { call: { calls: 50, contacts: 20, presentations: 12, appointments: 8 } },
  retention: { lesson: { answered: 4, correct: 3 }, pre: { answered: 6, correct: 3 } },
  streak: 2,
  ...over,
});

describe('summarize', () => {
  const s = summarize(input());

  it('keeps who, where and how far', () => {
    expect(s).toMatchObject({ _id: 'e1', userId: 'u1', managerId: 'm1', cohort: 'Spring', curriculumId: 'c', versionId: 'c@1', startDate: '2026-01-05', done: 3, total: 6, completed: false, completedOn: null });
    expect(s.doneModules).toEqual(['pre', 'lesson', 'live']);
    expect(s.startedModules).toEqual(['pre', 'post']);
  });

  it('keeps the open due dates, soonest first, as dates (decided when read)', () => {
    expect(s.openDue).toEqual([
      { moduleId: 'call', dueOn: '2026-01-08' },
      { moduleId: 'post', dueOn: '2026-01-10' },
    ]);
    expect(s.firstDue).toBe('2026-01-08');
  });

  it('measures each phase in days from the start against its target day', () => {
    expect(s.phases).toEqual([
      { id: 'p1', completedOn: '2026-01-06', days: 1, targetDay: 7 },
      { id: 'p2', completedOn: null, days: null, targetDay: 30 },
    ]);
  });

  it('keeps best scores, rubric percentages (only where scored), numeric activity and reinforcement totals', () => {
    expect(s.scores).toEqual({ pre: 40, post: 85 });
    expect(s.rubric).toEqual({ workshop: 75 });
    expect(s.activity).toEqual({
      call: { values: { calls: 40, contacts: 15, presentations: 6, appointments: 6, metWithManager: 1 }, targets: { calls: 50, contacts: 20, presentations: 12, appointments: 8 }, confirmed: true, loggedAt: '2026-01-20T10:00:00.000Z' },
    });
    expect(s.retention).toEqual({ answered: 10, correct: 6, byModule: { lesson: { answered: 4, correct: 3 }, pre: { answered: 6, correct: 3 } }, streak: 2 });
  });

  it('computes readiness from the same evidence: (85 × 30 + 75 × 20 + 75 × 50) ÷ 100 = 78', () => {
    // post-test 85; retention on "lesson" 3 of 4 = 75%; 6 of 8 appointments = 75%
    expect(s.readiness!.score).toBe(78);
    expect(s.readiness!.objectives[0]!.coverage).toBe(100);
    expect(summarize(input({ curriculum: { ...CURRICULUM, readiness: undefined } })).readiness).toBeNull();
  });

  it('dates the completion by the last module done', () => {
    const done = summarize(input({ enrollment: { ...input().enrollment, roadmap: { ...ROADMAP, completed: true } } }));
    expect(done.completedOn).toBe('2026-01-09');
  });
});

describe('statusOn and overdueOn', () => {
  const s = { completed: false, firstDue: '2026-01-08', completedOn: null, openDue: [{ moduleId: 'call', dueOn: '2026-01-08' }, { moduleId: 'post', dueOn: '2026-01-10' }] };

  it('is on track until a module is past its due date, behind from the day after', () => {
    expect(statusOn(s, '2026-01-07')).toBe('on-track');
    expect(statusOn(s, '2026-01-08')).toBe('on-track'); // due today is not late
    expect(statusOn(s, '2026-01-09')).toBe('behind');
    expect(statusOn({ completed: false, firstDue: null }, '2030-01-01')).toBe('on-track');
    expect(statusOn({ ...s, completed: true }, '2026-02-01')).toBe('completed');
  });

  it('lists the late modules with how many days', () => {
    expect(overdueOn(s, '2026-01-08')).toEqual([]);
    expect(overdueOn(s, '2026-01-11')).toEqual([
      { moduleId: 'call', dueOn: '2026-01-08', daysLate: 3 },
      { moduleId: 'post', dueOn: '2026-01-10', daysLate: 1 },
    ]);
  });
});

describe('roamOf', () => {
  const summary = summarize(input());

  it('measures results, activity and methodology, and finds the biggest gap', () => {
    const roam = roamOf(summary, CURRICULUM);
    const [results, activity, methodology] = roam.dimensions;
    // results: 6 of 8 appointments = 75%
    expect(results).toMatchObject({ key: 'results', label: 'Results vs objectives', percent: 75, parts: [{ label: 'appointments', value: 6, target: 8, percent: 75 }] });
    // activity: calls 40/50 = 80, contacts 15/20 = 75, presentations 6/12 = 50 → (80 + 75 + 50) ÷ 3 = 68.3 → 68
    expect(activity!.percent).toBe(68);
    expect(activity!.parts.map((p) => [p.label, p.value, p.target, p.percent])).toEqual([
      ['calls', 40, 50, 80],
      ['contacts', 15, 20, 75],
      ['presentations', 6, 12, 50],
    ]);
    // methodology: the post-test 85 and the workshop rubric 75 (never the pre-test) → 80
    expect(methodology!.percent).toBe(80);
    expect(methodology!.parts.map((p) => [p.label, p.value])).toEqual([
      ['Post-test', 85],
      ['Workshop (role-play rubric)', 75],
    ]);
    expect(roam.biggestGap).toBe('activity');
    for (const d of roam.dimensions) expect(d.coaching.length).toBeGreaterThan(20);
  });

  it('caps a figure above its target at 100% and adds up several logs', () => {
    const roam = roamOf(
      {
        activity: {
          call: { values: { calls: 80, appointments: 3 }, targets: { calls: 50, appointments: 8 }, confirmed: true, loggedAt: null },
          followUp: { values: { calls: 10, appointments: 5 }, targets: { calls: 50, appointments: 2 }, confirmed: false, loggedAt: null },
        },
        scores: {},
        rubric: {},
      },
      CURRICULUM,
    );
    // appointments (3 + 5) of (8 + 2) = 80%; calls (80 + 10) of 100 = 90%
    expect(roam.dimensions[0]!.parts[0]).toMatchObject({ value: 8, target: 10, percent: 80 });
    expect(roam.dimensions[1]!.parts[0]).toMatchObject({ value: 90, target: 100, percent: 90 });
    const over = roamOf({ activity: { call: { values: { calls: 60 }, targets: { calls: 50 }, confirmed: true, loggedAt: null } }, scores: {}, rubric: {} }, CURRICULUM);
    expect(over.dimensions[1]!.parts[0]!.percent).toBe(100);
  });

  it('leaves a dimension with nothing to go on unmeasured, never the gap', () => {
    const onlyScores = roamOf({ activity: {}, scores: { pre: 30, post: 70 }, rubric: {} }, CURRICULUM);
    expect(onlyScores.dimensions.map((d) => d.percent)).toEqual([null, null, 70]);
    expect(onlyScores.dimensions[0]!.parts[0]).toMatchObject({ value: null, percent: null });
    expect(onlyScores.biggestGap).toBe('methodology');
    const nothing = roamOf({ activity: {}, scores: { pre: 30 }, rubric: {} }, CURRICULUM);
    expect(nothing.dimensions.map((d) => d.percent)).toEqual([null, null, null]);
    expect(nothing.biggestGap).toBeNull();
  });

  it('has no gap when everything measured is at 100%', () => {
    const perfect: Pick<RepSummary, 'activity' | 'scores' | 'rubric'> = {
      activity: { call: { values: { calls: 50, contacts: 20, presentations: 12, appointments: 8 }, targets: { calls: 50, contacts: 20, presentations: 12, appointments: 8 }, confirmed: true, loggedAt: null } },
      scores: { post: 100 },
      rubric: {},
    };
    expect(roamOf(perfect, CURRICULUM).biggestGap).toBeNull();
  });
});
