import type { Container } from '../../container.js';
import { findCurriculumFolders } from '../../content/load.js';
import { formatProblem } from '../../content/source.js';
import { validateCurriculum } from '../../content/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf } from '../accounts/service.js';

const MODALITY_LABELS: Record<string, string> = {
  elearning: 'eLearning',
  vilt: 'Virtual session',
  ilt: 'Classroom',
  assessment: 'Assessment',
  transfer: 'On the job',
};

export function modalityLabel(m: string): string {
  return MODALITY_LABELS[m] ?? m;
}

/** Trainers' view of curricula: versions, what changed, and publishing from the content folder. */
export function curriculumPageRoutes(c: Container): RouteDef[] {
  return [
    route({
      method: 'get',
      path: '/curricula',
      kind: 'page',
      access: 'curricula.read',
      handler: async (req, res) => {
        const curricula = await c.curricula.list(actorOf(req.user!));
        res.render('curricula/list', { title: 'Curricula', curricula, canPublish: req.user!.role !== 'manager', contentDir: c.config.contentDir });
      },
    }),
    route({
      method: 'post',
      path: '/curricula/publish',
      kind: 'page',
      access: 'curricula.publish',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const folders = findCurriculumFolders(c.config.contentDir);
        const checked = folders.map((f) => ({ name: f.name, ...validateCurriculum(f.name, f.files, f.packages) }));
        const problems = checked.flatMap((r) => r.problems.map(formatProblem));
        if (problems.length) {
          // all or nothing: one bad file publishes no curriculum
          return res.status(422).render('curricula/list', {
            title: 'Curricula',
            curricula: await c.curricula.list(actor),
            canPublish: true,
            contentDir: c.config.contentDir,
            problems,
            formError: `${problems.length} problem(s) in the content: nothing was published.`,
          });
        }
        const results = [];
        for (const r of checked) results.push({ name: r.name, ...(await c.curricula.publish(actor, r.content!, r.packages)) });
        const published = results.filter((r) => r.status === 'published');
        flash(req, 'success', published.length ? `Published ${published.map((r) => r.versionId).join(', ')}.` : 'Nothing changed since the last publish.');
        res.redirect(303, '/curricula');
      },
    }),
    route({
      method: 'get',
      path: '/curricula/:id',
      kind: 'page',
      access: 'curricula.read',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const versions = await c.curricula.versions(actor, String(req.params.id));
        const latest = await c.curricula.version(versions[0]!._id);
        const def = latest.content.definition;
        const titles = new Map(def.modules.map((m) => [m.id, m.title]));
        const phases = def.phases.map((p) => ({
          ...p,
          modules: def.modules
            .filter((m) => m.phase === p.id)
            .map((m) => ({
              ...m,
              modalityLabel: modalityLabel(m.modality),
              needs: [...m.prerequisites.all, ...m.prerequisites.any, ...m.mastery.map((g) => g.assessment)].map((id) => titles.get(id) ?? id),
            })),
        }));
        res.render('curricula/show', { title: def.title, curriculum: def, phases, versions });
      },
    }),
  ];
}
