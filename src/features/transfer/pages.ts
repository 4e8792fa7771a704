import type { Request } from 'express';
import type { Container } from '../../container.js';
import type { FormFile } from '../../content/schema.js';
import { Conflict, GateLocked, ValidationFailed } from '../../errors.js';
import { fieldErrors } from '../../http/forms.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf } from '../accounts/service.js';
import { formatDay } from '../enrollment/presenters.js';
import { assemble, progressOf, type Answers } from './answers.js';
import { editsOf } from './diff.js';
import type { SubmissionDoc } from './model.js';

/** A field as the builder shows it: its input name, current value and kind flags for the template. */
function presentField(f: FormFile['steps'][number]['fields'][number], value: Answers[string] | undefined, error: string | undefined) {
  const text = Array.isArray(value) ? value.join('\n') : value === undefined || typeof value === 'boolean' ? '' : String(value);
  return {
    ...f,
    name: `f_${f.id}`,
    value: text,
    checked: value === true,
    error,
    isShort: f.type === 'shortText',
    isLong: f.type === 'longText',
    isList: f.type === 'list',
    isChoice: f.type === 'choice',
    isNumber: f.type === 'number',
    isBoolean: f.type === 'boolean',
    options: (f.options ?? []).map((o) => ({ label: o, selected: o === value })),
  };
}

/** The answers of one step from a posted form (the builder without JavaScript). */
export function answersFromForm(step: FormFile['steps'][number], body: Record<string, unknown>): Answers {
  const out: Answers = {};
  for (const f of step.fields) {
    const raw = body[`f_${f.id}`];
    if (f.type === 'boolean') out[f.id] = raw === 'on' || raw === 'true';
    else if (raw === undefined) continue;
    else if (f.type === 'list') out[f.id] = String(raw).split(/\r?\n/);
    else if (f.type === 'number') out[f.id] = String(raw).trim() === '' ? 0 : Number(raw);
    else out[f.id] = String(raw);
  }
  return out;
}

export function transferPageRoutes(c: Container): RouteDef[] {
  const builderUrl = (enrollmentId: string, moduleId: string, step?: string) => `/learn/${enrollmentId}/modules/${moduleId}/build${step ? `?step=${encodeURIComponent(step)}` : ''}`;

  async function renderBuilder(req: Request, res: Parameters<RouteDef['handler']>[1], opts: { errors?: Record<string, string>; status?: number; answers?: Answers; step?: string; results?: Record<string, unknown> } = {}) {
    const enrollmentId = String(req.params.enrollmentId);
    const moduleId = String(req.params.moduleId);
    const { view, module, form, submission } = await c.transfer.workspace(actorOf(req.user!), enrollmentId, moduleId);
    const answers = opts.answers ?? submission.answers;
    const progress = progressOf(form, answers);
    const wanted = opts.step ?? (typeof req.query.step === 'string' ? req.query.step : undefined);
    // the part asked for, else the first unfinished one, else (all done) the review page
    const asked = wanted === 'preview' ? form.steps.length : form.steps.findIndex((s) => s.id === wanted);
    const firstOpen = progress.steps.findIndex((s) => !s.done);
    const index = asked >= 0 ? asked : firstOpen >= 0 ? firstOpen : form.steps.length;
    const onPreview = index >= form.steps.length;
    const step = onPreview ? null : form.steps[Math.min(index, form.steps.length - 1)]!;
    const editable = submission.status === 'draft' || submission.status === 'returned';
    const decisions = submission.decisions ?? [];
    const lastReturn = submission.status === 'returned' ? decisions.filter((d) => d.kind === 'returned').at(-1) : undefined;
    const versions = submission.versions ?? [];
    const latest = versions.at(-1);
    const edits = latest?.kind === 'manager-edit' ? editsOf(form, versions.filter((v) => v.kind === 'rep').at(-1)?.answers ?? {}, latest.answers) : [];
    // what the rep just typed when it was refused, else what is stored
    const results = opts.results ?? submission.results ?? {};
    res.status(opts.status ?? 200).render('transfer/builder', {
      title: form.title,
      pageScript: editable ? 'builder.js' : undefined,
      enrollmentId,
      module,
      form,
      editable,
      submission: { id: String(submission._id), rev: submission.rev, status: submission.status, savedAt: submission.savedAt.toISOString(), due: submission.reviewDueAt ? formatDay(submission.reviewDueAt.toISOString().slice(0, 10)) : null },
      nav: form.steps.map((s, i) => ({ id: s.id, title: s.title, n: i + 1, done: progress.steps[i]!.done, current: step?.id === s.id, href: builderUrl(enrollmentId, moduleId, s.id) })),
      previewHref: builderUrl(enrollmentId, moduleId, 'preview'),
      onPreview,
      progress,
      step: step && {
        ...step,
        n: form.steps.indexOf(step) + 1,
        fields: step.fields.map((f) => presentField(f, answers[f.id], opts.errors?.[`${step.id}.${f.id}`])),
        examples: step.examples.map((text, i) => ({ text, n: i + 1 })),
        backHref: index > 0 ? builderUrl(enrollmentId, moduleId, form.steps[index - 1]!.id) : null,
        nextStep: form.steps[index + 1]?.id ?? 'preview',
      },
      preview: assemble(form, answers),
      managerComment: lastReturn && step ? lastReturn.comments[step.id] : undefined,
      returned: lastReturn ? { note: lastReturn.note, comments: Object.entries(lastReturn.comments).map(([id, text]) => ({ step: form.steps.find((x) => x.id === id)?.title ?? id, text })) } : null,
      edits,
      approved: submission.status === 'approved',
      resultsConfirmed: Boolean(submission.resultsConfirmedAt),
      resultsLogged: Boolean(submission.resultsLoggedAt),
      resultFields: form.activityLog.fields.map((f) => ({ ...f, name: `r_${f.id}`, isBoolean: f.type === 'boolean', isNumber: f.type === 'number', value: results[f.id] === undefined || Number.isNaN(results[f.id]) ? '' : String(results[f.id]), checked: results[f.id] === true, error: opts.errors?.[f.id] })),
      periodDays: form.activityLog.periodDays,
      problems: opts.errors ? Object.values(opts.errors) : [],
      ready: progress.done === progress.total,
      repName: view.rep.name,
      // what the script needs on the page: the form's shape and the saved answers (JSON, not executed)
      builderData: JSON.stringify({
        submissionId: String(submission._id),
        rev: submission.rev,
        savedAt: submission.savedAt.toISOString(),
        saveUrl: `/api/submissions/${String(submission._id)}/draft`,
        answers,
        steps: form.steps.map((s) => ({ id: s.id, title: s.title, fields: s.fields.map((f) => ({ id: f.id, label: f.label, type: f.type })) })),
      }).replace(/</g, '\\u003c'),
    });
  }

  return [
    route({
      method: 'get',
      path: '/learn/:enrollmentId/modules/:moduleId/build',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        try {
          await renderBuilder(req, res);
        } catch (err) {
          if (!(err instanceof GateLocked) && !(err instanceof Conflict)) throw err;
          flash(req, 'error', err instanceof GateLocked ? `${err.message} ${err.reasons.join(' ')}` : err.message);
          res.redirect(303, `/learn/${String(req.params.enrollmentId)}/modules/${String(req.params.moduleId)}`);
        }
      },
    }),
    route({
      method: 'post',
      path: '/learn/:enrollmentId/modules/:moduleId/build',
      kind: 'page',
      access: 'learning.take',
      // the builder without JavaScript: save this step, then go where the button says
      handler: async (req, res) => {
        const enrollmentId = String(req.params.enrollmentId);
        const moduleId = String(req.params.moduleId);
        const actor = actorOf(req.user!);
        const { form, submission } = await c.transfer.workspace(actor, enrollmentId, moduleId);
        const body = (req.body ?? {}) as Record<string, unknown>;
        const step = form.steps.find((s) => s.id === body.step);
        if (!step) throw new ValidationFailed([{ path: 'step', message: 'is not a step of this form' }]);
        const answers = { ...submission.answers, ...answersFromForm(step, body) };
        try {
          await c.transfer.saveDraft(actor, String(submission._id), { rev: Number(body.rev), answers });
        } catch (err) {
          if (err instanceof ValidationFailed) {
            return renderBuilder(req, res, { errors: fieldErrors(err), status: 422, answers, step: step.id });
          }
          if (!(err instanceof Conflict)) throw err;
          flash(req, 'error', err.message);
          return res.redirect(303, builderUrl(enrollmentId, moduleId, step.id));
        }
        const go = typeof body.go === 'string' ? body.go : step.id;
        res.redirect(303, builderUrl(enrollmentId, moduleId, go === 'preview' || form.steps.some((s) => s.id === go) ? go : step.id));
      },
    }),
    route({
      method: 'post',
      path: '/learn/:enrollmentId/modules/:moduleId/results',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const enrollmentId = String(req.params.enrollmentId);
        const moduleId = String(req.params.moduleId);
        const { form, submission } = await c.transfer.workspace(actorOf(req.user!), enrollmentId, moduleId);
        const body = (req.body ?? {}) as Record<string, unknown>;
        const input: Answers = {};
        for (const f of form.activityLog.fields) {
          const raw = body[`r_${f.id}`];
          if (f.type === 'boolean') input[f.id] = raw === 'on' || raw === 'true';
          else if (f.type === 'number') input[f.id] = raw === undefined || String(raw).trim() === '' ? Number.NaN : Number(raw);
          else if (raw !== undefined) input[f.id] = String(raw);
        }
        try {
          await c.transfer.logResults(actorOf(req.user!), String(submission._id), input);
        } catch (err) {
          if (err instanceof ValidationFailed) return renderBuilder(req, res, { errors: fieldErrors(err), status: 422, step: 'preview', results: input });
          if (!(err instanceof Conflict)) throw err;
          flash(req, 'error', err.message);
          return res.redirect(303, builderUrl(enrollmentId, moduleId, 'preview'));
        }
        flash(req, 'success', 'Results logged. Your manager confirms them to complete the module.');
        res.redirect(303, builderUrl(enrollmentId, moduleId, 'preview'));
      },
    }),
    route({
      method: 'put',
      path: '/api/submissions/:id/draft',
      kind: 'api',
      access: 'learning.take',
      handler: async (req, res) => {
        const body = (req.body ?? {}) as { rev?: unknown; answers?: unknown };
        res.json(await c.transfer.saveDraft(actorOf(req.user!), String(req.params.id), { rev: body.rev, answers: body.answers }));
      },
    }),
    route({
      method: 'post',
      path: '/submissions/:id/submit',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        let submitted: SubmissionDoc;
        try {
          submitted = await c.transfer.submit(actor, String(req.params.id));
        } catch (err) {
          if (!(err instanceof ValidationFailed) && !(err instanceof Conflict)) throw err;
          const doc = await c.models.Submission.findById(String(req.params.id)).lean<SubmissionDoc>();
          const back = doc && String(doc.repId) === actor.id ? `/learn/${String(doc.enrollmentId)}/modules/${doc.moduleId}/build?step=preview` : '/roadmap';
          flash(req, 'error', err instanceof ValidationFailed ? `Not ready to submit yet: ${err.problems.map((p) => p.message).join('; ')}.` : err.message);
          return res.redirect(303, back);
        }
        flash(req, 'success', `Submitted for review. Your manager is asked to review it by ${formatDay(submitted.reviewDueAt!.toISOString().slice(0, 10))!}.`);
        res.redirect(303, `/learn/${String(submitted.enrollmentId)}/modules/${submitted.moduleId}`);
      },
    }),
  ];
}

