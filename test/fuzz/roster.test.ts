import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCurriculum } from '../../src/content/validate.js';
import { ROSTER_COLUMNS } from '../../src/features/enrollment/roster.js';
import { createTestContext, seedPeople, type SignedIn, type TestContext } from '../support/context.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';
import { anyText, browserOn, corpus, countAll, countDocuments, listen, messageOf, Tally } from './support.js';

/**
 * CSV rosters through POST /enrollments/import (preview: a file or a form field) and
 * /enrollments/import/confirm (applies): malformed CSV, wrong and missing columns, BOMs, formula
 * injection, huge rows and files, wrong people. A roster with any problem is answered 422 with the
 * problems and writes nothing anywhere; a good one imports every row.
 */
let ctx: TestContext;
let http: Awaited<ReturnType<typeof listen>>;
let trainer: SignedIn;
const tally = new Tally('csv-rosters');
/** what importing a roster writes: people, enrollments, their statements, the audit trail */
const WRITTEN = ['users', 'enrollments', 'xapi_statements', 'audit_log', 'rep_summaries'];

const HEADER = ROSTER_COLUMNS.join(',');
const row = (email: string, name = 'Fuzz Rep', manager = 'manager1@demo.onramp.dev', cohort = 'F', start = '2026-03-02') => [email, name, manager, cohort, start].join(',');

type Via = 'file' | 'field' | 'confirm';

async function send(label: string, csv: string | Buffer, via: Via, opts: { curriculumId?: string | string[]; expect?: number; mentions?: RegExp } = {}): Promise<number> {
  const before = await countDocuments(ctx.container.mongo, WRITTEN);
  const path = via === 'confirm' ? '/enrollments/import/confirm' : '/enrollments/import';
  let req = trainer.agent.post(path).set('Accept', 'text/html');
  const curriculumId = opts.curriculumId ?? 'demo';
  if (via === 'file') {
    req = req.field('_csrf', trainer.csrf);
    for (const id of ([] as string[]).concat(curriculumId)) req = req.field('curriculumId', id);
    req = req.attach('file', Buffer.isBuffer(csv) ? csv : Buffer.from(csv), { filename: 'roster.csv', contentType: 'text/csv' });
  } else {
    req = req.type('form').send({ _csrf: trainer.csrf, curriculumId, csv: String(csv) });
  }
  const res = await req;
  const after = await countDocuments(ctx.container.mongo, WRITTEN);
  // a preview never writes; a confirmed roster writes only when it was accepted
  const refused = res.status >= 400 || via !== 'confirm';
  if (via !== 'confirm' && res.status === 200 && JSON.stringify(before) !== JSON.stringify(after)) tally.fail(`${label} (${via}): the preview wrote ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
  if (res.status === 200) tally.check(`${label} (${via})`, { status: res.status, message: '' }, { refused: false });
  else tally.check(`${label} (${via})`, { status: res.status, message: messageOf(res) }, { before, after, refused, ...(opts.expect ? { expectStatus: opts.expect } : {}), ...(opts.mentions ? { mentions: opts.mentions } : {}) });
  return res.status;
}

/** Hand-picked rosters: each must be refused with the status and message given. */
function handPicked(): { label: string; csv: string | Buffer; expect: number; mentions: RegExp; curriculumId?: string | string[] }[] {
  const bad = (label: string, csv: string | Buffer, mentions: RegExp, status = 422) => ({ label, csv, expect: status, mentions });
  return [
    bad('header only', `${HEADER}\n`, /header but no rows/),
    bad('header only with a BOM', `\uFEFF${HEADER}\r\n`, /header but no rows/),
    bad('missing columns', 'email,name\na@example.com,A\n', /missing column\(s\) manager_email, cohort, start_date/),
    bad('semicolon separated', `${ROSTER_COLUMNS.join(';')}\na@example.com;A;manager1@demo.onramp.dev;F;2026-03-02\n`, /missing column/),
    bad('tab separated', `${ROSTER_COLUMNS.join('\t')}\na@example.com\tA\tmanager1@demo.onramp.dev\tF\t2026-03-02\n`, /missing column/),
    bad('a BOM in the middle of the header', `email,\uFEFFname,manager_email,cohort,start_date\n${row('a@example.com')}\n`, /missing column\(s\) name/),
    bad('two BOMs', `\uFEFF\uFEFF${HEADER}\n${row('a@example.com')}\n`, /missing column\(s\) email/),
    bad('unclosed quote', `${HEADER}\n"a@example.com,A,manager1@demo.onramp.dev,F,2026-03-02\n`, /not valid CSV/),
    bad('a row with too many cells', `${HEADER}\n${row('a@example.com')},extra\n`, /not valid CSV/),
    bad('a row with too few cells', `${HEADER}\na@example.com,A\n`, /not valid CSV/),
    bad('a quote inside a cell', `${HEADER}\na@example.com,A "B" C,manager1@demo.onramp.dev,F,2026-03-02\n`, /not valid CSV/),
    bad('not an email', `${HEADER}\n${row('not-an-email')}\n`, /email "not-an-email" is not an email address/),
    bad('an operator as the email', `${HEADER}\n${row('{"$ne":null}')}\n`, /not valid CSV|is not an email address/),
    bad('a regex as the email', `${HEADER}\n${row('.*')}\n`, /email ".\*" is not an email address/),
    bad('an admin as the rep', `${HEADER}\n${row('admin@demo.onramp.dev')}\n`, /admin@demo.onramp.dev is a admin; only reps are enrolled/),
    bad('a manager who is not one', `${HEADER}\n${row('a@example.com', 'A', 'rep1@demo.onramp.dev')}\n`, /manager_email "rep1@demo.onramp.dev" is not an active manager/),
    bad('a rep under another manager', `${HEADER}\n${row('rep1@demo.onramp.dev', 'Rep', 'manager2@demo.onramp.dev')}\n`, /reports to manager1@demo.onramp.dev, not manager2/),
    bad('the same email twice', `${HEADER}\n${row('a@example.com')}\n${row('A@EXAMPLE.COM')}\n`, /a@example.com is also on line 2/),
    ...['2026-02-30', '2026-13-01', '02/03/2026', '2026-3-2', '', 'tomorrow', '+02026-03-02', '2026-03-02T00:00:00Z'].map((d) => bad(`start date ${JSON.stringify(d)}`, `${HEADER}\n${row('a@example.com', 'A', undefined, 'F', d)}\n`, /start_date ".*" is not a date written YYYY-MM-DD/)),
    bad('an empty name', `${HEADER}\n${row('a@example.com', '')}\n`, /name is empty/),
    bad('a 121-character name', `${HEADER}\n${row('a@example.com', 'n'.repeat(121))}\n`, /name is longer than 120/),
    bad('an 81-character cohort', `${HEADER}\n${row('a@example.com', 'A', undefined, 'c'.repeat(81))}\n`, /cohort is longer than 80/),
    bad('one bad row among good ones', `${HEADER}\n${row('good1@example.com')}\n${row('good2@example.com')}\n${row('bad')}\n`, /Line 4: email "bad"/),
    bad('5,001 rows', `${HEADER}\n${Array.from({ length: 5001 }, (_, i) => row(`r${i}@example.com`)).join('\n')}\n`, /5001 rows; import at most 5000/),
    bad('a 400 kB row', `${HEADER}\n${row('a@example.com', 'n'.repeat(400_000))}\n`, /name is longer than 120/),
    bad('binary', Buffer.from([0x00, 0xff, 0xfe, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]), /missing column|not valid CSV/),
    { ...bad('an unknown curriculum', `${HEADER}\n${row('a@example.com')}\n`, /curriculum|not found|no /i, 404), curriculumId: 'no-such-curriculum' },
    { ...bad('an operator as the curriculum', `${HEADER}\n${row('a@example.com')}\n`, /curriculum|not found|no /i, 404), curriculumId: '{"$ne":null}' },
    { ...bad('two curricula', `${HEADER}\n${row('a@example.com')}\n`, /curriculumId/, 422), curriculumId: ['demo', 'other'] },
  ];
}

/** Rosters built from random cells: a random header (sometimes the right one), random rows. */
function randomRoster(): fc.Arbitrary<string> {
  const cell = fc.oneof(anyText, fc.constantFrom('manager1@demo.onramp.dev', 'rep2@demo.onramp.dev', '2026-03-02', 'x@example.com', '"', '""', '","', '\n', '=1+1', '@SUM(A1)'), fc.emailAddress());
  const header = fc.oneof({ arbitrary: fc.constant(HEADER), weight: 3 }, fc.shuffledSubarray([...ROSTER_COLUMNS, 'extra', 'EMAIL', ' name ']).map((c) => c.join(',')), anyText);
  const line = fc.array(cell, { minLength: 0, maxLength: 7 }).map((cells) => cells.join(','));
  return fc.tuple(fc.boolean(), header, fc.array(line, { maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\r')).map(([bom, h, lines, eol]) => `${bom ? '\uFEFF' : ''}${[h, ...lines].join(eol)}${eol}`);
}

beforeAll(async () => {
  ctx = await createTestContext();
  await seedPeople(ctx.container);
  await ctx.container.curricula.publish('cli', validateCurriculum('demo', fixtureFiles()).content!);
  http = await listen(ctx.app);
  trainer = await browserOn(http.server, 'trainer@demo.onramp.dev');
});
afterAll(async () => {
  await http?.close();
  await ctx?.close();
});

describe('fuzz: CSV roster import', () => {
  it('refuses every bad roster with 422 and its problems, and writes nothing for it', async () => {
    for (const c of handPicked()) {
      for (const via of ['file', 'confirm'] as const) await send(c.label, c.csv, via, { expect: c.expect, mentions: c.mentions, ...(c.curriculumId ? { curriculumId: c.curriculumId } : {}) });
    }
    for (const [i, csv] of corpus(randomRoster(), 160).entries()) {
      await send(`random roster #${i} ${JSON.stringify(csv).slice(0, 80)}`, csv, i % 2 ? 'field' : 'file');
      await send(`random roster #${i} ${JSON.stringify(csv).slice(0, 80)}`, csv, 'confirm');
    }
    tally.report();
    expect(tally.refused).toBeGreaterThan(350);
  });

  it('refuses an upload that is too large or not one file, with a message', async () => {
    const upload = (attach: (r: ReturnType<SignedIn['agent']['post']>) => ReturnType<SignedIn['agent']['post']>) => attach(trainer.agent.post('/enrollments/import').set('Accept', 'text/html').field('_csrf', trainer.csrf).field('curriculumId', 'demo'));
    const before = await countAll(ctx.container.mongo);
    const big = await upload((r) => r.attach('file', Buffer.alloc(2 * 1024 * 1024 + 1, 'a'), 'big.csv'));
    expect(big.status, big.text.slice(0, 300)).toBe(413);
    expect(messageOf(big)).toMatch(/file is too large: a roster may be at most 2 MB/);
    const two = await upload((r) => r.attach('file', Buffer.from(HEADER), 'a.csv').attach('file', Buffer.from(HEADER), 'b.csv'));
    expect(two.status, two.text.slice(0, 300)).toBe(400);
    expect(messageOf(two)).toMatch(/file/i);
    const other = await upload((r) => r.attach('roster', Buffer.from(HEADER), 'a.csv'));
    expect(other.status, other.text.slice(0, 300)).toBe(400);
    expect(messageOf(other)).toMatch(/roster/);
    const fields = await upload((r) => [...Array(12).keys()].reduce((q, i) => q.field(`f${i}`, 'x'), r));
    expect(fields.status, fields.text.slice(0, 300)).toBe(400);
    expect(messageOf(fields)).toMatch(/Too many fields/);
    // a multipart body that ends in the middle of a part, and one without a boundary
    const cut = await trainer.agent.post('/enrollments/import').set('Content-Type', 'multipart/form-data; boundary=x').send('--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nemail,na');
    expect(cut.status, cut.text.slice(0, 300)).toBe(400);
    expect(messageOf(cut)).toMatch(/upload could not be read \(Unexpected end of form\)/);
    const noBoundary = await trainer.agent.post('/enrollments/import').set('Content-Type', 'multipart/form-data').send('x');
    expect(noBoundary.status, noBoundary.text.slice(0, 300)).toBe(400);
    expect(await countAll(ctx.container.mongo)).toEqual(before);
  });

  it('refuses a roster posted without the CSRF token (403), and writes nothing', async () => {
    const before = await countAll(ctx.container.mongo);
    const res = await trainer.agent.post('/enrollments/import/confirm').type('form').send({ curriculumId: 'demo', csv: `${HEADER}\n${row('csrf@example.com')}\n` });
    expect(res.status).toBe(403);
    expect(await countAll(ctx.container.mongo)).toEqual(before);
  });

  it('imports a good roster with a BOM, CRLF and formula-like names, which CSV exports then neutralise', async () => {
    const csv = `\uFEFF${HEADER}\r\n${row('formula1@example.com', '=cmd|\' /C calc\'!A0')}\r\n${row('formula2@example.com', '@SUM(1+1)*cmd|\' /C calc\'!A0')}\r\n`;
    expect((await trainer.agent.post('/enrollments/import').type('form').send({ _csrf: trainer.csrf, curriculumId: 'demo', csv })).status).toBe(200);
    const res = await trainer.agent.post('/enrollments/import/confirm').type('form').send({ _csrf: trainer.csrf, curriculumId: 'demo', csv });
    expect(res.status).toBe(200);
    expect(res.text).toContain('2 enrolled');
    const rep = (await ctx.container.accounts.findByEmail('formula1@example.com'))!;
    expect(rep.name).toBe("=cmd|' /C calc'!A0");
    // the rep takes the check: the attempts export lists them by name, as text
    const enrollment = (await ctx.container.models.Enrollment.findOne({ userId: rep.id }).lean())!;
    const actor = { id: rep.id, role: 'rep' as const };
    await ctx.container.enrollments.acknowledge(actor, String(enrollment._id), 'intro');
    await ctx.container.assessments.submit(actor, await ctx.container.assessments.start(actor, String(enrollment._id), 'check'), {});
    const exported = await trainer.agent.get('/assessments/demo/check/attempts.csv').expect(200);
    expect(exported.text).toContain(`\r\n'=cmd|' /C calc'!A0,F,1,`);
    expect(exported.text).not.toMatch(/(^|,)"?[=@]/m);
  });
});
