import type { Request, Response } from 'express';
import type { Container } from '../../container.js';
import { Conflict, ValidationFailed } from '../../errors.js';
import { fieldErrors } from '../../http/forms.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf } from '../accounts/service.js';
import { formatDay } from '../enrollment/presenters.js';
import { assemble } from './answers.js';
import { asText, editsOf } from './diff.js';
import { answersFromForm } from './pages.js';
import type { ReviewItem } from './review.js';

const DAY = 86_400_000;

function present(item: ReviewItem, now: Date) {
  const s = item.submission;
  const latest = s.versions.at(-1);
  const repVersions = s.versions.filter((v) => v.kind === 'rep');
  const edited = latest?.kind === 'manager-edit' ? editsOf(item.form, repVersions.at(-1)?.answers ?? {}, latest.answers) : [];
  return {
    id: String(s._id),
    status: s.status,
    repName: item.rep.name,
    repEmail: item.rep.email,
    formTitle: item.form.title,
    moduleTitle: item.moduleTitle,
    curriculumTitle: item.curriculumTitle,
    version: latest?.n ?? 0,
    submittedAt: s.submittedAt?.toISOString() ?? null,
    ageDays: s.submittedAt ? Math.floor((now.getTime() - s.submittedAt.getTime()) / DAY) : 0,
    due: s.reviewDueAt ? formatDay(s.reviewDueAt.toISOString().slice(0, 10)) : null,
    overdue: s.status === 'submitted' && s.reviewDueAt !== null && s.reviewDueAt.getTime() < now.getTime(),
    sections: assemble(item.form, latest?.answers ?? s.answers),
    checklist: item.form.review.checklist,
    decisions: s.decisions.map((d) => ({
      kind: d.kind,
      label: d.kind === 'returned' ? 'Changes requested' : d.kind === 'approved' ? 'Approved' : 'Edited and approved',
      version: d.version,
      at: d.at.toISOString(),
      note: d.note,
      comments: Object.entries(d.comments).map(([stepId, text]) => ({ step: item.form.steps.find((x) => x.id === stepId)?.title ?? stepId, text })),
    })),
    edited,
    coaching: s.coaching,
    results: s.results ? item.form.activityLog.fields.map((f) => ({ label: f.label, value: typeof s.results![f.id] === 'boolean' ? (s.results![f.id] ? 'Yes' : 'No') : String(s.results![f.id] ?? '—'), target: f.target })) : null,
    resultsLoggedAt: s.resultsLoggedAt?.toISOString() ?? null,
    resultsConfirmedAt: s.resultsConfirmedAt?.toISOString() ?? null,
  };
}

export function reviewPageRoutes(c: Container): RouteDef[] {
  const reviews = c.reviews;

  async function show(req: Request, res: Response, opts: { errors?: Record<string, string>; status?: number } = {}) {
    const item = await reviews.get(actorOf(req.user!), String(req.params.id));
    const view = present(item, new Date());
    res.status(opts.status ?? 200).render('transfer/review', {
      title: `${item.form.title}: ${item.rep.name}`,
      review: view,
      canDecide: item.submission.status === 'submitted',
      canConfirm: item.submission.status === 'approved' && Boolean(item.submission.resultsLoggedAt) && !item.submission.resultsConfirmedAt,
      steps: item.form.steps.map((st) => ({
        id: st.id,
        title: st.title,
        comment: '',
        fields: st.fields.map((f) => {
          const v = (item.submission.versions.at(-1)?.answers ?? item.submission.answers)[f.id];
          return { id: f.id, label: f.label, name: `f_${f.id}`, type: f.type, isList: f.type === 'list', isChoice: f.type === 'choice', value: asText(v), options: (f.options ?? []).map((o) => ({ label: o, selected: o === v })) };
        }),
      })),
      errors: opts.errors ?? {},
      problems: opts.errors ? Object.values(opts.errors) : [],
      pdfHref: `/submissions/${view.id}/script.pdf`,
      workbookHref: `/submissions/${view.id}/workbook.pdf`,
    });
  }

  return [
    route({
      method: 'get',
      path: '/admin/review-delegates',
      kind: 'page',
      access: 'users.manage',
      handler: async (req, res) => {
        const rows = await c.reviewDelegates.list(actorOf(req.user!));
        res.render('transfer/delegates', {
          title: 'Review delegates',
          rows: rows.map((r) => ({
            id: String(r.manager._id),
            name: r.manager.name,
            delegateName: r.delegate?.name,
            options: rows.filter((o) => o.manager._id !== r.manager._id).map((o) => ({ id: String(o.manager._id), name: o.manager.name, selected: r.delegate !== null && String(r.delegate._id) === String(o.manager._id) })),
          })),
        });
      },
    }),
    route({
      method: 'post',
      path: '/admin/review-delegates',
      kind: 'page',
      access: 'users.manage',
      handler: async (req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const delegateId = typeof body.delegateId === 'string' && body.delegateId ? body.delegateId : null;
        try {
          await c.reviewDelegates.set(actorOf(req.user!), String(body.managerId ?? ''), delegateId);
        } catch (err) {
          if (!(err instanceof ValidationFailed)) throw err;
          flash(req, 'error', err.problems.map((p) => p.message).join('; '));
          return res.redirect(303, '/admin/review-delegates');
        }
        flash(req, 'success', delegateId ? 'Delegate saved: they now see those reviews in their queue.' : 'Delegate removed.');
        res.redirect(303, '/admin/review-delegates');
      },
    }),
    route({
      method: 'get',
      path: '/reviews',
      kind: 'page',
      access: 'reviews.manage',
      handler: async (req, res) => {
        const now = new Date();
        const { waiting, results } = await reviews.queue(actorOf(req.user!));
        res.render('transfer/reviews', { title: 'Reviews', waiting: waiting.map((i) => present(i, now)), results: results.map((i) => present(i, now)) });
      },
    }),
    route({
      method: 'get',
      path: '/reviews/:id',
      kind: 'page',
      access: 'reviews.manage',
      handler: async (req, res) => show(req, res),
    }),
    route({
      method: 'post',
      path: '/reviews/:id/decision',
      kind: 'page',
      access: 'reviews.manage',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const body = (req.body ?? {}) as Record<string, unknown>;
        const id = String(req.params.id);
        const item = await reviews.get(actor, id);
        const comments = Object.fromEntries(item.form.steps.map((s) => [s.id, body[`c_${s.id}`]]).filter(([, v]) => typeof v === 'string' && v.trim()));
        const answers = body.action === 'edit' ? Object.assign({}, ...item.form.steps.map((s) => answersFromForm(s, body))) : undefined;
        try {
          await reviews.decide(actor, id, { action: String(body.action ?? ''), comments, note: body.note, answers });
        } catch (err) {
          if (err instanceof ValidationFailed) return show(req, res, { errors: fieldErrors(err), status: 422 });
          if (!(err instanceof Conflict)) throw err;
          flash(req, 'error', err.message);
          return res.redirect(303, `/reviews/${id}`);
        }
        flash(req, 'success', body.action === 'return' ? `Sent back to ${item.rep.name} with your comments.` : `Approved. ${item.rep.name} can now log their results.`);
        res.redirect(303, '/reviews');
      },
    }),
    route({
      method: 'post',
      path: '/reviews/:id/coaching',
      kind: 'page',
      access: 'reviews.manage',
      handler: async (req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        try {
          await reviews.coaching(actorOf(req.user!), String(req.params.id), { metAt: body.metAt, observedAt: body.observedAt });
        } catch (err) {
          if (err instanceof ValidationFailed) return show(req, res, { errors: fieldErrors(err), status: 422 });
          throw err;
        }
        flash(req, 'success', 'Coaching record saved.');
        res.redirect(303, `/reviews/${String(req.params.id)}`);
      },
    }),
    route({
      method: 'post',
      path: '/reviews/:id/confirm',
      kind: 'page',
      access: 'reviews.manage',
      handler: async (req, res) => {
        try {
          await reviews.confirmResults(actorOf(req.user!), String(req.params.id));
        } catch (err) {
          if (!(err instanceof Conflict)) throw err;
          flash(req, 'error', err.message);
          return res.redirect(303, `/reviews/${String(req.params.id)}`);
        }
        flash(req, 'success', 'Results confirmed: the module is complete.');
        res.redirect(303, '/reviews');
      },
    }),
  ];
}
