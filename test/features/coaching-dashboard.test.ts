import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadinessObjective } from '../../src/engine/curriculum.js';
import { prepareLocalRun } from '../../src/features/demo/prepare.js';
import { DEMO_SCRIPT_MODULE } from '../../src/features/demo/submissions.js';
import type { EnrollmentDoc } from '../../src/features/enrollment/model.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { createLogger } from '../../src/infra/logger.js';
import { createTestContext, signIn, type SignedIn, type TestContext } from '../support/context.js';

/**
 * The coaching view, *My progress* and the readiness working, on the demo data that `npm start`
 * prepares: every figure checked against a count made by hand from the source documents (the
 * enrollment's facts, the submission's logged results, the form's targets, the reinforcement
 * answers and the curriculum's weights) — not against the rollup the pages read.
 */
const CONTENT = join(import.meta.dirname, '..', '..', 'content');
let ctx: TestContext;
const people: Record<string, { id: string; name: string; email: string; managerId: string | null; role: string }> = {};
const browsers: Record<string, SignedIn> = {};

const as = async (who: string) => (browsers[who] ??= await signIn(ctx.app, `${who}@demo.onramp.dev`));
const get = async (who: string, url: string, status = 200) => {
  const res = await (await as(who)).agent.get(url).set('Accept', url.startsWith('/api/') ? 'application/json' : 'text/html');
  expect(res.status, `${who} GET ${url}: ${res.text.slice(0, 300)}`).toBe(status);
  return res;
};
/** the page's text without tags, with runs of whitespace collapsed */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;|&#x3D;/g, (m) => (m === '&quot;' ? '"' : '='))
    .replace(/\s+/g, ' ');
const csvOf = (text: string) => parseCsv(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
const round = (n: number) => Math.round(n);
const round1 = (n: number) => Math.round(n * 10) / 10;

async function enrollmentOf(rep: string): Promise<EnrollmentDoc> {
  return (await ctx.container.models.Enrollment.findOne({ userId: people[rep]!.id }).lean<EnrollmentDoc>())!;
}
async function curriculumOf(rep: string) {
  return (await ctx.container.curricula.version((await enrollmentOf(rep)).versionId)).content;
}
/** a rep's reinforcement answers per module, counted from the stored answers */
async function answersOf(rep: string): Promise<Record<string, { answered: number; correct: number }>> {
  const out: Record<string, { answered: number; correct: number }> = {};
  for (const a of await ctx.container.models.Answer.find({ userId: people[rep]!.id }).lean<{ moduleId: string; correct: boolean }[]>()) {
    const r = (out[a.moduleId] ??= { answered: 0, correct: 0 });
    r.answered++;
    if (a.correct) r.correct++;
  }
  return out;
}

beforeAll(async () => {
  ctx = await createTestContext({ CONTENT_DIR: CONTENT, DEMO_SEED: 'true' });
  const run = await prepareLocalRun(ctx.container.mongo, ctx.config, createLogger(ctx.config));
  expect(run.seededUsers).toBe(true);
  for (const u of await ctx.container.accounts.list({ id: 'test', role: 'admin' })) people[u.email.split('@')[0]!] = u;
});
afterAll(() => ctx?.close());

describe('the coaching view (/team/dashboard)', () => {
  for (const manager of ['manager1', 'manager2']) {
    it(`lists exactly ${manager}'s reps, whatever the request asks for`, async () => {
      const mine = Object.entries(people).filter(([, p]) => p.managerId === people[manager]!.id).map(([, p]) => p.name).sort();
      expect(mine.length).toBe(3);
      const others = Object.entries(people).filter(([, p]) => p.role === 'rep' && p.managerId !== people[manager]!.id).map(([, p]) => p.name);
      const other = manager === 'manager1' ? 'manager2' : 'manager1';
      for (const url of ['/team/dashboard', `/team/dashboard?managerId=${people[other]!.id}&manager=${people[other]!.id}`]) {
        const page = textOf((await get(manager, url)).text);
        for (const name of mine) expect(page).toContain(name);
        for (const name of others) expect(page).not.toContain(name);
      }
      const csv = csvOf((await get(manager, `/team/dashboard.csv?managerId=${people[other]!.id}`)).text);
      expect(csv.map((r) => r.rep).sort()).toEqual(mine);
    });
  }

  it('shows each rep’s roadmap status and readiness as the rollup of their enrollment', async () => {
    const csv = csvOf((await get('manager1', '/team/dashboard.csv')).text);
    for (const rep of ['rep1', 'rep2', 'rep3']) {
      const e = await enrollmentOf(rep);
      const row = csv.find((r) => r.rep === people[rep]!.name)!;
      const done = e.roadmap.modules.filter((m) => m.state === 'completed' || m.state === 'tested_out').length;
      expect([row.modules_done, row.modules_total]).toEqual([String(done), String(e.roadmap.modules.length)]);
      // behind when a module not done is past its due date (the demo reps all have one by now)
      const today = new Date().toISOString().slice(0, 10);
      const late = e.roadmap.modules.filter((m) => m.state !== 'completed' && m.state !== 'tested_out' && m.dueOn && m.dueOn < today);
      expect(row.status).toBe(late.length ? 'behind' : 'on-track');
      expect((row.overdue_modules ?? '').split('; ').filter(Boolean)).toHaveLength(late.length);
    }
    // rep2: post-test 70 × 40, retention right/answered × 30 on the four foundations lessons
    const curriculum = await curriculumOf('rep2');
    const knows = curriculum.definition.readiness!.objectives[0]!;
    const answers = await answersOf('rep2');
    const a = knows.retention.reduce((s, m) => s + (answers[m]?.answered ?? 0), 0);
    const c = knows.retention.reduce((s, m) => s + (answers[m]?.correct ?? 0), 0);
    expect(a).toBeGreaterThan(0);
    const expected = round1((70 * knows.weights.posttest! + round1((100 * c) / a) * knows.weights.retention!) / (knows.weights.posttest! + knows.weights.retention!));
    expect(Number(csv.find((r) => r.rep === people.rep2!.name)!.readiness)).toBe(expected);
    const page = textOf((await get('manager1', '/team/dashboard')).text);
    expect(page).toContain(`${expected}`);
    expect(page).toMatch(/Reviews waiting for you/);
  });

  it('counts the reviews waiting for the manager and links to them', async () => {
    const queue = await ctx.container.reviews.queue({ id: people.manager1!.id, role: 'manager' });
    expect(queue.waiting).toHaveLength(1); // rep3's script
    const html = (await get('manager1', '/team/dashboard')).text;
    expect(html).toMatch(/<a class="stat-value" href="\/reviews">1<\/a>/);
  });

  it('gives rep4 a ROAM card that matches a hand count of the logged results, the form’s targets and the scores', async () => {
    const doc = (await ctx.container.models.Submission.findOne({ repId: people.rep4!.id, moduleId: DEMO_SCRIPT_MODULE }).lean<SubmissionDoc>())!;
    const results = doc.results as Record<string, number>;
    const curriculum = await curriculumOf('rep4');
    const form = curriculum.forms[doc.formId]!;
    const target = (id: string) => (form.activityLog.fields.find((f) => f.id === id) as { target: number }).target;
    expect([results.appointments, target('appointments')]).toEqual([7, 8]);
    const capped = (id: string) => Math.min(100, round((100 * results[id]!) / target(id)));
    const resultsPct = capped('appointments'); // 7 of 8 → 88
    const activityPct = round((capped('calls') + capped('contacts') + capped('presentations')) / 3); // (100 + 95 + 75) ÷ 3 = 90
    const facts = (await enrollmentOf('rep4')).facts;
    const checks = Object.entries(facts.scores).filter(([id]) => curriculum.definition.modules.find((m) => m.id === id)!.assessment!.purpose !== 'pretest');
    const methodologyPct = round(checks.reduce((s, [, v]) => s + v.best, 0) / checks.length); // (92 + 85) ÷ 2 → 89
    expect([resultsPct, activityPct, methodologyPct]).toEqual([88, 90, 89]);

    const row = csvOf((await get('manager2', '/team/dashboard.csv')).text).find((r) => r.rep === people.rep4!.name)!;
    expect(row).toMatchObject({
      results_percent: String(resultsPct),
      activity_percent: String(activityPct),
      methodology_percent: String(methodologyPct),
      appointments: '7',
      appointments_target: '8',
      calls: String(results.calls),
      calls_target: String(target('calls')),
      contacts: String(results.contacts),
      contacts_target: String(target('contacts')),
      presentations: String(results.presentations),
      presentations_target: String(target('presentations')),
      results_confirmed: 'yes',
      biggest_gap: 'results',
    });

    const html = (await get('manager2', '/team/dashboard')).text;
    const card = textOf(html.slice(html.indexOf(`aria-labelledby="roam-${doc.enrollmentId}"`)).split('</article>')[0]!);
    expect(card).toContain('Coach first: Results vs objectives (88%)');
    expect(card).toContain('7 of 8 appointments (88%)');
    expect(card).toContain(`${results.calls} of ${target('calls')} calls (100%)`);
    expect(card).toContain(`${results.contacts} of ${target('contacts')} contacts (95%)`);
    expect(card).toContain(`${results.presentations} of ${target('presentations')} presentations (75%)`);
    expect(card).toContain('Foundations check: 92%');
    expect(card).toContain('Prospecting post-test: 85%');
    expect(card).toMatch(/Activity 90%/);
    expect(card).toMatch(/Methodology 89%/);
    // the bars are drawn with width classes, never inline styles (the CSP), and the gap is marked
    expect(html).not.toMatch(/style=/);
    expect(html).toMatch(/roam-dim roam-is-gap">\s*<div class="roam-head"><span class="roam-label">Results vs objectives<\/span> <span class="roam-value">88%<\/span> <span class="badge gap-badge">biggest gap<\/span>/);
    expect(html).toContain('progress-bar progress-88');
    expect(html).toContain('progress-bar progress-90');
    expect(html).toContain('progress-bar progress-89');
  });

  it('names the lowest measured dimension as the biggest gap, and says “not measured yet” where there is no data', async () => {
    for (const manager of ['manager1', 'manager2']) {
      const rows = csvOf((await get(manager, '/team/dashboard.csv')).text).filter((r) => r.status !== 'not enrolled');
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        const measured = (['results', 'activity', 'methodology'] as const).filter((k) => r[`${k}_percent`] !== '').map((k) => ({ k, v: Number(r[`${k}_percent`]) }));
        const lowest = measured.reduce<{ k: string; v: number } | null>((lo, d) => (lo === null || d.v < lo.v ? d : lo), null);
        expect(r.biggest_gap, r.rep).toBe(lowest && lowest.v < 100 ? lowest.k : '');
      }
    }
    // rep3 has a foundations check but has logged no activity yet
    const html = (await get('manager1', '/team/dashboard')).text;
    const e3 = await enrollmentOf('rep3');
    const card = textOf(html.slice(html.indexOf(`aria-labelledby="roam-${String(e3._id)}"`)).split('</article>')[0]!);
    expect(card).toContain('Results vs objectives not measured yet');
    expect(card).toContain('Activity not measured yet');
    expect(card).toContain('Methodology 88%');
    expect(card).toContain('Coach first: Methodology (88%)');
  });
});

describe('my progress (/me/progress)', () => {
  it('shows rep4 their scores, roadmap, sessions, streak and recall as their records say', async () => {
    const e = await enrollmentOf('rep4');
    const curriculum = await curriculumOf('rep4');
    const html = (await get('rep4', '/me/progress')).text;
    const page = textOf(html);
    for (const [moduleId, s] of Object.entries(e.facts.scores)) {
      const title = curriculum.definition.modules.find((m) => m.id === moduleId)!.title;
      expect(page, title).toMatch(new RegExp(`${title.replace(/[?:()]/g, '.')} \\S[^%]*? ${s.best}%`));
    }
    expect(page).toMatch(/Foundations check Check 92% 80% · passed/);
    expect(page).toMatch(/Prospecting post-test Post-test 85% 80% · passed/);
    expect(page).toMatch(/Foundations re-test \(three weeks later\) Re-test not taken yet/);
    const done = e.roadmap.modules.filter((m) => m.state === 'completed' || m.state === 'tested_out').length;
    expect(page).toContain(`${done} of ${e.roadmap.modules.length} modules done`);
    // the foundations phase was finished on day 5 against its target day 14
    expect(page).toContain('Finished on day 5 (target day 14): 9 days early.');
    expect(page).toContain('Finished on day 20 (target day 30): 10 days early.');
    // the live session rep4 booked (in five days)
    const session = (await ctx.container.models.LiveSession.findOne({ 'seats.userId': people.rep4!.id }).lean<{ _id: unknown; title: string }>())!;
    expect(page).toContain(session.title);
    expect(html).toContain(`/sessions/${String(session._id)}/invite.ics`);
    // recall = answers right ÷ answers given, from the stored answers
    const answers = Object.values(await answersOf('rep4'));
    const answered = answers.reduce((s, a) => s + a.answered, 0);
    const correct = answers.reduce((s, a) => s + a.correct, 0);
    expect(answered).toBeGreaterThan(0);
    expect(page).toContain(`Recall: ${round((100 * correct) / answered)}% (${correct} of ${answered} answers right)`);
    // on-the-job results against the targets
    expect(page).toContain('7 of 8 appointments 88%');
    // the readiness score, with the way to its working
    const stored = (await ctx.container.models.RepReadiness.findById(String(e._id)).lean())!;
    expect(page).toContain(String(stored.readiness!.score));
    expect(html).toContain(`href="/people/${people.rep4!.id}/readiness"`);
  });

  it('shows a rep only themselves', async () => {
    const page = textOf((await get('rep1', '/me/progress')).text);
    const e = await enrollmentOf('rep1');
    expect(page).toContain(`${e.roadmap.done} of ${e.roadmap.total} modules done`);
    expect(page).toContain(people.rep1!.name);
    expect(page).not.toContain(people.rep4!.name);
    expect(page).toContain('No live sessions booked');
    await get('manager1', '/me/progress', 403);
  });
});

describe('the readiness working (/people/:id/readiness)', () => {
  /** rep4's readiness, worked by hand from the curriculum's weights and rep4's evidence */
  async function handReadiness() {
    const curriculum = await curriculumOf('rep4');
    const facts = (await enrollmentOf('rep4')).facts;
    const answers = await answersOf('rep4');
    const doc = (await ctx.container.models.Submission.findOne({ repId: people.rep4!.id, moduleId: DEMO_SCRIPT_MODULE }).lean<SubmissionDoc>())!;
    const form = curriculum.forms[doc.formId]!;
    const objective = (o: ReadinessObjective) => {
      const inputs: { kind: string; value: number | null; weight: number }[] = [];
      const score = (id: string) => facts.scores[id]?.best ?? null;
      if (o.pretest) inputs.push({ kind: 'pretest', value: score(o.pretest), weight: o.weights.pretest ?? 0 });
      if (o.posttest) inputs.push({ kind: 'posttest', value: score(o.posttest), weight: o.weights.posttest ?? 0 });
      if (o.retest) inputs.push({ kind: 'retest', value: score(o.retest), weight: o.weights.retest ?? 0 });
      if (o.retention.length) {
        const a = o.retention.reduce((s, m) => s + (answers[m]?.answered ?? 0), 0);
        const c = o.retention.reduce((s, m) => s + (answers[m]?.correct ?? 0), 0);
        inputs.push({ kind: 'retention', value: a ? round1((100 * c) / a) : null, weight: o.weights.retention ?? 0 });
      }
      if (o.results) {
        const value = (doc.results as Record<string, number>)[o.results.field]!;
        const target = (form.activityLog.fields.find((f) => f.id === o.results!.field) as { target: number }).target;
        inputs.push({ kind: 'results', value: round1(Math.min(100, (100 * value) / target)), weight: o.weights.results ?? 0 });
      }
      const counted = inputs.filter((i) => i.value !== null && i.weight > 0);
      const weights = counted.reduce((s, i) => s + i.weight, 0);
      return { id: o.id, inputs, score: round1(counted.reduce((s, i) => s + i.value! * i.weight, 0) / weights), coverage: round((100 * weights) / inputs.reduce((s, i) => s + i.weight, 0)), counted, weights };
    };
    const objectives = curriculum.definition.readiness!.objectives.map(objective);
    return { objectives, score: round1(objectives.reduce((s, o) => s + o.score, 0) / objectives.length) };
  }

  it('matches a hand computation from the curriculum’s weights and rep4’s evidence, and writes the sums out', async () => {
    const hand = await handReadiness();
    // the sample's weights: knows = post-test 40, re-test 30 (not taken: left out), retention 30; sets = post-test 30, retention 20, results 50
    expect(hand.objectives.map((o) => o.inputs.map((i) => [i.kind, i.weight]))).toEqual([
      [['pretest', 0], ['posttest', 40], ['retest', 30], ['retention', 30]],
      [['posttest', 30], ['retention', 20], ['results', 50]],
    ]);
    expect(hand.objectives[0]!.inputs[1]!.value).toBe(92);
    expect(hand.objectives[0]!.inputs[2]!.value).toBeNull();
    expect(hand.objectives[1]!.inputs.map((i) => i.kind === 'retention' || i.value)).toEqual([85, true, 87.5]);
    expect(hand.objectives.map((o) => o.coverage)).toEqual([70, 100]);

    const json = (await get('manager2', `/api/people/${people.rep4!.id}/readiness`)).body as { person: { name: string }; enrollments: { readiness: { score: number; objectives: { id: string; score: number; coverage: number; growth: number | null; inputs: { kind: string; value: number | null; weight: number; contribution: number | null }[] }[] } }[] };
    expect(json.person.name).toBe(people.rep4!.name);
    const r = json.enrollments[0]!.readiness;
    expect(r.score).toBe(hand.score);
    for (const [i, o] of hand.objectives.entries()) {
      expect(r.objectives[i]).toMatchObject({ id: o.id, score: o.score, coverage: o.coverage });
      expect(r.objectives[i]!.inputs.map((x) => [x.kind, x.value, x.weight])).toEqual(o.inputs.map((x) => [x.kind, x.value, x.weight]));
    }
    expect(r.objectives[0]!.growth).toBe(92 - 81); // post-test − pre-test

    const page = textOf((await get('trainer', `/people/${people.rep4!.id}/readiness`)).text);
    for (const o of hand.objectives) {
      const products = o.counted.map((i) => `${i.value} × ${i.weight}`).join(' + ');
      const sum = Math.round(o.counted.reduce((s, i) => s + i.value! * i.weight, 0) * 100) / 100;
      expect(page).toContain(`= (${products}) ÷ (${o.counted.map((i) => i.weight).join(' + ')}) = ${sum} ÷ ${o.weights} = `);
      expect(page).toContain(`→ ${o.score}`);
    }
    expect(page).toContain('score = Σ value × weight ÷ Σ weights of the inputs with evidence');
    expect(page).toContain(`= (${hand.objectives.map((o) => o.score).join(' + ')}) ÷ 2 = `);
    expect(page).toContain('Re-test: Foundations re-test (three weeks later) not taken yet not yet 30 — not yet — left out');
    expect(page).toContain('baseline (weight 0): shows growth, not counted');
    expect(page).toContain('Growth (post-test − pre-test): +11 points (pre-test 81% → post-test 92%)');
    expect(page).toContain('Coverage: 70% of this objective\'s weight has evidence (70 of 100)');
    expect(page).toContain('7 of 8 appointments');
  });

  it('is open to the rep, their manager, trainers and admins; 404 for anyone else', async () => {
    await get('rep1', `/people/${people.rep1!.id}/readiness`);
    await get('manager1', `/people/${people.rep1!.id}/readiness`);
    await get('trainer', `/people/${people.rep1!.id}/readiness`);
    await get('admin', `/api/people/${people.rep1!.id}/readiness`);
    await get('manager2', `/people/${people.rep1!.id}/readiness`, 404);
    await get('manager2', `/api/people/${people.rep1!.id}/readiness`, 404);
    await get('rep1', `/people/${people.rep2!.id}/readiness`, 404);
    await get('rep1', `/api/people/${people.rep2!.id}/readiness`, 404);
    await get('rep1', '/people/0123456789abcdef01234567/readiness', 404);
    await get('trainer', `/people/${people.manager1!.id}/readiness`, 404); // not a rep
  });
});
