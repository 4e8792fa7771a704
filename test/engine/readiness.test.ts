import { describe, expect, it } from 'vitest';
import type { CurriculumDef, ModuleDef, ReadinessObjective } from '../../src/engine/curriculum.js';
import { computeReadiness, type ReadinessEvidence } from '../../src/engine/readiness.js';

/** The readiness score: per objective a weighted mean of the evidence there is; every number here is worked by hand. */

const mod = (id: string, title: string): ModuleDef => ({ id, title }) as ModuleDef;
const MODULES = [mod('pre', 'Pre-test'), mod('post', 'Foundations check'), mod('re', 'Re-test'), mod('a', 'Lesson A'), mod('b', 'Lesson B'), mod('post2', 'Prospecting post-test'), mod('c', 'Calls lesson'), mod('call', 'Call block')];

const KNOWS: ReadinessObjective = { id: 'knows', title: 'Knows the buyer', pretest: 'pre', posttest: 'post', retest: 're', retention: ['a', 'b'], weights: { pretest: 0, posttest: 40, retest: 30, retention: 30 } };
const SETS: ReadinessObjective = { id: 'sets', title: 'Sets appointments', posttest: 'post2', retention: ['c'], results: { module: 'call', field: 'appointments' }, weights: { posttest: 30, retention: 20, results: 50 } };

const def = (objectives: ReadinessObjective[] = [KNOWS, SETS]): Pick<CurriculumDef, 'modules' | 'readiness'> => ({ modules: MODULES, readiness: { objectives } });

const EVIDENCE: ReadinessEvidence = {
  scores: { pre: 50, post: 90 },
  retention: { a: { answered: 4, correct: 3 }, b: { answered: 6, correct: 3 } },
  results: { call: { values: { calls: 40, appointments: 7 }, targets: { calls: 50, appointments: 8 }, confirmed: false } },
};

describe('computeReadiness', () => {
  it('is null when the curriculum sets no readiness', () => {
    expect(computeReadiness({ modules: MODULES }, EVIDENCE)).toBeNull();
  });

  it('weighs the evidence there is, leaves out what is missing, and averages the objectives', () => {
    const r = computeReadiness(def(), EVIDENCE)!;
    const [knows, sets] = r.objectives;
    // knows: post-test 90 × 40, retention (3 + 3) of (4 + 6) = 60% × 30; the re-test is not taken → left out
    // (90 × 40 + 60 × 30) ÷ (40 + 30) = 5400 ÷ 70 = 77.14 → 77.1
    expect(knows).toMatchObject({ id: 'knows', title: 'Knows the buyer', score: 77.1, coverage: 70, growth: 40 });
    expect(knows!.inputs.map((i) => [i.kind, i.value, i.weight, i.contribution])).toEqual([
      ['pretest', 50, 0, null], // the baseline: shown, never counted
      ['posttest', 90, 40, 51.43], // 90 × 40 ÷ 70
      ['retest', null, 30, null],
      ['retention', 60, 30, 25.71], // 60 × 30 ÷ 70
    ]);
    expect(knows!.inputs.map((i) => i.detail)).toEqual(['best attempt 50%', 'best attempt 90%', 'not taken yet', '6 of 10 reinforcement answers right']);
    expect(knows!.inputs[3]!.label).toBe('Retention: Lesson A, Lesson B');
    // sets: only the results have evidence: 7 of 8 appointments = 87.5%; coverage 50 of 100
    expect(sets).toMatchObject({ id: 'sets', score: 87.5, coverage: 50, growth: null });
    expect(sets!.inputs.map((i) => [i.kind, i.value, i.weight, i.contribution])).toEqual([
      ['posttest', null, 30, null],
      ['retention', null, 20, null],
      ['results', 87.5, 50, 87.5],
    ]);
    expect(sets!.inputs[2]).toMatchObject({ label: 'On-the-job results: appointments (Call block)', detail: '7 of 8 appointments (not confirmed by the manager yet)' });
    expect(sets!.inputs[1]!.detail).toBe('no reinforcement answers yet');
    // overall: (77.1 + 87.5) ÷ 2 = 82.3
    expect(r.score).toBe(82.3);
  });

  it('takes the weights from the curriculum', () => {
    const heavierRetention = { ...KNOWS, weights: { pretest: 0, posttest: 10, retest: 30, retention: 90 } };
    // (90 × 10 + 60 × 90) ÷ (10 + 90) = 6300 ÷ 100 = 63
    const r = computeReadiness(def([heavierRetention]), EVIDENCE)!;
    expect(r.objectives[0]).toMatchObject({ score: 63, coverage: 77 }); // 100 of 130 weighted
    expect(r.score).toBe(63);
  });

  it('counts the re-test once it is there, and the contributions add up to the score', () => {
    const r = computeReadiness(def([KNOWS]), { ...EVIDENCE, scores: { ...EVIDENCE.scores, re: 70 } })!;
    // (90 × 40 + 70 × 30 + 60 × 30) ÷ 100 = 36 + 21 + 18 = 75
    expect(r.objectives[0]).toMatchObject({ score: 75, coverage: 100 });
    expect(r.objectives[0]!.inputs.map((i) => i.contribution)).toEqual([null, 36, 21, 18]);
    // 85 × 30 ÷ 100 = 25.5, 52.9 × 20 ÷ 100 = 10.58, 87.5 × 50 ÷ 100 = 43.75 → 79.83 → 79.8
    // (to one decimal the contributions would read 25.5 + 10.6 + 43.8 = 79.9: two decimals keep the column honest)
    const sets = computeReadiness(def([SETS]), {
      scores: { post2: 85 },
      retention: { c: { answered: 17, correct: 9 } },
      results: { call: { values: { appointments: 7 }, targets: { appointments: 8 }, confirmed: true } },
    })!.objectives[0]!;
    expect(sets.inputs.map((i) => [i.value, i.contribution])).toEqual([
      [85, 25.5],
      [52.9, 10.58],
      [87.5, 43.75],
    ]);
    expect(sets.score).toBe(79.8);
    for (const o of [sets, ...computeReadiness(def(), EVIDENCE)!.objectives]) {
      const sum = o.inputs.reduce((s, i) => s + (i.contribution ?? 0), 0);
      expect(Math.round(sum * 10) / 10).toBe(o.score);
    }
  });

  it('has no score without weighted evidence: the pre-test alone (weight 0) does not make one', () => {
    const r = computeReadiness(def(), { scores: { pre: 45 }, retention: {}, results: {} })!;
    expect(r.objectives.map((o) => [o.score, o.coverage, o.growth])).toEqual([
      [null, 0, null],
      [null, 0, null],
    ]);
    expect(r.score).toBeNull();
  });

  it('measures results against the target, capped at 100%, and counts a logged 0', () => {
    const over = computeReadiness(def([SETS]), { scores: {}, retention: {}, results: { call: { values: { appointments: 11 }, targets: { appointments: 8 }, confirmed: true } } })!;
    expect(over.objectives[0]!.inputs[2]).toMatchObject({ value: 100, detail: '11 of 8 appointments' });
    const none = computeReadiness(def([SETS]), { scores: {}, retention: {}, results: { call: { values: { appointments: 0 }, targets: { appointments: 8 }, confirmed: true } } })!;
    expect(none.objectives[0]).toMatchObject({ score: 0, coverage: 50 });
    const missingField = computeReadiness(def([SETS]), { scores: {}, retention: {}, results: { call: { values: { calls: 10 }, targets: { appointments: 8 }, confirmed: true } } })!;
    expect(missingField.objectives[0]!.inputs[2]).toMatchObject({ value: null, detail: 'not logged yet' });
  });

  it('shows growth as post-test minus pre-test, even when it is negative', () => {
    const r = computeReadiness(def([KNOWS]), { scores: { pre: 80, post: 72.5 }, retention: {}, results: {} })!;
    expect(r.objectives[0]!.growth).toBe(-7.5);
    expect(r.objectives[0]!.score).toBe(72.5);
  });
});
