import { describe, expect, it } from 'vitest';
import { bucketIndex, DAY_BUCKETS, forgettingCurve, mostForgotten, recallOf, repsAtRisk, type RetentionAnswer } from '../../src/engine/retention.js';

const DAY = 86_400_000;
const now = new Date('2026-04-01T12:00:00Z');
const ago = (days: number) => new Date(now.getTime() - days * DAY);
const ans = (userId: string, cohort: string, moduleId: string, key: string, correct: boolean, daysAgo: number, daysSinceLearned: number): RetentionAnswer => ({
  userId,
  cohort,
  moduleId,
  key,
  correct,
  at: ago(daysAgo),
  daysSinceLearned,
});

// ---- the hand-worked example ----------------------------------------------------------------------
//
//  #  rep cohort module key   right  days ago  days since learning → bucket
//  1  a   North  m1     b.q1  yes    40        0   → 0–1
//  2  a   North  m1     b.q1  yes    35        5   → 4–7
//  3  a   North  m1     b.q2  no     20        20  → 15–30
//  4  a   North  m1     b.q2  no     10        30  → 15–30
//  5  a   North  m2     b.q3  no     5         2   → 2–3
//  6  b   South  m1     b.q1  yes    25        1   → 0–1
//  7  b   South  m1     b.q2  yes    24        3   → 2–3
//  8  b   South  m2     b.q3  no     20        8   → 8–14
//  9  b   South  m2     b.q3  yes    16        14  → 8–14
// 10  c   —      m1     b.q1  no     3         61  → 61+
// 11  c   —      m1     b.q2  yes    2         75  → 61+
// 12  c   —      m2     b.q3  yes    1         4   → 4–7
// 13  c   —      m2     b.q3  no     0.5       7   → 4–7
// 14  d   North  m1     b.q1  yes    50        31  → 31–60
// 15  d   North  m1     b.q2  no     45        60  → 31–60
// 16–20 e North  m2     b.q4  yes yes yes no no  10 9 8 7 6   15 → 15–30
// 21  f   South  m2     b.q4  no     4         16  → 15–30
// 22  f   South  m2     b.q4  no     3         29  → 15–30
//
// Overall per bucket (right/answered): 0–1 2/2 (#1 #6) · 2–3 1/2 (#5 #7) · 4–7 2/3 (#2 #12 #13) ·
//   8–14 1/2 (#8 #9) · 15–30 3/9 (#3 #4 #16–20 #21 #22) · 31–60 1/2 (#14 #15) · 61+ 1/2 (#10 #11);
//   all 11/22.
// m1 (#1–4, 6, 7, 10, 11, 14, 15): 2/2 · 1/1 · 1/1 · 0/0 · 0/2 · 1/2 · 1/2 = 6/10
// m2 (#5, 8, 9, 12, 13, 16–22):    0/0 · 0/1 · 1/2 · 1/2 · 3/7 · 0/0 · 0/0 = 5/12
// North (a, d, e): 1/1 · 0/1 · 1/1 · 0/0 · 3/7 · 1/2 · 0/0 = 6/12
// South (b, f):    1/1 · 1/1 · 0/0 · 1/2 · 0/2 · 0/0 · 0/0 = 3/6
// no cohort (c):   0/0 · 0/0 · 1/2 · 0/0 · 0/0 · 0/0 · 1/2 = 2/4
//
// Items: b.q1 #1 #2 #6 #10 #14 = 4/5 · b.q2 #3 #4 #7 #11 #15 = 2/5 · b.q3 #5 #8 #9 #12 #13 = 2/5 ·
//   b.q4 #16–22 = 3/7 (0.4286).
//
// Reps, as of now (window: the last 30 days; 3 answers at least; below 60%; silent 14 days):
//   a: #3 #4 #5 → 0/3 = 0%, last 5 days ago → low recall
//   b: #6–9 → 3/4 = 75%, last 16 days ago → inactive
//   c: #10–13 → 2/4 = 50%, last half a day ago → low recall
//   d: nothing in 30 days, last 45 days ago → inactive
//   e: 3/5 = 60% exactly → not below; f: 2 answers only → not judged; neither silent → not at risk
const answers: RetentionAnswer[] = [
  ans('a', 'North', 'm1', 'b.q1', true, 40, 0),
  ans('a', 'North', 'm1', 'b.q1', true, 35, 5),
  ans('a', 'North', 'm1', 'b.q2', false, 20, 20),
  ans('a', 'North', 'm1', 'b.q2', false, 10, 30),
  ans('a', 'North', 'm2', 'b.q3', false, 5, 2),
  ans('b', 'South', 'm1', 'b.q1', true, 25, 1),
  ans('b', 'South', 'm1', 'b.q2', true, 24, 3),
  ans('b', 'South', 'm2', 'b.q3', false, 20, 8),
  ans('b', 'South', 'm2', 'b.q3', true, 16, 14),
  ans('c', '', 'm1', 'b.q1', false, 3, 61),
  ans('c', '', 'm1', 'b.q2', true, 2, 75),
  ans('c', '', 'm2', 'b.q3', true, 1, 4),
  ans('c', '', 'm2', 'b.q3', false, 0.5, 7),
  ans('d', 'North', 'm1', 'b.q1', true, 50, 31),
  ans('d', 'North', 'm1', 'b.q2', false, 45, 60),
  ans('e', 'North', 'm2', 'b.q4', true, 10, 15),
  ans('e', 'North', 'm2', 'b.q4', true, 9, 15),
  ans('e', 'North', 'm2', 'b.q4', true, 8, 15),
  ans('e', 'North', 'm2', 'b.q4', false, 7, 15),
  ans('e', 'North', 'm2', 'b.q4', false, 6, 15),
  ans('f', 'South', 'm2', 'b.q4', false, 4, 16),
  ans('f', 'South', 'm2', 'b.q4', false, 3, 29),
];

/** [right, answered] per bucket */
const counts = (s: { points: { correct: number; answered: number }[] }) => s.points.map((p) => [p.correct, p.answered]);

describe('day buckets', () => {
  it('are 0–1, 2–3, 4–7, 8–14, 15–30, 31–60 and 61+ days', () => {
    expect(DAY_BUCKETS.map((b) => b.label)).toEqual(['0–1', '2–3', '4–7', '8–14', '15–30', '31–60', '61+']);
  });

  it('take each day at both edges of a bucket, part days as the whole day before, negatives as day 0', () => {
    const cases: [number, number | null][] = [
      [0, 0], [1, 0], [1.9, 0], [2, 1], [3, 1], [4, 2], [7, 2], [8, 3], [14, 3], [15, 4], [30, 4], [31, 5], [60, 5], [61, 6], [400, 6],
      [-2, 0], [Number.NaN, null], [Number.POSITIVE_INFINITY, null],
    ];
    for (const [days, bucket] of cases) expect(bucketIndex(days), String(days)).toBe(bucket);
  });

  it('recall is right ÷ answered, none without answers', () => {
    expect(recallOf(3, 4)).toBe(0.75);
    expect(recallOf(0, 0)).toBeNull();
  });
});

describe('forgetting curve', () => {
  const curve = forgettingCurve(answers);

  it('counts every answer once overall, in its bucket', () => {
    expect(counts(curve.overall)).toEqual([[2, 2], [1, 2], [2, 3], [1, 2], [3, 9], [1, 2], [1, 2]]);
    expect(curve.overall).toMatchObject({ id: 'overall', answered: 22, correct: 11, recall: 0.5 });
    expect(curve.overall.points.map((p) => p.recall)).toEqual([1, 0.5, 2 / 3, 0.5, 3 / 9, 0.5, 0.5]);
  });

  it('per module, with no recall where a module has no answers', () => {
    const [m1, m2] = curve.byModule;
    expect(curve.byModule.map((s) => s.id)).toEqual(['m1', 'm2']);
    expect(counts(m1!)).toEqual([[2, 2], [1, 1], [1, 1], [0, 0], [0, 2], [1, 2], [1, 2]]);
    expect(m1!.points[3]!.recall).toBeNull();
    expect(m1).toMatchObject({ answered: 10, correct: 6, recall: 0.6 });
    expect(counts(m2!)).toEqual([[0, 0], [0, 1], [1, 2], [1, 2], [3, 7], [0, 0], [0, 0]]);
    expect(m2).toMatchObject({ answered: 12, correct: 5 });
    expect(m2!.recall).toBeCloseTo(5 / 12, 10);
  });

  it('per cohort, sorted by name with reps without a cohort last', () => {
    expect(curve.byCohort.map((s) => s.id)).toEqual(['North', 'South', '']);
    const [north, south, none] = curve.byCohort;
    expect(counts(north!)).toEqual([[1, 1], [0, 1], [1, 1], [0, 0], [3, 7], [1, 2], [0, 0]]);
    expect(north).toMatchObject({ answered: 12, correct: 6, recall: 0.5 });
    expect(counts(south!)).toEqual([[1, 1], [1, 1], [0, 0], [1, 2], [0, 2], [0, 0], [0, 0]]);
    expect(south).toMatchObject({ answered: 6, correct: 3, recall: 0.5 });
    expect(counts(none!)).toEqual([[0, 0], [0, 0], [1, 2], [0, 0], [0, 0], [0, 0], [1, 2]]);
    expect(none).toMatchObject({ answered: 4, correct: 2, recall: 0.5 });
  });

  it('adds up: the modules and the cohorts each make the overall figures', () => {
    for (const groups of [curve.byModule, curve.byCohort]) {
      DAY_BUCKETS.forEach((_, i) => {
        expect(groups.reduce((n, s) => n + s.points[i]!.answered, 0)).toBe(curve.overall.points[i]!.answered);
        expect(groups.reduce((n, s) => n + s.points[i]!.correct, 0)).toBe(curve.overall.points[i]!.correct);
      });
    }
  });

  it('is empty without answers, and leaves out an answer whose days since learning is not a number', () => {
    const empty = forgettingCurve([]);
    expect(empty.overall).toMatchObject({ answered: 0, correct: 0, recall: null });
    expect(empty.overall.points).toHaveLength(7);
    expect(empty.byModule).toEqual([]);
    const skipped = forgettingCurve([ans('a', '', 'm1', 'b.q1', true, 1, Number.NaN), ans('a', '', 'm1', 'b.q1', false, 1, -1)]);
    expect(skipped.overall).toMatchObject({ answered: 1, correct: 0 });
    expect(counts(skipped.overall)[0]).toEqual([0, 1]);
  });
});

describe('most forgotten items', () => {
  it('lists recall per question, lowest first (ties by key when the counts are equal)', () => {
    const items = mostForgotten(answers);
    expect(items.map((i) => [i.key, i.moduleId, i.correct, i.answered])).toEqual([
      ['b.q2', 'm1', 2, 5],
      ['b.q3', 'm2', 2, 5],
      ['b.q4', 'm2', 3, 7],
      ['b.q1', 'm1', 4, 5],
    ]);
    expect(items.map((i) => i.recall)).toEqual([0.4, 0.4, 3 / 7, 0.8]);
  });

  it('leaves out items with fewer answers than the minimum, and keeps the top N', () => {
    expect(mostForgotten(answers, { minAnswers: 6 }).map((i) => i.key)).toEqual(['b.q4']);
    expect(mostForgotten(answers, { limit: 2 }).map((i) => i.key)).toEqual(['b.q2', 'b.q3']);
    // by default: at least 3 answers, at most 10 items
    const many = Array.from({ length: 12 }, (_, k) => [0, 1, 2].map((n) => ans('a', '', 'm1', `b.x${String(k).padStart(2, '0')}`, n < k % 3, n, 1))).flat();
    many.push(ans('a', '', 'm1', 'b.two', false, 1, 1), ans('a', '', 'm1', 'b.two', false, 1, 1));
    const top = mostForgotten(many);
    expect(top).toHaveLength(10);
    expect(top.map((i) => i.key)).not.toContain('b.two');
  });

  it('puts the item with more answers first when recall ties', () => {
    const tie = [
      ...[true, false].map((c) => ans('a', '', 'm1', 'b.few', c, 1, 1)),
      ...[true, false, true, false].map((c) => ans('a', '', 'm1', 'b.many', c, 1, 1)),
    ];
    expect(mostForgotten(tie, { minAnswers: 2 }).map((i) => i.key)).toEqual(['b.many', 'b.few']);
  });

  it("names the module of the item's latest answer", () => {
    const moved = [ans('a', '', 'old', 'b.q', true, 10, 1), ans('a', '', 'new', 'b.q', false, 2, 1), ans('a', '', 'old', 'b.q', false, 5, 1)];
    expect(mostForgotten(moved)[0]).toMatchObject({ key: 'b.q', moduleId: 'new', answered: 3, correct: 1 });
  });
});

describe('reps at risk', () => {
  it('flags low recent recall and silence, with the reasons, worst first', () => {
    const reps = repsAtRisk(answers, { now });
    expect(reps.map((r) => [r.userId, r.reasons, r.recentCorrect, r.recentAnswered, r.daysSinceLastAnswer])).toEqual([
      ['a', ['low_recall'], 0, 3, 5],
      ['c', ['low_recall'], 2, 4, 0],
      ['b', ['inactive'], 3, 4, 16],
      ['d', ['inactive'], 0, 0, 45],
    ]);
    expect(reps.find((r) => r.userId === 'c')!.recentRecall).toBe(0.5);
    expect(reps.find((r) => r.userId === 'd')!.recentRecall).toBeNull();
    expect(reps.find((r) => r.userId === 'b')!.lastAnsweredAt).toEqual(ago(16));
  });

  it('does not flag recall exactly at the threshold, nor recall over fewer answers than the minimum', () => {
    const reps = repsAtRisk(answers, { now }).map((r) => r.userId);
    expect(reps).not.toContain('e'); // 3 of 5 = 60%
    expect(reps).not.toContain('f'); // 0 of 2
    expect(repsAtRisk(answers, { now, threshold: 0.61 }).map((r) => r.userId)).toContain('e');
    expect(repsAtRisk(answers, { now, minAnswers: 2 }).map((r) => r.userId)).toContain('f');
  });

  it('counts the window and the silence from its edges: 30 days back is in, 14 days quiet is inactive', () => {
    const edge = [ans('g', '', 'm1', 'b.q1', false, 30, 1), ans('g', '', 'm1', 'b.q1', false, 29, 1), ans('g', '', 'm1', 'b.q1', false, 14, 1)];
    expect(repsAtRisk(edge, { now })).toEqual([
      { userId: 'g', recentAnswered: 3, recentCorrect: 0, recentRecall: 0, lastAnsweredAt: ago(14), daysSinceLastAnswer: 14, reasons: ['low_recall', 'inactive'] },
    ]);
    const older = [ans('h', '', 'm1', 'b.q1', false, 30.01, 1), ans('h', '', 'm1', 'b.q1', false, 29, 1), ans('h', '', 'm1', 'b.q1', false, 13.9, 1)];
    expect(repsAtRisk(older, { now })).toEqual([]);
  });

  it('puts a rep with both reasons first, and ignores answers after now', () => {
    const both = [ans('g', '', 'm1', 'b.q1', false, 20, 1), ans('g', '', 'm1', 'b.q1', false, 18, 1), ans('g', '', 'm1', 'b.q1', false, 15, 1)];
    expect(repsAtRisk([...answers, ...both], { now })[0]).toMatchObject({ userId: 'g', reasons: ['low_recall', 'inactive'] });
    const future = [ans('a', '', 'm1', 'b.q1', true, -3, 1)];
    expect(repsAtRisk([...answers, ...future], { now }).find((r) => r.userId === 'a')!.daysSinceLastAnswer).toBe(5);
  });

  it('takes the window, minimum, threshold and silence as options', () => {
    // a 10-day window: a has #4 #5 (0/2, too few), c 2/4, e 3/5; b and d are still silent
    const reps = repsAtRisk(answers, { now, windowDays: 10, inactiveDays: 20 });
    expect(reps.map((r) => [r.userId, r.reasons])).toEqual([
      ['c', ['low_recall']],
      ['d', ['inactive']],
    ]);
  });
});
