import type { Request } from 'express';
import { z } from 'zod';
import type { Container } from '../../container.js';
import type { PresentedItem } from '../../engine/assessment.js';
import { ValidationFailed } from '../../errors.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf } from '../accounts/service.js';

const FIELD = 'answer:';
const answersJson = z.object({ answers: z.record(z.string(), z.unknown()) }).strict();

/** The flat list of answerable parts, so forms and parsing treat scenario parts like questions. */
function parts(items: PresentedItem[]) {
  return items.flatMap((item) => (item.type === 'scenario' ? item.parts : [item]));
}

/**
 * Form fields `answer:<key>` → answers: the list of chosen positions for choice questions
 * (checkboxes repeat the field), a number for numeric ones, null when left empty. Anything unparseable stays as sent so
 * that validation names it.
 */
export function answersFromForm(body: Record<string, unknown>, items: PresentedItem[]): Record<string, unknown> {
  const answers: Record<string, unknown> = {};
  for (const part of parts(items)) {
    const raw = body[FIELD + part.key];
    if (raw === undefined || raw === '') {
      answers[part.key] = null;
      continue;
    }
    const values = ([] as unknown[]).concat(raw);
    const toNumber = (v: unknown) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
    answers[part.key] = part.type === 'numeric' ? toNumber(values[0]) : values.map(toNumber);
  }
  return answers;
}

/** Presented items with what the rep has answered so far, ready for the form. */
export function formItems(items: PresentedItem[], answers: Record<string, unknown>) {
  const chosen = (key: string) => ([] as unknown[]).concat(answers[key] ?? []);
  const decorate = (part: Extract<PresentedItem, { type: 'single' | 'multiple' | 'truefalse' | 'numeric' }> | (PresentedItem & { type: 'scenario' })['parts'][number]) =>
    part.type === 'numeric'
      ? { ...part, field: FIELD + part.key, value: answers[part.key] ?? '' }
      : { ...part, field: FIELD + part.key, multiple: part.type === 'multiple', options: part.options.map((o) => ({ ...o, checked: chosen(part.key).includes(o.position) })) };
  return items.map((item, i) => ({
    number: i + 1,
    ...(item.type === 'scenario' ? { ...item, scenario: true, parts: item.parts.map(decorate) } : { scenario: false, ...decorate(item) }),
  }));
}

export function assessmentPageRoutes(c: Container): RouteDef[] {
  const { assessments } = c;
  const attemptUrl = (id: string) => `/attempts/${id}`;
  const bodyOf = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

  return [
    route({
      method: 'post',
      path: '/learn/:enrollmentId/modules/:moduleId/attempts',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const id = await assessments.start(actorOf(req.user!), String(req.params.enrollmentId), String(req.params.moduleId));
        res.redirect(303, attemptUrl(id));
      },
    }),
    route({
      method: 'get',
      path: '/attempts/:id',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const view = await assessments.forRep(actorOf(req.user!), String(req.params.id));
        const inProgress = view.attempt.status === 'in_progress';
        res.render(inProgress ? 'assessments/attempt' : 'assessments/result', {
          title: view.module.title,
          ...view,
          items: inProgress ? formItems(view.items, view.answers) : [],
          moduleUrl: `/learn/${view.enrollmentId}/modules/${view.module.id}`,
          toReview: view.toReview.map((m) => ({ ...m, href: `/learn/${view.enrollmentId}/modules/${m.id}` })),
        });
      },
    }),
    route({
      method: 'post',
      path: '/attempts/:id',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const id = String(req.params.id);
        const view = await assessments.forRep(actor, id);
        if (view.attempt.status !== 'in_progress') return res.redirect(303, attemptUrl(id));
        const answers = answersFromForm(bodyOf(req), view.items);
        try {
          if (bodyOf(req).action === 'submit') {
            await assessments.submit(actor, id, answers);
          } else {
            await assessments.save(actor, id, answers);
            flash(req, 'success', 'Your answers are saved. You can come back to them on any device.');
          }
          res.redirect(303, attemptUrl(id));
        } catch (err) {
          if (!(err instanceof ValidationFailed)) throw err;
          res.status(422).render('assessments/attempt', {
            title: view.module.title,
            ...view,
            items: formItems(view.items, answers),
            moduleUrl: `/learn/${view.enrollmentId}/modules/${view.module.id}`,
            formError: `Some answers could not be read: ${err.problems.map((p) => p.message).join('; ')}`,
          });
        }
      },
    }),
    // JSON for scripts and autosave: the same rules, the same "no answers before submission".
    route({
      method: 'get',
      path: '/api/attempts/:id',
      kind: 'api',
      access: 'learning.take',
      handler: async (req, res) => {
        const view = await assessments.forRep(actorOf(req.user!), String(req.params.id));
        res.json({ attempt: view.attempt, items: view.items, answers: view.answers, review: view.review, toReview: view.toReview, window: view.window });
      },
    }),
    route({
      method: 'put',
      path: '/api/attempts/:id/answers',
      kind: 'api',
      access: 'learning.take',
      handler: async (req, res) => {
        const { answers } = parse(answersJson, req.body);
        res.json({ attempt: await assessments.save(actorOf(req.user!), String(req.params.id), answers) });
      },
    }),
    route({
      method: 'post',
      path: '/api/attempts/:id/submit',
      kind: 'api',
      access: 'learning.take',
      handler: async (req, res) => {
        const body = req.body && Object.keys(req.body as object).length ? parse(answersJson, req.body).answers : undefined;
        res.json({ attempt: await assessments.submit(actorOf(req.user!), String(req.params.id), body) });
      },
    }),
  ];
}
