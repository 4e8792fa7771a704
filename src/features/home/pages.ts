import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { actorOf } from '../accounts/service.js';
import { presentRoadmap } from '../enrollment/presenters.js';
import { systemStatus } from '../system/api.js';
import type { ReviewItem } from '../transfer/review.js';
import { todayCard } from '../reinforcement/pages.js';
import { CoachingReads } from '../dashboards/coaching.js';
import { presentTeam } from '../dashboards/manager.js';

const DAY = 86_400_000;
/** how many of the oldest waiting reviews the manager's home lists */
const OLDEST = 3;

/** The manager's home card: reviews waiting (oldest first) and results to confirm. */
function pendingReviews(queue: { waiting: ReviewItem[]; results: ReviewItem[] }, now: Date) {
  return {
    waiting: queue.waiting.length,
    oldest: queue.waiting.slice(0, OLDEST).map(({ submission: s, rep, moduleTitle }) => ({
      id: String(s._id),
      repName: rep.name,
      moduleTitle,
      ageDays: s.submittedAt ? Math.floor((now.getTime() - s.submittedAt.getTime()) / DAY) : 0,
      overdue: s.reviewDueAt !== null && s.reviewDueAt.getTime() < now.getTime(),
    })),
    more: Math.max(0, queue.waiting.length - OLDEST),
    results: queue.results.length,
  };
}

/** The signed-in home page: one per role. */
export function homePageRoutes(c: Container): RouteDef[] {
  return [
    route({
      method: 'get',
      path: '/',
      kind: 'page',
      access: 'home.view',
      handler: async (req, res) => {
        const user = req.user!;
        const actor = actorOf(user);
        switch (user.role) {
          case 'rep': {
            const [manager, views, questions] = await Promise.all([user.managerId ? c.accounts.findActive(user.managerId) : undefined, c.enrollments.mine(actor), c.reinforcement.overview(actor, 0)]);
            return res.render('home/rep', { title: 'Home', manager, roadmaps: views.map(presentRoadmap), questions: todayCard(questions) });
          }
          case 'manager': {
            const [team, views, queue, coaching] = await Promise.all([c.accounts.team(actor), c.enrollments.list(actor), c.reviews.queue(actor), new CoachingReads(c).team(actor)]);
            const progress = new Map(views.map((v) => [v.rep.id, presentRoadmap(v)]));
            // where to coach: each rep's biggest ROAM gap, the widest first
            const coach = presentTeam(coaching, new Date())
              .enrolled.filter((r) => r.roam.gap)
              .map((r) => ({ name: r.name, gap: r.roam.gap! }))
              .sort((a, b) => a.gap.percent - b.gap.percent);
            return res.render('home/manager', { title: 'Home', team: team.map((u) => ({ ...u, roadmap: progress.get(u.id) })), reviews: pendingReviews(queue, new Date()), coach });
          }
          case 'trainer': {
            const [counts, curricula, views] = await Promise.all([c.accounts.countByRole(), c.curricula.list(actor), c.enrollments.list(actor)]);
            const rows = views.map(presentRoadmap);
            return res.render('home/trainer', {
              title: 'Home',
              counts,
              curricula,
              enrollments: rows.length,
              overdueReps: rows.filter((r) => r.overdue > 0).length,
              completed: rows.filter((r) => r.completed).length,
            });
          }
          case 'admin':
            return res.render('home/admin', { title: 'Home', counts: await c.accounts.countByRole(), system: await systemStatus(c) });
        }
      },
    }),
  ];
}
