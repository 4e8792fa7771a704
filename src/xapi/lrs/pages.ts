import { z } from 'zod';
import type { Container } from '../../container.js';
import { renderFormProblem } from '../../http/forms.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf } from '../../features/accounts/service.js';
import type { ForwardBacklog } from '../forward/outbox.js';
import { LRS_SCOPES, type LrsScope } from './credentials.js';

const issueForm = z.object({
  name: z.string().trim().min(1, 'is required').max(80, 'must be at most 80 characters'),
  scopes: z.union([z.enum(LRS_SCOPES), z.array(z.enum(LRS_SCOPES))], { error: `choose from ${LRS_SCOPES.join(', ')}` }).transform((v) => ([] as LrsScope[]).concat(v)),
});

/** Admins issue and revoke the Basic credentials xAPI clients use at /xapi. */
export function lrsAdminRoutes(c: Container): RouteDef[] {
  const view = async (actor: ReturnType<typeof actorOf>) => ({
    title: 'xAPI clients',
    credentials: await c.lrsCredentials.list(actor),
    scopes: LRS_SCOPES,
    endpoint: `${c.config.publicUrl}/xapi/`,
  });
  return [
    route({
      method: 'get',
      path: '/admin/lrs',
      kind: 'page',
      access: 'lrs.manage',
      handler: async (req, res) => res.render('lrs/credentials', await view(actorOf(req.user!))),
    }),
    route({
      method: 'post',
      path: '/admin/lrs',
      kind: 'page',
      access: 'lrs.manage',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        try {
          const input = parse(issueForm, req.body);
          const issued = await c.lrsCredentials.issue(actor, input);
          res.status(201).render('lrs/credentials', { ...(await view(actor)), issued });
        } catch (err) {
          renderFormProblem(res, 'lrs/credentials', await view(actor), err);
        }
      },
    }),
    route({
      method: 'get',
      path: '/admin/lrs/forwarding',
      kind: 'page',
      access: 'lrs.manage',
      handler: async (_req, res) => res.render('lrs/forwarding', { title: 'xAPI forwarding', ...presentBacklog(await c.forwarding.backlog(), new Date()) }),
    }),
    route({
      method: 'post',
      path: '/admin/lrs/forwarding/retry',
      kind: 'page',
      access: 'lrs.manage',
      handler: async (req, res) => {
        await c.audit.record(actorOf(req.user!), 'lrs.forwarding.retry', { type: 'xapi_forwarding', id: 'failed' });
        const n = await c.forwarding.retryFailed();
        flash(req, n ? 'success' : 'info', n ? `${n} statement(s) are back in the queue and will be forwarded again.` : 'No failed statements to retry.');
        res.redirect(303, '/admin/lrs/forwarding');
      },
    }),
    route({
      method: 'post',
      path: '/admin/lrs/:key/revoke',
      kind: 'page',
      access: 'lrs.manage',
      handler: async (req, res) => {
        await c.lrsCredentials.revoke(actorOf(req.user!), String(req.params.key));
        flash(req, 'success', 'Revoked: clients using it are refused from now on.');
        res.redirect(303, '/admin/lrs');
      },
    }),
  ];
}

/** The forwarding backlog as the page shows it: dates as ISO strings, the age of the queue's head in words. */
export function presentBacklog(b: ForwardBacklog, now: Date) {
  return {
    ...b,
    oldestPending: b.oldestPending && { ...b.oldestPending, stored: b.oldestPending.stored.toISOString(), age: describeAge(now.getTime() - b.oldestPending.stored.getTime()) },
    failures: b.failures.map((f) => ({ ...f, stored: f.stored.toISOString() })),
    moreFailures: b.failed - b.failures.length,
  };
}

export function describeAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 90) return `${min} min`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 24)} days`;
}
