import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CurriculumDef } from '../../src/engine/curriculum.js';
import { overdueOn, statusOn, type RepSummary } from '../../src/engine/rep-summary.js';
import { DEMO_CURRICULUM } from '../../src/features/demo/learning.js';
import { prepareLocalRun } from '../../src/features/demo/prepare.js';
import {
  emptyRaw,
  histogramMedian,
  shapeDashboard,
  TrainerDashboard,
  type DashboardFigures,
  type DashboardFilters,
  type DashboardRaw,
} from '../../src/features/dashboards/trainer.js';
import { cellIdOf, rawFromCells, readRow, rowOf, storeRow, type DashboardCellDoc, type DashboardRow } from '../../src/features/dashboards/cells.js';
import type { EnrollmentDoc } from '../../src/features/enrollment/model.js';
import type { SubmissionDoc } from '../../src/features/transfer/model.js';
import { createLogger } from '../../src/infra/logger.js';
import { createTestContext, signIn, type SignedIn, type TestContext } from '../support/context.js';

/**
 * The trainer dashboard on the demo data (`prepareLocalRun`, as `npm start` prepares it), every
 * figure checked against a hand count made here from the sources the rollup is built from: the
 * enrollments (facts and roadmaps), the users' managers, the transfer submissions and the
 * reinforcement answers — never from `rep_summaries`, which is what the dashboard reads.
 */
const CONTENT = join(import.meta.dirname, '..', '..', 'content');
const DONE_STATES = new Set(['completed', 'tested_out']);
const DAY = 86_400_000;
const daysBetween = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY);

let ctx: TestContext;
let trainer: SignedIn;
let today: string;
let def: CurriculumDef;
let versionId: string;
let enrollments: EnrollmentDoc[];
let submissions: SubmissionDoc[];
let answers: { userId: string; correct: boolean }[];
const names = new Map<string, string>();
const managerOf = new Map<string, string | null>();
const people: Record<string, { id: string; name: string }> = {};

// ---- the hand count --------------------------------------------------------------------------------

interface HandCount {
  enrolled: number;
  onTrack: number;
  behind: number;
  completed: number;
  byCohort: Record<string, { enrolled: number; onTrack: number; behind: number; completed: number }>;
  funnel: Record<string, { started: number; done: number }>;
  ramp: Record<string, { finished: number; median: number | null; max: number | null; within: number }>;
  overdue: { rep: string; modules: { moduleId: string; daysLate: number }[] }[];
  assessments: Record<string, { reps: number; mean: number | null; atOrAbove: number }>;
  managers: Record<string, { reps: number; behind: number; completed: number; waiting: number; approved: number; logged: number; met: number; confirmed: number }>;
  results: Record<string, number>;
  retention: { reps: number; answered: number; correct: number };
}

const median = (xs: number[]) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function handCount(keep: (e: EnrollmentDoc) => boolean): HandCount {
  const es = enrollments.filter(keep);
  const open = (e: EnrollmentDoc) => e.roadmap.modules.filter((m) => !DONE_STATES.has(m.state) && m.dueOn !== null && m.dueOn < today);
  const isBehind = (e: EnrollmentDoc) => !e.roadmap.completed && open(e).length > 0;
  const blank = () => ({ enrolled: 0, onTrack: 0, behind: 0, completed: 0 });
  const byCohort: HandCount['byCohort'] = {};
  for (const e of es) {
    const c = (byCohort[e.cohort] ??= blank());
    c.enrolled++;
    if (e.roadmap.completed) c.completed++;
    else if (isBehind(e)) c.behind++;
    else c.onTrack++;
  }
  const funnel = Object.fromEntries(
    def.modules.map((m) => [
      m.id,
      { started: es.filter((e) => e.facts.started[m.id]).length, done: es.filter((e) => DONE_STATES.has(e.roadmap.modules.find((x) => x.id === m.id)!.state)).length },
    ]),
  );
  const ramp = Object.fromEntries(
    def.phases.map((p) => {
      const days = es.map((e) => e.roadmap.phases.find((x) => x.id === p.id)?.completedOn).flatMap((d, i) => (d ? [daysBetween(es[i]!.startDate, d)] : []));
      return [p.id, { finished: days.length, median: median(days), max: days.length ? Math.max(...days) : null, within: days.filter((d) => p.targetDay !== null && d <= p.targetDay).length }];
    }),
  );
  const assessments = Object.fromEntries(
    def.modules
      .filter((m) => m.modality === 'assessment')
      .map((m) => {
        const scores = es.map((e) => e.facts.scores[m.id]?.best).filter((s): s is number => typeof s === 'number');
        return [m.id, { reps: scores.length, mean: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null, atOrAbove: scores.filter((s) => s >= m.assessment!.threshold).length }];
      }),
  );
  const ids = new Set(es.map((e) => String(e._id)));
  const logged = submissions.filter((s) => ids.has(String(s.enrollmentId)) && s.resultsLoggedAt);
  const managers: HandCount['managers'] = {};
  for (const e of es) {
    const m = (managers[names.get(managerOf.get(String(e.userId)) ?? '') ?? 'No manager'] ??= { reps: 0, behind: 0, completed: 0, waiting: 0, approved: 0, logged: 0, met: 0, confirmed: 0 });
    m.reps++;
    m.waiting += Object.values(e.facts.submissions).filter((x) => x.status === 'submitted').length;
    m.approved += Object.values(e.facts.submissions).filter((x) => x.status === 'approved').length;
    if (e.roadmap.completed) m.completed++;
    else if (isBehind(e)) m.behind++;
    const mine = logged.filter((s) => String(s.enrollmentId) === String(e._id));
    if (mine.length) m.logged++;
    if (mine.some((s) => (s.results as Record<string, unknown>).metWithManager === true)) m.met++;
    if (mine.some((s) => s.resultsConfirmedAt)) m.confirmed++;
  }
  const results: Record<string, number> = {};
  for (const s of logged) for (const [k, v] of Object.entries(s.results ?? {})) if (typeof v === 'number') results[k] = (results[k] ?? 0) + v;
  const reps = new Set(es.map((e) => String(e.userId)));
  const mineAnswers = answers.filter((a) => reps.has(a.userId));
  return {
    enrolled: es.length,
    completed: es.filter((e) => e.roadmap.completed).length,
    behind: es.filter(isBehind).length,
    onTrack: es.filter((e) => !e.roadmap.completed && !isBehind(e)).length,
    byCohort,
    funnel,
    ramp,
    overdue: es
      .filter(isBehind)
      .map((e) => ({ rep: names.get(String(e.userId))!, modules: open(e).map((m) => ({ moduleId: m.id, daysLate: daysBetween(m.dueOn!, today) })) }))
      .sort((a, b) => Math.max(...b.modules.map((m) => m.daysLate)) - Math.max(...a.modules.map((m) => m.daysLate)) || a.rep.localeCompare(b.rep)),
    assessments,
    managers,
    results,
    retention: { reps: new Set(mineAnswers.map((a) => a.userId)).size, answered: mineAnswers.length, correct: mineAnswers.filter((a) => a.correct).length },
  };
}

/** The dashboard's figures against the hand count, section by section. */
function expectMatches(f: DashboardFigures, h: HandCount) {
  expect({ enrolled: f.status.enrolled, onTrack: f.status.onTrack, behind: f.status.behind, completed: f.status.completed }).toEqual({ enrolled: h.enrolled, onTrack: h.onTrack, behind: h.behind, completed: h.completed });
  expect(Object.fromEntries(f.status.rows.map((r) => [r.cohort, { enrolled: r.enrolled, onTrack: r.onTrack, behind: r.behind, completed: r.completed }]))).toEqual(h.byCohort);
  expect(f.funnel.map((r) => r.moduleId)).toEqual(def.modules.map((m) => m.id)); // curriculum order
  expect(Object.fromEntries(f.funnel.map((r) => [r.moduleId, { started: r.started, done: r.done }]))).toEqual(h.funnel);
  for (const r of f.funnel) {
    if (h.enrolled) expect(r.doneShare).toBeCloseTo(h.funnel[r.moduleId]!.done / h.enrolled);
    else expect(r.doneShare).toBeNull();
  }
  expect(Object.fromEntries(f.ramp.map((r) => [r.phaseId, { finished: r.finished, median: r.medianDays, max: r.maxDays, within: r.withinTarget ?? 0 }]))).toEqual(h.ramp);
  expect(f.ramp.map((r) => r.targetDay)).toEqual(def.phases.map((p) => p.targetDay));
  expect(f.overdue.total).toBe(h.overdue.length);
  expect(f.overdue.rows.map((r) => ({ rep: r.rep, modules: [...r.modules].sort((a, b) => a.moduleId.localeCompare(b.moduleId)).map((m) => ({ moduleId: m.moduleId, daysLate: m.daysLate })) }))).toEqual(
    h.overdue.map((o) => ({ ...o, modules: [...o.modules].sort((a, b) => a.moduleId.localeCompare(b.moduleId)) })),
  );
  const a = Object.fromEntries(f.assessments.map((r) => [r.moduleId, { reps: r.reps, mean: r.meanBest, atOrAbove: r.atOrAbove }]));
  expect(Object.keys(a)).toEqual(Object.keys(h.assessments));
  for (const [id, want] of Object.entries(h.assessments)) {
    expect(a[id]!.reps, id).toBe(want.reps);
    expect(a[id]!.atOrAbove, id).toBe(want.atOrAbove);
    if (want.mean === null) expect(a[id]!.mean).toBeNull();
    else expect(a[id]!.mean, id).toBeCloseTo(want.mean, 9);
  }
  expect(Object.fromEntries(f.managers.map((m) => [m.name, { reps: m.enrolled, behind: m.behind, completed: m.completed, waiting: m.waiting, approved: m.approved, logged: m.logged, met: m.met, confirmed: m.confirmed }]))).toEqual(h.managers);
  expect(Object.fromEntries(f.results.totals.filter((t) => t.logged > 0 || h.results[t.id] !== undefined).map((t) => [t.id, t.logged]))).toEqual(Object.fromEntries(Object.entries(h.results).filter(([k]) => k !== 'metWithManager')));
  expect({ reps: f.retention.reps, answered: f.retention.answered, correct: f.retention.correct }).toEqual(h.retention);
}

const service = () => new TrainerDashboard(ctx.container.models, ctx.container.cells, ctx.container.curricula);
const figures = async (filters: Partial<Omit<DashboardFilters, 'curriculumId'>> = {}) => (await service().load({ id: 'test', role: 'trainer' }, filters)).figures!;
const csvLines = (text: string) => text.trim().split('\r\n');
const csvRows = (text: string) => parseCsv(text, { columns: true }) as Record<string, string>[];
/** The text of each cell of a table's body rows (tags stripped, whitespace collapsed). */
function tableRows(html: string, id: string): string[][] {
  const table = new RegExp(`<table[^>]*id="${id}"[^>]*>([\\s\\S]*?)</table>`).exec(html);
  expect(table, `table #${id}`).toBeTruthy();
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table![1]!)![1]!;
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, ' ').replace(/&#x27;|&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim()));
}
/** Attribute values as a browser reads them (Handlebars writes = as &#x3D; and & as &amp;). */
const decoded = (html: string) => html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
const stat = (html: string, id: string) => new RegExp(`id="${id}">([^<]*)<`).exec(html)?.[1];

beforeAll(async () => {
  ctx = await createTestContext({ CONTENT_DIR: CONTENT, DEMO_SEED: 'true' });
  const run = await prepareLocalRun(ctx.container.mongo, ctx.config, createLogger(ctx.config));
  expect(run.seededUsers).toBe(true);
  for (const u of await ctx.container.accounts.list({ id: 'test', role: 'admin' })) {
    people[u.email.split('@')[0]!] = { id: u.id, name: u.name };
    names.set(u.id, u.name);
    managerOf.set(u.id, u.managerId ?? null);
  }
  today = new Date().toISOString().slice(0, 10);
  const m = ctx.container.models;
  enrollments = await m.Enrollment.find({ curriculumId: DEMO_CURRICULUM }).lean<EnrollmentDoc[]>();
  submissions = await m.Submission.find({}).lean<SubmissionDoc[]>();
  answers = (await m.Answer.find({ curriculumId: DEMO_CURRICULUM }, { userId: 1, correct: 1 }).lean<{ userId: unknown; correct: boolean }[]>()).map((a) => ({ userId: String(a.userId), correct: a.correct }));
  versionId = (await ctx.container.curricula.latest(DEMO_CURRICULUM)).latestVersionId;
  def = (await ctx.container.curricula.version(versionId)).content.definition;
  trainer = await signIn(ctx.app, 'trainer@demo.onramp.dev');
});
afterAll(() => ctx?.close());

describe('the demo data (what the hand count stands on)', () => {
  it('has every kind of figure: reps on track and behind, a phase finished, scores, results logged, answers', () => {
    const h = handCount(() => true);
    expect(h.enrolled).toBe(5);
    expect(h.onTrack).toBeGreaterThan(0);
    expect(h.behind).toBeGreaterThan(0);
    expect(Object.values(h.ramp).some((r) => r.finished > 0)).toBe(true);
    expect(Object.values(h.assessments).some((a) => a.reps > 0)).toBe(true);
    expect(h.results.calls).toBeGreaterThan(0);
    expect(h.retention.answered).toBeGreaterThan(0);
    expect(Object.keys(h.byCohort).sort()).toEqual(['Demo cohort A', 'Demo cohort B']);
  });
});

describe('trainer dashboard figures', () => {
  it('match the hand count for the whole curriculum', async () => {
    expectMatches(await figures(), handCount(() => true));
  });

  it('match the hand count per cohort, and the cohorts add up', async () => {
    const a = await figures({ cohort: 'Demo cohort A' });
    const b = await figures({ cohort: 'Demo cohort B' });
    expectMatches(a, handCount((e) => e.cohort === 'Demo cohort A'));
    expectMatches(b, handCount((e) => e.cohort === 'Demo cohort B'));
    expect(a.status.enrolled).toBe(3);
    expect(b.status.enrolled).toBe(2);
    const all = await figures();
    expect(a.status.enrolled + b.status.enrolled).toBe(all.status.enrolled);
    expect(a.status.behind + b.status.behind).toBe(all.status.behind);
    expect(a.retention.answered + b.retention.answered).toBe(all.retention.answered);
  });

  it('match the hand count per manager, and with a manager and a cohort together', async () => {
    for (const who of ['manager1', 'manager2'] as const) {
      const id = people[who]!.id;
      expectMatches(await figures({ managerId: id }), handCount((e) => managerOf.get(String(e.userId)) === id));
    }
    const id = people.manager1!.id;
    expectMatches(await figures({ managerId: id, cohort: 'Demo cohort B' }), handCount(() => false));
  });

  it('match the hand count for a start-date range and for the version', async () => {
    const starts = [...new Set(enrollments.map((e) => e.startDate))].sort();
    const from = starts[1]!;
    const to = starts.at(-2)!;
    expectMatches(await figures({ from }), handCount((e) => e.startDate >= from));
    expectMatches(await figures({ to }), handCount((e) => e.startDate <= to));
    expectMatches(await figures({ from, to }), handCount((e) => e.startDate >= from && e.startDate <= to));
    expectMatches(await figures({ versionId }), handCount(() => true));
  });

  it('agree with statusOn and overdueOn read from each summary', async () => {
    const summaries = await ctx.container.models.RepSummary.find({ curriculumId: DEMO_CURRICULUM }).lean<RepSummary[]>();
    const f = await figures();
    const statuses = summaries.map((s) => statusOn(s, today));
    expect(f.status.behind).toBe(statuses.filter((s) => s === 'behind').length);
    expect(f.status.onTrack).toBe(statuses.filter((s) => s === 'on-track').length);
    expect(f.status.completed).toBe(statuses.filter((s) => s === 'completed').length);
    expect(f.overdue.rows.flatMap((r) => r.modules).length).toBe(summaries.reduce((n, s) => n + (s.completed ? 0 : overdueOn(s, today).length), 0));
  });

  it('are the same when the cells are read straight through the driver', async () => {
    const s = service();
    const plan = { transferModules: def.modules.filter((m) => m.modality === 'transfer').map((m) => m.id) };
    const cells = await ctx.container.models.DashboardCell.collection.find({ curriculumId: DEMO_CURRICULUM }).toArray();
    const raw = rawFromCells(cells as unknown as DashboardCellDoc[], { curriculumId: DEMO_CURRICULUM }, s.today(), plan, { overdueLimit: 50 });
    const titles = new Map(def.modules.map((m) => [m.id, m.title]));
    const direct = shapeDashboard(raw, { today: s.today(), definition: def, moduleTitles: titles, resultFields: { 'appointment-script': [{ id: 'calls', label: 'Calls made' }, { id: 'contacts', label: 'Contacts' }, { id: 'presentations', label: 'Presentations' }, { id: 'appointments', label: 'Appointments set' }] }, names });
    expect(direct).toEqual(await figures());
  });

  it('read cells that hold each summary\'s row once, in the cell of its place', async () => {
    const summaries = await ctx.container.models.RepSummary.find({}).lean<RepSummary[]>();
    const cells = await ctx.container.models.DashboardCell.find({}).lean<DashboardCellDoc[]>();
    expect(cells.reduce((n, c) => n + Object.keys(c.reps).length, 0)).toBe(summaries.length);
    for (const s of summaries) {
      const cell = cells.find((c) => c._id === cellIdOf(s));
      expect(cell?.reps[s._id]).toEqual(storeRow(rowOf(s)));
      expect(readRow(cell!.reps[s._id]!)).toEqual(JSON.parse(JSON.stringify(rowOf(s))));
    }
  });
});

describe('the dashboard page', () => {
  let html: string;
  beforeAll(async () => {
    html = (await trainer.agent.get('/dashboard').expect(200)).text;
  });

  it('shows every figure, none of them empty, and they match the hand count', async () => {
    const h = handCount(() => true);
    expect(html).not.toContain('class="empty"');
    expect(stat(html, 'stat-enrolled')).toBe(String(h.enrolled));
    expect(stat(html, 'stat-on-track')).toBe(String(h.onTrack));
    expect(stat(html, 'stat-behind')).toBe(String(h.behind));
    expect(stat(html, 'stat-completed')).toBe(String(h.completed));
    expect(tableRows(html, 'status-table').map((r) => r.slice(0, 5))).toEqual(Object.entries(h.byCohort).sort().map(([c, x]) => [c, String(x.enrolled), String(x.onTrack), String(x.behind), String(x.completed)]));
    const funnel = tableRows(html, 'funnel-table');
    expect(funnel).toHaveLength(def.modules.length);
    def.modules.forEach((m, i) => {
      expect(funnel[i]![0]).toContain(m.title);
      expect(funnel[i]!.slice(1, 3)).toEqual([String(h.funnel[m.id]!.started), String(h.funnel[m.id]!.done)]);
      expect(funnel[i]![3]).toBe(`${Math.round((100 * h.funnel[m.id]!.done) / h.enrolled)}%`);
    });
    const ramp = tableRows(html, 'ramp-table');
    def.phases.forEach((p, i) => {
      const r = h.ramp[p.id]!;
      expect(ramp[i]!.slice(0, 5)).toEqual([p.title, String(p.targetDay), String(r.finished), r.median === null ? '—' : String(r.median), r.max === null ? '—' : String(r.max)]);
    });
    const overdue = tableRows(html, 'overdue-table');
    expect(overdue.map((r) => r[0])).toEqual(h.overdue.map((o) => o.rep));
    overdue.forEach((r, i) => expect(r[3]).toBe(String(Math.max(...h.overdue[i]!.modules.map((m) => m.daysLate)))));
    const assessments = tableRows(html, 'assessments-table');
    def.modules
      .filter((m) => m.modality === 'assessment')
      .forEach((m, i) => {
        const a = h.assessments[m.id]!;
        expect(assessments[i]![0]).toContain(m.title);
        expect(assessments[i]![1]).toBe(String(a.reps));
        expect(assessments[i]![2]).toBe(a.mean === null ? '—' : `${Math.round(a.mean * 10) / 10}%`);
      });
    expect(decoded(html)).toContain(`href="/assessments/${DEMO_CURRICULUM}/foundations-check"`);
    expect(tableRows(html, 'managers-table').map((r) => r.slice(0, 9))).toEqual(
      Object.entries(h.managers)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, m]) => [name, ...[m.reps, m.behind, m.completed, m.waiting, m.approved, m.logged, m.met, m.confirmed].map(String)]),
    );
    const totals = tableRows(html, 'results-totals-table');
    expect(Object.fromEntries(totals.map((r) => [r[0], r[1]]))).toEqual({ 'Calls made': String(h.results.calls), Contacts: String(h.results.contacts), Presentations: String(h.results.presentations), 'Appointments set': String(h.results.appointments) });
    expect(tableRows(html, 'results-table')).toHaveLength(submissions.filter((s) => s.resultsLoggedAt).length);
    expect(stat(html, 'stat-answers')).toBe(String(h.retention.answered));
    expect(stat(html, 'stat-answering-reps')).toBe(String(h.retention.reps));
    expect(stat(html, 'stat-recall')).toBe(`${Math.round((100 * h.retention.correct) / h.retention.answered)}%`);
    expect(decoded(html)).toContain(`href="/reports/retention?curriculum=${DEMO_CURRICULUM}"`);
  });

  it('draws each chart as an accessible SVG beside its table, with a CSV link, and no inline style', () => {
    for (const id of ['status-chart', 'funnel-chart', 'ramp-chart', 'assessments-chart', 'managers-chart', 'results-chart']) {
      expect(html, id).toMatch(new RegExp(`<svg [^>]*id="${id}"[^>]*role="img"[^>]*aria-label="[^"]+"`));
      expect(html).toContain(`<title id="${id}-title">`);
    }
    for (const csv of ['status', 'funnel', 'ramp', 'overdue', 'assessments', 'managers', 'results', 'results-totals']) expect(decoded(html)).toContain(`href="/dashboard/${csv}.csv?curriculum=${DEMO_CURRICULUM}"`);
    expect(html).not.toMatch(/\sstyle=/); // presentation attributes such as font-style= are fine
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
  });

  it('is in the trainer’s and the admin’s navigation, and linked from the trainer’s home', async () => {
    expect(html).toMatch(/<a[^>]*href="\/dashboard"[^>]*>Dashboard</);
    const home = await trainer.agent.get('/').expect(200);
    expect(home.text).toContain('href="/dashboard"');
    const admin = await signIn(ctx.app, 'admin@demo.onramp.dev');
    const page = await admin.agent.get('/dashboard').expect(200);
    expect(stat(page.text, 'stat-enrolled')).toBe('5');
  });

  it('filters by cohort and manager: only those reps, and the filters keep their choice', async () => {
    const a = (await trainer.agent.get('/dashboard?cohort=Demo+cohort+A').expect(200)).text;
    const b = (await trainer.agent.get('/dashboard?cohort=Demo%20cohort%20B').expect(200)).text;
    const ha = handCount((e) => e.cohort === 'Demo cohort A');
    const hb = handCount((e) => e.cohort === 'Demo cohort B');
    expect([stat(a, 'stat-enrolled'), stat(a, 'stat-behind'), stat(a, 'stat-on-track')]).toEqual([ha.enrolled, ha.behind, ha.onTrack].map(String));
    expect([stat(b, 'stat-enrolled'), stat(b, 'stat-behind'), stat(b, 'stat-on-track')]).toEqual([hb.enrolled, hb.behind, hb.onTrack].map(String));
    expect(tableRows(a, 'overdue-table').map((r) => r[0])).toEqual(ha.overdue.map((o) => o.rep));
    expect(tableRows(b, 'overdue-table').map((r) => r[0])).toEqual(hb.overdue.map((o) => o.rep));
    expect(a).toContain('<option value="Demo cohort A" selected>');
    expect(decoded(a)).toContain('href="/dashboard/status.csv?curriculum=new-rep-onboarding&cohort=Demo+cohort+A"');
    expect(decoded(a)).toContain('/assessments/new-rep-onboarding/foundations-check?cohort=Demo%20cohort%20A');

    const id = people.manager2!.id;
    const m = (await trainer.agent.get(`/dashboard?manager=${id}`).expect(200)).text;
    const hm = handCount((e) => managerOf.get(String(e.userId)) === id);
    expect(stat(m, 'stat-enrolled')).toBe(String(hm.enrolled));
    expect(tableRows(m, 'managers-table').map((r) => r[0])).toEqual([people.manager2!.name]);
    expect(m).toContain(`<option value="${id}" selected>`);
  });

  it('says so when no rep matches the filters', async () => {
    const res = await trainer.agent.get(`/dashboard?cohort=Demo+cohort+B&manager=${people.manager1!.id}`).expect(200);
    expect(res.text).toContain('No rep matches these filters');
  });
});

describe('the CSV exports', () => {
  it('have the same numbers as the hand count', async () => {
    const h = handCount(() => true);
    const get = async (name: string, qs = '') => {
      const res = await trainer.agent.get(`/dashboard/${name}.csv${qs}`).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toContain(`dashboard-${name}-${DEMO_CURRICULUM}.csv`);
      return csvRows(res.text);
    };
    const status = await get('status');
    expect(status.map((r) => [r.cohort, r.enrolled, r.on_track, r.behind, r.completed])).toEqual([
      ...Object.entries(h.byCohort).sort().map(([c, x]) => [c, ...[x.enrolled, x.onTrack, x.behind, x.completed].map(String)]),
      ['all', ...[h.enrolled, h.onTrack, h.behind, h.completed].map(String)],
    ]);
    const funnel = await get('funnel');
    expect(funnel.map((r) => [r.module_id, r.started, r.done])).toEqual(def.modules.map((m) => [m.id, String(h.funnel[m.id]!.started), String(h.funnel[m.id]!.done)]));
    const ramp = await get('ramp');
    expect(ramp.map((r) => [r.phase_id, r.finished, r.median_days, r.max_days, r.within_target || '0'])).toEqual(
      def.phases.map((p) => [p.id, String(h.ramp[p.id]!.finished), String(h.ramp[p.id]!.median ?? ''), String(h.ramp[p.id]!.max ?? ''), String(h.ramp[p.id]!.within)]),
    );
    const overdue = await get('overdue');
    expect(overdue.map((r) => `${r.rep}|${r.module_id}|${r.days_late}`).sort()).toEqual(h.overdue.flatMap((o) => o.modules.map((m) => `${o.rep}|${m.moduleId}|${m.daysLate}`)).sort());
    const assessments = await get('assessments');
    expect(assessments.map((r) => [r.module_id, r.reps_scored, r.at_or_above])).toEqual(Object.entries(h.assessments).map(([id, a]) => [id, String(a.reps), String(a.atOrAbove)]));
    const managers = await get('managers');
    expect(Object.fromEntries(managers.map((r) => [r.manager, [r.reps, r.behind, r.completed, r.waiting_for_review, r.approved, r.logged_results, r.met_with_manager, r.results_confirmed]]))).toEqual(
      Object.fromEntries(Object.entries(h.managers).map(([n, m]) => [n, [m.reps, m.behind, m.completed, m.waiting, m.approved, m.logged, m.met, m.confirmed].map(String)])),
    );
    const results = await get('results');
    expect(results).toHaveLength(submissions.filter((s) => s.resultsLoggedAt).length);
    expect(String(results.reduce((n, r) => n + Number(r.calls), 0))).toBe(String(h.results.calls));
    const totals = await get('results-totals');
    expect(Object.fromEntries(totals.map((r) => [r.measure, r.logged]))).toEqual({ calls: String(h.results.calls), contacts: String(h.results.contacts), presentations: String(h.results.presentations), appointments: String(h.results.appointments) });
  });

  it('honour the filters', async () => {
    const status = csvRows((await trainer.agent.get('/dashboard/status.csv?cohort=Demo+cohort+B').expect(200)).text);
    const hb = handCount((e) => e.cohort === 'Demo cohort B');
    expect(status.map((r) => [r.cohort, r.enrolled, r.behind])).toEqual([
      ['Demo cohort B', String(hb.enrolled), String(hb.behind)],
      ['all', String(hb.enrolled), String(hb.behind)],
    ]);
    const id = people.manager1!.id;
    const overdue = csvRows((await trainer.agent.get(`/dashboard/overdue.csv?manager=${id}`).expect(200)).text);
    expect(new Set(overdue.map((r) => r.manager))).toEqual(new Set([people.manager1!.name]));
    const results = csvLines((await trainer.agent.get(`/dashboard/results.csv?manager=${id}`).expect(200)).text);
    expect(results).toHaveLength(1 + handCount((e) => managerOf.get(String(e.userId)) === id).managers[people.manager1!.name]!.logged);
  });
});

describe('bad filters', () => {
  const cases: [string, string][] = [
    ['from=2026-13-01', 'from'],
    ['to=yesterday', 'to'],
    ['from=2026-03-01&to=2026-02-01', 'to'],
    ['cohort=Nobody%27s+cohort', 'cohort'],
    ['manager=not-an-id', 'manager'],
    ['manager=0123456789abcdef01234567', 'manager'],
    ['curriculum=nope', 'curriculum'],
    ['version=nope', 'version'],
    ['version=new-rep-onboarding@0123456789ab', 'version'],
    ['colour=red', 'query'],
  ];
  for (const [qs, field] of cases) {
    it(`?${qs} → 422 naming ${field}`, async () => {
      const page = await trainer.agent.get(`/dashboard?${qs}`).expect(422);
      expect(page.text).toContain(`<strong>${field}</strong>`);
      const json = await trainer.agent.get(`/dashboard/status.csv?${qs}`).set('Accept', 'application/json').expect(422);
      expect(json.body.error.problems.map((p: { path: string }) => p.path)).toContain(field);
    });
  }
});

describe('who may see it', () => {
  it('reps and managers get 403 on the page and every CSV', async () => {
    const rep = await signIn(ctx.app, 'rep1@demo.onramp.dev');
    const manager = await signIn(ctx.app, 'manager1@demo.onramp.dev');
    for (const path of ['/dashboard', ...['status', 'funnel', 'ramp', 'overdue', 'assessments', 'managers', 'results', 'results-totals'].map((n) => `/dashboard/${n}.csv`)]) {
      await rep.agent.get(path).expect(403);
      await manager.agent.get(path).expect(403);
    }
    expect((await rep.agent.get('/').expect(200)).text).not.toMatch(/href="\/dashboard"/);
  });
});

// ---- the pipelines and the pure shaping, without a database ------------------------------------------

describe('rawFromCells', () => {
  const plan = { transferModules: ['script'] };
  const row = (over: Partial<DashboardRow> = {}): DashboardRow => ({ userId: 'u', startDate: '2026-01-10', completed: false, firstDue: null, transfer: {}, done: [], started: [], phases: [], scores: {}, answered: 0, correct: 0, ...over });
  const cell = (place: { versionId?: string; cohort?: string; managerId?: string | null }, reps: Record<string, DashboardRow>) => ({ curriculumId: 'c', versionId: place.versionId ?? 'c@1', cohort: place.cohort ?? 'A', managerId: place.managerId === undefined ? 'm1' : place.managerId, reps: Object.fromEntries(Object.entries(reps).map(([id, r]) => [id, storeRow(r)])) });
  const cells = [
    cell({}, { e1: row({ userId: 'u1', firstDue: '2026-01-20', openDue: [{ moduleId: 'x', dueOn: '2026-01-20' }] }), e2: row({ userId: 'u2', completed: true, startDate: '2026-01-02' }) }),
    cell({ cohort: 'B', managerId: null }, { e3: row({ userId: 'u3', firstDue: '2026-01-15', openDue: [{ moduleId: 'y', dueOn: '2026-01-15' }], activity: { script: { values: { calls: 4 }, targets: {}, confirmed: false, loggedAt: null } } }) }),
    cell({ versionId: 'c@2', managerId: 'm2' }, { e4: row({ userId: 'u4', firstDue: '2026-03-01', activity: { other: { values: {}, targets: {}, confirmed: false, loggedAt: null } } }) }),
  ];

  it('gives one entry per rep, the overdue most overdue first, and the reps who logged results of a transfer module', () => {
    const raw = rawFromCells(cells, { curriculumId: 'c' }, '2026-02-01', plan);
    expect(raw.status.map((s) => s.n)).toEqual([1, 1, 1, 1]);
    expect(raw.status.map((s) => [s._id.cohort, s._id.managerId, s._id.completed])).toEqual([['A', 'm1', false], ['A', 'm1', true], ['B', null, false], ['A', 'm2', false]]);
    expect(raw.overdue.map((o) => o._id)).toEqual(['e3', 'e1']); // e4 is due after today, e2 completed
    expect(raw.overdue[0]).toEqual({ _id: 'e3', userId: 'u3', managerId: null, cohort: 'B', openDue: [{ moduleId: 'y', dueOn: '2026-01-15' }] });
    expect(raw.results.map((r) => r._id)).toEqual(['e3']); // e4's activity is not for a transfer module of this version
    expect(raw.choices).toHaveLength(3);
    expect(rawFromCells(cells, { curriculumId: 'c' }, '2026-02-01', plan, { overdueLimit: 1 }).overdue.map((o) => o._id)).toEqual(['e3']);
  });

  it('applies every filter, start dates to the rows, and offers every place as a choice', () => {
    const f = (filters: Omit<DashboardFilters, 'curriculumId'>) => rawFromCells(cells, { curriculumId: 'c', ...filters }, '2026-02-01', plan, { everyCell: cells }).status.map((s) => s._id.cohort + '/' + s._id.managerId + '/' + s._id.versionId);
    expect(f({ cohort: 'B' })).toEqual(['B/null/c@1']);
    expect(f({ managerId: 'm2' })).toEqual(['A/m2/c@2']);
    expect(f({ versionId: 'c@1' })).toHaveLength(3);
    expect(f({ from: '2026-01-05' })).toHaveLength(3);
    expect(f({ to: '2026-01-05' })).toEqual(['A/m1/c@1']);
    expect(rawFromCells(cells, { curriculumId: 'c', cohort: 'B' }, '2026-02-01', plan, { everyCell: cells }).choices).toHaveLength(3);
  });
});

describe('histogramMedian', () => {
  it('is the middle value, or the mean of the middle two', () => {
    expect(histogramMedian([])).toBeNull();
    expect(histogramMedian([{ value: 5, n: 1 }])).toBe(5);
    expect(histogramMedian([{ value: 10, n: 1 }, { value: 5, n: 1 }])).toBe(7.5);
    expect(histogramMedian([{ value: 3, n: 2 }, { value: 9, n: 1 }])).toBe(3);
    expect(histogramMedian([{ value: 3, n: 2 }, { value: 9, n: 2 }, { value: 1, n: 0 }])).toBe(6);
  });
});

describe('shapeDashboard', () => {
  const definition = {
    id: 'c',
    title: 'C',
    description: '',
    masteryThreshold: 80,
    phases: [
      { id: 'p1', title: 'One', description: '', targetDay: 10 },
      { id: 'p2', title: 'Two', description: '', targetDay: null },
    ],
    modules: [
      { id: 'intro', title: 'Intro', phase: 'p1', modality: 'elearning', assessment: null },
      { id: 'check', title: 'Check', phase: 'p1', modality: 'assessment', assessment: { purpose: 'check', threshold: 80 } },
      { id: 'script', title: 'Script', phase: 'p2', modality: 'transfer', assessment: null },
    ],
  } as unknown as CurriculumDef;
  const v = 'c@0123456789ab';
  const phase = (id: string, days: number | null, targetDay: number | null) => ({ id, completedOn: days === null ? null : '2026-01-10', days, targetDay });
  const raw: DashboardRaw = {
    ...emptyRaw(),
    // today is 2026-02-01: an open due date before it makes a rep behind
    status: [
      { _id: { versionId: v, cohort: 'A', managerId: 'm1', completed: false, firstDue: '2026-01-20' }, n: 2 },
      { _id: { versionId: v, cohort: 'A', managerId: 'm1', completed: false, firstDue: '2026-03-01' }, n: 1 },
      { _id: { versionId: v, cohort: 'A', managerId: 'm1', completed: true, firstDue: null }, n: 1 },
      { _id: { versionId: v, cohort: 'B', managerId: null, completed: false, firstDue: '2026-01-31' }, n: 1 },
      { _id: { versionId: v, cohort: 'B', managerId: null, completed: false, firstDue: null }, n: 1 },
    ],
    overdue: [
      { _id: 'e1', userId: 'u1', managerId: 'm1', cohort: 'A', openDue: [{ moduleId: 'check', dueOn: '2026-01-25' }, { moduleId: 'intro', dueOn: '2026-01-20' }, { moduleId: 'script', dueOn: '2026-03-01' }] },
      { _id: 'e2', userId: 'u2', managerId: null, cohort: 'B', openDue: [{ moduleId: 'gone', dueOn: '2026-01-31' }] },
    ],
    progress: [
      { _id: { done: ['intro', 'check'], started: ['intro', 'check'], phases: [phase('p1', 8, 10), phase('p2', null, null)] }, n: 2 },
      { _id: { done: ['intro'], started: ['intro', 'check'], phases: [phase('p1', 12, 10), phase('p2', 30, null)] }, n: 1 },
      { _id: { done: ['intro', 'gone'], started: ['intro'], phases: [phase('p1', 9, 7)] }, n: 1 }, // an older version: another target, a module since dropped
      { _id: { done: ['intro'], started: [], phases: [] }, n: 1 },
      { _id: { done: [], started: [], phases: [] }, n: 1 },
    ],
    outcomes: [
      { _id: { scores: { check: 90 }, answered: 10, correct: 7 }, n: 1 },
      { _id: { scores: { check: 80 }, answered: 10, correct: 7 }, n: 1 },
      { _id: { scores: { check: 80, intro: 5 }, answered: 4, correct: 4 }, n: 1 },
      { _id: { scores: { check: 50 }, answered: 0, correct: 0 }, n: 1 },
      { _id: { scores: {}, answered: 0, correct: 0 }, n: 2 },
    ],
    results: [
      { _id: 'e1', userId: 'u1', managerId: 'm1', cohort: 'A', activity: { script: { values: { calls: 40, contacts: 10, appointments: 2, metWithManager: 1 }, targets: { calls: 50, appointments: 8 }, confirmed: true, loggedAt: '2026-01-20T10:00:00.000Z' } } },
      { _id: 'e3', userId: 'u3', managerId: 'm1', cohort: 'A', activity: { script: { values: { calls: 10, contacts: 0, appointments: 0 }, targets: { calls: 50, appointments: 8 }, confirmed: false, loggedAt: null } } },
    ],
  };
  const f = shapeDashboard(raw, {
    today: '2026-02-01',
    definition,
    moduleTitles: new Map([['gone', 'Old module']]),
    resultFields: { script: [{ id: 'calls', label: 'Calls' }, { id: 'contacts', label: 'Contacts' }, { id: 'appointments', label: 'Appointments' }] },
    names: new Map([['u1', 'Uma'], ['u2', 'Ugo'], ['u3', 'Ula'], ['m1', 'Mia']]),
  });

  it('decides each group’s status with statusOn, and counts them per cohort, per manager and in all', () => {
    expect(f.status).toMatchObject({ enrolled: 6, completed: 1, behind: 3, onTrack: 2 });
    expect(f.status.rows).toEqual([
      { versionId: v, cohort: 'A', enrolled: 4, onTrack: 1, behind: 2, completed: 1 },
      { versionId: v, cohort: 'B', enrolled: 2, onTrack: 1, behind: 1, completed: 0 },
    ]);
    expect(f.managers.map((m) => [m.name, m.enrolled, m.behind, m.completed, m.logged, m.met, m.confirmed])).toEqual([
      ['Mia', 4, 2, 1, 2, 1, 1],
      ['No manager', 2, 1, 0, 0, 0, 0],
    ]);
  });

  it('lists the funnel in curriculum order, then modules only older versions had', () => {
    expect(f.funnel.map((r) => [r.moduleId, r.title, r.started, r.done, r.doneShare])).toEqual([
      ['intro', 'Intro', 4, 5, 5 / 6],
      ['check', 'Check', 3, 2, 2 / 6],
      ['script', 'Script', 0, 0, 0],
      ['gone', 'Old module', 0, 1, 1 / 6],
    ]);
    expect(f.funnel[0]!.phase).toBe('One');
  });

  it('gives median and longest days per phase, and within target against each rep’s own target', () => {
    expect(f.ramp).toEqual([
      { phaseId: 'p1', title: 'One', targetDay: 10, finished: 4, medianDays: 8.5, maxDays: 12, withinTarget: 2, withinTargetShare: 0.5 },
      { phaseId: 'p2', title: 'Two', targetDay: null, finished: 1, medianDays: 30, maxDays: 30, withinTarget: null, withinTargetShare: null },
    ]);
  });

  it('lists overdue modules as overdueOn decides them, most overdue first', () => {
    expect(f.overdue.total).toBe(3);
    expect(f.overdue.rows.map((r) => [r.rep, r.manager, r.daysLate, r.modules.map((m) => `${m.title}:${m.daysLate}`)])).toEqual([
      ['Uma', 'Mia', 12, ['Intro:12', 'Check:7']],
      ['Ugo', '', 1, ['Old module:1']],
    ]);
  });

  it('summarises the best scores of each assessment from the reps per score map', () => {
    expect(f.assessments).toEqual([{ moduleId: 'check', title: 'Check', purpose: 'check', threshold: 80, reps: 4, meanBest: 75, atOrAbove: 3, atOrAboveShare: 0.75 }]);
  });

  it('totals the results against targets, with conversion, per rep and overall', () => {
    expect(f.results.totals).toEqual([
      { id: 'calls', label: 'Calls', logged: 50, target: 100, share: 0.5 },
      { id: 'contacts', label: 'Contacts', logged: 10, target: null, share: null },
      { id: 'appointments', label: 'Appointments', logged: 2, target: 16, share: 0.125 },
    ]);
    expect(f.results.contactRate).toBeCloseTo(0.2);
    expect(f.results.appointmentRate).toBeCloseTo(0.2);
    expect(f.results.rows.map((r) => [r.rep, r.met, r.confirmed, r.contactRate, r.appointmentRate, r.loggedOn])).toEqual([
      ['Ula', false, false, 0, null, null],
      ['Uma', true, true, 0.25, 0.2, '2026-01-20'],
    ]);
  });

  it('adds up retention answers from the reps per (answered, correct)', () => {
    expect(f.retention).toEqual({ reps: 3, answered: 24, correct: 18, recall: 0.75 });
  });

  it('is empty, not broken, with nothing to read', () => {
    const none = shapeDashboard(emptyRaw(), { today: '2026-02-01', definition, moduleTitles: new Map(), resultFields: {}, names: new Map() });
    expect(none.status).toEqual({ enrolled: 0, onTrack: 0, behind: 0, completed: 0, rows: [] });
    expect(none.funnel.every((r) => r.doneShare === null)).toBe(true);
    expect(none.ramp[0]).toMatchObject({ finished: 0, medianDays: null, maxDays: null, withinTarget: null });
    expect(none.assessments[0]).toMatchObject({ reps: 0, meanBest: null, atOrAboveShare: null });
    expect(none.retention.recall).toBeNull();
  });
});
