import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { parse } from '../../http/middleware/validate.js';
import { actorOf } from './service.js';
import { createTokenInput, createUserInput, listUsersQuery, updateUserInput } from './schemas.js';

/** JSON API for people and API tokens. Thin: parse → one service call → present. */
export function accountApiRoutes({ accounts }: Container): RouteDef[] {
  return [
    route({
      method: 'get',
      path: '/api/me',
      kind: 'api',
      access: 'signed-in',
      handler: (req, res) => res.json({ user: req.user }),
    }),
    route({
      method: 'get',
      path: '/api/users',
      kind: 'api',
      access: 'users.list',
      handler: async (req, res) => {
        const query = parse(listUsersQuery, req.query, 'query');
        res.json({ users: await accounts.list(actorOf(req.user!), query) });
      },
    }),
    route({
      method: 'get',
      path: '/api/users/:id',
      kind: 'api',
      access: 'users.read',
      handler: async (req, res) => res.json({ user: await accounts.get(actorOf(req.user!), String(req.params.id)) }),
    }),
    route({
      method: 'post',
      path: '/api/users',
      kind: 'api',
      access: 'users.manage',
      handler: async (req, res) => {
        const result = await accounts.create(actorOf(req.user!), parse(createUserInput, req.body));
        res.status(201).location(`/api/users/${result.user.id}`).json(result);
      },
    }),
    route({
      method: 'patch',
      path: '/api/users/:id',
      kind: 'api',
      access: 'users.manage',
      handler: async (req, res) => {
        const user = await accounts.update(actorOf(req.user!), String(req.params.id), parse(updateUserInput, req.body));
        res.json({ user });
      },
    }),
    route({
      method: 'post',
      path: '/api/users/:id/password-reset',
      kind: 'api',
      access: 'users.manage',
      handler: async (req, res) => res.json(await accounts.resetPassword(actorOf(req.user!), String(req.params.id))),
    }),
    route({
      method: 'get',
      path: '/api/tokens',
      kind: 'api',
      access: 'tokens.manage',
      handler: async (req, res) => res.json({ tokens: await accounts.listTokens(actorOf(req.user!)) }),
    }),
    route({
      method: 'post',
      path: '/api/tokens',
      kind: 'api',
      access: 'tokens.manage',
      handler: async (req, res) => {
        const { name } = parse(createTokenInput, req.body);
        res.status(201).json(await accounts.createToken(actorOf(req.user!), name));
      },
    }),
    route({
      method: 'delete',
      path: '/api/tokens/:id',
      kind: 'api',
      access: 'tokens.manage',
      handler: async (req, res) => {
        await accounts.revokeToken(actorOf(req.user!), String(req.params.id));
        res.status(204).end();
      },
    }),
  ];
}
