import type { Container } from '../../container.js';
import { parse } from '../../http/middleware/validate.js';
import { renderFormProblem } from '../../http/forms.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf } from '../accounts/service.js';
import { PERSONAL_DATA } from './registry.js';
import { eraseInput } from './schemas.js';
import { privacyService } from './service.js';

/** What erasure does, collection by collection, as the erase page lists it. */
const WHAT_HAPPENS = PERSONAL_DATA.filter((p) => p.export || p.erase).map((p) => ({ collection: p.collection, erasure: p.erasure }));

/** Admins: download everything Onramp holds about a person, and erase it. */
export function privacyRoutes(c: Container): RouteDef[] {
  const privacy = privacyService(c);

  const erasePage = async (actor: ReturnType<typeof actorOf>, id: string, values: Record<string, unknown> = {}) => {
    const person = await c.accounts.get(actor, id);
    const pending = await privacy.unfinished(actor, id);
    return {
      title: `Erase ${person.name}’s data`,
      person,
      isSelf: person.id === actor.id,
      pending: pending && { ...pending, startedAt: pending.startedAt.toISOString() },
      statements: pending?.statements ?? values.statements ?? 'void',
      values,
      whatHappens: WHAT_HAPPENS,
    };
  };

  return [
    route({
      method: 'get',
      path: '/users/:id/data-export',
      kind: 'page',
      access: 'users.manage',
      handler: async (req, res) => {
        const data = await privacy.exportPerson(actorOf(req.user!), String(req.params.id));
        // a person's whole record: never kept by the browser or a proxy (as the approved PDFs)
        res.type('application/json').attachment(`onramp-personal-data-${data.person.id}.json`).set('Cache-Control', 'private, no-store');
        res.send(JSON.stringify(data, null, 2));
      },
    }),
    route({
      method: 'get',
      path: '/users/:id/erase',
      kind: 'page',
      access: 'users.manage',
      handler: async (req, res) => {
        res.render('users/erase', await erasePage(actorOf(req.user!), String(req.params.id)));
      },
    }),
    route({
      method: 'post',
      path: '/users/:id/erase',
      kind: 'page',
      access: 'users.manage',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const id = String(req.params.id);
        const { _csrf: _ignored, ...fields } = req.body as Record<string, unknown>;
        try {
          const person = await c.accounts.get(actor, id);
          await privacy.erase(actor, id, parse(eraseInput, fields));
          flash(req, 'success', `${person.name}’s data has been erased.`);
          res.redirect(303, '/users');
        } catch (err) {
          renderFormProblem(res, 'users/erase', await erasePage(actor, id, { ...fields, confirm: '' }), err);
        }
      },
    }),
  ];
}
