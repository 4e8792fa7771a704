import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { systemStatus } from '../system/api.js';

/** The signed-in home page: one per role. Later features fill in their cards. */
export function homePageRoutes(c: Container): RouteDef[] {
  return [
    route({
      method: 'get',
      path: '/',
      kind: 'page',
      access: 'home.view',
      handler: async (req, res) => {
        const user = req.user!;
        switch (user.role) {
          case 'rep': {
            const manager = user.managerId ? await c.accounts.findActive(user.managerId) : undefined;
            return res.render('home/rep', { title: 'Home', manager });
          }
          case 'manager':
            return res.render('home/manager', { title: 'Home', team: await c.accounts.team({ id: user.id, role: user.role }) });
          case 'trainer':
            return res.render('home/trainer', { title: 'Home', counts: await c.accounts.countByRole() });
          case 'admin':
            return res.render('home/admin', { title: 'Home', counts: await c.accounts.countByRole(), system: await systemStatus(c) });
        }
      },
    }),
  ];
}
