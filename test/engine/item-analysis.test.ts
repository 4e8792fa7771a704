import { describe, expect, it } from 'vitest';
import {
  attemptsToMastery,
  firstAttempts,
  gains,
  itemStatistics,
  passRate,
  pearson,
  scoreDistribution,
  type AnalysedQuestion,
  type AttemptRecord,
  type ItemResponse,
} from '../../src/engine/item-analysis.js';

/** An attempt from item credits; chosen: the right option (0) when credited, else option 1. */
function attempt(userId: string, credits: Record<string, number>, over: Partial<AttemptRecord> = {}): AttemptRecord {
  const items: ItemResponse[] = Object.entries(credits).map(([questionId, credit]) => ({ questionId, credit, chosen: credit === 1 ? [0] : [1] }));
  const percent = (items.reduce((s, i) => s + i.credit, 0) / items.length) * 100;
  return { attemptId: `${userId}-1`, userId, percent, passed: percent >= 80, attemptNumber: 1, items, ...over };
}

const single = (id: string, options = 3): AnalysedQuestion => ({ id, type: 'single', prompt: id, options: Array.from({ length: options }, (_, i) => ({ text: `${id}${i}`, correct: i === 0 })) });

// ---- the hand-worked example ----------------------------------------------------------------------
//
// Six reps, four single-choice items (1 right, 0 wrong); total = sum; rest = total − the item.
//
//        A  B  C  D   total
//   u1   1  1  1  1     4
//   u2   1  1  1  0     3
//   u3   1  1  0  0     2
//   u4   1  0  1  0     2
//   u5   1  0  0  0     1
//   u6   0  0  0  1     1
//
// Point-biserial r = (M1 − M0) / s · √(p·q), M1/M0 the mean rest score of those right/wrong,
// s the population SD of the rest scores.
//
// A: p = 5/6 = 0.833. rest = [3, 2, 1, 1, 0, 1]. M1 = (3+2+1+1+0)/5 = 1.4, M0 = 1.
//    mean rest = 8/6 = 1.3333; mean of squares = (9+4+1+1+0+1)/6 = 2.6667; var = 2.6667 − 1.7778
//    = 0.8889, s = 0.9428. √(pq) = √(5/36) = 0.3727. r = 0.4 / 0.9428 × 0.3727 = 0.158 → low.
// B: p = 3/6 = 0.5. rest = [3, 2, 1, 2, 1, 1]. M1 = (3+2+1)/3 = 2, M0 = (2+1+1)/3 = 1.3333.
//    mean = 10/6 = 1.6667; mean of squares = 20/6 = 3.3333; var = 3.3333 − 2.7778 = 0.5556,
//    s = 0.7454. √(pq) = 0.5. r = 0.6667 / 0.7454 × 0.5 = 0.447.
// C: p = 0.5. rest = [3, 2, 2, 1, 1, 1]. M1 = (3+2+1)/3 = 2, M0 = (2+1+1)/3 = 1.3333; the same
//    mean and SD as B, so r = 0.447.
// D: p = 2/6 = 0.333. rest = [3, 3, 2, 2, 1, 0]. M1 = (3+0)/2 = 1.5, M0 = (3+2+2+1)/4 = 2.
//    mean = 11/6 = 1.8333; mean of squares = 27/6 = 4.5; var = 4.5 − 3.3611 = 1.1389,
//    s = 1.0672. √(pq) = √(2/9) = 0.4714. r = −0.5 / 1.0672 × 0.4714 = −0.221 → negative.
//
// (The implementation uses the mean of the other items, rest ÷ 3 here: dividing by a constant
// does not change a correlation, so the figures are the same.)

const TABLE: [string, number, number, number, number][] = [
  ['u1', 1, 1, 1, 1],
  ['u2', 1, 1, 1, 0],
  ['u3', 1, 1, 0, 0],
  ['u4', 1, 0, 1, 0],
  ['u5', 1, 0, 0, 0],
  ['u6', 0, 0, 0, 1],
];
const HAND = TABLE.map(([u, A, B, C, D]) => attempt(u, { A, B, C, D }));
const QUESTIONS = [single('A'), single('B', 2), single('C', 2), single('D', 2)];

describe('itemStatistics: the hand-worked example', () => {
  const stats = Object.fromEntries(itemStatistics(HAND, QUESTIONS).map((s) => [s.questionId, s]));

  it('computes difficulty p as the mean credit', () => {
    expect(stats.A?.difficulty).toBeCloseTo(0.833, 3);
    expect(stats.B?.difficulty).toBeCloseTo(0.5, 3);
    expect(stats.C?.difficulty).toBeCloseTo(0.5, 3);
    expect(stats.D?.difficulty).toBeCloseTo(0.333, 3);
    expect(stats.A?.n).toBe(6);
  });

  it('computes the rest-score point-biserial', () => {
    expect(stats.A?.discrimination).toBeCloseTo(0.158, 3);
    expect(stats.B?.discrimination).toBeCloseTo(0.447, 3);
    expect(stats.C?.discrimination).toBeCloseTo(0.447, 3);
    expect(stats.D?.discrimination).toBeCloseTo(-0.221, 3);
  });

  it('flags the weak items', () => {
    expect(stats.A?.flags).toEqual(['low_discrimination']);
    expect(stats.B?.flags).toEqual([]);
    expect(stats.C?.flags).toEqual([]);
    expect(stats.D?.flags).toEqual(['negative_discrimination']);
  });

  it('counts option choices by original index, with the mean rest score of who chose them', () => {
    // A: u1–u5 chose option 0 (right), u6 chose option 1; rest as a mean of the other 3 items
    expect(stats.A?.options).toEqual([
      { index: 0, text: 'A0', correct: true, count: 5, proportion: 5 / 6, meanRest: expect.closeTo(1.4 / 3, 10) },
      { index: 1, text: 'A1', correct: false, count: 1, proportion: 1 / 6, meanRest: expect.closeTo(1 / 3, 10) },
      { index: 2, text: 'A2', correct: false, count: 0, proportion: 0, meanRest: null },
    ]);
    expect(stats.A?.omitted).toBe(0);
  });

  it('agrees with the Pearson correlation of credit and rest score', () => {
    // B: credits [1,1,1,0,0,0], rest [3,2,1,2,1,1]
    expect(pearson([1, 1, 1, 0, 0, 0], [3, 2, 1, 2, 1, 1])).toBeCloseTo(0.447, 3);
    expect(pearson([1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1])).toBeNull();
    expect(pearson([], [])).toBeNull();
  });
});

describe('itemStatistics: a planted bad question', () => {
  // The four strongest reps get BAD wrong, the four weakest get it right.
  //        Q1 Q2 Q3 Q4 | BAD
  const rows: [string, number[]][] = [
    ['r1', [1, 1, 1, 1, 0]],
    ['r2', [1, 1, 1, 1, 0]],
    ['r3', [1, 1, 1, 0, 0]],
    ['r4', [1, 1, 0, 1, 0]],
    ['r5', [1, 0, 1, 0, 1]],
    ['r6', [0, 1, 0, 0, 1]],
    ['r7', [1, 0, 0, 0, 1]],
    ['r8', [0, 0, 0, 0, 1]],
  ];
  const attempts = rows.map(([u, [q1, q2, q3, q4, bad]]) => attempt(u, { Q1: q1 as number, Q2: q2 as number, Q3: q3 as number, Q4: q4 as number, BAD: bad as number }));
  const stats = itemStatistics(attempts, ['Q1', 'Q2', 'Q3', 'Q4', 'BAD'].map((id) => single(id, 2)));

  it('flags it negative_discrimination, and only it', () => {
    const bad = stats.find((s) => s.questionId === 'BAD');
    expect(bad?.discrimination).toBeCloseTo(-0.898, 3);
    expect(bad?.flags).toEqual(['negative_discrimination']);
    // its wrong option is the strong reps' choice
    const [right, wrong] = bad?.options ?? [];
    expect((wrong?.meanRest ?? 0) > (right?.meanRest ?? 1)).toBe(true);
    expect(stats.filter((s) => s.flags.includes('negative_discrimination')).map((s) => s.questionId)).toEqual(['BAD']);
  });
});

describe('itemStatistics: edge cases', () => {
  it('flags too easy and too hard, with no discrimination when there is no variance', () => {
    const attempts = ['a', 'b', 'c', 'd', 'e'].map((u, i) => attempt(u, { EASY: 1, HARD: 0, MID: i % 2 }));
    const stats = Object.fromEntries(itemStatistics(attempts, [single('EASY'), single('HARD'), single('MID')]).map((s) => [s.questionId, s]));
    expect(stats.EASY).toMatchObject({ difficulty: 1, discrimination: null, flags: ['too_easy'] });
    expect(stats.HARD).toMatchObject({ difficulty: 0, discrimination: null, flags: ['too_hard'] });
  });

  it('only flags too_few_responses under five responses', () => {
    const stats = itemStatistics(HAND.slice(0, 4), QUESTIONS);
    expect(stats.every((s) => s.n === 4 && s.flags.length === 1 && s.flags[0] === 'too_few_responses')).toBe(true);
    const unseen = itemStatistics([], [single('X')])[0];
    expect(unseen).toMatchObject({ questionId: 'X', n: 0, difficulty: null, discrimination: null, flags: ['too_few_responses'] });
    expect(unseen?.options.map((o) => o.proportion)).toEqual([null, null, null]);
  });

  it('uses the mean of the other items as the rest score, so random draws of different lengths compare', () => {
    // X's rest: t1 1/1 = 1; t2 (0+1)/2 = 0.5; t3 (0+0)/2 = 0; t4 0/1 = 0.
    // M1 = (1+0)/2 = 0.5, M0 = (0.5+0)/2 = 0.25; mean 0.375, var = (1+0.25)/4 − 0.140625 = 0.171875,
    // s = 0.41458; r = 0.25 / 0.41458 × 0.5 = 0.302. (Raw sums [1,1,0,0] would say 0.)
    const attempts = [attempt('t1', { X: 1, Y: 1 }), attempt('t2', { X: 0, Y: 0, Z: 1 }), attempt('t3', { X: 1, Y: 0, Z: 0 }), attempt('t4', { X: 0, Y: 0 }), attempt('t5', { X: 1 })];
    const x = itemStatistics(attempts, [single('X')]).find((s) => s.questionId === 'X');
    expect(x?.discrimination).toBeCloseTo(0.302, 3);
    // t5 had X alone: no rest score, but it counts for p
    expect(x?.n).toBe(5);
    expect(x?.difficulty).toBeCloseTo(0.6, 3);
  });

  it('uses partial credit as is', () => {
    const credits = [1, 0.5, 0.5, 0, 1];
    const others = [[1, 1], [1, 0], [0, 1], [0, 0], [1, 1]];
    const attempts = credits.map((c, i) => attempt(`p${i}`, { M: c, O1: others[i]?.[0] ?? 0, O2: others[i]?.[1] ?? 0 }));
    const m = itemStatistics(attempts, [{ id: 'M', type: 'multiple', prompt: 'M', options: [] }]).find((s) => s.questionId === 'M');
    expect(m?.difficulty).toBeCloseTo(0.6, 3);
    expect(m?.discrimination).toBeCloseTo(pearson(credits, [1, 0.5, 0.5, 0, 1]) as number, 10);
  });

  it('flattens scenarios, counts omissions, and reports questions no longer in the bank', () => {
    const scenario: AnalysedQuestion = { id: 'S', type: 'scenario', questions: [single('S1', 2), { id: 'S2', type: 'numeric', prompt: 'n' }] };
    const attempts: AttemptRecord[] = ['a', 'b'].map((u, i) => ({
      attemptId: u,
      userId: u,
      percent: 50,
      passed: false,
      attemptNumber: 1,
      items: [
        { questionId: 'S1', credit: i, chosen: i === 0 ? null : [0] },
        { questionId: 'S2', credit: 1, chosen: 42 },
        { questionId: 'OLD', credit: 0, chosen: [3] },
      ],
    }));
    const stats = itemStatistics(attempts, [scenario]);
    expect(stats.map((s) => s.questionId)).toEqual(['S1', 'S2', 'OLD']);
    expect(stats[0]).toMatchObject({ n: 2, omitted: 1, difficulty: 0.5 });
    expect(stats[1]?.options).toEqual([]);
    expect(stats[2]).toMatchObject({ type: null, prompt: null });
    expect(stats[2]?.options.map((o) => o.count)).toEqual([0, 0, 0, 2]);
  });
});

// ---- scores -------------------------------------------------------------------------------------

describe('scoreDistribution', () => {
  const at = (percent: number) => ({ percent });

  it('counts per 10-point band, 100 in the last', () => {
    const bands = scoreDistribution([0, 9.9, 10, 55, 89.9, 90, 100].map(at));
    expect(bands.map((b) => b.count)).toEqual([2, 1, 0, 0, 0, 1, 0, 0, 1, 2]);
    expect(bands[0]).toEqual({ from: 0, to: 10, count: 2 });
    expect(bands[9]).toEqual({ from: 90, to: 100, count: 2 });
  });

  it('takes another number of bins', () => {
    expect(scoreDistribution([0, 25, 49.9, 50, 74.9, 75, 100].map(at), 4).map((b) => [b.from, b.to, b.count])).toEqual([
      [0, 25, 1],
      [25, 50, 2],
      [50, 75, 2],
      [75, 100, 2],
    ]);
    expect(() => scoreDistribution([], 0)).toThrow(RangeError);
  });
});

describe('passRate', () => {
  it('is passed over total, as a percent with one decimal', () => {
    const p = (flags: boolean[]) => passRate(flags.map((passed) => ({ passed })));
    expect(p([true, false, false, true, false, true, false])).toEqual({ passed: 3, total: 7, percent: 42.9 });
    expect(p([true, true, false])).toEqual({ passed: 2, total: 3, percent: 66.7 });
    expect(p([])).toEqual({ passed: 0, total: 0, percent: null });
  });
});

describe('attemptsToMastery', () => {
  const a = (userId: string, attemptNumber: number, passed: boolean, cohort?: string): AttemptRecord => ({
    attemptId: `${userId}-${attemptNumber}`,
    userId,
    attemptNumber,
    passed,
    percent: passed ? 90 : 50,
    items: [],
    ...(cohort ? { cohort } : {}),
  });

  it('finds the attempt of the first pass per rep, counts who never passed and takes the median', () => {
    const result = attemptsToMastery([a('ann', 1, false, 'fall'), a('ann', 2, true, 'fall'), a('bob', 1, true), a('cy', 1, false), a('cy', 2, false), a('cy', 3, false), a('dee', 3, true), a('dee', 1, false), a('dee', 2, false), a('dee', 4, true)]);
    expect(result.users).toEqual([
      { userId: 'ann', cohort: 'fall', attempts: 2, passedOn: 2 },
      { userId: 'bob', cohort: null, attempts: 1, passedOn: 1 },
      { userId: 'cy', cohort: null, attempts: 3, passedOn: null },
      { userId: 'dee', cohort: null, attempts: 4, passedOn: 3 },
    ]);
    expect(result).toMatchObject({ passed: 3, neverPassed: 1, median: 2 }); // median of 2, 1, 3
  });

  it('averages the middle two for an even count and is null when nobody passed', () => {
    expect(attemptsToMastery([a('a', 2, true), a('b', 1, true), a('c', 3, true), a('d', 1, true)]).median).toBe(1.5);
    expect(attemptsToMastery([a('a', 1, false)]).median).toBeNull();
  });

  it('takes each rep’s first attempt for item analysis', () => {
    expect(firstAttempts([a('x', 2, true), a('x', 1, false), a('y', 1, true)]).map((r) => r.attemptId)).toEqual(['x-1', 'y-1']);
  });
});

describe('gains', () => {
  it('compares the first pre-test with the best post-test, per rep and per cohort, for reps with both', () => {
    const pre = [
      { userId: 'u1', cohort: 'fall', percent: 40 },
      { userId: 'u1', cohort: 'fall', percent: 60 }, // a second pre-test: not the rep before teaching
      { userId: 'u2', cohort: 'fall', percent: 50 },
      { userId: 'u3', cohort: 'fall', percent: 70 }, // no post-test
      { userId: 'u4', cohort: 'spring', percent: 20 },
    ];
    const post = [
      { userId: 'u1', cohort: 'fall', percent: 70 },
      { userId: 'u1', cohort: 'fall', percent: 90 },
      { userId: 'u2', cohort: 'fall', percent: 45 },
      { userId: 'u4', cohort: 'spring', percent: 80 },
      { userId: 'u5', cohort: 'spring', percent: 90 }, // no pre-test
    ];
    const result = gains(pre, post);
    expect(result.reps).toEqual([
      { userId: 'u1', cohort: 'fall', pre: 40, post: 90, gain: 50, normalizedGain: 0.833 }, // 50 / 60
      { userId: 'u2', cohort: 'fall', pre: 50, post: 45, gain: -5, normalizedGain: -0.1 }, // −5 / 50
      { userId: 'u4', cohort: 'spring', pre: 20, post: 80, gain: 60, normalizedGain: 0.75 }, // 60 / 80
    ]);
    expect(result.cohorts).toEqual([
      // fall: pre (40+50)/2 = 45, post (90+45)/2 = 67.5, gain 22.5, g = 22.5 / 55 = 0.409
      { cohort: 'fall', reps: 2, pre: 45, post: 67.5, gain: 22.5, normalizedGain: 0.409 },
      { cohort: 'spring', reps: 1, pre: 20, post: 80, gain: 60, normalizedGain: 0.75 },
    ]);
    // overall: pre 110/3 = 36.67, post 215/3 = 71.67, gain 35, g = 35 / 63.33 = 0.553
    expect(result.overall).toEqual({ cohort: null, reps: 3, pre: 36.7, post: 71.7, gain: 35, normalizedGain: 0.553 });
  });

  it('has nothing to say without reps who took both', () => {
    expect(gains([{ userId: 'a', percent: 10 }], [{ userId: 'b', percent: 90 }])).toEqual({ reps: [], cohorts: [], overall: null });
    expect(gains([{ userId: 'a', percent: 100 }], [{ userId: 'a', percent: 100 }]).reps[0]).toMatchObject({ cohort: null, gain: 0, normalizedGain: null });
  });
});
