import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { validateCurriculum } from '../../src/content/validate.js';
import { reinforcementModels, type AnswerDoc } from '../../src/features/reinforcement/model.js';
import { createTestContext, seedPeople, signIn, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';

/**
 * The retention report over answers seeded straight into `reinforcement_answers`, checked against
 * figures counted by hand (the table below).
 */
let ctx: TestContext;
let people: DemoPeople;
let trainer: SignedIn;

const DAY = 86_400_000;
const now = Date.now();
const ago = (days: number) => new Date(now - days * DAY);
const dayOf = (d: Date) => d.toISOString().slice(0, 10);

const bank = `id: basics
title: Basics bank
questions:
  - id: q1
    type: single
    module: intro
    reinforcement: true
    prompt: Which is right?
    options:
      - text: This one
        correct: true
      - text: That one
  - id: q2
    type: truefalse
    module: intro
    reinforcement: true
    prompt: Is the value statement about the customer?
    options:
      - text: "True"
        correct: true
      - text: "False"
  - id: q3
    type: truefalse
    module: check
    reinforcement: true
    prompt: Do you ask before you pitch?
    options:
      - text: "True"
        correct: true
      - text: "False"
`;

/** the fixture curriculum under another id and title */
function otherCurriculum(id: string, title: string) {
  const files = fixtureFiles({ 'demo/banks/basics.yaml': bank }).map((f) => ({
    path: f.path.replace(/^demo\//, `${id}/`),
    text: f.path === 'demo/curriculum.yaml' ? f.text.replace('id: demo', `id: ${id}`).replace('title: Demo onboarding', `title: ${title}`) : f.text,
  }));
  return validateCurriculum(id, files).content!;
}

// #   rep (manager)          cohort  module  key          right  days ago  days since learning → bucket
// 1   rep1 Riley (Morgan)    North   intro   basics.q1    yes    20        1   → 0–1
// 2   rep1                   North   intro   basics.q2    no     12        9   → 8–14
// 3   rep1                   North   intro   basics.q2    no     6         15  → 15–30
// 4   rep1                   North   check   basics.q3    no     5         3   → 2–3
// 5   rep2 Sam (Morgan)      North   intro   basics.q1    yes    25        0   → 0–1
// 6   rep2                   North   intro   basics.q2    yes    24        2   → 2–3
// 7   rep2                   North   check   basics.q3    yes    23        5   → 4–7
// 8   rep4 Avery (Priya)     South   intro   basics.q1    no     40        40  → 31–60
// 9   rep4                   South   intro   basics.q2    yes    31        10  → 8–14
// 10  rep4                   South   check   basics.q3    no     20        20  → 15–30
// 11  rep5 Casey (Priya)     South   intro   basics.q1    yes    3         70  → 61+
// 12  rep5                   South   check   basics.q3    yes    2         8   → 8–14
// (and one answer in another curriculum, which must not count)
//
// Overall: 0–1 2/2 100% · 2–3 1/2 50% · 4–7 1/1 100% · 8–14 2/3 67% · 15–30 0/2 0% · 31–60 0/1 0% ·
//   61+ 1/1 100%; all 7/12 = 58%.
// intro (#1–3, 5, 6, 8, 9, 11): 2/2 · 1/1 · — · 1/2 · 0/1 · 0/1 · 1/1 = 5/8 = 63%
// check (#4, 7, 10, 12):        — · 0/1 · 1/1 · 1/1 · 0/1 · — · — = 2/4 = 50%
// North (#1–7): 2/2 · 1/2 · 1/1 · 0/1 · 0/1 · — · — = 4/7 = 57%
// South (#8–12): — · — · — · 2/2 · 0/1 · 0/1 · 1/1 = 3/5 = 60%
// Items: q2 2/4 50% · q3 2/4 50% · q1 3/4 75% (the tie by key).
// At risk now: rep1 1/4 = 25% in 30 days → low recall; rep2 3/3 but silent 23 days; rep4 1 answer in
//   30 days (not judged), silent 20 days; rep5 2 answers, 2 days ago → fine.
const ROWS: [keyof DemoPeople, string, string, string, boolean, number, number][] = [
  ['rep1', 'North', 'intro', 'basics.q1', true, 20, 1],
  ['rep1', 'North', 'intro', 'basics.q2', false, 12, 9],
  ['rep1', 'North', 'intro', 'basics.q2', false, 6, 15],
  ['rep1', 'North', 'check', 'basics.q3', false, 5, 3],
  ['rep2', 'North', 'intro', 'basics.q1', true, 25, 0],
  ['rep2', 'North', 'intro', 'basics.q2', true, 24, 2],
  ['rep2', 'North', 'check', 'basics.q3', true, 23, 5],
  ['rep4', 'South', 'intro', 'basics.q1', false, 40, 40],
  ['rep4', 'South', 'intro', 'basics.q2', true, 31, 10],
  ['rep4', 'South', 'check', 'basics.q3', false, 20, 20],
  ['rep5', 'South', 'intro', 'basics.q1', true, 3, 70],
  ['rep5', 'South', 'check', 'basics.q3', true, 2, 8],
];

beforeAll(async () => {
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles({ 'demo/banks/basics.yaml': bank })).content!);
  await ctx.container.curricula.publish('cli', otherCurriculum('zeta', 'Zeta onboarding'));
  await ctx.container.curricula.publish('cli', otherCurriculum('empty', 'Empty onboarding'));
  const versionOf = async (id: string) => (await ctx.container.curricula.latest(id)).latestVersionId;
  const demoVersion = await versionOf('demo');
  const { Answer } = reinforcementModels(ctx.container.mongo);
  const managerOf = (rep: keyof DemoPeople) => (['rep1', 'rep2', 'rep3'].includes(rep) ? people.manager1.id : people.manager2.id);
  const doc = (curriculumId: string, versionId: string, [rep, cohort, moduleId, key, correct, daysAgo, days]: (typeof ROWS)[number], n: number): AnswerDoc => {
    const at = ago(daysAgo);
    const deliveryId = `${people[rep].id}-${at.getTime()}-${n}`;
    return {
      _id: `${deliveryId}/${key}`,
      userId: new Types.ObjectId(people[rep].id),
      managerId: new Types.ObjectId(managerOf(rep)),
      cohort,
      curriculumId,
      versionId,
      moduleId,
      key,
      deliveryId,
      correct,
      at,
      learnedAt: new Date(at.getTime() - days * DAY),
      daysSinceLearned: days,
    };
  };
  await Answer.insertMany([
    ...ROWS.map((r, n) => doc('demo', demoVersion, r, n)),
    doc('zeta', await versionOf('zeta'), ['rep3', 'West', 'intro', 'basics.q1', false, 4, 4], 99),
  ]);
  trainer = await signIn(ctx.app, 'trainer@demo.onramp.dev');
});
afterAll(() => ctx.close());

/** The cells of each body row of the table with this class, as text. */
function tableRows(html: string, tableClass?: string): string[][] {
  const start = tableClass ? html.indexOf(`<table class="${tableClass}"`) : html.indexOf('<table');
  if (start < 0) return [];
  const table = html.slice(start, html.indexOf('</table>', start));
  const body = table.slice(table.indexOf('<tbody>'));
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) =>
      c[1]!
        .replace(/<svg[\s\S]*?<\/svg>/g, '')
        .replace(/<br>/g, ' ')
        .replace(/<[^>]+>/g, '')
        .replace(/&amp;/g, '&')
        .replace(/&#x27;|&#39;/g, "'")
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

/** The section of the page under the heading with this id. */
function section(html: string, headingId: string): string {
  const start = html.indexOf(`id="${headingId}"`);
  return html.slice(start, html.indexOf('</section>', start));
}

const csvLines = (text: string) => text.trim().split('\r\n');

describe('retention report page', () => {
  it("shows the first curriculum's forgetting curve: overall and per module, with n, as a chart and a table", async () => {
    const res = await trainer.agent.get('/reports/retention').expect(200);
    expect(res.text).toContain('<option value="demo" selected>Demo onboarding</option>');
    expect(tableRows(res.text, 'small curve-table')).toEqual([
      ['Overall', '100% n=2', '50% n=2', '100% n=1', '67% n=3', '0% n=2', '0% n=1', '100% n=1', '58% n=12'],
      ['Introduction', '100% n=2', '100% n=1', '—', '50% n=2', '0% n=1', '0% n=1', '100% n=1', '63% n=8'],
      ['Basics check', '—', '0% n=1', '100% n=1', '100% n=1', '0% n=1', '—', '—', '50% n=4'],
    ]);
    // the summary
    expect(res.text).toContain('<span class="stat-value">58%</span><span class="stat-label">Recall (7 of 12 answers right)</span>');
    expect(res.text).toMatch(/<span class="stat-value">4<\/span><span class="stat-label">Reps who answered/);
    // the chart: server-side SVG, labelled, one line per module plus overall
    const svg = /<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="chart-svg"[\s\S]*?<\/svg>/.exec(res.text)![0];
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-label="Forgetting curve: recall by days since learning, overall and by module"');
    expect(svg).toContain('>Days since learning</text>');
    expect(svg).toContain('>Recall %</text>');
    expect(svg).toContain('<title>Overall — 8–14: 67% (2 of 3 right)</title>');
    expect(svg).toContain('<title>Introduction — 0–1: 100% (2 of 2 right)</title>');
    expect(svg.match(/<g class="chart-series">/g)).toHaveLength(3);
  });

  it('draws one line per cohort when asked', async () => {
    const res = await trainer.agent.get('/reports/retention?by=cohort').expect(200);
    expect(tableRows(res.text, 'small curve-table')).toEqual([
      ['Overall', '100% n=2', '50% n=2', '100% n=1', '67% n=3', '0% n=2', '0% n=1', '100% n=1', '58% n=12'],
      ['North', '100% n=2', '50% n=2', '100% n=1', '0% n=1', '0% n=1', '—', '—', '57% n=7'],
      ['South', '—', '—', '—', '100% n=2', '0% n=1', '0% n=1', '100% n=1', '60% n=5'],
    ]);
    expect(res.text).toContain('<option value="cohort" selected>per cohort</option>');
  });

  it('lists the most forgotten questions with their prompt and a link to the module', async () => {
    const res = await trainer.agent.get('/reports/retention').expect(200);
    const items = section(res.text, 'items-h');
    expect(tableRows(items)).toEqual([
      ['Is the value statement about the customer? basics.q2', 'Introduction', '4', '50% (2 right)'],
      ['Do you ask before you pitch? basics.q3', 'Basics check', '4', '50% (2 right)'],
      ['Which is right? basics.q1', 'Introduction', '4', '75% (3 right)'],
    ]);
    expect(items).toContain('<a href="/curricula/demo#module-check">Basics check</a>');
    // the link lands on the module's row
    const curriculum = await trainer.agent.get('/curricula/demo').expect(200);
    expect(curriculum.text).toContain('id="module-check"');
  });

  it('lists the reps at risk, worst first, with their recall, last answer and the reason', async () => {
    const res = await trainer.agent.get('/reports/retention').expect(200);
    expect(tableRows(section(res.text, 'reps-h'))).toEqual([
      ['Riley Chen', 'Morgan Reyes', '25% (1 of 4)', dayOf(ago(5)), 'Recall 25% over the last 30 days (1 of 4), below 60%'],
      ['Sam Okafor', 'Morgan Reyes', '100% (3 of 3)', dayOf(ago(23)), 'No answer for 23 days'],
      ['Avery Kim', 'Priya Shah', '0% (0 of 1)', dayOf(ago(20)), 'No answer for 20 days'],
    ]);
  });

  it('filters by cohort, module and dates', async () => {
    const south = await trainer.agent.get('/reports/retention?cohort=South').expect(200);
    expect(tableRows(south.text, 'small curve-table')[0]).toEqual(['Overall', '—', '—', '—', '100% n=2', '0% n=1', '0% n=1', '100% n=1', '60% n=5']);
    expect(south.text).toContain('<option value="South" selected>South</option>');
    expect(south.text).toContain('No question has enough answers yet'); // none has 3 answers in South
    expect(tableRows(section(south.text, 'reps-h')).map((r) => r[0])).toEqual(['Avery Kim']);

    const check = await trainer.agent.get('/reports/retention?module=check').expect(200);
    expect(tableRows(check.text, 'small curve-table')).toEqual([
      ['Overall', '—', '0% n=1', '100% n=1', '100% n=1', '0% n=1', '—', '—', '50% n=4'],
      ['Basics check', '—', '0% n=1', '100% n=1', '100% n=1', '0% n=1', '—', '—', '50% n=4'],
    ]);

    // from 13 days ago: #2, #3, #4, #11, #12 → 2 of 5
    const recent = await trainer.agent.get(`/reports/retention?from=${dayOf(ago(13))}`).expect(200);
    expect(recent.text).toContain('Recall (2 of 5 answers right)');
    // 26 to 21 days ago: #5, #6, #7 → 3 of 3; judged as of the end of that range, rep2 was not silent yet
    const range = await trainer.agent.get(`/reports/retention?from=${dayOf(ago(26))}&to=${dayOf(ago(21))}`).expect(200);
    expect(range.text).toContain('Recall (3 of 3 answers right)');
    expect(range.text).toContain(`As of the end of ${dayOf(ago(21))}`);
    expect(section(range.text, 'reps-h')).toContain('No rep at risk');
  });

  it('keeps curricula apart and says what to do when there is nothing to show', async () => {
    const zeta = await trainer.agent.get('/reports/retention?curriculum=zeta').expect(200);
    expect(zeta.text).toContain('Recall (0 of 1 answers right)');
    expect(zeta.text).toContain('<option value="West">West</option>');
    const filtered = await trainer.agent.get('/reports/retention?curriculum=zeta&module=check').expect(200);
    expect(filtered.text).toContain('No answers match these filters');
    const empty = await trainer.agent.get('/reports/retention?curriculum=empty').expect(200);
    expect(empty.text).toContain('No reinforcement answers yet');
    expect(empty.text).toContain('Nobody to judge yet');
    expect(empty.text).not.toContain('<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg"');
  });

  it('uses no inline style or script (the CSP forbids them) and is linked from the navigation', async () => {
    const res = await trainer.agent.get('/reports/retention').expect(200);
    expect(res.headers['content-security-policy']).toMatch(/style-src 'self'/);
    expect(res.text).not.toMatch(/\sstyle="/);
    expect(res.text).not.toMatch(/<style[\s>]/);
    expect(res.text).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(res.text).toContain('<a href="/reports/retention" aria-current="page">Retention</a>');
    const home = await trainer.agent.get('/').expect(200);
    expect(home.text).toContain('<a href="/reports/retention">Retention</a>');
  });
});

describe('retention CSV exports', () => {
  it('curve.csv has every series by bucket with the counts', async () => {
    const res = await trainer.agent.get('/reports/retention/curve.csv').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toContain('retention-curve-demo.csv');
    const lines = csvLines(res.text);
    expect(lines[0]).toBe('group,id,name,days_since_learning,days_from,days_to,answered,correct,recall');
    expect(lines).toHaveLength(1 + 5 * 7); // overall, 2 modules, 2 cohorts
    expect(lines.slice(1, 8)).toEqual([
      'overall,overall,Overall,0–1,0,1,2,2,1.000',
      'overall,overall,Overall,2–3,2,3,2,1,0.500',
      'overall,overall,Overall,4–7,4,7,1,1,1.000',
      'overall,overall,Overall,8–14,8,14,3,2,0.667',
      'overall,overall,Overall,15–30,15,30,2,0,0.000',
      'overall,overall,Overall,31–60,31,60,1,0,0.000',
      'overall,overall,Overall,61+,61,,1,1,1.000',
    ]);
    expect(lines).toContain('module,intro,Introduction,8–14,8,14,2,1,0.500');
    expect(lines).toContain('module,check,Basics check,4–7,4,7,1,1,1.000');
    expect(lines).toContain('module,check,Basics check,0–1,0,1,0,0,');
    expect(lines).toContain('cohort,South,South,8–14,8,14,2,2,1.000');
    expect(lines).toContain('cohort,North,North,2–3,2,3,2,1,0.500');
  });

  it('items.csv and reps.csv match the page', async () => {
    const items = await trainer.agent.get('/reports/retention/items.csv').expect(200);
    expect(csvLines(items.text)).toEqual([
      'question,prompt,module_id,module,answered,correct,recall',
      'basics.q2,Is the value statement about the customer?,intro,Introduction,4,2,0.500',
      'basics.q3,Do you ask before you pitch?,check,Basics check,4,2,0.500',
      'basics.q1,Which is right?,intro,Introduction,4,3,0.750',
    ]);
    const reps = await trainer.agent.get('/reports/retention/reps.csv').expect(200);
    const lines = csvLines(reps.text);
    expect(lines[0]).toBe('rep,manager,recent_answered,recent_correct,recent_recall,last_answered_at,days_since_last_answer,reasons');
    expect(lines.slice(1).map((l) => l.split(',').filter((_, i) => i !== 5))).toEqual([
      ['Riley Chen', 'Morgan Reyes', '4', '1', '0.250', '5', 'low_recall'],
      ['Sam Okafor', 'Morgan Reyes', '3', '3', '1.000', '23', 'inactive'],
      ['Avery Kim', 'Priya Shah', '1', '0', '0.000', '20', 'inactive'],
    ]);
    expect(lines[1]!.split(',')[5]).toBe(ago(5).toISOString());
  });

  it('honour the filters', async () => {
    const items = await trainer.agent.get('/reports/retention/items.csv?module=check').expect(200);
    expect(csvLines(items.text).slice(1)).toEqual(['basics.q3,Do you ask before you pitch?,check,Basics check,4,2,0.500']);
    const curve = await trainer.agent.get('/reports/retention/curve.csv?cohort=North').expect(200);
    const lines = csvLines(curve.text);
    expect(lines).toContain('overall,overall,Overall,15–30,15,30,1,0,0.000');
    expect(lines.some((l) => l.startsWith('cohort,South'))).toBe(false);
    const reps = await trainer.agent.get('/reports/retention/reps.csv?cohort=South').expect(200);
    expect(csvLines(reps.text).slice(1).map((l) => l.split(',')[0])).toEqual(['Avery Kim']);
    const zeta = await trainer.agent.get('/reports/retention/items.csv?curriculum=zeta').expect(200);
    expect(zeta.headers['content-disposition']).toContain('retention-items-zeta.csv');
    expect(csvLines(zeta.text)).toHaveLength(1); // one answer: below the minimum of 3
  });
});

describe('bad filters', () => {
  // each problem is listed as <strong>field</strong>: what is wrong
  const cases: [string, RegExp][] = [
    ['from=yesterday', /<strong>from<\/strong>: must be a date as YYYY-MM-DD/],
    ['to=2026-02-30', /<strong>to<\/strong>: is not a date in the calendar/],
    ['from=2026-03-10&to=2026-03-01', /<strong>to<\/strong>: must be on or after from \(2026-03-10\), not 2026-03-01/],
    ['module=nope', /<strong>module<\/strong>: (&#x27;|')nope(&#x27;|') is not a module of Demo onboarding/],
    ['curriculum=nope', /<strong>curriculum<\/strong>: no curriculum (&#x27;|')nope(&#x27;|') has been published/],
    ['by=week', /<strong>by<\/strong>: must be module or cohort/],
    ['colour=red', /Unrecognized key/i],
  ];
  for (const [qs, message] of cases) {
    it(`?${qs} → 422 with what is wrong, beside the filter form`, async () => {
      const res = await trainer.agent.get(`/reports/retention?${qs}`).expect(422);
      expect(res.text).toMatch(message);
      expect(res.text).toContain('aria-label="Filter the retention report"');
    });
  }

  it('the CSVs answer 422 with the same message (JSON when asked)', async () => {
    const res = await trainer.agent.get('/reports/retention/reps.csv?from=2026-01-32').set('Accept', 'application/json').expect(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.problems).toEqual([{ path: 'from', message: 'is not a date in the calendar' }]);
    const html = await trainer.agent.get('/reports/retention/curve.csv?module=nope').expect(422);
    expect(html.text).toMatch(/is not a module of Demo onboarding/);
  });
});

describe('who may see it', () => {
  it('refuses reps and managers, page and CSVs alike; admins may', async () => {
    const rep = await signIn(ctx.app, 'rep1@demo.onramp.dev');
    const manager = await signIn(ctx.app, 'manager1@demo.onramp.dev');
    for (const path of ['/reports/retention', '/reports/retention/curve.csv', '/reports/retention/items.csv', '/reports/retention/reps.csv']) {
      await rep.agent.get(path).expect(403);
      await manager.agent.get(path).expect(403);
    }
    const admin = await signIn(ctx.app, 'admin@demo.onramp.dev');
    await admin.agent.get('/reports/retention').expect(200);
    const home = await manager.agent.get('/').expect(200);
    expect(home.text).not.toContain('/reports/retention');
  });
});

describe('before any curriculum is published', () => {
  it('says what to do, exports empty CSVs and refuses a curriculum that does not exist', async () => {
    const bare = await createTestContext();
    try {
      await seedPeople(bare.container);
      const { agent } = await signIn(bare.app, 'trainer@demo.onramp.dev');
      const page = await agent.get('/reports/retention').expect(200);
      expect(page.text).toContain('No curriculum published yet');
      expect(page.text).not.toContain('Curve (CSV)');
      const csv = await agent.get('/reports/retention/items.csv').expect(200);
      expect(csvLines(csv.text)).toEqual(['question,prompt,module_id,module,answered,correct,recall']);
      const bad = await agent.get('/reports/retention?curriculum=demo').expect(422);
      expect(bad.text).toMatch(/no curriculum (&#x27;|')demo(&#x27;|') has been published/);
    } finally {
      await bare.close();
    }
  });
});
