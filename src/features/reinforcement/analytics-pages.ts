import type { Request } from 'express';
import { z } from 'zod';
import type { Container } from '../../container.js';
import { DAY_BUCKETS, DEFAULT_ITEM_LIMIT, type RiskReason } from '../../engine/retention.js';
import { ValidationFailed } from '../../errors.js';
import { lineChart, seriesStyles, swatchSvg } from '../../http/charts.js';
import { toCsv } from '../../http/csv.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { actorOf } from '../accounts/service.js';
import { reinforcementModels } from './model.js';
import { RetentionAnalytics, startOfDay, type NamedSeries, type RepRow, type RetentionFilter, type RetentionReport, type RetentionSettings } from './analytics.js';

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);
const day = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((d) => startOfDay(d) !== null, 'is not a date in the calendar');
export const retentionQuery = z
  .object({
    curriculum: z.preprocess(blankToUndefined, z.string().trim().max(80, 'must be at most 80 characters').optional()),
    cohort: z.preprocess(blankToUndefined, z.string().trim().max(80, 'must be at most 80 characters').optional()),
    module: z.preprocess(blankToUndefined, z.string().trim().max(64, 'must be at most 64 characters').optional()),
    from: z.preprocess(blankToUndefined, day.optional()),
    to: z.preprocess(blankToUndefined, day.optional()),
    by: z.preprocess(blankToUndefined, z.enum(['module', 'cohort'], { error: 'must be module or cohort' }).optional()),
  })
  .strict();
type Query = z.infer<typeof retentionQuery>;

const percent = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);
const decimal = (x: number | null, digits = 3) => (x === null ? '' : x.toFixed(digits));
const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/** "Recall 40% over the last 30 days (2 of 5)", "No answer for 20 days" */
export function reasonText(r: Pick<RepRow, 'recentRecall' | 'recentCorrect' | 'recentAnswered' | 'daysSinceLastAnswer'>, reason: RiskReason, settings: RetentionSettings): string {
  return reason === 'low_recall'
    ? `Recall ${percent(r.recentRecall)} over the last ${settings.riskWindowDays} days (${r.recentCorrect} of ${r.recentAnswered}), below ${Math.round(settings.riskThreshold * 100)}%`
    : `No answer for ${r.daysSinceLastAnswer} days`;
}

const filterOf = (q: Query): RetentionFilter => ({
  ...(q.curriculum ? { curriculumId: q.curriculum } : {}),
  ...(q.cohort ? { cohort: q.cohort } : {}),
  ...(q.module ? { moduleId: q.module } : {}),
  ...(q.from ? { from: q.from } : {}),
  ...(q.to ? { to: q.to } : {}),
});

/** The same filters as a query string (for the CSV links), with the curriculum actually shown. */
function queryString(report: RetentionReport, by: 'module' | 'cohort'): string {
  const f = report.filter;
  return new URLSearchParams({
    ...(report.curriculumId ? { curriculum: report.curriculumId } : {}),
    ...(f.cohort ? { cohort: f.cohort } : {}),
    ...(f.moduleId ? { module: f.moduleId } : {}),
    ...(f.from ? { from: f.from } : {}),
    ...(f.to ? { to: f.to } : {}),
    by,
  }).toString();
}

/** The curve's series as chart lines and table rows: overall first, then one per module or cohort. */
function curveView(report: RetentionReport, by: 'module' | 'cohort') {
  const groups = by === 'cohort' ? report.curve.byCohort : report.curve.byModule;
  const series: NamedSeries[] = [report.curve.overall, ...groups];
  const chart = lineChart({
    id: 'retention-curve',
    title: `Forgetting curve: recall by days since learning, overall and by ${by}`,
    description: `Recall % (answers right ÷ answered) of reinforcement questions by how many days after learning the module they were answered. ${series
      .map((s) => `${s.name}: ${s.points.map((p) => `${p.bucket.label} days ${percent(p.recall)} of ${p.answered}`).join(', ')}`)
      .join('. ')}.`,
    categories: DAY_BUCKETS.map((b) => b.label),
    xLabel: 'Days since learning',
    yLabel: 'Recall %',
    series: series.map((s, i) => ({
      name: s.name,
      emphasis: i === 0,
      values: s.points.map((p) => (p.recall === null ? null : p.recall * 100)),
      notes: s.points.map((p) => `${p.correct} of ${p.answered} right`),
    })),
  });
  const styles = seriesStyles(series.map((_, i) => ({ emphasis: i === 0 })));
  return {
    chart,
    rows: series.map((s, i) => ({
      name: s.name,
      overall: i === 0,
      swatch: swatchSvg(styles[i]!),
      recall: percent(s.recall),
      answered: s.answered,
      cells: s.points.map((p) => ({ recall: percent(p.recall), answered: p.answered, correct: p.correct, empty: p.answered === 0 })),
    })),
  };
}

/** Trainers' retention analytics: the forgetting curve, most forgotten questions and reps at risk, with CSV exports. */
export function retentionReportRoutes(c: Container): RouteDef[] {
  const analytics = new RetentionAnalytics({ ...reinforcementModels(c.mongo), ...c.models }, c.curricula);
  const load = async (req: Request) => {
    const q = parse(retentionQuery, req.query, 'query');
    const report = await analytics.report(actorOf(req.user!), filterOf(q));
    return { q, report, by: q.by ?? 'module' };
  };
  const suffix = (r: RetentionReport) => (r.curriculumId ? `-${r.curriculumId.replace(/[^\w-]/g, '_')}` : '');

  return [
    route({
      method: 'get',
      path: '/reports/retention',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        let loaded;
        try {
          loaded = await load(req);
        } catch (err) {
          if (!(err instanceof ValidationFailed)) throw err;
          // the page again with the problems beside the form, so the trainer can fix the filter
          const curricula = (await c.curricula.list(actorOf(req.user!))).map((x) => ({ id: x._id, title: x.title }));
          const raw = (k: string) => (typeof req.query[k] === 'string' ? (req.query[k] as string) : '');
          res.status(422).render('reinforcement/retention', {
            title: 'Retention',
            invalid: true,
            problems: err.problems,
            message: err.message,
            form: { from: raw('from'), to: raw('to'), cohort: raw('cohort'), module: raw('module'), byCohort: raw('by') === 'cohort' },
            curricula: curricula.map((x) => ({ ...x, selected: x.id === raw('curriculum') })),
          });
          return;
        }
        const { report, by } = loaded;
        const view = curveView(report, by);
        const limit = DEFAULT_ITEM_LIMIT;
        const s = report.settings;
        res.render('reinforcement/retention', {
          title: 'Retention',
          hasCurriculum: report.curriculumId !== null,
          hasAnswers: report.summary.answered > 0,
          filtered: !!(report.filter.cohort || report.filter.moduleId || report.filter.from || report.filter.to),
          curriculumId: report.curriculumId,
          curriculumTitle: report.curriculumTitle,
          qs: queryString(report, by),
          form: { from: report.filter.from ?? '', to: report.filter.to ?? '', byCohort: by === 'cohort' },
          by,
          curricula: report.curricula.map((x) => ({ ...x, selected: x.id === report.curriculumId })),
          cohorts: report.cohorts.map((x) => ({ name: x, selected: x === report.filter.cohort })),
          modules: report.modules.map((m) => ({ ...m, selected: m.id === report.filter.moduleId })),
          summary: { ...report.summary, recallLabel: percent(report.summary.recall) },
          buckets: DAY_BUCKETS.map((b) => b.label),
          chart: view.chart,
          curveRows: view.rows,
          itemLimit: limit,
          minItemAnswers: s.minItemAnswers,
          moreItems: Math.max(0, report.items.length - limit),
          items: report.items.slice(0, limit).map((i) => ({ ...i, recallLabel: percent(i.recall), moduleHref: `/curricula/${encodeURIComponent(report.curriculumId ?? '')}#module-${encodeURIComponent(i.moduleId)}` })),
          reps: report.reps.map((r) => ({
            ...r,
            recallLabel: r.recentAnswered ? `${percent(r.recentRecall)} (${r.recentCorrect} of ${r.recentAnswered})` : '—',
            lastAnswered: dayOf(r.lastAnsweredAt),
            reasonTexts: r.reasons.map((x) => reasonText(r, x, s)),
          })),
          risk: { threshold: Math.round(s.riskThreshold * 100), windowDays: s.riskWindowDays, minAnswers: s.riskMinAnswers, inactiveDays: s.inactiveDays },
          asOf: report.filter.to && report.asOf.getTime() === startOfDay(report.filter.to)!.getTime() + 86_400_000 ? `the end of ${report.filter.to}` : 'now',
        });
      },
    }),
    route({
      method: 'get',
      path: '/reports/retention/curve.csv',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const { report } = await load(req);
        const rows: unknown[][] = [];
        const put = (group: string, series: NamedSeries[]) => {
          for (const s of series) for (const p of s.points) rows.push([group, s.id, s.name, p.bucket.label, p.bucket.from, p.bucket.to ?? '', p.answered, p.correct, decimal(p.recall)]);
        };
        put('overall', [report.curve.overall]);
        put('module', report.curve.byModule);
        put('cohort', report.curve.byCohort);
        res.type('text/csv').attachment(`retention-curve${suffix(report)}.csv`);
        res.send(toCsv(['group', 'id', 'name', 'days_since_learning', 'days_from', 'days_to', 'answered', 'correct', 'recall'], rows));
      },
    }),
    route({
      method: 'get',
      path: '/reports/retention/items.csv',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const { report } = await load(req);
        res.type('text/csv').attachment(`retention-items${suffix(report)}.csv`);
        res.send(toCsv(['question', 'prompt', 'module_id', 'module', 'answered', 'correct', 'recall'], report.items.map((i) => [i.key, i.prompt, i.moduleId, i.moduleTitle, i.answered, i.correct, decimal(i.recall)])));
      },
    }),
    route({
      method: 'get',
      path: '/reports/retention/reps.csv',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const { report } = await load(req);
        res.type('text/csv').attachment(`retention-reps${suffix(report)}.csv`);
        res.send(
          toCsv(
            ['rep', 'manager', 'recent_answered', 'recent_correct', 'recent_recall', 'last_answered_at', 'days_since_last_answer', 'reasons'],
            report.reps.map((r) => [r.name, r.managerName, r.recentAnswered, r.recentCorrect, decimal(r.recentRecall), r.lastAnsweredAt.toISOString(), r.daysSinceLastAnswer, r.reasons.join(' ')]),
          ),
        );
      },
    }),
  ];
}
