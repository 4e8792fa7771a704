import type { Container } from '../../container.js';
import { Conflict, GateLocked } from '../../errors.js';
import { renderMarkdown } from '../../http/markdown.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf } from '../accounts/service.js';
import { modalityLabel } from '../curricula/pages.js';
import { formatDay, presentRoadmap, STATE_LABELS } from '../enrollment/presenters.js';
import { sessionsForRep } from '../sessions/presenters.js';

/** Lessons often open with their own title as a heading; the page already shows it. */
function withoutTitle(body: string, title: string): string {
  const first = /^#\s+(.+)\r?\n/.exec(body);
  return first && first[1]!.trim() === title.trim() ? body.slice(first[0].length) : body;
}

/** The rep's side: the roadmap and each module's page. */
export function learningPageRoutes(c: Container): RouteDef[] {
  const { enrollments } = c;
  return [
    route({
      method: 'get',
      path: '/roadmap',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const views = await enrollments.mine(actorOf(req.user!));
        res.render('learning/roadmap', { title: 'My roadmap', roadmaps: views.map(presentRoadmap) });
      },
    }),
    route({
      method: 'get',
      path: '/learn/:enrollmentId/modules/:moduleId',
      kind: 'page',
      access: 'enrollments.read',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const enrollmentId = String(req.params.enrollmentId);
        const moduleId = String(req.params.moduleId);
        const found = await enrollments.module(actor, enrollmentId, moduleId);
        const { module } = found;
        let { view, status } = found;
        const isRep = view.rep.id === actor.id;
        if (isRep && status.state !== 'locked') {
          // opening the page is the "launched" event: it starts the module (and completes "viewed" lessons)
          view = await enrollments.open(actor, enrollmentId, moduleId);
          status = view.roadmap.modules.find((s) => s.id === moduleId)!;
        }
        const titleOf = new Map(view.curriculum.modules.map((m) => [m.id, m.title]));
        const isLive = module.modality === 'vilt' || module.modality === 'ilt';
        const assessment = module.modality === 'assessment' ? await c.assessments.overview(actor, enrollmentId, module.id) : null;
        const sessions = isLive ? sessionsForRep(await c.sessions.forModule(view.enrollment.curriculumId, module.id), view.rep.id) : [];
        res.render('learning/module', {
          title: module.title,
          enrollmentId,
          isRep,
          rep: view.rep,
          module: {
            ...module,
            modalityLabel: modalityLabel(module.modality),
            reviews: module.reviews.map((r) => titleOf.get(r) ?? r),
            threshold: module.assessment?.threshold,
          },
          status: { ...status, stateLabel: STATE_LABELS[status.state], due: formatDay(status.dueOn), opens: formatDay(status.opensOn), done: status.state === 'completed' || status.state === 'tested_out' },
          lesson: status.state === 'locked' ? null : renderMarkdown(withoutTitle(module.body, module.title)),
          builderHref: isRep && status.state !== 'locked' && module.modality === 'transfer' ? `/learn/${enrollmentId}/modules/${module.id}/build` : undefined,
          canLaunch: isRep && status.state !== 'locked' && Boolean(module.cmi5),
          cmi5MoveOn: module.cmi5 ? await c.cmi5.moveOnText(view.enrollment.versionId, module.id) : undefined,
          canAcknowledge: isRep && status.state !== 'locked' && (module.completion.rule === 'acknowledged') && !view.enrollment.facts.completed[module.id],
          minMinutes: module.completion.rule === 'acknowledged' ? module.completion.minMinutes : undefined,
          sessions,
          isLive,
          assessment,
          roadmap: presentRoadmap(view),
        });
      },
    }),
    route({
      method: 'post',
      path: '/learn/:enrollmentId/modules/:moduleId/complete',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const enrollmentId = String(req.params.enrollmentId);
        const moduleId = String(req.params.moduleId);
        const here = `/learn/${enrollmentId}/modules/${moduleId}`;
        let view;
        try {
          view = await enrollments.acknowledge(actorOf(req.user!), enrollmentId, moduleId);
        } catch (err) {
          // too early, or locked: back to the module with the reason, not an error page
          if (!(err instanceof Conflict) && !(err instanceof GateLocked)) throw err;
          flash(req, 'error', err instanceof GateLocked ? `${err.message} ${err.reasons.join(' ')}` : err.message);
          return res.redirect(303, here);
        }
        const next = view.roadmap.next[0];
        const nextTitle = next ? view.curriculum.modules.find((m) => m.id === next)?.title : undefined;
        flash(req, 'success', nextTitle ? `Done! Next up: ${nextTitle}.` : 'Done!');
        res.redirect(303, next ? `/learn/${enrollmentId}/modules/${next}` : '/roadmap');
      },
    }),
  ];
}
