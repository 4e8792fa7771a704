import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Container } from '../../container.js';
import { isCalendarDate } from '../../engine/calendar.js';
import { ValidationFailed } from '../../errors.js';
import { barChart } from '../../http/charts.js';
import { toCsv } from '../../http/csv.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { actorOf } from '../accounts/service.js';
import { OVERDUE_PAGE_LIMIT, RESULTS_PAGE_LIMIT, TrainerDashboard, type DashboardFigures, type DashboardFilters, type DashboardSection, type TrainerDashboardView } from './trainer.js';

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);
const day = z.string().trim().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD').refine(isCalendarDate, 'is not a date in the calendar');
export const dashboardQuery = z
  .object({
    curriculum: z.preprocess(blankToUndefined, z.string().trim().max(80, 'must be at most 80 characters').optional()),
    version: z.preprocess(blankToUndefined, z.string().trim().regex(/^[a-z0-9][a-z0-9-]*@[0-9a-f]{6,64}$/, 'must be a version id such as new-rep-onboarding@0123456789ab').optional()),
    cohort: z.preprocess(blankToUndefined, z.string().trim().max(80, 'must be at most 80 characters').optional()),
    manager: z.preprocess(blankToUndefined, z.string().trim().regex(/^[a-f0-9]{24}$/, "must be a manager's id").optional()),
    from: z.preprocess(blankToUndefined, day.optional()),
    to: z.preprocess(blankToUndefined, day.optional()),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.from && q.to && q.from > q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: `must be on or after from (${q.from})` });
  });
type Query = z.infer<typeof dashboardQuery>;

const requestedOf = (q: Query): Omit<DashboardFilters, 'curriculumId'> & { curriculumId?: string } => ({
  ...(q.curriculum ? { curriculumId: q.curriculum } : {}),
  ...(q.version ? { versionId: q.version } : {}),
  ...(q.cohort ? { cohort: q.cohort } : {}),
  ...(q.manager ? { managerId: q.manager } : {}),
  ...(q.from ? { from: q.from } : {}),
  ...(q.to ? { to: q.to } : {}),
});

/** The filters as a query string (the CSV links), with the curriculum actually shown. */
function queryString(f: DashboardFilters): string {
  return new URLSearchParams({
    curriculum: f.curriculumId,
    ...(f.versionId ? { version: f.versionId } : {}),
    ...(f.cohort ? { cohort: f.cohort } : {}),
    ...(f.managerId ? { manager: f.managerId } : {}),
    ...(f.from ? { from: f.from } : {}),
    ...(f.to ? { to: f.to } : {}),
  }).toString();
}

const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);
const decimal = (x: number | null, digits = 3) => (x === null ? '' : x.toFixed(digits));
const oneDecimal = (x: number | null) => (x === null ? '—' : String(Math.round(x * 10) / 10));
const orDash = (x: number | null) => (x === null ? '—' : String(x));
const blankIfNull = (x: number | null) => (x === null ? '' : x);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Colours that mean the same on every chart (Okabe–Ito) */
const COLOUR = { onTrack: '#009E73', behind: '#D55E00', completed: '#0072B2', started: '#E69F00', done: '#0072B2', median: '#56B4E9', longest: '#E69F00', score: '#0072B2' } as const;

/** The page's view: figures as people read them, each chart beside a table with the same numbers. */
function pageView(view: TrainerDashboardView, figures: DashboardFigures, filters: DashboardFilters) {
  const s = figures.status;
  const curriculumId = filters.curriculumId;
  const manyVersions = new Set(s.rows.map((r) => r.versionId)).size > 1;
  const versionLabel = (id: string) => view.choices.versions.find((v) => v.id === id)?.label ?? id;
  const cohortLabel = (c: string) => c || 'No cohort';
  const statusLabels = s.rows.map((r) => (manyVersions ? `${cohortLabel(r.cohort)} · ${versionLabel(r.versionId).split(' ')[0]}` : cohortLabel(r.cohort)));
  const cohortQs = filters.cohort ? `?cohort=${encodeURIComponent(filters.cohort)}` : '';
  const withResults = figures.results.totals.filter((t) => t.target !== null);

  return {
    stats: {
      enrolled: s.enrolled,
      onTrack: s.onTrack,
      behind: s.behind,
      completed: s.completed,
      onTrackShare: pct(s.enrolled ? s.onTrack / s.enrolled : null),
      behindShare: pct(s.enrolled ? s.behind / s.enrolled : null),
      completedShare: pct(s.enrolled ? s.completed / s.enrolled : null),
    },
    status: {
      chart: s.rows.length
        ? barChart({
            id: 'status-chart',
            title: 'Reps on track, behind and completed, by cohort',
            description: s.rows.map((r, i) => `${statusLabels[i]}: ${r.enrolled} enrolled, ${r.onTrack} on track, ${r.behind} behind, ${r.completed} completed`).join('. '),
            categories: statusLabels,
            stacked: true,
            series: [
              { name: 'On track', colour: COLOUR.onTrack, values: s.rows.map((r) => r.onTrack) },
              { name: 'Behind', colour: COLOUR.behind, values: s.rows.map((r) => r.behind) },
              { name: 'Completed', colour: COLOUR.completed, values: s.rows.map((r) => r.completed) },
            ],
            xLabel: 'Reps',
            yLabel: manyVersions ? 'Cohort · version' : 'Cohort',
          })
        : null,
      rows: s.rows.map((r, i) => ({ ...r, label: statusLabels[i], version: versionLabel(r.versionId) })),
      manyVersions,
    },
    funnel: {
      chart: barChart({
        id: 'funnel-chart',
        title: 'Completion funnel: reps who started and finished each module, in curriculum order',
        description: figures.funnel.map((f) => `${f.title}: ${f.started} started, ${f.done} done (${pct(f.doneShare)} of ${s.enrolled} enrolled)`).join('. '),
        categories: figures.funnel.map((f) => f.title),
        series: [
          { name: 'Started', colour: COLOUR.started, values: figures.funnel.map((f) => f.started) },
          { name: 'Done', colour: COLOUR.done, values: figures.funnel.map((f) => f.done), notes: figures.funnel.map((f) => `${pct(f.doneShare)} of enrolled`) },
        ],
        max: Math.max(1, s.enrolled, ...figures.funnel.map((f) => Math.max(f.started, f.done))),
        xLabel: `Reps (of ${s.enrolled} enrolled)`,
        yLabel: 'Module',
      }),
      rows: figures.funnel.map((f) => ({ ...f, doneLabel: pct(f.doneShare) })),
    },
    ramp: {
      chart: barChart({
        id: 'ramp-chart',
        title: 'Time to ramp: days from the start to finishing each phase, against its target',
        description: figures.ramp
          .map((r) => `${r.title}: ${plural(r.finished, 'rep')} finished, median ${oneDecimal(r.medianDays)} days, longest ${orDash(r.maxDays)} days, target day ${orDash(r.targetDay)}`)
          .join('. '),
        categories: figures.ramp.map((r) => r.title),
        series: [
          { name: 'Median days', colour: COLOUR.median, values: figures.ramp.map((r) => r.medianDays), notes: figures.ramp.map((r) => plural(r.finished, 'rep')) },
          { name: 'Longest', colour: COLOUR.longest, values: figures.ramp.map((r) => r.maxDays) },
        ],
        reference: { name: 'Target day', values: figures.ramp.map((r) => r.targetDay) },
        xLabel: 'Days from the start',
        yLabel: 'Phase',
      }),
      rows: figures.ramp.map((r) => ({ ...r, median: oneDecimal(r.medianDays), max: orDash(r.maxDays), target: orDash(r.targetDay), withinLabel: r.withinTarget === null ? '—' : `${r.withinTarget} (${pct(r.withinTargetShare)})` })),
      anyFinished: figures.ramp.some((r) => r.finished > 0),
    },
    overdue: {
      total: figures.overdue.total,
      limit: OVERDUE_PAGE_LIMIT,
      more: Math.max(0, figures.overdue.total - figures.overdue.rows.length),
      rows: figures.overdue.rows.map((r) => ({ ...r, modulesLabel: r.modules.map((m) => `${m.title} (${plural(m.daysLate, 'day')} late)`) })),
    },
    assessments: {
      chart: figures.assessments.length
        ? barChart({
            id: 'assessments-chart',
            title: 'Assessments: mean best score per assessment, against its pass mark',
            description: figures.assessments.map((a) => `${a.title}: ${plural(a.reps, 'rep')} scored, mean best ${oneDecimal(a.meanBest)}%, ${pct(a.atOrAboveShare)} at or above ${a.threshold}%`).join('. '),
            categories: figures.assessments.map((a) => a.title),
            series: [{ name: 'Mean best score', colour: COLOUR.score, values: figures.assessments.map((a) => (a.meanBest === null ? null : Math.round(a.meanBest * 10) / 10)), notes: figures.assessments.map((a) => plural(a.reps, 'rep')) }],
            reference: { name: 'Pass mark', values: figures.assessments.map((a) => a.threshold) },
            max: 100,
            format: (v) => `${v}%`,
            xLabel: 'Best score, %',
            yLabel: 'Assessment',
          })
        : null,
      rows: figures.assessments.map((a) => ({
        ...a,
        mean: a.meanBest === null ? '—' : `${oneDecimal(a.meanBest)}%`,
        atOrAboveLabel: a.reps ? `${a.atOrAbove} (${pct(a.atOrAboveShare)})` : '—',
        href: `/assessments/${encodeURIComponent(curriculumId)}/${encodeURIComponent(a.moduleId)}${cohortQs}`,
      })),
    },
    managers: {
      chart: figures.managers.length
        ? barChart({
            id: 'managers-chart',
            title: 'Manager participation: reps, and reps who logged results, met their manager and had results confirmed',
            description: figures.managers.map((m) => `${m.name}: ${plural(m.enrolled, 'rep')}, ${m.waiting} waiting for review, ${m.approved} approved, ${m.logged} logged results, ${m.met} met their manager, ${m.confirmed} confirmed`).join('. '),
            categories: figures.managers.map((m) => m.name),
            series: [
              { name: 'Reps', values: figures.managers.map((m) => m.enrolled) },
              { name: 'Approved', values: figures.managers.map((m) => m.approved) },
              { name: 'Logged results', values: figures.managers.map((m) => m.logged) },
              { name: 'Met with manager', values: figures.managers.map((m) => m.met) },
              { name: 'Results confirmed', values: figures.managers.map((m) => m.confirmed) },
            ],
            xLabel: 'Reps',
            yLabel: 'Manager',
          })
        : null,
      rows: figures.managers.map((m) => ({ ...m, participation: pct(m.enrolled ? m.met / m.enrolled : null) })),
    },
    results: {
      chart: withResults.length
        ? barChart({
            id: 'results-chart',
            title: 'On-the-job results: what reps logged as a share of their targets',
            description: withResults.map((t) => `${t.label}: ${t.logged} logged of a target of ${t.target} (${pct(t.share)})`).join('. '),
            categories: withResults.map((t) => t.label),
            series: [{ name: 'Logged, % of target', colour: COLOUR.completed, values: withResults.map((t) => (t.share === null ? null : Math.round(t.share * 1000) / 10)), notes: withResults.map((t) => `${t.logged} of ${t.target}`) }],
            reference: { name: 'Target', values: withResults.map(() => 100) },
            format: (v) => `${v}%`,
            xLabel: 'Logged, % of target',
            yLabel: 'Measure',
          })
        : null,
      fields: figures.results.fields,
      reps: figures.results.reps,
      contactRate: pct(figures.results.contactRate),
      appointmentRate: pct(figures.results.appointmentRate),
      totals: figures.results.totals.map((t) => ({ ...t, target: orDash(t.target), shareLabel: pct(t.share) })),
      limit: RESULTS_PAGE_LIMIT,
      more: Math.max(0, figures.results.rows.length - RESULTS_PAGE_LIMIT),
      rows: figures.results.rows.slice(0, RESULTS_PAGE_LIMIT).map((r) => ({
        ...r,
        cells: figures.results.fields.map((f) => {
          const v = r.values[f.id] ?? null;
          const t = r.targets[f.id] ?? null;
          return { value: orDash(v), target: t === null ? null : t, below: v !== null && t !== null && v < t };
        }),
        contactRateLabel: pct(r.contactRate),
        appointmentRateLabel: pct(r.appointmentRate),
      })),
    },
    retention: {
      ...figures.retention,
      recallLabel: pct(figures.retention.recall),
      href: `/reports/retention?${new URLSearchParams({ curriculum: curriculumId, ...(filters.cohort ? { cohort: filters.cohort } : {}) }).toString()}`,
    },
  };
}

/** Trainers' dashboard: one curriculum's reps at a glance, read from the rollup, with a CSV per table. */
export function trainerDashboardRoutes(c: Container): RouteDef[] {
  const dashboard = new TrainerDashboard(c.models, c.cells, c.curricula);
  const load = async (req: Request, section: DashboardSection) => dashboard.load(actorOf(req.user!), requestedOf(parse(dashboardQuery, req.query, 'query')), section);
  const suffix = (v: TrainerDashboardView) => (v.curriculum ? `-${v.curriculum.id.replace(/[^\w-]/g, '_')}` : '');
  const csv = (path: string, section: DashboardSection, name: string, build: (f: DashboardFigures, v: TrainerDashboardView) => { header: string[]; rows: unknown[][] }) =>
    route({
      method: 'get',
      path,
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req: Request, res: Response) => {
        const view = await load(req, section);
        const { header, rows } = view.figures ? build(view.figures, view) : { header: build(emptyFigures, view).header, rows: [] };
        res.type('text/csv').attachment(`dashboard-${name}${suffix(view)}.csv`);
        res.send(toCsv(header, rows));
      },
    });

  return [
    route({
      method: 'get',
      path: '/dashboard',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        let view: TrainerDashboardView;
        try {
          view = await load(req, 'page');
        } catch (err) {
          if (!(err instanceof ValidationFailed)) throw err;
          // the page again with the problems beside the form, so the trainer can fix the filter
          const curricula = (await c.curricula.list(actorOf(req.user!))).map((x) => ({ id: x._id, title: x.title }));
          const raw = (k: string) => (typeof req.query[k] === 'string' ? (req.query[k] as string) : '');
          res.status(422).render('dashboards/trainer', {
            title: 'Dashboard',
            invalid: true,
            problems: err.problems,
            form: { from: raw('from'), to: raw('to') },
            curricula: curricula.map((x) => ({ ...x, selected: x.id === raw('curriculum') })),
          });
          return;
        }
        if (!view.curriculum || !view.filters || !view.figures) {
          res.render('dashboards/trainer', { title: 'Dashboard', hasCurriculum: false });
          return;
        }
        const f = view.filters;
        res.render('dashboards/trainer', {
          title: 'Dashboard',
          hasCurriculum: true,
          hasReps: view.figures.status.enrolled > 0,
          filtered: !!(f.versionId || f.cohort || f.managerId || f.from || f.to),
          curriculum: view.curriculum,
          today: view.figures.today,
          qs: queryString(f),
          form: { from: f.from ?? '', to: f.to ?? '' },
          curricula: view.curricula.map((x) => ({ ...x, selected: x.id === f.curriculumId })),
          versions: view.choices.versions.map((v) => ({ ...v, selected: v.id === f.versionId })),
          cohorts: view.choices.cohorts.filter((x) => x !== '').map((x) => ({ name: x, selected: x === f.cohort })),
          managerChoices: view.choices.managers.map((m) => ({ ...m, selected: m.id === f.managerId })),
          ...pageView(view, view.figures, f),
        });
      },
    }),
    csv('/dashboard/status.csv', 'status', 'status', (f, v) => ({
      header: ['version_id', 'version', 'cohort', 'enrolled', 'on_track', 'behind', 'completed'],
      rows: [
        ...f.status.rows.map((r) => [r.versionId, v.choices.versions.find((x) => x.id === r.versionId)?.label ?? r.versionId, r.cohort, r.enrolled, r.onTrack, r.behind, r.completed]),
        ['all', 'all', 'all', f.status.enrolled, f.status.onTrack, f.status.behind, f.status.completed],
      ],
    })),
    csv('/dashboard/funnel.csv', 'funnel', 'funnel', (f) => ({
      header: ['module_id', 'module', 'phase', 'modality', 'started', 'done', 'enrolled', 'done_share'],
      rows: f.funnel.map((r) => [r.moduleId, r.title, r.phase, r.modality, r.started, r.done, f.status.enrolled, decimal(r.doneShare)]),
    })),
    csv('/dashboard/ramp.csv', 'ramp', 'ramp', (f) => ({
      header: ['phase_id', 'phase', 'target_day', 'finished', 'median_days', 'max_days', 'within_target', 'within_target_share'],
      rows: f.ramp.map((r) => [r.phaseId, r.title, blankIfNull(r.targetDay), r.finished, blankIfNull(r.medianDays), blankIfNull(r.maxDays), blankIfNull(r.withinTarget), decimal(r.withinTargetShare)]),
    })),
    // one row per overdue module (the page lists one rep per row, and the first few dozen only)
    csv('/dashboard/overdue.csv', 'overdue', 'overdue', (f) => ({
      header: ['rep', 'manager', 'cohort', 'module_id', 'module', 'due_on', 'days_late'],
      rows: f.overdue.rows.flatMap((r) => r.modules.map((m) => [r.rep, r.manager, r.cohort, m.moduleId, m.title, m.dueOn, m.daysLate])),
    })),
    csv('/dashboard/assessments.csv', 'assessments', 'assessments', (f) => ({
      header: ['module_id', 'module', 'purpose', 'threshold', 'reps_scored', 'mean_best', 'at_or_above', 'at_or_above_share'],
      rows: f.assessments.map((a) => [a.moduleId, a.title, a.purpose, a.threshold, a.reps, decimal(a.meanBest, 1), a.atOrAbove, decimal(a.atOrAboveShare)]),
    })),
    csv('/dashboard/managers.csv', 'managers', 'managers', (f) => ({
      header: ['manager_id', 'manager', 'reps', 'on_track', 'behind', 'completed', 'waiting_for_review', 'approved', 'logged_results', 'met_with_manager', 'results_confirmed'],
      rows: f.managers.map((m) => [m.managerId ?? '', m.name, m.enrolled, m.onTrack, m.behind, m.completed, m.waiting, m.approved, m.logged, m.met, m.confirmed]),
    })),
    csv('/dashboard/results.csv', 'results', 'results', (f) => ({
      header: ['rep', 'manager', 'cohort', 'module_id', 'module', ...f.results.fields.flatMap((x) => [x.id, `${x.id}_target`]), 'met_with_manager', 'confirmed', 'logged_on', 'contacts_per_call', 'appointments_per_contact'],
      rows: f.results.rows.map((r) => [
        r.rep,
        r.manager,
        r.cohort,
        r.moduleId,
        r.module,
        ...f.results.fields.flatMap((x) => [blankIfNull(r.values[x.id] ?? null), blankIfNull(r.targets[x.id] ?? null)]),
        r.met ? 'yes' : 'no',
        r.confirmed ? 'yes' : 'no',
        r.loggedOn ?? '',
        decimal(r.contactRate),
        decimal(r.appointmentRate),
      ]),
    })),
    csv('/dashboard/results-totals.csv', 'results', 'results-totals', (f) => ({
      header: ['measure', 'label', 'logged', 'target', 'share_of_target'],
      rows: f.results.totals.map((t) => [t.id, t.label, t.logged, blankIfNull(t.target), decimal(t.share)]),
    })),
  ];
}

/** The CSVs' headers when nothing is published yet. */
const emptyFigures: DashboardFigures = {
  today: '',
  status: { enrolled: 0, onTrack: 0, behind: 0, completed: 0, rows: [] },
  funnel: [],
  ramp: [],
  overdue: { total: 0, rows: [] },
  assessments: [],
  managers: [],
  results: { fields: [], totals: [], reps: 0, contactRate: null, appointmentRate: null, rows: [] },
  retention: { reps: 0, answered: 0, correct: 0, recall: null },
};
