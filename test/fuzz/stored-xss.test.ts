import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { createTestContext, seedPeople, type DemoPeople, type SignedIn, type TestContext } from '../support/context.js';
import { deliverLater, fixtureFiles, unlockTransfer } from '../support/curriculum-fixture.js';
import { browserOn, listen, liveMarkupIn, messageOf, Tally, textOf, XSS_PAYLOADS } from './support.js';

/**
 * Stored XSS: real payloads stored through the app's own forms — user names, a cohort, an API
 * token's name, transfer answers, a manager's review comments — and through content (a lesson in
 * Markdown with script, event handlers and javascript: links; a module title, objectives, a question
 * and a form label). Every page that shows them must show them as text: no `<script>` but the
 * page's own, no `on…=` attribute, no `javascript:` address, and the payload's text visible.
 */
let ctx: TestContext;
let http: Awaited<ReturnType<typeof listen>>;
let people: DemoPeople;
const ids: Record<string, string> = {};
const as: Record<string, SignedIn> = {};
const tally = new Tally('stored-xss');
let pagesWithLiveMarkup = 0;

const NAMES = {
  rep1: `${XSS_PAYLOADS[0]} Riley`,
  rep2: `${XSS_PAYLOADS[1]} Sam`,
  rep3: `${XSS_PAYLOADS[5]} Kim`,
  manager1: `${XSS_PAYLOADS[2]} Morgan`,
};
const COHORT = XSS_PAYLOADS[4]!;
const TOKEN = XSS_PAYLOADS[6]!;
const ANSWER = `${XSS_PAYLOADS[7]} ${XSS_PAYLOADS[8]} ${XSS_PAYLOADS[5]}`;
const COMMENT = XSS_PAYLOADS[3]!;
const NOTE = XSS_PAYLOADS[1]!;

/** A lesson that tries every way Markdown has to carry script. */
const LESSON = [
  '# Welcome',
  '',
  '<script>alert(11)</script>',
  '',
  '<img src=x onerror=alert(12)>',
  '',
  '[one](javascript:alert(13)) [two](JaVaScRiPt:alert(14)) [three](&#106;avascript:alert(15)) [four](<javascript:alert(16)>) [five][r]',
  '',
  '[r]: javascript:alert(17)',
  '',
  '![img](javascript:alert(18)) <javascript:alert(19)> [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgyMCk8L3NjcmlwdD4=) [vb](vbscript:msgbox(21))',
  '',
  '<svg onload=alert(22)>',
  '',
  '<a href="javascript:alert(23)">raw link</a> and `<script>alert(24)</script>` in code',
  '',
  '[safe](https://example.com/safe)',
].join('\n');

const CONTENT = validateCurriculum(
  'demo',
  fixtureFiles({
    'demo/modules/01-intro.md': `---\nid: intro\ntitle: "<script>alert(25)</script> Introduction"\nphase: basics\nmodality: elearning\nminutes: 10\nobjectives:\n  - '"><img src=x onerror=alert(26)> know the product'\ndueDay: 3\n---\n${LESSON}\n`,
    'demo/modules/04-live.md': '---\nid: live\ntitle: Live practice\nphase: basics\nmodality: vilt\nminutes: 60\n---\nA virtual session.\n',
    'demo/banks/basics.yaml': `id: basics\ntitle: Basics bank\nquestions:\n  - id: q1\n    type: single\n    module: intro\n    reinforcement: true\n    prompt: "<svg onload=alert(27)> Which is right?"\n    options:\n      - text: "<img src=x onerror=alert(28)> This one"\n        correct: true\n      - text: That one\n  - id: q2\n    type: truefalse\n    prompt: "</textarea><script>alert(29)</script>"\n    options:\n      - text: "True"\n        correct: true\n      - text: "False"\n`,
    'demo/forms/script.yaml': 'id: script\ntitle: Call script\nsteps:\n  - id: opening\n    title: "<script>alert(30)</script> Opening"\n    fields:\n      - id: opening\n        label: "\\"><img src=x onerror=alert(31)> Your opening"\n        type: longText\n',
  }),
);

async function post(who: string, url: string, body: Record<string, string>): Promise<{ status: number; location: string; text: string }> {
  const b = as[who]!;
  const res = await b.agent.post(url).type('form').send({ _csrf: b.csrf, ...body });
  return { status: res.status, location: String(res.headers.location ?? ''), text: res.text };
}

beforeAll(async () => {
  expect(CONTENT.problems).toEqual([]);
  ctx = await createTestContext();
  people = await seedPeople(ctx.container);
  http = await listen(ctx.app);
  const c = ctx.container;
  await c.curricula.publish('cli', CONTENT.content!);
  for (const who of ['admin', 'trainer', 'manager1', 'rep1', 'rep2', 'rep3']) as[who] = await browserOn(http.server, `${who}@demo.onramp.dev`);

  // names, through the admin's user form
  for (const [who, name] of Object.entries(NAMES)) {
    const res = await post('admin', `/users/${people[who as keyof typeof NAMES].id}`, { name });
    expect(res.status, res.text.slice(0, 300)).toBe(303);
  }
  // the enrollments, with a cohort, through the trainer's form
  for (const who of ['rep1', 'rep2', 'rep3'] as const) {
    const res = await post('trainer', '/enrollments', { userId: people[who].id, curriculumId: 'demo', cohort: COHORT, startDate: '2026-01-05' });
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    ids[`${who}Enrollment`] = res.location.split('/').pop()!;
  }
  expect((await post('rep1', '/account/tokens', { name: TOKEN })).status).toBe(201);
  // rep1: the lesson read, a check started, questions delivered
  const rep1 = { id: people.rep1.id, role: 'rep' as const };
  await c.enrollments.acknowledge(rep1, ids.rep1Enrollment!, 'intro');
  ids.attempt = await c.assessments.start(rep1, ids.rep1Enrollment!, 'check');
  ids.delivery = await deliverLater(c, people.rep1.id);
  // rep2 and rep3: answers with payloads, submitted; manager1 asks rep2 for changes with payloads
  for (const who of ['rep2', 'rep3'] as const) {
    const rep = { id: people[who].id, role: 'rep' as const };
    await unlockTransfer(c.enrollments, ids[`${who}Enrollment`]!);
    const draft = (await c.transfer.workspace(rep, ids[`${who}Enrollment`]!, 'script')).submission;
    ids[`${who}Submission`] = String(draft._id);
    const saved = await as[who]!.agent.put(`/api/submissions/${String(draft._id)}/draft`).set('X-CSRF-Token', as[who]!.csrf).send({ rev: draft.rev, answers: { opening: ANSWER } });
    expect(saved.status, saved.text).toBe(200);
    expect((await post(who, `/submissions/${String(draft._id)}/submit`, {})).status).toBe(303);
  }
  ids.submission = ids.rep2Submission!;
  const decided = await post('manager1', `/reviews/${ids.submission}/decision`, { action: 'return', c_opening: COMMENT, note: NOTE });
  expect(decided.location).toBe('/reviews');
  // an email with the names and the comment, kept in the outbox (notifications are sent by the worker, which is not running here)
  await c.email.send({ to: 'rep2@demo.onramp.dev', template: 'changes-requested', data: { repName: NAMES.rep2, managerName: NAMES.manager1, itemTitle: XSS_PAYLOADS[0]!, comment: COMMENT, link: `${ctx.config.publicUrl}/roadmap` }, dedupeKey: 'xss' });
  // the dashboards' rollups, which the worker would build
  await c.summaries.refreshAll();
  // a live session: its title and notes carry payloads, its meeting link may not be javascript:
  const refused = await post('trainer', '/sessions', { module: 'demo/live', title: 'x', startsAt: '2030-01-07T10:00', endsAt: '2030-01-07T11:00', timeZone: 'UTC', capacity: '5', meetingUrl: 'javascript:alert(32)' });
  expect(refused.status).toBe(422);
  expect(textOf(refused.text)).toContain('must be a web link starting with https:// or http://');
  const inAWeek = new Date(Date.now() + 7 * 86_400_000);
  ids.session = (await c.sessions.schedule({ id: people.trainer.id, role: 'trainer' }, { curriculumId: 'demo', moduleId: 'live', title: `${XSS_PAYLOADS[0]} Live`, notes: XSS_PAYLOADS[2]!, startsAt: inAWeek, endsAt: new Date(inAWeek.getTime() + 3_600_000), timeZone: 'UTC', capacity: 5, meetingUrl: 'https://meet.example.com/x', instructorId: people.trainer.id })).id;
});
afterAll(async () => {
  await http?.close();
  await ctx?.close();
});

describe('fuzz: stored XSS', () => {
  it('has a check that finds live markup and lets escaped text through', () => {
    for (const html of ['<p><img src=x onerror=alert(1)></p>', '<script>alert(1)</script>', '<a href="javascript:alert(1)">x</a>', '<svg/onload=alert(1)>', '<script type="application/json">{}</script><script>alert(1)</script>']) {
      expect(liveMarkupIn(html), html).not.toEqual([]);
    }
    for (const html of ['<p>&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;</p>', '<script src="/assets/js/builder.js" defer></script>', '<script type="application/json" id="d">{"a":"\\u003cscript>"}</script>', '<a href="https://x.y/">javascript: is text here</a>']) {
      expect(liveMarkupIn(html), html).toEqual([]);
    }
  });

  it('shows every stored payload as text on every page that shows it', async () => {
    const e1 = () => ids.rep1Enrollment!;
    const e2 = () => ids.rep2Enrollment!;
    /** who reads which page, and a payload the page must show as text (so the check is not vacuous) */
    const pages: [string, () => string, string][] = [
      ['admin', () => '/users', NAMES.rep1],
      ['admin', () => `/users/${people.rep1.id}`, NAMES.rep1],
      ['admin', () => `/users/${people.rep2.id}`, NAMES.manager1],
      ['admin', () => '/admin/review-delegates', NAMES.manager1],
      ['admin', () => '/admin/outbox', XSS_PAYLOADS[0]!],
      ['trainer', () => '/enrollments', COHORT],
      ['trainer', () => `/enrollments/${e1()}`, NAMES.rep1],
      ['trainer', () => '/curricula/demo', '<script>alert(25)</script> Introduction'],
      ['trainer', () => '/dashboard', COHORT],
      ['trainer', () => '/reports/transfer', NAMES.rep2],
      ['trainer', () => `/sessions/${ids.session}`, `${XSS_PAYLOADS[0]} Live`],
      ['trainer', () => '/sessions', `${XSS_PAYLOADS[0]} Live`],
      ['manager1', () => '/', NAMES.rep1],
      ['manager1', () => '/reviews', NAMES.rep3],
      ['manager1', () => `/reviews/${ids.rep3Submission}`, NAMES.rep3],
      ['manager1', () => `/reviews/${ids.submission}`, ANSWER],
      ['manager1', () => '/team/dashboard', NAMES.rep2],
      ['manager1', () => '/', NAMES.rep3],
      ['manager1', () => `/people/${people.rep2.id}/timeline`, NAMES.rep2],
      ['manager1', () => `/people/${people.rep2.id}/readiness`, NAMES.rep2],
      ['rep1', () => '/', NAMES.rep1],
      ['rep1', () => '/roadmap', '<script>alert(25)</script> Introduction'],
      ['rep1', () => `/learn/${e1()}/modules/intro`, '<script>alert(11)</script>'],
      ['rep1', () => `/learn/${e1()}/modules/live`, 'Book this session'],
      ['rep1', () => `/attempts/${ids.attempt}`, '<svg onload=alert(27)> Which is right?'],
      ['rep1', () => `/reinforcement/deliveries/${ids.delivery}`, '<img src=x onerror=alert(28)> This one'],
      ['rep1', () => '/account', NAMES.manager1],
      ['rep1', () => '/account/tokens', TOKEN],
      ['rep1', () => '/me/progress', COHORT],
      ['rep2', () => `/learn/${e2()}/modules/script/build`, COMMENT],
      ['rep2', () => `/learn/${e2()}/modules/script/build?step=opening`, ANSWER],
      ['rep2', () => `/learn/${e2()}/modules/script/build?step=preview`, NOTE],
    ];
    for (const [who, url, shows] of pages) {
      const res = await as[who]!.agent.get(url()).set('Accept', 'text/html');
      const live = res.status === 200 ? liveMarkupIn(res.text) : [];
      const shown = textOf(res.text).includes(shows);
      const label = `${who} GET ${url()}`;
      tally.check(label, { status: res.status, message: messageOf(res) }, { expectStatus: 200 });
      if (live.length) tally.fail(`${label}: live markup ${JSON.stringify(live.slice(0, 3))}`);
      pagesWithLiveMarkup += Number(live.length > 0);
      if (res.status === 200 && !shown) tally.fail(`${label}: does not show ${JSON.stringify(shows)} as text`);
    }
    // the email, as the outbox shows it
    const emails = await ctx.container.models.EmailMessage.find().lean<{ _id: unknown }[]>();
    expect(emails.length).toBeGreaterThan(0);
    for (const m of emails) {
      const res = await as.admin!.agent.get(`/admin/outbox/${String(m._id)}/html`);
      tally.check(`admin GET /admin/outbox/${String(m._id)}/html`, { status: res.status, message: messageOf(res) }, { expectStatus: 200 });
      const live = liveMarkupIn(res.text);
      if (live.length) tally.fail(`email ${String(m._id)}: live markup ${JSON.stringify(live.slice(0, 3))}`);
      pagesWithLiveMarkup += Number(live.length > 0);
      if (!textOf(res.text).includes(COMMENT)) tally.fail(`email ${String(m._id)}: does not show the comment as text`);
    }
    tally.report(`fuzz stored-xss: ${tally.cases} pages showing stored payloads, ${pagesWithLiveMarkup} with live markup, ${tally.serverErrors} 5xx`);
  });

  it('renders the lesson links it allows and drops the ones that could run script', async () => {
    const page = await as.rep1!.agent.get(`/learn/${ids.rep1Enrollment}/modules/intro`).expect(200);
    const lesson = /<article class="card span-2 lesson"[\s\S]*?<\/article>/.exec(page.text)![0];
    expect(lesson).toContain('<a href="https://example.com/safe" target="_blank" rel="noopener noreferrer">safe</a>');
    expect(lesson).not.toMatch(/href="(?:javascript|vbscript|data):/i);
    expect(lesson).not.toMatch(/src="javascript:/i);
    expect(lesson).toContain('&lt;script&gt;alert(11)&lt;/script&gt;');
    // the builder's data island cannot be closed early by an answer
    const builder = await as.rep2!.agent.get(`/learn/${ids.rep2Enrollment}/modules/script/build?step=opening`).expect(200);
    const island = /<script type="application\/json" id="builder-data">([\s\S]*?)<\/script>/.exec(builder.text)![1]!;
    expect(island).not.toContain('<');
    expect(JSON.parse(island).answers.opening).toBe(ANSWER);
  });
});
