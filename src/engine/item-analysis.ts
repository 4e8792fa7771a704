/**
 * Trainer analytics for one assessment: how scores spread, how many attempts reps need to pass,
 * what a course adds (pre → post), and item analysis — which questions are too easy, too hard, or
 * fail to separate reps who know the material from those who don't. Pure: records in, numbers out.
 *
 * Pass in the attempts you mean to analyse. For item statistics, first attempts (firstAttempts)
 * are the cleaner sample: retakes are by reps who already saw the feedback, which inflates p.
 */

export interface ItemResponse {
  /** for a scenario's nested question, the nested question's id */
  questionId: string;
  /** 0 to 1 */
  credit: number;
  /** choice: the bank's ORIGINAL option indexes chosen; numeric: the number; null: not answered */
  chosen: number[] | number | null;
}

export interface AttemptRecord {
  attemptId: string;
  userId: string;
  cohort?: string;
  /** 0–100 */
  percent: number;
  passed: boolean;
  /** 1 for the rep's first attempt */
  attemptNumber: number;
  items: ItemResponse[];
}

/** What item analysis needs from a bank question (the engine's Question is one); scenarios are flattened. */
export interface AnalysedQuestion {
  id: string;
  type: string;
  prompt?: string;
  options?: { text: string; correct: boolean }[];
  questions?: AnalysedQuestion[];
}

// ---- scores ---------------------------------------------------------------------------------------

export interface ScoreBand {
  /** from ≤ percent < to; the last band also holds 100 */
  from: number;
  to: number;
  count: number;
}

/** Counts per band of equal width: with 10 bins, 0–9.9, 10–19.9, …, 90–100. */
export function scoreDistribution(attempts: Pick<AttemptRecord, 'percent'>[], bins = 10): ScoreBand[] {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`Not a positive whole number of bins: ${bins}`);
  const bands = Array.from({ length: bins }, (_, i) => ({ from: (i * 100) / bins, to: ((i + 1) * 100) / bins, count: 0 }));
  for (const { percent } of attempts) {
    // The epsilon keeps a score exactly on a boundary (30 with 10 bins) in the band it starts.
    const i = Math.min(bins - 1, Math.max(0, Math.floor((percent * bins) / 100 + 1e-9)));
    (bands[i] as ScoreBand).count++;
  }
  return bands;
}

/** Passed attempts over all attempts given; percent rounded to one decimal, null when there are none. */
export function passRate(attempts: Pick<AttemptRecord, 'passed'>[]): { passed: number; total: number; percent: number | null } {
  const passed = attempts.filter((a) => a.passed).length;
  return { passed, total: attempts.length, percent: attempts.length === 0 ? null : round((passed / attempts.length) * 100, 1) };
}

export interface MasteryByUser {
  userId: string;
  cohort: string | null;
  attempts: number;
  /** the attempt number of the first pass; null: not passed yet */
  passedOn: number | null;
}

/**
 * Per rep, the attempt on which they first passed. The median is over the reps who passed (the
 * others have no number yet; `neverPassed` counts them), null when nobody has.
 */
export function attemptsToMastery(attempts: AttemptRecord[]): { users: MasteryByUser[]; passed: number; neverPassed: number; median: number | null } {
  const byUser = new Map<string, AttemptRecord[]>();
  for (const a of attempts) push(byUser, a.userId, a);
  const users = [...byUser].map(([userId, own]): MasteryByUser => {
    const inOrder = [...own].sort((a, b) => a.attemptNumber - b.attemptNumber);
    return { userId, cohort: cohortOf(inOrder), attempts: own.length, passedOn: inOrder.find((a) => a.passed)?.attemptNumber ?? null };
  });
  const passedOn = users.map((u) => u.passedOn).filter((n): n is number => n !== null);
  return { users, passed: passedOn.length, neverPassed: users.length - passedOn.length, median: median(passedOn) };
}

// ---- pre → post ---------------------------------------------------------------------------------

export interface ScoreRecord {
  userId: string;
  cohort?: string;
  percent: number;
}

export interface RepGain {
  userId: string;
  cohort: string | null;
  pre: number;
  post: number;
  /** post − pre, in points */
  gain: number;
  /** Hake's normalized gain: (post − pre) ÷ (100 − pre), the share of what there was to learn; null when pre was 100 */
  normalizedGain: number | null;
}

export interface GroupGain {
  /** null: reps without a cohort (or everyone, for `overall`) */
  cohort: string | null;
  reps: number;
  pre: number;
  post: number;
  gain: number;
  /** from the group's averages, as Hake defines the class gain */
  normalizedGain: number | null;
}

/**
 * What the course added: per rep, the first pre-test (the rep before any teaching) against the best
 * post-test, only for reps with both; then per cohort and overall, averages rounded to one decimal.
 * Records are in submission order.
 */
export function gains(pre: ScoreRecord[], post: ScoreRecord[]): { reps: RepGain[]; cohorts: GroupGain[]; overall: GroupGain | null } {
  const firstPre = new Map<string, ScoreRecord>();
  for (const r of pre) if (!firstPre.has(r.userId)) firstPre.set(r.userId, r);
  const bestPost = new Map<string, ScoreRecord>();
  for (const r of post) {
    const best = bestPost.get(r.userId);
    if (!best || r.percent > best.percent) bestPost.set(r.userId, r);
  }
  const reps: RepGain[] = [];
  for (const [userId, after] of bestPost) {
    const before = firstPre.get(userId);
    if (!before) continue;
    const cohort = after.cohort ?? before.cohort ?? null;
    reps.push({ userId, cohort, pre: before.percent, post: after.percent, gain: round(after.percent - before.percent, 1), normalizedGain: hake(before.percent, after.percent) });
  }
  const cohortIds = [...new Set(reps.map((r) => r.cohort))];
  return { reps, cohorts: cohortIds.map((c) => groupGain(c, reps.filter((r) => r.cohort === c))), overall: reps.length === 0 ? null : groupGain(null, reps) };
}

function groupGain(cohort: string | null, reps: RepGain[]): GroupGain {
  const pre = mean(reps.map((r) => r.pre)) as number;
  const post = mean(reps.map((r) => r.post)) as number;
  return { cohort, reps: reps.length, pre: round(pre, 1), post: round(post, 1), gain: round(post - pre, 1), normalizedGain: hake(pre, post) };
}

function hake(pre: number, post: number): number | null {
  return pre >= 100 ? null : round((post - pre) / (100 - pre), 3);
}

// ---- item analysis ------------------------------------------------------------------------------

export const ITEM_FLAGS = ['too_easy', 'too_hard', 'negative_discrimination', 'low_discrimination', 'too_few_responses'] as const;
export type ItemFlag = (typeof ITEM_FLAGS)[number];

/** Below this many responses, p and r are noise: the only flag is too_few_responses. */
export const MIN_RESPONSES = 5;

export interface OptionStatistics {
  /** the bank's original option index */
  index: number;
  text: string | null;
  correct: boolean | null;
  /** responses that chose it */
  count: number;
  /** count ÷ n (for multiple-select the proportions add up to more than 1) */
  proportion: number | null;
  /**
   * the mean rest score (0–1) of the reps who chose it: a wrong option that the strong reps choose
   * more than the right one is usually a second right answer or a trick question
   */
  meanRest: number | null;
}

export interface ItemStatistics {
  questionId: string;
  /** null: answered in attempts but not in the questions given (e.g. removed in a later version) */
  type: string | null;
  prompt: string | null;
  /** responses: attempts in which the question was presented */
  n: number;
  /** presented but not answered (counted as 0 credit) */
  omitted: number;
  /** p: mean credit, 0–1 (higher is easier); null when n is 0 */
  difficulty: number | null;
  /** corrected item–total (rest-score) correlation, −1 to 1; null when undefined */
  discrimination: number | null;
  /** choice questions, by original index */
  options: OptionStatistics[];
  flags: ItemFlag[];
}

/**
 * Classical item statistics per question: every question given (scenarios flattened into their
 * nested questions), then any question answered in the attempts but not given.
 *
 * Difficulty p is the mean credit. Discrimination is the Pearson correlation between the item's
 * credit, used as is, and the rest score. With 0/1 credits that IS the point-biserial
 * (M1 − M0) / s · √(pq); keeping partial credit as is (rather than cutting it to 0/1) keeps the
 * information in a half-right multiple-select answer instead of calling it wrong.
 *
 * The rest score is the attempt's mean credit on its OTHER items (total − this item, ÷ items − 1):
 * the item is taken out so it does not correlate with itself (the corrected item–total
 * correlation), and it is a mean rather than a sum because random draws give attempts of different
 * lengths. When every attempt has the same number of items the mean is the sum ÷ a constant, and
 * the correlation is the same as with the raw rest score. Attempts with a single item have no rest
 * score and count for p only.
 */
export function itemStatistics(attempts: Pick<AttemptRecord, 'items'>[], questions: AnalysedQuestion[]): ItemStatistics[] {
  const known = flatten(questions);
  const observations = new Map<string, Observation[]>();
  for (const attempt of attempts) {
    const total = attempt.items.reduce((sum, i) => sum + i.credit, 0);
    const others = attempt.items.length - 1;
    for (const item of attempt.items) {
      const rest = others > 0 ? (total - item.credit) / others : null;
      push(observations, item.questionId, { credit: item.credit, chosen: item.chosen, rest });
    }
  }
  const ids = [...new Set([...known.keys(), ...observations.keys()])];
  return ids.map((id) => itemStats(id, known.get(id) ?? null, observations.get(id) ?? []));
}

interface Observation {
  credit: number;
  chosen: ItemResponse['chosen'];
  rest: number | null;
}

/** id → question, scenarios replaced by their nested questions (those are what reps answer). */
function flatten(questions: AnalysedQuestion[]): Map<string, AnalysedQuestion> {
  return new Map(questions.flatMap((q) => (q.type === 'scenario' ? (q.questions ?? []) : [q])).map((q) => [q.id, q]));
}

function itemStats(questionId: string, question: AnalysedQuestion | null, obs: Observation[]): ItemStatistics {
  const n = obs.length;
  const difficulty = mean(obs.map((o) => o.credit));
  const paired = obs.filter((o): o is Observation & { rest: number } => o.rest !== null);
  const discrimination = pearson(
    paired.map((o) => o.credit),
    paired.map((o) => o.rest),
  );
  return {
    questionId,
    type: question?.type ?? null,
    prompt: question?.prompt ?? null,
    n,
    omitted: obs.filter((o) => o.chosen === null).length,
    difficulty,
    discrimination,
    options: optionStats(question, obs),
    flags: flagsFor(n, difficulty, discrimination),
  };
}

function optionStats(question: AnalysedQuestion | null, obs: Observation[]): OptionStatistics[] {
  if (question?.type === 'numeric') return [];
  const chosenOf = (o: Observation): number[] => (Array.isArray(o.chosen) ? o.chosen : typeof o.chosen === 'number' ? [o.chosen] : []);
  // A question we no longer have: show the options that were chosen, by index.
  const count = question?.options?.length ?? Math.max(0, ...obs.flatMap((o) => chosenOf(o).map((i) => i + 1)));
  return Array.from({ length: count }, (_, index): OptionStatistics => {
    const choosers = obs.filter((o) => chosenOf(o).includes(index));
    const option = question?.options?.[index];
    return {
      index,
      text: option?.text ?? null,
      correct: option?.correct ?? null,
      count: choosers.length,
      proportion: obs.length === 0 ? null : choosers.length / obs.length,
      meanRest: mean(choosers.map((o) => o.rest).filter((r): r is number => r !== null)),
    };
  });
}

function flagsFor(n: number, p: number | null, r: number | null): ItemFlag[] {
  if (n < MIN_RESPONSES || p === null) return ['too_few_responses'];
  const flags: ItemFlag[] = [];
  if (p > 0.9) flags.push('too_easy');
  if (p < 0.2) flags.push('too_hard');
  if (r !== null && r < 0) flags.push('negative_discrimination');
  if (r !== null && r >= 0 && r < 0.2) flags.push('low_discrimination');
  return flags;
}

/** Each rep's lowest-numbered attempt: the sample least distorted by feedback from earlier tries. */
export function firstAttempts<T extends Pick<AttemptRecord, 'userId' | 'attemptNumber'>>(attempts: T[]): T[] {
  const first = new Map<string, T>();
  for (const a of attempts) {
    const seen = first.get(a.userId);
    if (!seen || a.attemptNumber < seen.attemptNumber) first.set(a.userId, a);
  }
  return [...first.values()];
}

// ---- numbers ------------------------------------------------------------------------------------

/**
 * Pearson's r with population moments; null when either side has no variance (everyone got the item
 * right, or every rest score is the same): the correlation is undefined, not 0. Values within
 * floating-point noise of 0 are 0, so a truly flat item is not flagged as negative.
 */
export function pearson(xs: number[], ys: number[]): number | null {
  const mx = mean(xs);
  const my = mean(ys);
  if (mx === null || my === null || xs.length !== ys.length) return null;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    const dx = x - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  });
  if (sxx < 1e-12 || syy < 1e-12) return null;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.abs(r) < 1e-12 ? 0 : Math.max(-1, Math.min(1, r));
}

function mean(xs: number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Half away from zero, so a gain of −2.25 and one of 2.25 round alike; the epsilon undoes binary noise. */
function round(n: number, decimals: number): number {
  const f = 10 ** decimals;
  return (Math.sign(n) * Math.round(Math.abs(n) * f + 1e-9)) / f + 0;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A rep's cohort: the one on their latest record (records in order) that has one. */
function cohortOf(records: { cohort?: string }[]): string | null {
  return [...records].reverse().find((r) => r.cohort !== undefined)?.cohort ?? null;
}
