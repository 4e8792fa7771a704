import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { actorOf } from '../accounts/service.js';
import { CoachingReads } from './coaching.js';
import { presentProgress } from './progress.js';

/** The rep's own *My progress* page (`/me/progress`): only the signed-in rep's figures. */
export function repProgressRoutes(c: Container): RouteDef[] {
  const reads = new CoachingReads(c);
  return [
    route({
      method: 'get',
      path: '/me/progress',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const view = presentProgress(await reads.progress(actorOf(req.user!)), new Date());
        res.render('dashboards/progress', { title: 'My progress', ...view });
      },
    }),
  ];
}
