import { z } from 'zod';
import type { Container } from '../../container.js';
import { toCsv } from '../../http/csv.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { actorOf } from '../accounts/service.js';

const FLAG_LABELS: Record<string, string> = {
  too_easy: 'too easy',
  too_hard: 'too hard',
  negative_discrimination: 'strong reps miss it',
  low_discrimination: 'does not separate',
  too_few_responses: 'too few responses',
};

const detailQuery = z.object({ cohort: z.string().max(80).optional() }).strict();
const pct = (x: number | null) => (x === null ? null : Math.round(x * 100));
const fixed = (x: number | null, digits = 2) => (x === null ? '' : x.toFixed(digits));

/** Trainers' assessment reports: results, item analysis, pre → post gains, with CSV exports. */
export function assessmentAnalyticsRoutes(c: Container): RouteDef[] {
  const a = c.assessmentAnalytics;
  const ids = (p: Record<string, unknown>) => ({ curriculumId: String(p.curriculumId), moduleId: String(p.moduleId) });

  return [
    route({
      method: 'get',
      path: '/assessments',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        res.render('assessments/overview', { title: 'Assessment results', curricula: await a.overview(actorOf(req.user!)) });
      },
    }),
    route({
      method: 'get',
      path: '/assessments/gains/:curriculumId',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const curriculumId = String(req.params.curriculumId);
        const g = await a.gains(actorOf(req.user!), curriculumId);
        if (req.query.format === 'csv') {
          res.type('text/csv').attachment(`${curriculumId}-gains.csv`);
          return res.send(toCsv(['rep', 'cohort', 'pre', 'post', 'gain', 'normalized_gain'], g.reps.map((r) => [r.name, r.cohort ?? '', r.pre, r.post, r.gain, fixed(r.normalizedGain)])));
        }
        res.render('assessments/gains', { title: 'Pre-test → post-test', curriculumId, ...g });
      },
    }),
    route({
      method: 'get',
      path: '/assessments/:curriculumId/:moduleId',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const { cohort } = parse(detailQuery, req.query, 'query');
        const d = await a.detail(actorOf(req.user!), ids(req.params).curriculumId, ids(req.params).moduleId, cohort ? { cohort } : {});
        const max = Math.max(1, ...d.distribution.map((b) => b.count));
        res.render('assessments/detail', {
          title: d.module.title,
          ...ids(req.params),
          cohort,
          module: d.module,
          def: d.def,
          passRate: d.passRate,
          mastery: d.mastery,
          attempts: d.records.length,
          bands: d.distribution.map((b) => ({ ...b, label: `${b.from}–${b.to === 100 ? 100 : b.to - 0.1}`, width: Math.round((100 * b.count) / max) })),
          items: d.items.map((i) => ({
            ...i,
            p: pct(i.difficulty),
            r: fixed(i.discrimination),
            flagLabels: i.flags.map((f) => FLAG_LABELS[f] ?? f),
            bad: i.flags.some((f) => f !== 'too_few_responses'),
            options: i.options.map((o) => ({ ...o, share: pct(o.proportion) })),
          })),
        });
      },
    }),
    route({
      method: 'get',
      path: '/assessments/:curriculumId/:moduleId/items.csv',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const { curriculumId, moduleId } = ids(req.params);
        const d = await a.detail(actorOf(req.user!), curriculumId, moduleId);
        res.type('text/csv').attachment(`${moduleId}-items.csv`);
        res.send(
          toCsv(
            ['question', 'type', 'prompt', 'responses', 'omitted', 'difficulty_p', 'discrimination_r', 'flags', 'option_choices'],
            d.items.map((i) => [i.questionId, i.type ?? '', i.prompt ?? '', i.n, i.omitted, fixed(i.difficulty, 3), fixed(i.discrimination, 3), i.flags.join(' '), i.options.map((o) => `${o.index}${o.correct ? '*' : ''}:${o.count}`).join(' ')]),
          ),
        );
      },
    }),
    route({
      method: 'get',
      path: '/assessments/:curriculumId/:moduleId/attempts.csv',
      kind: 'page',
      access: 'assessments.analyze',
      handler: async (req, res) => {
        const { curriculumId, moduleId } = ids(req.params);
        const d = await a.detail(actorOf(req.user!), curriculumId, moduleId);
        res.type('text/csv').attachment(`${moduleId}-attempts.csv`);
        res.send(toCsv(['rep', 'cohort', 'attempt', 'percent', 'passed'], d.records.map((r) => [r.name, r.cohort ?? '', r.attemptNumber, r.percent, r.passed ? 'yes' : 'no'])));
      },
    }),
  ];
}
