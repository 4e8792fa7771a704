import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { bankFile, type BankFile } from '../../src/content/schema.js';
import {
  attemptWindow,
  deadline,
  drawAttempt,
  isExpired,
  itemKeys,
  modulesToReview,
  policyScore,
  presentForRep,
  reviewAfterSubmit,
  scoreAttempt,
  seededRandom,
  testOuts,
  validateAnswers,
  type Answers,
  type Banks,
  type ChoiceQuestion,
  type DrawnAttempt,
  type DrawSettings,
  type Question,
  type ReviewChoice,
  type SimpleQuestion,
} from '../../src/engine/assessment.js';
import { ASSESSMENT_DEFAULTS, type AssessmentDef } from '../../src/engine/curriculum.js';

// ---- fixtures -------------------------------------------------------------------------------------
// Texts avoid the words the leak checks look for, so any hit in presented JSON is a leaked field.

const opt = (text: string, correct = false) => ({ text, correct, feedback: `why ${text}` });

const SALES: Question[] = [
  { id: 'q1', type: 'single', prompt: 'Goal of the call?', tags: ['calls'], module: 'calls', options: [opt('Brochure'), opt('Meeting', true), opt('Demo')], feedback: 'whole q1' },
  {
    id: 'q2',
    type: 'multiple',
    prompt: 'Strong opening parts?',
    tags: ['calls'],
    module: 'calls',
    options: [opt('Name', true), opt('Reason', true), opt('Permission', true), opt('How are you')],
  },
  { id: 'q3', type: 'truefalse', prompt: 'Ask early?', tags: ['ask'], module: 'ask', options: [opt('True'), opt('False', true)] },
  { id: 'q4', type: 'numeric', prompt: 'Conversion rate?', tags: ['ask'], module: 'ask', answer: 1.1, tolerance: 0.2, unit: '%', feedback: 'working' },
  {
    id: 's1',
    type: 'scenario',
    case: 'A VP calls back.',
    prompt: 'What next?',
    tags: ['case'],
    module: 'cases',
    questions: [
      { id: 's1a', type: 'single', prompt: 'First step?', tags: [], module: 'discovery', options: [opt('Pitch'), opt('Ask', true)] },
      { id: 's1b', type: 'numeric', prompt: 'Minutes to ask for?', tags: ['time'], answer: 30, tolerance: 0 },
    ],
  },
];

/** 20 single-choice questions tagged by remainder, for draws. */
const BIG: Question[] = Array.from({ length: 20 }, (_, i) => ({
  id: `b${i}`,
  type: 'single' as const,
  prompt: `Item ${i}`,
  tags: [`t${i % 3}`],
  options: [opt('x', true), opt('y'), opt('z'), opt('w')],
}));

const BANKS: Banks = { sales: { questions: SALES }, big: { questions: BIG } };
const ALL: DrawSettings = { pools: [{ bank: 'sales' }], shuffleQuestions: false, shuffleOptions: false };

/** The presented positions of an item's right options, read through the drawn order (what a perfect rep picks). */
function rightPositions(drawn: DrawnAttempt, banks: Banks, key: string): number[] {
  const review = reviewAfterSubmit(drawn, banks, scoreAttempt(drawn, banks, {}, { partialCredit: false }));
  const parts = review.flatMap((r) => (r.type === 'scenario' ? r.parts : [r]));
  const part = parts.find((p) => p.key === key) as ReviewChoice;
  return part.options.filter((o) => o.correct).map((o) => o.position);
}

function def(over: Partial<AssessmentDef>): AssessmentDef {
  return { ...ASSESSMENT_DEFAULTS, purpose: 'check', pools: [], threshold: 80, ...over };
}

// ---- types --------------------------------------------------------------------------------------

describe('question types', () => {
  it('accept what the bank schema parses', () => {
    const parsed: BankFile = bankFile.parse({
      id: 'b',
      title: 'B',
      questions: [
        { id: 'a', type: 'single', prompt: 'P', options: [{ text: 'x', correct: true }, { text: 'y' }] },
        { id: 'n', type: 'numeric', prompt: 'P', answer: 3 },
        { id: 's', type: 'scenario', case: 'C', questions: [{ id: 's1', type: 'truefalse', prompt: 'P', options: [{ text: 'True', correct: true }, { text: 'False' }] }] },
      ],
    });
    // The assignment is the test: it does not compile if the shapes drift apart.
    const questions: Question[] = parsed.questions;
    const drawn = drawAttempt({ ...ALL, pools: [{ bank: 'b' }] }, { b: { questions } }, 'seed');
    expect(scoreAttempt(drawn, { b: { questions } }, { a: [0], n: 3, 's.s1': [0] }, { partialCredit: false }).percent).toBe(100);
  });
});

// ---- drawing ------------------------------------------------------------------------------------

describe('drawAttempt', () => {
  const settings: DrawSettings = { pools: [{ bank: 'big', draw: 5 }], shuffleQuestions: true, shuffleOptions: true };

  it('gives the same attempt for the same seed', () => {
    expect(drawAttempt(settings, BANKS, 'attempt-1')).toEqual(drawAttempt(settings, BANKS, 'attempt-1'));
  });

  it('gives different attempts for different seeds (almost always)', () => {
    const draws = new Set(Array.from({ length: 20 }, (_, i) => JSON.stringify(drawAttempt(settings, BANKS, `attempt-${i}`))));
    expect(draws.size).toBeGreaterThanOrEqual(19);
  });

  it('draws pool sizes from tagged questions, never the same question twice across pools', () => {
    const drawn = drawAttempt(
      { pools: [{ bank: 'big', draw: 4, tags: ['t0'] }, { bank: 'big', draw: 3, tags: ['t0', 't1'] }, { bank: 'big', tags: ['t2'] }], shuffleQuestions: true, shuffleOptions: true },
      BANKS,
      'x',
    );
    const byPool = (p: number) => drawn.items.filter((i) => i.pool === p).map((i) => Number(i.questionId.slice(1)));
    expect(byPool(0)).toHaveLength(4);
    expect(byPool(0).every((n) => n % 3 === 0)).toBe(true);
    expect(byPool(1)).toHaveLength(3);
    expect(byPool(1).every((n) => n % 3 !== 2)).toBe(true);
    expect(byPool(2)).toHaveLength(6); // all of t2: 2, 5, 8, 11, 14, 17
    expect(new Set(drawn.items.map((i) => i.questionId)).size).toBe(drawn.items.length);
    expect(drawn.pools).toEqual([
      { bank: 'big', wanted: 4, drawn: 4 },
      { bank: 'big', wanted: 3, drawn: 3 },
      { bank: 'big', wanted: 6, drawn: 6 },
    ]);
  });

  it('draws what is left when an earlier pool took questions, and says so', () => {
    // t0 has 7 questions (0, 3, …, 18); pool 0 takes 5, pool 1 wants 4 of the same and gets 2.
    const drawn = drawAttempt({ pools: [{ bank: 'big', draw: 5, tags: ['t0'] }, { bank: 'big', draw: 4, tags: ['t0'] }], shuffleQuestions: false, shuffleOptions: false }, BANKS, 's');
    expect(drawn.pools[1]).toEqual({ bank: 'big', wanted: 4, drawn: 2 });
    expect(new Set(drawn.items.map((i) => i.questionId)).size).toBe(7);
  });

  it('keeps pool and bank order and identity option orders without shuffling', () => {
    const drawn = drawAttempt({ pools: [{ bank: 'sales', tags: ['ask'] }, { bank: 'sales', tags: ['calls', 'case'] }], shuffleQuestions: false, shuffleOptions: false }, BANKS, 's');
    expect(drawn.items.map((i) => [i.pool, i.questionId, i.optionOrder])).toEqual([
      [0, 'q3', [0, 1]],
      [0, 'q4', []],
      [1, 'q1', [0, 1, 2]],
      [1, 'q2', [0, 1, 2, 3]],
      [1, 's1', []],
    ]);
    expect(drawn.items[4]?.parts).toEqual([
      { questionId: 's1a', optionOrder: [0, 1] },
      { questionId: 's1b', optionOrder: [] },
    ]);
  });

  it('shuffles options into permutations, one per scenario part, and keeps true/false in order', () => {
    const orders = Array.from({ length: 30 }, (_, i) => drawAttempt({ ...ALL, shuffleOptions: true }, BANKS, `s${i}`));
    for (const drawn of orders) {
      const q2 = drawn.items.find((i) => i.questionId === 'q2');
      expect([...(q2?.optionOrder ?? [])].sort()).toEqual([0, 1, 2, 3]);
      expect(drawn.items.find((i) => i.questionId === 'q3')?.optionOrder).toEqual([0, 1]);
      expect(drawn.items.find((i) => i.questionId === 's1')?.parts?.map((p) => p.questionId)).toEqual(['s1a', 's1b']);
    }
    expect(new Set(orders.map((d) => d.items.find((i) => i.questionId === 'q2')?.optionOrder.join())).size).toBeGreaterThan(5);
  });

  it('shuffles question order across pools when asked', () => {
    const orders = new Set(Array.from({ length: 10 }, (_, i) => drawAttempt({ ...ALL, shuffleQuestions: true }, BANKS, `o${i}`).items.map((x) => x.questionId).join()));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('keys colliding ids from different banks by bank', () => {
    const banks: Banks = { a: { questions: [SALES[0] as Question] }, b: { questions: [SALES[0] as Question, SALES[2] as Question] } };
    const drawn = drawAttempt({ pools: [{ bank: 'a' }, { bank: 'b' }], shuffleQuestions: false, shuffleOptions: false }, banks, 's');
    expect(itemKeys(drawn.items)).toEqual(['a:q1', 'b:q1', 'q3']);
    const score = scoreAttempt(drawn, banks, { 'a:q1': [1], 'b:q1': [0], q3: [1] }, { partialCredit: false });
    expect(score.items.map((i) => [i.key, i.credit])).toEqual([
      ['a:q1', 1],
      ['b:q1', 0],
      ['q3', 1],
    ]);
  });

  it('throws on an unknown bank', () => {
    expect(() => drawAttempt({ ...ALL, pools: [{ bank: 'nope' }] }, BANKS, 's')).toThrow(/nope/);
  });

  it('has a seeded random stream in [0, 1)', () => {
    const a = seededRandom('x');
    const b = seededRandom('x');
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    // roughly uniform: each tenth gets 100 ± 40
    for (let d = 0; d < 10; d++) expect(Math.abs(xs.filter((x) => Math.floor(x * 10) === d).length - 100)).toBeLessThan(40);
  });
});

// ---- presentation -------------------------------------------------------------------------------

const SECRETS = ['correct', 'feedback', 'answer', 'tolerance'];

describe('presentForRep', () => {
  const drawn = drawAttempt({ ...ALL, shuffleOptions: true, shuffleQuestions: true }, BANKS, 'present');
  const presented = presentForRep(drawn, BANKS);

  it('shows prompts, case, option texts in drawn order and the unit — nothing secret', () => {
    const json = JSON.stringify(presented);
    for (const secret of SECRETS) expect(json).not.toContain(secret);
    expect(json).not.toContain('why '); // option feedback texts
    expect(json).not.toContain('working'); // question feedback
    const q1 = presented.find((p) => p.key === 'q1');
    const q1Order = drawn.items.find((i) => i.questionId === 'q1')?.optionOrder ?? [];
    expect(q1).toEqual({ key: 'q1', type: 'single', prompt: 'Goal of the call?', options: q1Order.map((i, position) => ({ position, text: ['Brochure', 'Meeting', 'Demo'][i] })), pool: 0 });
    expect(presented.find((p) => p.key === 'q4')).toEqual({ key: 'q4', type: 'numeric', prompt: 'Conversion rate?', unit: '%', pool: 0 });
    const s1 = presented.find((p) => p.key === 's1');
    expect(s1).toMatchObject({ type: 'scenario', case: 'A VP calls back.', prompt: 'What next?' });
    expect(s1?.type === 'scenario' && s1.parts.map((p) => p.key)).toEqual(['s1.s1a', 's1.s1b']);
  });

  it('does not depend on which options are right: the right positions cannot be derived', () => {
    // Same texts, every answer key changed: the presentation must be byte for byte the same.
    const flipped: Banks = {
      ...BANKS,
      sales: {
        questions: SALES.map((q) => {
          const flip = (s: Question): Question =>
            s.type === 'numeric' ? { ...s, answer: 999, tolerance: 5 } : s.type === 'scenario' ? { ...s, questions: s.questions.map((x) => flip(x) as ChoiceQuestion) } : { ...s, options: s.options.map((o) => ({ ...o, correct: !o.correct, feedback: 'other' })) };
          return flip(q);
        }),
      },
    };
    expect(JSON.stringify(presentForRep(drawn, flipped))).toBe(JSON.stringify(presented));
  });

  it('maps presented positions back to the right options through scoring', () => {
    const answers: Answers = { q1: rightPositions(drawn, BANKS, 'q1'), q2: rightPositions(drawn, BANKS, 'q2'), q3: rightPositions(drawn, BANKS, 'q3'), q4: 1.1, 's1.s1a': rightPositions(drawn, BANKS, 's1.s1a'), 's1.s1b': 30 };
    // The rep picks by text, the way a browser shows it.
    const q1 = presented.find((p) => p.key === 'q1');
    expect(q1?.type === 'single' && q1.options.find((o) => o.text === 'Meeting')?.position).toEqual(answers.q1 && (answers.q1 as number[])[0]);
    const score = scoreAttempt(drawn, BANKS, answers, { partialCredit: false });
    expect(score.percent).toBe(100);
    expect(score.items.find((i) => i.key === 'q1')?.chosen).toEqual([1]); // original index of "Meeting"
    expect(score.items.find((i) => i.key === 'q2')?.chosen).toEqual([0, 1, 2]);
  });
});

// ---- answers ------------------------------------------------------------------------------------

describe('validateAnswers', () => {
  const drawn = drawAttempt(ALL, BANKS, 'v');

  it('accepts well-formed answers and unanswered items', () => {
    expect(validateAnswers(drawn, BANKS, { q1: [1], q2: [0, 3], q3: null, q4: 1.2, 's1.s1a': [0] })).toEqual([]);
    expect(validateAnswers(drawn, BANKS, {})).toEqual([]);
  });

  it('lists every problem with its path', () => {
    expect(
      validateAnswers(drawn, BANKS, {
        q1: [0, 1],
        q2: [0, 0],
        q3: 1,
        q4: [1],
        's1.s1a': [2],
        's1.s1b': 'thirty',
        s1: [0],
        nope: [0],
        constructor: 1,
      }),
    ).toEqual([
      { path: 'answers.q1', message: 'Choose exactly one option.' },
      { path: 'answers.q2', message: 'Choose each option at most once.' },
      { path: 'answers.q3', message: 'Choose options by their positions (a list of numbers).' },
      { path: 'answers.q4', message: 'Enter a number.' },
      { path: 'answers.s1.s1a', message: 'There is no option 2: choose from 0 to 1.' },
      { path: 'answers.s1.s1b', message: 'Enter a number.' },
      { path: 'answers.s1', message: 'There is no question s1 in this attempt.' },
      { path: 'answers.nope', message: 'There is no question nope in this attempt.' },
      { path: 'answers.constructor', message: 'There is no question constructor in this attempt.' },
    ]);
  });

  it('rejects non-integer positions and non-finite numbers', () => {
    expect(validateAnswers(drawn, BANKS, { q1: [0.5], q4: Infinity }).map((p) => p.message)).toEqual(['There is no option 0.5: choose from 0 to 2.', 'Enter a number.']);
  });
});

// ---- scoring ------------------------------------------------------------------------------------

describe('scoreAttempt', () => {
  // No shuffling: presented positions are the bank's indexes, which keeps the arithmetic readable.
  const drawn = drawAttempt(ALL, BANKS, 'score');
  const credit = (answers: Answers, partialCredit = false) => Object.fromEntries(scoreAttempt(drawn, BANKS, answers, { partialCredit }).items.map((i) => [i.key, i.credit]));

  it('scores single and true/false right or wrong', () => {
    expect(credit({ q1: [1], q3: [1] })).toMatchObject({ q1: 1, q3: 1 });
    expect(credit({ q1: [0], q3: [0] })).toMatchObject({ q1: 0, q3: 0 });
  });

  it('scores numeric within tolerance, edges included', () => {
    // answer 1.1 ± 0.2: 1.3 − 1.1 is 0.20000000000000018 in floating point, still right
    expect(credit({ q4: 1.3 }).q4).toBe(1);
    expect(credit({ q4: 0.9 }).q4).toBe(1);
    expect(credit({ q4: 1.31 }).q4).toBe(0);
    expect(credit({ q4: 0.89 }).q4).toBe(0);
    expect(credit({ 's1.s1b': 30 })['s1.s1b']).toBe(1);
    expect(credit({ 's1.s1b': 30.0001 })['s1.s1b']).toBe(0);
  });

  it('scores multiple-select all or nothing without partial credit', () => {
    expect(credit({ q2: [0, 1, 2] }).q2).toBe(1);
    expect(credit({ q2: [2, 0, 1] }).q2).toBe(1);
    expect(credit({ q2: [0, 1] }).q2).toBe(0);
    expect(credit({ q2: [0, 1, 2, 3] }).q2).toBe(0);
  });

  it('gives partial credit as (right − wrong) ÷ right options, never below 0', () => {
    // 3 right options of 4: 2 right + 1 wrong → (2 − 1) / 3
    expect(credit({ q2: [0, 1, 3] }, true).q2).toBeCloseTo(1 / 3, 10);
    expect(credit({ q2: [0, 1] }, true).q2).toBeCloseTo(2 / 3, 10);
    expect(credit({ q2: [0, 1, 2] }, true).q2).toBe(1);
    expect(credit({ q2: [0, 1, 2, 3] }, true).q2).toBeCloseTo(2 / 3, 10);
    expect(credit({ q2: [0, 3] }, true).q2).toBe(0);
    expect(credit({ q2: [3] }, true).q2).toBe(0);
    expect(credit({ q2: [] }, true).q2).toBe(0);
    // partial credit is for multiple-select only
    expect(credit({ q1: [0] }, true).q1).toBe(0);
  });

  it('scores each scenario part as its own item, with its module and tags', () => {
    const score = scoreAttempt(drawn, BANKS, { 's1.s1a': [1], 's1.s1b': 12 }, { partialCredit: false });
    const parts = score.items.filter((i) => i.scenarioId === 's1');
    expect(parts).toEqual([
      { key: 's1.s1a', bankId: 'sales', questionId: 's1a', scenarioId: 's1', type: 'single', pool: 0, credit: 1, correct: true, chosen: [1], module: 'discovery', tags: ['case'] },
      { key: 's1.s1b', bankId: 'sales', questionId: 's1b', scenarioId: 's1', type: 'numeric', pool: 0, credit: 0, correct: false, chosen: 12, module: 'cases', tags: ['case', 'time'] },
    ]);
    expect(score.possible).toBe(6);
  });

  it('totals earned, possible and percent (rounded down to one decimal), per pool too', () => {
    const d = drawAttempt({ pools: [{ bank: 'sales', tags: ['calls'] }, { bank: 'sales', tags: ['ask', 'case'] }], shuffleQuestions: false, shuffleOptions: false }, BANKS, 'p');
    const score = scoreAttempt(d, BANKS, { q1: [1], q2: [0, 1, 3], q3: [1], q4: 5, 's1.s1a': [1] }, { partialCredit: true });
    expect(score.earned).toBeCloseTo(1 + 1 / 3 + 1 + 1, 10);
    expect(score.possible).toBe(6);
    expect(score.percent).toBe(55.5); // 3.333/6 = 55.55…%
    expect(score.pools).toEqual([
      { pool: 0, earned: expect.closeTo(4 / 3, 10), possible: 2, percent: 66.6 },
      { pool: 1, earned: 2, possible: 4, percent: 50 },
    ]);
  });

  it('never credits malformed answers and treats unanswered as 0', () => {
    expect(credit({ q1: [0, 1] as number[] }).q1).toBe(0);
    expect(credit({ q1: 1 }).q1).toBe(0);
    expect(credit({ q2: [0, 1, 2, 2] }).q2).toBe(0);
    expect(credit({ q4: [1.1] }).q4).toBe(0);
    const score = scoreAttempt(drawn, BANKS, {}, { partialCredit: false });
    expect(score.percent).toBe(0);
    expect(score.items.every((i) => i.chosen === null)).toBe(true);
  });

  it('refuses a drawn attempt that no longer matches its bank', () => {
    const broken: DrawnAttempt = { ...drawn, items: drawn.items.map((i) => (i.questionId === 'q1' ? { ...i, optionOrder: [0, 1] } : i)) };
    expect(() => scoreAttempt(broken, BANKS, {}, { partialCredit: false })).toThrow(/q1/);
    const gone: DrawnAttempt = { ...drawn, items: [{ pool: 0, bankId: 'sales', questionId: 'zz', optionOrder: [] }] };
    expect(() => presentForRep(gone, BANKS)).toThrow(/zz/);
  });
});

// ---- after submitting ---------------------------------------------------------------------------

describe('reviewAfterSubmit and modulesToReview', () => {
  const drawn = drawAttempt({ ...ALL, shuffleOptions: true }, BANKS, 'review');
  const q1Order = drawn.items.find((i) => i.questionId === 'q1')?.optionOrder ?? [];
  const brochure = q1Order.indexOf(0);
  const pitch = drawn.items.find((i) => i.questionId === 's1')?.parts?.[0]?.optionOrder.indexOf(0) ?? -1;
  const score = scoreAttempt(drawn, BANKS, { q1: [brochure], q3: rightPositions(drawn, BANKS, 'q3'), q4: 7, 's1.s1a': [pitch], 's1.s1b': 30 }, { partialCredit: false });
  const review = reviewAfterSubmit(drawn, BANKS, score);

  it('shows every option as presented with what was right, what was chosen and why', () => {
    const q1 = review.find((r) => r.key === 'q1');
    expect(q1).toMatchObject({ type: 'single', credit: 0, correct: false, feedback: 'whole q1', module: 'calls' });
    const options = q1?.type === 'single' ? q1.options : [];
    expect(options.map((o) => o.text)).toEqual(q1Order.map((i) => ['Brochure', 'Meeting', 'Demo'][i]));
    expect(options.find((o) => o.text === 'Brochure')).toEqual({ position: brochure, text: 'Brochure', correct: false, chosen: true, feedback: 'why Brochure' });
    expect(options.find((o) => o.text === 'Meeting')).toMatchObject({ correct: true, chosen: false });
  });

  it('shows the expected number ± tolerance for numeric questions, and scenario parts', () => {
    expect(review.find((r) => r.key === 'q4')).toEqual({ key: 'q4', type: 'numeric', prompt: 'Conversion rate?', credit: 0, correct: false, feedback: 'working', module: 'ask', given: 7, answer: 1.1, tolerance: 0.2, unit: '%', pool: 0 });
    const s1 = review.find((r) => r.key === 's1');
    expect(s1?.type === 'scenario' && s1.parts.map((p) => [p.key, p.correct])).toEqual([
      ['s1.s1a', false],
      ['s1.s1b', true],
    ]);
  });

  it('lists the modules to review once each, in the order first missed', () => {
    // missed: q1 (calls), q2 unanswered (calls), q4 (ask), s1a (discovery); q3 and s1b right
    expect(modulesToReview(score)).toEqual(['calls', 'ask', 'discovery']);
  });
});

// ---- pre-test, policies -------------------------------------------------------------------------

describe('testOuts', () => {
  const pools = [{ bank: 'sales', tags: ['calls'] }, { bank: 'sales', tags: ['ask'] }, { bank: 'sales', tags: ['none'] }];
  const pretest = def({ purpose: 'pretest', pools, threshold: 50, testOut: [{ pool: 0, modules: ['calls'] }, { pool: 1, modules: ['ask', 'objections'] }, { pool: 2, modules: ['empty'] }] });
  const drawn = drawAttempt({ pools, shuffleQuestions: false, shuffleOptions: false }, BANKS, 't');

  it('tests out of the modules of every pool at or above the threshold', () => {
    // pool 0: q1 right, q2 wrong → 50% (= threshold); pool 1: q3 wrong, q4 wrong → 0%
    const score = scoreAttempt(drawn, BANKS, { q1: [1], q2: [3] }, { partialCredit: false });
    expect(testOuts(pretest, score)).toEqual(['calls']);
    const all = scoreAttempt(drawn, BANKS, { q1: [1], q2: [0, 1, 2], q3: [1], q4: 1 }, { partialCredit: false });
    expect(testOuts(pretest, all)).toEqual(['calls', 'ask', 'objections']); // the empty pool 2 tests nobody out
  });

  it('tests out of nothing below the threshold or for other purposes', () => {
    expect(testOuts(pretest, scoreAttempt(drawn, BANKS, { q1: [0] }, { partialCredit: false }))).toEqual([]);
    const all = scoreAttempt(drawn, BANKS, { q1: [1], q2: [0, 1, 2] }, { partialCredit: false });
    expect(testOuts({ ...pretest, purpose: 'check' }, all)).toEqual([]);
  });
});

describe('policyScore', () => {
  it('takes the best, the last or the average (rounded down to one decimal)', () => {
    expect(policyScore('best', [60, 85, 70])).toBe(85);
    expect(policyScore('last', [60, 85, 70])).toBe(70);
    expect(policyScore('average', [60, 85, 70])).toBe(71.6); // 71.666…
    expect(policyScore('average', [79.9, 80])).toBe(79.9); // 79.95 never rounds up to a pass
    expect(policyScore('average', [70.1, 70.2])).toBe(70.1);
  });

  it('is null before the first attempt', () => {
    expect(policyScore('best', [])).toBeNull();
    expect(policyScore('average', [])).toBeNull();
  });
});

// ---- attempts over time -------------------------------------------------------------------------

describe('attemptWindow', () => {
  const base = { maxAttempts: 3, cooldownHours: 24, passed: false };

  it('opens a first attempt', () => {
    expect(attemptWindow({ ...base, submittedAt: [], now: '2021-01-10T09:00:00Z' })).toEqual({ canStart: true, reason: null, nextAt: null, attemptsLeft: 3 });
  });

  it('refuses during the cooldown after the last submission, with the time in a sentence', () => {
    const w = attemptWindow({ ...base, submittedAt: ['2021-01-10T09:00:00Z', '2021-01-11T14:00:00Z'], now: '2021-01-12T13:59:59Z' });
    expect(w).toEqual({ canStart: false, reason: 'You can try again after Tue 12 Jan, 14:00 UTC.', nextAt: '2021-01-12T14:00:00.000Z', attemptsLeft: 1 });
  });

  it('opens again exactly when the cooldown ends', () => {
    expect(attemptWindow({ ...base, submittedAt: ['2021-01-11T14:00:00Z'], now: '2021-01-12T14:00:00Z' }).canStart).toBe(true);
  });

  it('compares instants, not strings, and rounds the shown time up to the minute', () => {
    const w = attemptWindow({ ...base, cooldownHours: 1.5, submittedAt: ['2021-01-12T15:29:30+02:00'], now: '2021-01-12T14:00:00Z' });
    expect(w.reason).toBe('You can try again after Tue 12 Jan, 15:00 UTC.');
    expect(w.nextAt).toBe('2021-01-12T14:59:30.000Z');
  });

  it('refuses once every attempt is used, whatever the cooldown', () => {
    const submittedAt = ['2021-01-01T09:00:00Z', '2021-01-02T09:00:00Z', '2021-01-03T09:00:00Z'];
    expect(attemptWindow({ ...base, submittedAt, now: '2021-02-01T00:00:00Z' })).toEqual({ canStart: false, reason: 'You have used all 3 attempts.', nextAt: null, attemptsLeft: 0 });
    expect(attemptWindow({ ...base, maxAttempts: 1, submittedAt: submittedAt.slice(0, 1), now: '2021-02-01T00:00:00Z' }).reason).toBe('You have used your only attempt.');
  });

  it('lets a rep who passed retake within the limits', () => {
    expect(attemptWindow({ ...base, passed: true, submittedAt: ['2021-01-01T09:00:00Z'], now: '2021-01-05T00:00:00Z' })).toEqual({ canStart: true, reason: null, nextAt: null, attemptsLeft: 2 });
  });

  it('has no limit and no wait when none is set', () => {
    expect(attemptWindow({ maxAttempts: null, cooldownHours: 0, passed: false, submittedAt: Array(50).fill('2021-01-01T09:00:00Z'), now: '2021-01-01T09:00:00Z' })).toEqual({
      canStart: true,
      reason: null,
      nextAt: null,
      attemptsLeft: null,
    });
  });

  it('rejects instants it cannot read', () => {
    expect(() => attemptWindow({ ...base, submittedAt: ['yesterday'], now: '2021-01-01T00:00:00Z' })).toThrow(RangeError);
  });
});

describe('deadline and isExpired', () => {
  it('ends a timed attempt timeLimitMinutes after it started', () => {
    expect(deadline('2021-01-12T14:00:00Z', 45)).toBe('2021-01-12T14:45:00.000Z');
    expect(deadline('2021-01-12T14:00:00Z', null)).toBeNull();
  });

  it('expires strictly after the deadline, plus any grace', () => {
    expect(isExpired('2021-01-12T14:00:00Z', 45, '2021-01-12T14:45:00Z')).toBe(false);
    expect(isExpired('2021-01-12T14:00:00Z', 45, '2021-01-12T14:45:00.001Z')).toBe(true);
    expect(isExpired('2021-01-12T14:00:00Z', 45, '2021-01-12T14:45:20Z', 30)).toBe(false);
    expect(isExpired('2021-01-12T14:00:00Z', null, '2030-01-01T00:00:00Z')).toBe(false);
  });
});

// ---- properties ---------------------------------------------------------------------------------

/** Texts from an alphabet that cannot spell any of the secret words ("correct" needs an 'o'). */
const safeText = fc.string({ unit: fc.constantFrom('a', 'b', 'd', 'x', 'y', ' ', '1', '2', '"', '\\'), minLength: 1, maxLength: 8 });
const TAGS = ['t1', 't2', 't3'];

const choiceArb = (id: string) =>
  fc.record({
    id: fc.constant(id),
    type: fc.constantFrom('single' as const, 'multiple' as const, 'truefalse' as const),
    prompt: safeText,
    tags: fc.subarray(TAGS),
    options: fc.array(fc.record({ text: safeText, correct: fc.boolean(), feedback: fc.string() }), { minLength: 2, maxLength: 5 }),
  });
const numericArb = (id: string) =>
  fc.record({ id: fc.constant(id), type: fc.constant('numeric' as const), prompt: safeText, tags: fc.subarray(TAGS), answer: fc.double({ noNaN: true, noDefaultInfinity: true }), tolerance: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), unit: safeText });
const scenarioArb = (id: string) =>
  fc.record({
    id: fc.constant(id),
    type: fc.constant('scenario' as const),
    case: safeText,
    tags: fc.subarray(TAGS),
    questions: fc.tuple(choiceArb(`${id}-a`), numericArb(`${id}-b`)).map((qs): SimpleQuestion[] => qs),
  }) as fc.Arbitrary<Question>;

const bankArb = (prefix: string) =>
  fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => fc.oneof(choiceArb(`${prefix}${i}`), numericArb(`${prefix}${i}`), scenarioArb(`${prefix}${i}`)) as fc.Arbitrary<Question>)));

describe('properties', () => {
  it('draws unique items and presents nothing secret, for any bank and seed', () => {
    fc.assert(
      fc.property(
        bankArb('q'),
        bankArb('q'), // same ids in a second bank: keys must still be unique
        fc.array(fc.record({ bank: fc.constantFrom('one', 'two'), draw: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }), tags: fc.option(fc.subarray(TAGS), { nil: undefined }) }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.string(),
        (one, two, pools, shuffleQuestions, shuffleOptions, seed) => {
          const banks: Banks = { one: { questions: one as Question[] }, two: { questions: two as Question[] } };
          const settings = { pools, shuffleQuestions, shuffleOptions };
          const drawn = drawAttempt(settings, banks, seed);
          expect(drawAttempt(settings, banks, seed)).toEqual(drawn);
          const identities = drawn.items.map((i) => `${i.bankId}/${i.questionId}`);
          expect(new Set(identities).size).toBe(identities.length);
          expect(new Set(itemKeys(drawn.items)).size).toBe(drawn.items.length);
          pools.forEach((p, i) => expect(drawn.items.filter((x) => x.pool === i).length).toBeLessThanOrEqual(p.draw ?? Infinity));
          const json = JSON.stringify(presentForRep(drawn, banks));
          for (const secret of SECRETS) expect(json).not.toContain(secret);
          // A rep who picks the right options by what the review shows gets full credit on every item
          // whose key is well formed (the generator also makes single-choice items with 0 or 2 right options).
          const review = reviewAfterSubmit(drawn, banks, scoreAttempt(drawn, banks, {}, { partialCredit: false }));
          const answers: Answers = {};
          const wellFormed: string[] = [];
          for (const part of review.flatMap((r) => (r.type === 'scenario' ? r.parts : [r]))) {
            const right = part.type === 'numeric' ? [] : part.options.filter((o) => o.correct).map((o) => o.position);
            answers[part.key] = part.type === 'numeric' ? part.answer : right;
            if (part.type === 'numeric' || part.type === 'multiple' || right.length === 1) wellFormed.push(part.key);
          }
          const score = scoreAttempt(drawn, banks, answers, { partialCredit: false });
          for (const key of wellFormed) expect(score.items.find((i) => i.key === key)?.credit).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---- the sample content -------------------------------------------------------------------------

describe('the sample curriculum banks', () => {
  const dir = new URL('../../content/curricula/new-rep-onboarding/banks/', import.meta.url);
  const banks: Banks = Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => {
        const bank = bankFile.parse(parseYaml(readFileSync(new URL(f, dir), 'utf8')));
        return [bank.id, { questions: bank.questions }];
      }),
  );

  it('draws, presents without leaking and scores a perfect rep at 100%', () => {
    const drawn = drawAttempt({ pools: Object.keys(banks).map((bank) => ({ bank })), shuffleQuestions: true, shuffleOptions: true }, banks, 'sample');
    expect(drawn.items.length).toBeGreaterThan(0);
    const presented = presentForRep(drawn, banks);
    // Real texts may use the word "correct", so here the check is on the field names.
    const fields = new Set((JSON.stringify(presented).match(/"[a-zA-Z]+":/g) ?? []).map((k) => k.slice(1, -2)));
    expect([...fields].filter((f) => !['key', 'type', 'prompt', 'options', 'position', 'text', 'unit', 'pool', 'case', 'parts'].includes(f))).toEqual([]);
    const blank = reviewAfterSubmit(drawn, banks, scoreAttempt(drawn, banks, {}, { partialCredit: false }));
    const answers: Answers = {};
    for (const part of blank.flatMap((r) => (r.type === 'scenario' ? r.parts : [r]))) {
      answers[part.key] = part.type === 'numeric' ? part.answer : part.options.filter((o) => o.correct).map((o) => o.position);
    }
    expect(validateAnswers(drawn, banks, answers)).toEqual([]);
    expect(scoreAttempt(drawn, banks, answers, { partialCredit: false }).percent).toBe(100);
  });
});
