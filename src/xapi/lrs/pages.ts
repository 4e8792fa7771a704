import { z } from 'zod';
import type { Container } from '../../container.js';
import { renderFormProblem } from '../../http/forms.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf } from '../../features/accounts/service.js';
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
