import type { Container } from '../../container.js';
import { toCsv } from '../../http/csv.js';
import { route, type RouteDef } from '../../http/route.js';
import { actorOf } from '../accounts/service.js';
import { CoachingReads } from './coaching.js';
import { presentTeam, TEAM_CSV_HEADER, teamCsvRows } from './manager.js';

/**
 * The manager's coaching view (`/team/dashboard`) and its CSV: their reps only — the team comes
 * from the signed-in manager, never from the request.
 */
export function managerDashboardRoutes(c: Container): RouteDef[] {
  const reads = new CoachingReads(c);
  return [
    route({
      method: 'get',
      path: '/team/dashboard',
      kind: 'page',
      access: 'reviews.manage',
      handler: async (req, res) => {
        const view = presentTeam(await reads.team(actorOf(req.user!)), new Date());
        res.render('dashboards/manager', { title: 'Coaching view', ...view });
      },
    }),
    route({
      method: 'get',
      path: '/team/dashboard.csv',
      kind: 'page',
      access: 'reviews.manage',
      handler: async (req, res) => {
        const view = presentTeam(await reads.team(actorOf(req.user!)), new Date());
        res.type('text/csv').attachment('team-roam.csv');
        res.send(toCsv(TEAM_CSV_HEADER, teamCsvRows(view)));
      },
    }),
  ];
}
