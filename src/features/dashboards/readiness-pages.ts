import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { actorOf } from '../accounts/service.js';
import { CoachingReads } from './coaching.js';
import { presentReadiness, readinessJson } from './readiness-view.js';

/**
 * A rep's readiness score with its working (`/people/:id/readiness`, and as JSON under /api):
 * the rep themselves, their manager, trainers and admins; anyone else gets 404.
 */
export function readinessRoutes(c: Container): RouteDef[] {
  const reads = new CoachingReads(c);
  return [
    route({
      method: 'get',
      path: '/people/:id/readiness',
      kind: 'page',
      access: 'enrollments.read',
      handler: async (req, res) => {
        const data = await reads.readiness(actorOf(req.user!), String(req.params.id));
        const isSelf = data.person.id === req.user!.id;
        res.render('dashboards/readiness', { title: `Readiness: ${data.person.name}`, isSelf, ...presentReadiness(data) });
      },
    }),
    route({
      method: 'get',
      path: '/api/people/:id/readiness',
      kind: 'api',
      access: 'enrollments.read',
      handler: async (req, res) => {
        res.json(readinessJson(await reads.readiness(actorOf(req.user!), String(req.params.id))));
      },
    }),
  ];
}
