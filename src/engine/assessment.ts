import type { FieldProblem } from '../errors.js';
import type { AssessmentDef, AssessmentPool, ScorePolicy } from './curriculum.js';

/**
 * Assessments: drawing an attempt from question banks, what the rep may see before and after
 * submitting, scoring, test-out, score policies and the attempt window. Pure: the seed and the
 * clock come in as arguments, so the same inputs always give the same attempt and the same score.
 *
 * The answer key never leaves the server. An attempt is stored as a DrawnAttempt (which questions,
 * in which order, options in which order) and everything the rep sees is rebuilt from it and the
 * bank: presentForRep copies the presentable fields one by one into new objects, so a field added to
 * the bank later (or `correct`, `feedback`, `answer`, `tolerance`) cannot ride along by accident.
 *
 * Option positions: the rep answers with positions in the order the options were presented
 * (0, 1, 2 …). They reveal nothing, because the presented order is drawn without looking at which
 * option is correct. Scores record what was chosen in the bank's original option indexes, which is
 * what item analysis counts.
 */

// ---- questions (structurally what src/content/schema.ts parses a bank into) ----------------------

export interface ChoiceOption {
  text: string;
  correct: boolean;
  feedback?: string;
}

export interface ChoiceQuestion {
  id: string;
  type: 'single' | 'multiple' | 'truefalse';
  prompt: string;
  tags: string[];
  module?: string;
  options: ChoiceOption[];
  feedback?: string;
}

export interface NumericQuestion {
  id: string;
  type: 'numeric';
  prompt: string;
  answer: number;
  /** a response within this distance of `answer` is correct */
  tolerance: number;
  unit?: string;
  tags: string[];
  module?: string;
  feedback?: string;
}

export type SimpleQuestion = ChoiceQuestion | NumericQuestion;

export interface ScenarioQuestion {
  id: string;
  type: 'scenario';
  case: string;
  prompt?: string;
  tags: string[];
  module?: string;
  /** each one is its own item: answered, scored and analysed on its own */
  questions: SimpleQuestion[];
}

export type Question = SimpleQuestion | ScenarioQuestion;

/** bank id → the bank's questions */
export type Banks = Record<string, { questions: Question[] }>;

// ---- drawing ------------------------------------------------------------------------------------

export interface DrawnPart {
  questionId: string;
  /** the bank's option indexes in the order they are presented; [] for numeric */
  optionOrder: number[];
}

export interface DrawnItem {
  /** index of the pool in the assessment's `pools` */
  pool: number;
  bankId: string;
  questionId: string;
  /** the bank's option indexes in the order they are presented; [] for numeric and scenario */
  optionOrder: number[];
  /** scenario only: one per nested question, in the bank's order */
  parts?: DrawnPart[];
}

export interface DrawnAttempt {
  /** in the order they are presented */
  items: DrawnItem[];
  /** per pool: how many it asked for and how many it got (fewer when the bank ran short) */
  pools: { bank: string; wanted: number; drawn: number }[];
}

export interface DrawSettings {
  pools: AssessmentPool[];
  shuffleQuestions: boolean;
  shuffleOptions: boolean;
}

/**
 * A fresh set of questions for one attempt. Each pool draws from its bank's questions carrying one
 * of its tags (all of them when it names none), skipping any an earlier pool drew, so two pools on
 * overlapping tags never ask the same question twice. A pool that asks for more than is left gets
 * what is left, and `pools` says so.
 *
 * Every random choice has its own stream derived from the seed (per pool, per question's options,
 * the final order), so the option order of a question does not change when a pool elsewhere draws
 * differently: the same seed gives the same attempt, always.
 */
export function drawAttempt(settings: DrawSettings, banks: Banks, seed: string): DrawnAttempt {
  const taken = new Set<string>();
  const items: DrawnItem[] = [];
  const pools: DrawnAttempt['pools'] = [];
  settings.pools.forEach((pool, index) => {
    const candidates = bankOf(banks, pool.bank)
      .questions.map((question, order) => ({ question, order }))
      .filter(({ question }) => matchesTags(question, pool.tags) && !taken.has(identity(pool.bank, question.id)));
    const wanted = pool.draw ?? candidates.length;
    const drawn = sample(candidates, Math.min(wanted, candidates.length), seededRandom(streamSeed(seed, 'pool', String(index))));
    // Unshuffled, a pool keeps the bank's order: authors often build questions up from easy to hard.
    drawn.sort((a, b) => a.order - b.order);
    for (const { question } of drawn) {
      taken.add(identity(pool.bank, question.id));
      items.push(drawItem(index, pool.bank, question, settings.shuffleOptions, seed));
    }
    pools.push({ bank: pool.bank, wanted, drawn: drawn.length });
  });
  return { items: settings.shuffleQuestions ? shuffled(items, seededRandom(streamSeed(seed, 'order'))) : items, pools };
}

/** Tags select top-level questions (a scenario by its own tags); no tags, or an empty list, selects all. */
function matchesTags(question: Question, tags: string[] | undefined): boolean {
  if (!tags || tags.length === 0) return true;
  return question.tags.some((tag) => tags.includes(tag));
}

function identity(bankId: string, questionId: string): string {
  return `${bankId}\u0000${questionId}`;
}

function drawItem(pool: number, bankId: string, question: Question, shuffleOptions: boolean, seed: string): DrawnItem {
  const order = (q: SimpleQuestion): number[] => optionOrder(q, shuffleOptions, seededRandom(streamSeed(seed, 'options', bankId, q.id)));
  if (question.type === 'scenario') {
    // The nested questions stay in the bank's order: they usually walk through the case step by step.
    const parts = question.questions.map((q) => ({ questionId: q.id, optionOrder: order(q) }));
    return { pool, bankId, questionId: question.id, optionOrder: [], parts };
  }
  return { pool, bankId, questionId: question.id, optionOrder: order(question) };
}

/** One question drawn on its own (a reinforcement delivery's): its option order from the seed. */
export function drawQuestion(bankId: string, question: Question, seed: string): DrawnAttempt {
  return { items: [drawItem(0, bankId, question, true, seed)], pools: [{ bank: bankId, wanted: 1, drawn: 1 }] };
}

/** True/false keeps its order ("True" then "False"): shuffling two options only makes reps misread them. */
function optionOrder(question: SimpleQuestion, shuffle: boolean, rng: () => number): number[] {
  if (question.type === 'numeric') return [];
  const identityOrder = question.options.map((_, i) => i);
  return shuffle && question.type !== 'truefalse' ? shuffled(identityOrder, rng) : identityOrder;
}

// ---- seeded randomness --------------------------------------------------------------------------

/**
 * A deterministic random stream in [0, 1) from a string seed: cyrb128 spreads the string into 128
 * bits of state and sfc32 generates from it. Not for secrets; for draws that must be reproducible.
 */
export function seededRandom(seed: string): () => number {
  let [a, b, c, d] = cyrb128(seed);
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** NUL cannot occur in ids, so ("a", "bc") and ("ab", "c") give different streams. */
function streamSeed(seed: string, ...path: string[]): string {
  return [seed, ...path].join('\u0000');
}

/** Fisher–Yates on a copy. */
function shuffled<T>(items: readonly T[], rng: () => number): T[] {
  return sample(items, items.length, rng);
}

/** k items without replacement, in the order drawn: a partial Fisher–Yates on a copy. */
function sample<T>(items: readonly T[], k: number, rng: () => number): T[] {
  const copy = [...items];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, k);
}

// ---- the drawn attempt joined with its banks ----------------------------------------------------

/** One answerable unit: a simple question, or one nested question of a scenario. */
interface Part {
  key: string;
  question: SimpleQuestion;
  /** the scenario it belongs to, if any */
  scenario: ScenarioQuestion | null;
  optionOrder: number[];
  item: DrawnItem;
}

interface Resolved {
  key: string;
  item: DrawnItem;
  question: Question;
  parts: Part[];
}

/**
 * The drawn items with their questions. A drawn attempt that no longer matches its banks (a question
 * gone, an option order that is not a permutation of the options) throws: scoring against the wrong
 * key would silently give reps the wrong marks. Enrollments stay on their content version, so this
 * is a bug, not something a rep can cause.
 */
function resolve(drawn: DrawnAttempt, banks: Banks): Resolved[] {
  const keys = itemKeys(drawn.items);
  return drawn.items.map((item, i) => {
    const key = keys[i] as string;
    const question = bankOf(banks, item.bankId).questions.find((q) => q.id === item.questionId);
    if (!question) throw new Error(`Drawn question ${item.questionId} is not in bank ${item.bankId}.`);
    if (question.type !== 'scenario') {
      return { key, item, question, parts: [{ key, question, scenario: null, optionOrder: checkedOrder(question, item.optionOrder), item }] };
    }
    const parts = question.questions.map((sub) => {
      const drawnPart = item.parts?.find((p) => p.questionId === sub.id);
      if (!drawnPart) throw new Error(`Drawn scenario ${question.id} has no option order for ${sub.id}.`);
      return { key: `${key}.${sub.id}`, question: sub, scenario: question, optionOrder: checkedOrder(sub, drawnPart.optionOrder), item };
    });
    return { key, item, question, parts };
  });
}

/**
 * Item keys are question ids. Ids are unique within a bank, not across banks, so when two pools on
 * different banks draw the same id, those items are keyed `<bankId>:<questionId>` instead (ids
 * never contain ':' or '.'). A scenario's nested questions are keyed `<scenario key>.<id>`.
 */
export function itemKeys(items: DrawnItem[]): string[] {
  const count = new Map<string, number>();
  for (const item of items) count.set(item.questionId, (count.get(item.questionId) ?? 0) + 1);
  return items.map((item) => ((count.get(item.questionId) ?? 0) > 1 ? `${item.bankId}:${item.questionId}` : item.questionId));
}

function checkedOrder(question: SimpleQuestion, order: number[]): number[] {
  const n = question.type === 'numeric' ? 0 : question.options.length;
  const isPermutation = order.length === n && new Set(order).size === n && order.every((i) => Number.isInteger(i) && i >= 0 && i < n);
  if (!isPermutation) throw new Error(`Drawn option order for ${question.id} does not match its ${n} options.`);
  return order;
}

function bankOf(banks: Banks, bankId: string): { questions: Question[] } {
  const bank = Object.hasOwn(banks, bankId) ? banks[bankId] : undefined;
  if (!bank) throw new Error(`Unknown question bank: ${bankId}`);
  return bank;
}

// ---- what the rep sees before submitting --------------------------------------------------------

export interface PresentedOption {
  /** the option's position as presented; the rep answers with it */
  position: number;
  text: string;
}

export interface PresentedChoice {
  key: string;
  type: 'single' | 'multiple' | 'truefalse';
  prompt: string;
  options: PresentedOption[];
}

export interface PresentedNumeric {
  key: string;
  type: 'numeric';
  prompt: string;
  unit: string | null;
}

export type PresentedPart = PresentedChoice | PresentedNumeric;

export interface PresentedScenario {
  key: string;
  type: 'scenario';
  case: string;
  prompt: string | null;
  parts: PresentedPart[];
}

export type PresentedItem = (PresentedPart | PresentedScenario) & { pool: number };

/**
 * What may go to the browser before submission. Built field by field from the non-secret fields:
 * no `correct`, no feedback, no answer or tolerance, no module or tags (a module name can hint at the
 * answer). The result depends only on the texts and the drawn order, never on which option is right.
 */
export function presentForRep(drawn: DrawnAttempt, banks: Banks): PresentedItem[] {
  return resolve(drawn, banks).map((r): PresentedItem => {
    if (r.question.type !== 'scenario') return { ...presentPart(r.parts[0] as Part), pool: r.item.pool };
    return { key: r.key, type: 'scenario', case: r.question.case, prompt: r.question.prompt ?? null, parts: r.parts.map(presentPart), pool: r.item.pool };
  });
}

function presentPart(part: Part): PresentedPart {
  const q = part.question;
  if (q.type === 'numeric') return { key: part.key, type: 'numeric', prompt: q.prompt, unit: q.unit ?? null };
  const options = part.optionOrder.map((index, position) => ({ position, text: (q.options[index] as ChoiceOption).text }));
  return { key: part.key, type: q.type, prompt: q.prompt, options };
}

// ---- answers ------------------------------------------------------------------------------------

/**
 * item key → the response: for choice questions the presented positions chosen (single and
 * true/false: exactly one), for numeric questions a number; null or absent: not answered.
 */
export type Answers = Record<string, number[] | number | null>;

type Response = { kind: 'choice'; positions: number[] } | { kind: 'numeric'; value: number } | null;

/**
 * Everything wrong with submitted answers, for a 422. Takes `unknown` values because the answers
 * come from a request body. Unanswered items are not a problem: a timed-out attempt is scored as it
 * stands.
 */
export function validateAnswers(drawn: DrawnAttempt, banks: Banks, answers: Record<string, unknown>): FieldProblem[] {
  const parts = new Map(resolve(drawn, banks).flatMap((r) => r.parts.map((p) => [p.key, p] as const)));
  const problems: FieldProblem[] = [];
  for (const [key, raw] of Object.entries(answers)) {
    const part = parts.get(key);
    const message = part ? readResponse(part.question, raw).problem : `There is no question ${key} in this attempt.`;
    if (message !== null) problems.push({ path: `answers.${key}`, message });
  }
  return problems;
}

function readResponse(question: SimpleQuestion, raw: unknown): { response: Response; problem: string | null } {
  const bad = (problem: string) => ({ response: null, problem });
  if (raw === null || raw === undefined) return { response: null, problem: null };
  if (question.type === 'numeric') {
    return typeof raw === 'number' && Number.isFinite(raw) ? { response: { kind: 'numeric', value: raw }, problem: null } : bad('Enter a number.');
  }
  if (!Array.isArray(raw)) return bad('Choose options by their positions (a list of numbers).');
  const n = question.options.length;
  for (const p of raw as unknown[]) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= n) return bad(`There is no option ${String(p)}: choose from 0 to ${n - 1}.`);
  }
  const positions = raw as number[];
  if (new Set(positions).size !== positions.length) return bad('Choose each option at most once.');
  if (question.type !== 'multiple' && positions.length !== 1) return bad('Choose exactly one option.');
  return { response: { kind: 'choice', positions }, problem: null };
}

// ---- scoring ------------------------------------------------------------------------------------

export interface ScoredItem {
  key: string;
  bankId: string;
  /** the question's id; for a scenario's nested question, the nested question's id */
  questionId: string;
  /** the scenario a nested question belongs to */
  scenarioId?: string;
  type: SimpleQuestion['type'];
  pool: number;
  /** 0 to 1 */
  credit: number;
  /** full credit */
  correct: boolean;
  /** choice: the bank's ORIGINAL option indexes chosen, ascending; numeric: the number; null: not answered */
  chosen: number[] | number | null;
  /** the module to review when missed (a nested question's own, else its scenario's) */
  module?: string;
  tags: string[];
}

export interface PoolScore {
  pool: number;
  earned: number;
  possible: number;
  /** 0–100, rounded down to one decimal */
  percent: number;
}

export interface AttemptScore {
  items: ScoredItem[];
  earned: number;
  possible: number;
  /** 0–100, rounded down to one decimal */
  percent: number;
  /** every pool of the assessment, also those that drew nothing */
  pools: PoolScore[];
}

/**
 * Every answerable unit is worth one point (a scenario's nested questions one each). Answers that
 * validateAnswers would reject earn nothing rather than throwing, so a malformed response can never
 * earn credit: single/true-false and numeric are right or wrong; multiple-select is all or nothing,
 * or with partial credit (right chosen − wrong chosen) ÷ right options, never below 0, so choosing
 * everything earns nothing.
 */
export function scoreAttempt(drawn: DrawnAttempt, banks: Banks, answers: Answers, opts: { partialCredit: boolean }): AttemptScore {
  const items = resolve(drawn, banks).flatMap((r) => r.parts.map((part) => scorePart(part, answerFor(answers, part.key), opts.partialCredit)));
  const pools = drawn.pools.map((_, pool) => ({ pool, ...totals(items.filter((i) => i.pool === pool)) }));
  return { items, ...totals(items), pools };
}

function answerFor(answers: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(answers, key) ? answers[key] : null;
}

function scorePart(part: Part, raw: unknown, partialCredit: boolean): ScoredItem {
  const q = part.question;
  const { response } = readResponse(q, raw);
  let credit = 0;
  let chosen: ScoredItem['chosen'] = null;
  if (q.type === 'numeric' && response?.kind === 'numeric') {
    chosen = response.value;
    credit = withinTolerance(response.value, q.answer, q.tolerance) ? 1 : 0;
  } else if (q.type !== 'numeric' && response?.kind === 'choice') {
    const indexes = response.positions.map((p) => part.optionOrder[p] as number).sort((a, b) => a - b);
    chosen = indexes;
    credit = choiceCredit(q, indexes, partialCredit);
  }
  const module = q.module ?? part.scenario?.module;
  const tags = [...new Set([...(part.scenario?.tags ?? []), ...q.tags])];
  return {
    key: part.key,
    bankId: part.item.bankId,
    questionId: q.id,
    ...(part.scenario ? { scenarioId: part.scenario.id } : {}),
    type: q.type,
    pool: part.item.pool,
    credit,
    correct: credit === 1,
    chosen,
    ...(module !== undefined ? { module } : {}),
    tags,
  };
}

/**
 * |x − answer| ≤ tolerance, with a hair of slack for binary floating point: 1.3 − 1.1 is
 * 0.20000000000000018, and a rep who typed exactly the edge of the tolerance is right.
 */
function withinTolerance(value: number, answer: number, tolerance: number): boolean {
  return Math.abs(value - answer) <= tolerance + 1e-9 * Math.max(1, Math.abs(answer));
}

function choiceCredit(q: ChoiceQuestion, chosen: number[], partialCredit: boolean): number {
  const rightChosen = chosen.filter((i) => q.options[i]?.correct).length;
  const wrongChosen = chosen.length - rightChosen;
  const right = q.options.filter((o) => o.correct).length;
  if (q.type !== 'multiple') return chosen.length === 1 && rightChosen === 1 ? 1 : 0;
  if (partialCredit && right > 0) return Math.max(0, (rightChosen - wrongChosen) / right);
  return rightChosen === right && wrongChosen === 0 ? 1 : 0;
}

function totals(items: { credit: number }[]): { earned: number; possible: number; percent: number } {
  const earned = items.reduce((sum, i) => sum + i.credit, 0);
  const possible = items.length;
  return { earned, possible, percent: possible === 0 ? 0 : tenthDown((earned / possible) * 100) };
}

/**
 * Rounded down to one decimal (79.96 → 79.9), so a score shown below the pass mark never passes and
 * one shown at it always does. The epsilon undoes binary noise (0.29 × 100 = 28.999999999999996).
 */
function tenthDown(n: number): number {
  return Math.floor(n * 10 + 1e-9) / 10;
}

// ---- after submitting ---------------------------------------------------------------------------

export interface ReviewOption {
  position: number;
  text: string;
  correct: boolean;
  chosen: boolean;
  feedback: string | null;
}

interface ReviewBase {
  key: string;
  prompt: string;
  credit: number;
  correct: boolean;
  /** explanation for the question as a whole */
  feedback: string | null;
  module: string | null;
}

export interface ReviewChoice extends ReviewBase {
  type: 'single' | 'multiple' | 'truefalse';
  /** in the order presented */
  options: ReviewOption[];
}

export interface ReviewNumeric extends ReviewBase {
  type: 'numeric';
  given: number | null;
  answer: number;
  tolerance: number;
  unit: string | null;
}

export type ReviewPart = ReviewChoice | ReviewNumeric;

export interface ReviewScenario {
  key: string;
  type: 'scenario';
  case: string;
  prompt: string | null;
  parts: ReviewPart[];
}

export type ReviewItem = (ReviewPart | ReviewScenario) & { pool: number };

/**
 * What the rep sees once the answers are revealed (the assessment's revealAnswers policy decides
 * when; this function does not): every option in the order presented, which were right, which the
 * rep chose, and why; for numeric questions the expected answer ± tolerance. Credit and the choices
 * come from the score, so the review always agrees with the marks, partial credit included.
 */
export function reviewAfterSubmit(drawn: DrawnAttempt, banks: Banks, score: AttemptScore): ReviewItem[] {
  const scored = new Map(score.items.map((i) => [i.key, i]));
  const reviewPart = (part: Part): ReviewPart => {
    const s = scored.get(part.key);
    if (!s) throw new Error(`The score has no item ${part.key}.`);
    const q = part.question;
    const base = { key: part.key, prompt: q.prompt, credit: s.credit, correct: s.correct, feedback: q.feedback ?? null, module: s.module ?? null };
    if (q.type === 'numeric') {
      return { ...base, type: 'numeric', given: typeof s.chosen === 'number' ? s.chosen : null, answer: q.answer, tolerance: q.tolerance, unit: q.unit ?? null };
    }
    const chosen = new Set(Array.isArray(s.chosen) ? s.chosen : []);
    const options = part.optionOrder.map((index, position) => {
      const o = q.options[index] as ChoiceOption;
      return { position, text: o.text, correct: o.correct, chosen: chosen.has(index), feedback: o.feedback ?? null };
    });
    return { ...base, type: q.type, options };
  };
  return resolve(drawn, banks).map((r): ReviewItem => {
    if (r.question.type !== 'scenario') return { ...reviewPart(r.parts[0] as Part), pool: r.item.pool };
    return { key: r.key, type: 'scenario', case: r.question.case, prompt: r.question.prompt ?? null, parts: r.parts.map(reviewPart), pool: r.item.pool };
  });
}

/** The modules to go back to: those of the items not fully right, each once, in the order first missed. */
export function modulesToReview(score: AttemptScore): string[] {
  const modules = score.items.filter((i) => !i.correct && i.module !== undefined).map((i) => i.module as string);
  return [...new Set(modules)];
}

// ---- pre-test, score policy ---------------------------------------------------------------------

/**
 * The modules a pre-test lets the rep test out of: each testOut section whose pool scored at or
 * above the threshold. A pool that drew nothing proves nothing, so it never tests anyone out.
 */
export function testOuts(def: AssessmentDef, score: AttemptScore): string[] {
  if (def.purpose !== 'pretest' || !def.testOut) return [];
  const modules = def.testOut
    .filter(({ pool }) => {
      const p = score.pools.find((s) => s.pool === pool);
      return p !== undefined && p.possible > 0 && p.percent >= def.threshold;
    })
    .flatMap(({ modules }) => modules);
  return [...new Set(modules)];
}

/**
 * The score that counts, over the submitted attempts' percents in submission order; null before the
 * first. The average is rounded down to one decimal like every score, so it never rounds up to a pass.
 */
export function policyScore(policy: ScorePolicy, percents: number[]): number | null {
  if (percents.length === 0) return null;
  switch (policy) {
    case 'best':
      return Math.max(...percents);
    case 'last':
      return percents[percents.length - 1] as number;
    case 'average':
      return tenthDown(percents.reduce((a, b) => a + b, 0) / percents.length);
  }
}

// ---- attempts over time -------------------------------------------------------------------------

export interface AttemptWindow {
  canStart: boolean;
  /** why not, one sentence for the rep */
  reason: string | null;
  /** ISO instant the cooldown ends, when that is what stands in the way */
  nextAt: string | null;
  /** null: unlimited */
  attemptsLeft: number | null;
}

/**
 * Whether the rep may start another attempt. Passing does not close the assessment: a rep may retake
 * it to improve (the service decides whether to offer it), within maxAttempts and the cooldown. The
 * cooldown counts from the latest submission.
 */
export function attemptWindow(opts: {
  maxAttempts: number | null;
  cooldownHours: number;
  /** ISO instants of the submitted attempts, in order */
  submittedAt: string[];
  now: string;
  passed: boolean;
}): AttemptWindow {
  const used = opts.submittedAt.length;
  const attemptsLeft = opts.maxAttempts === null ? null : Math.max(0, opts.maxAttempts - used);
  if (attemptsLeft === 0) {
    const all = opts.maxAttempts === 1 ? 'your only attempt' : `all ${opts.maxAttempts} attempts`;
    return { canStart: false, reason: `You have used ${all}.`, nextAt: null, attemptsLeft };
  }
  if (used > 0 && opts.cooldownHours > 0) {
    const last = Math.max(...opts.submittedAt.map(instantMs));
    const next = last + opts.cooldownHours * HOUR_MS;
    if (instantMs(opts.now) < next) {
      return { canStart: false, reason: `You can try again after ${momentLabel(next)}.`, nextAt: new Date(next).toISOString(), attemptsLeft };
    }
  }
  return { canStart: true, reason: null, nextAt: null, attemptsLeft };
}

/** When a timed attempt ends (ISO), or null without a time limit. */
export function deadline(startedAt: string, timeLimitMinutes: number | null): string | null {
  if (timeLimitMinutes === null) return null;
  return new Date(instantMs(startedAt) + timeLimitMinutes * MINUTE_MS).toISOString();
}

/**
 * Past the deadline: the server scores the attempt as it stands. An answer arriving exactly at the
 * deadline still counts; graceSeconds allows for the request's time on the wire.
 */
export function isExpired(startedAt: string, timeLimitMinutes: number | null, now: string, graceSeconds = 0): boolean {
  const end = deadline(startedAt, timeLimitMinutes);
  return end !== null && instantMs(now) > instantMs(end) + graceSeconds * 1000;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function instantMs(instant: string): number {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) throw new RangeError(`Not an ISO instant: ${instant}`);
  return ms;
}

/**
 * "Tue 12 Jan, 14:00 UTC": English and UTC, so it does not depend on the server's locale or zone.
 * Rounded up to the minute, so "after 14:00" is never a moment too early.
 */
function momentLabel(ms: number): string {
  const d = new Date(Math.ceil(ms / MINUTE_MS) * MINUTE_MS);
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}, ${hh}:${mm} UTC`;
}
