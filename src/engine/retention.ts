/**
 * Retention analytics, the pure part: what reinforcement answers say about what reps keep.
 *
 * - the forgetting curve: recall (right ÷ answered) by how long after learning the question was
 *   answered, overall, per module and per cohort;
 * - the most forgotten items: the questions with the lowest recall (enough answers only);
 * - reps at risk: low recall over their recent answers, or no answers for a while.
 *
 * Answers come in as plain records (one per answered reinforcement question), the clock as an
 * argument; no I/O.
 */

const DAY = 86_400_000;

/** One answered reinforcement question: the fields of `reinforcement_answers` the analytics read. */
export interface RetentionAnswer {
  userId: string;
  /** '' when the rep's enrollment has no cohort */
  cohort: string;
  moduleId: string;
  /** `<bank>.<question id>` */
  key: string;
  correct: boolean;
  at: Date;
  /** whole days from learning the module to answering: the forgetting curve's x */
  daysSinceLearned: number;
}

export interface DayBucket {
  /** first day in the bucket */
  from: number;
  /** last day in the bucket; null: open-ended */
  to: number | null;
  /** "0–1", "61+" */
  label: string;
}

/** The forgetting curve's x axis: days since learning, in widening buckets. */
export const DAY_BUCKETS: readonly DayBucket[] = [
  { from: 0, to: 1, label: '0–1' },
  { from: 2, to: 3, label: '2–3' },
  { from: 4, to: 7, label: '4–7' },
  { from: 8, to: 14, label: '8–14' },
  { from: 15, to: 30, label: '15–30' },
  { from: 31, to: 60, label: '31–60' },
  { from: 61, to: null, label: '61+' },
];

/**
 * The bucket a number of days since learning falls in (its index in DAY_BUCKETS). Part days count
 * as the whole days before them; a negative value (a clock skew between learning and answering)
 * counts as day 0; null for a value that is not a number.
 */
export function bucketIndex(days: number): number | null {
  if (typeof days !== 'number' || !Number.isFinite(days)) return null;
  const d = Math.max(0, Math.floor(days));
  const i = DAY_BUCKETS.findIndex((b) => d >= b.from && (b.to === null || d <= b.to));
  return i < 0 ? null : i;
}

/** correct ÷ answered; null without answers. */
export const recallOf = (correct: number, answered: number): number | null => (answered > 0 ? correct / answered : null);

export interface CurvePoint {
  bucket: DayBucket;
  answered: number;
  correct: number;
  /** correct ÷ answered, 0–1; null: no answers in this bucket */
  recall: number | null;
}

export interface CurveSeries {
  /** the module id, the cohort ('' for reps without one), or 'overall' */
  id: string;
  /** one point per DAY_BUCKETS entry, in order */
  points: CurvePoint[];
  /** every answer of the series, whatever its bucket */
  answered: number;
  correct: number;
  recall: number | null;
}

export interface ForgettingCurve {
  overall: CurveSeries;
  /** per module, in order of first appearance unless the caller sorts them */
  byModule: CurveSeries[];
  /** per cohort, sorted by name ('' — no cohort — last) */
  byCohort: CurveSeries[];
}

function emptySeries(id: string): CurveSeries {
  return { id, points: DAY_BUCKETS.map((bucket) => ({ bucket, answered: 0, correct: 0, recall: null })), answered: 0, correct: 0, recall: null };
}

function add(series: CurveSeries, bucket: number, correct: boolean): void {
  const p = series.points[bucket]!;
  p.answered++;
  series.answered++;
  if (correct) {
    p.correct++;
    series.correct++;
  }
}

function finish(series: CurveSeries): CurveSeries {
  for (const p of series.points) p.recall = recallOf(p.correct, p.answered);
  series.recall = recallOf(series.correct, series.answered);
  return series;
}

/**
 * Recall by days-since-learning bucket, overall and per module and per cohort. An answer whose
 * days since learning is not a number is left out of every series.
 */
export function forgettingCurve(answers: readonly RetentionAnswer[]): ForgettingCurve {
  const overall = emptySeries('overall');
  const modules = new Map<string, CurveSeries>();
  const cohorts = new Map<string, CurveSeries>();
  const seriesOf = (map: Map<string, CurveSeries>, id: string) => {
    let s = map.get(id);
    if (!s) map.set(id, (s = emptySeries(id)));
    return s;
  };
  for (const a of answers) {
    const b = bucketIndex(a.daysSinceLearned);
    if (b === null) continue;
    add(overall, b, a.correct);
    add(seriesOf(modules, a.moduleId), b, a.correct);
    add(seriesOf(cohorts, a.cohort ?? ''), b, a.correct);
  }
  const byCohort = [...cohorts.values()].sort((x, y) => (x.id === '' ? 1 : y.id === '' ? -1 : x.id.localeCompare(y.id)));
  return { overall: finish(overall), byModule: [...modules.values()].map(finish), byCohort: byCohort.map(finish) };
}

export interface ItemRecall {
  key: string;
  /** the module of the item's latest answer (a question belongs to one module) */
  moduleId: string;
  answered: number;
  correct: number;
  recall: number;
}

export interface ForgottenOptions {
  /** items with fewer answers are left out: their recall says little yet (default 3) */
  minAnswers?: number;
  /** how many to return (default 10) */
  limit?: number;
}

export const DEFAULT_MIN_ITEM_ANSWERS = 3;
export const DEFAULT_ITEM_LIMIT = 10;

/**
 * The questions reps forget most: recall per question key, lowest first (ties: more answers first —
 * the better evidence — then by key), only items with at least `minAnswers` answers.
 */
export function mostForgotten(answers: readonly RetentionAnswer[], options: ForgottenOptions = {}): ItemRecall[] {
  const minAnswers = options.minAnswers ?? DEFAULT_MIN_ITEM_ANSWERS;
  const limit = options.limit ?? DEFAULT_ITEM_LIMIT;
  const items = new Map<string, { key: string; moduleId: string; latest: number; answered: number; correct: number }>();
  for (const a of answers) {
    let item = items.get(a.key);
    if (!item) items.set(a.key, (item = { key: a.key, moduleId: a.moduleId, latest: -Infinity, answered: 0, correct: 0 }));
    item.answered++;
    if (a.correct) item.correct++;
    const at = new Date(a.at).getTime();
    if (at >= item.latest) {
      item.latest = at;
      item.moduleId = a.moduleId;
    }
  }
  return [...items.values()]
    .filter((i) => i.answered >= minAnswers)
    .map(({ key, moduleId, answered, correct }) => ({ key, moduleId, answered, correct, recall: correct / answered }))
    .sort((x, y) => x.recall - y.recall || y.answered - x.answered || x.key.localeCompare(y.key))
    .slice(0, Math.max(0, limit));
}

export type RiskReason = 'low_recall' | 'inactive';

export interface RepRisk {
  userId: string;
  /** answers in the recent window (from `windowDays` days before `now` up to `now`) */
  recentAnswered: number;
  recentCorrect: number;
  /** recall over the recent window; null without recent answers */
  recentRecall: number | null;
  lastAnsweredAt: Date;
  /** whole days from the last answer to `now` */
  daysSinceLastAnswer: number;
  reasons: RiskReason[];
}

export interface RiskOptions {
  now: Date;
  /** the recent window, in days before `now` (default 30) */
  windowDays?: number;
  /** recall is judged on at least this many recent answers (default 3) */
  minAnswers?: number;
  /** recall below this (0–1) puts a rep at risk (default 0.6) */
  threshold?: number;
  /** no answer for this many days (or more), after answering before, puts a rep at risk (default 14) */
  inactiveDays?: number;
}

export const RISK_DEFAULTS = { windowDays: 30, minAnswers: 3, threshold: 0.6, inactiveDays: 14 } as const;

/**
 * Reps whose recent recall is below the threshold (over at least `minAnswers` answers in the
 * window), or who answered before but nothing for `inactiveDays` days — with the reasons.
 * Answers after `now` are not looked at. Worst first: both reasons before one, then the lowest
 * recent recall (reps without enough recent answers after those with), then the longest silence.
 */
export function repsAtRisk(answers: readonly RetentionAnswer[], options: RiskOptions): RepRisk[] {
  const windowDays = options.windowDays ?? RISK_DEFAULTS.windowDays;
  const minAnswers = options.minAnswers ?? RISK_DEFAULTS.minAnswers;
  const threshold = options.threshold ?? RISK_DEFAULTS.threshold;
  const inactiveDays = options.inactiveDays ?? RISK_DEFAULTS.inactiveDays;
  const now = options.now.getTime();
  const windowStart = now - windowDays * DAY;

  const reps = new Map<string, { last: number; answered: number; correct: number }>();
  for (const a of answers) {
    const at = new Date(a.at).getTime();
    if (!Number.isFinite(at) || at > now) continue;
    let r = reps.get(a.userId);
    if (!r) reps.set(a.userId, (r = { last: -Infinity, answered: 0, correct: 0 }));
    if (at > r.last) r.last = at;
    if (at >= windowStart) {
      r.answered++;
      if (a.correct) r.correct++;
    }
  }

  const out: RepRisk[] = [];
  for (const [userId, r] of reps) {
    const recentRecall = recallOf(r.correct, r.answered);
    const reasons: RiskReason[] = [];
    if (r.answered >= minAnswers && recentRecall !== null && recentRecall < threshold) reasons.push('low_recall');
    if (now - r.last >= inactiveDays * DAY) reasons.push('inactive');
    if (!reasons.length) continue;
    out.push({
      userId,
      recentAnswered: r.answered,
      recentCorrect: r.correct,
      recentRecall,
      lastAnsweredAt: new Date(r.last),
      daysSinceLastAnswer: Math.floor((now - r.last) / DAY),
      reasons,
    });
  }
  // the recall a rep is ranked by: only when judged on enough answers
  const rank = (r: RepRisk) => (r.recentAnswered >= minAnswers && r.recentRecall !== null ? r.recentRecall : Infinity);
  const byRank = (x: RepRisk, y: RepRisk) => (rank(x) === rank(y) ? 0 : rank(x) < rank(y) ? -1 : 1);
  return out.sort((x, y) => y.reasons.length - x.reasons.length || byRank(x, y) || y.daysSinceLastAnswer - x.daysSinceLastAnswer || x.userId.localeCompare(y.userId));
}
