import type { Request } from 'express';
import type { Container } from '../../container.js';
import { Unauthenticated, ValidationFailed } from '../../errors.js';
import { ROLES } from '../../engine/access.js';
import { loginRateLimits } from '../../http/middleware/rate-limit.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { renderFormProblem } from '../../http/forms.js';
import { SESSION_COOKIE } from '../../http/cookies.js';
import { actorOf } from './service.js';
import { changePasswordInput, createTokenInput, createUserInput, listUsersQuery, loginInput, updateUserInput } from './schemas.js';

/** Only same-site paths may be a redirect target after sign-in. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

function roleOptions(selected?: string) {
  return ROLES.map((r) => ({ value: r, selected: r === selected }));
}

export function accountPageRoutes(c: Container): RouteDef[] {
  const { accounts, config } = c;

  const managerOptions = async (selected?: string | null) =>
    (await accounts.managers()).map((m) => ({ value: m.id, label: `${m.name} (${m.email})`, selected: m.id === selected }));

  const regenerate = (req: Request) =>
    new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));

  return [
    // ---- sign in / out ---------------------------------------------------------------------------
    route({
      method: 'get',
      path: '/login',
      kind: 'page',
      access: 'public',
      handler: (req, res) => {
        if (req.user) return res.redirect(303, '/');
        res.render('login', {
          title: 'Sign in',
          next: safeNext(req.query.next),
          signedOut: req.query.signedOut === '1',
          showDemo: config.demoSeed,
        });
      },
    }),
    route({
      method: 'post',
      path: '/login',
      kind: 'page',
      access: 'public',
      before: loginRateLimits(c.redis, config.redisPrefix, config.loginRateLimit, config.loginRateWindowMs),
      handler: async (req, res) => {
        const body = req.body as Record<string, unknown>;
        const view = { title: 'Sign in', email: typeof body.email === 'string' ? body.email : '', next: safeNext(body.next), showDemo: config.demoSeed };
        try {
          const input = parse(loginInput, req.body);
          const user = await accounts.authenticate(input.email, input.password);
          await regenerate(req); // a new session id at sign-in: no session fixation
          req.session.userId = user.id;
          if (user.mustChangePassword) {
            flash(req, 'info', 'Welcome! Please choose your own password before you continue.');
            return res.redirect(303, '/account');
          }
          res.redirect(303, safeNext(input.next));
        } catch (err) {
          if (err instanceof Unauthenticated || err instanceof ValidationFailed) {
            return res.status(401).render('login', { ...view, formError: 'Email or password is incorrect.' });
          }
          throw err;
        }
      },
    }),
    route({
      method: 'post',
      path: '/logout',
      kind: 'page',
      access: 'signed-in',
      handler: async (req, res) => {
        await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
        res.clearCookie(SESSION_COOKIE);
        res.redirect(303, '/login?signedOut=1');
      },
    }),

    // ---- own account -----------------------------------------------------------------------------
    route({
      method: 'get',
      path: '/account',
      kind: 'page',
      access: 'home.view',
      handler: async (req, res) => {
        const manager = req.user!.managerId ? await accounts.findActive(req.user!.managerId) : undefined;
        res.render('account', { title: 'Your account', manager });
      },
    }),
    route({
      method: 'post',
      path: '/account/password',
      kind: 'page',
      access: 'home.view',
      handler: async (req, res) => {
        try {
          const input = parse(changePasswordInput, req.body);
          await accounts.changeOwnPassword(actorOf(req.user!), input.currentPassword, input.newPassword);
          flash(req, 'success', 'Your password has been changed.');
          res.redirect(303, '/account');
        } catch (err) {
          renderFormProblem(res, 'account', { title: 'Your account' }, err);
        }
      },
    }),
    route({
      method: 'get',
      path: '/account/tokens',
      kind: 'page',
      access: 'tokens.manage',
      handler: async (req, res) => {
        res.render('tokens', { title: 'API tokens', tokens: await accounts.listTokens(actorOf(req.user!)) });
      },
    }),
    route({
      method: 'post',
      path: '/account/tokens',
      kind: 'page',
      access: 'tokens.manage',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        try {
          const { name } = parse(createTokenInput, req.body);
          const created = await accounts.createToken(actor, name);
          // shown once, on this response only: it is never stored
          res.status(201).render('tokens', { title: 'API tokens', created, tokens: await accounts.listTokens(actor) });
        } catch (err) {
          renderFormProblem(res, 'tokens', { title: 'API tokens', tokens: await accounts.listTokens(actor) }, err);
        }
      },
    }),
    route({
      method: 'post',
      path: '/account/tokens/:id/revoke',
      kind: 'page',
      access: 'tokens.manage',
      handler: async (req, res) => {
        await accounts.revokeToken(actorOf(req.user!), String(req.params.id));
        flash(req, 'success', 'The token has been revoked; clients using it are refused from now on.');
        res.redirect(303, '/account/tokens');
      },
    }),

    // ---- people ----------------------------------------------------------------------------------
    route({
      method: 'get',
      path: '/users',
      kind: 'page',
      access: 'users.list',
      handler: async (req, res) => {
        const query = parse(listUsersQuery, req.query, 'query');
        const users = await accounts.list(actorOf(req.user!), query);
        const names = new Map(users.map((u) => [u.id, u.name]));
        const managers = await accounts.managers();
        for (const m of managers) names.set(m.id, m.name);
        const isManager = req.user!.role === 'manager';
        res.render('users/list', {
          title: isManager ? 'My team' : 'People',
          users: users.map((u) => ({ ...u, managerName: u.managerId ? names.get(u.managerId) : undefined })),
          roles: ROLES.map((r) => ({ value: r, selected: r === query.role })),
          canManage: req.user!.role === 'admin',
          isManager,
        });
      },
    }),
    route({
      method: 'get',
      path: '/users/new',
      kind: 'page',
      access: 'users.manage',
      handler: async (_req, res) => {
        res.render('users/new', { title: 'New user', roles: roleOptions('rep'), managers: await managerOptions(), values: {} });
      },
    }),
    route({
      method: 'post',
      path: '/users',
      kind: 'page',
      access: 'users.manage',
      handler: async (req, res) => {
        const body = req.body as Record<string, string | undefined>;
        try {
          const created = await accounts.create(actorOf(req.user!), parse(createUserInput, req.body));
          if (created.temporaryPassword) {
            return res.status(201).render('users/created', { title: 'User created', created });
          }
          flash(req, 'success', `${created.user.name} can now sign in.`);
          res.redirect(303, `/users/${created.user.id}`);
        } catch (err) {
          renderFormProblem(
            res,
            'users/new',
            { title: 'New user', roles: roleOptions(body.role), managers: await managerOptions(body.managerId), values: { ...body, password: '' } },
            err,
          );
        }
      },
    }),
    route({
      method: 'get',
      path: '/users/:id',
      kind: 'page',
      access: 'users.read',
      handler: async (req, res) => {
        const person = await accounts.get(actorOf(req.user!), String(req.params.id));
        const manager = person.managerId ? await accounts.findActive(person.managerId) : undefined;
        const canManage = req.user!.role === 'admin';
        res.render('users/show', {
          title: person.name,
          person,
          manager,
          canManage,
          isSelf: person.id === req.user!.id,
          ...(canManage ? { roles: roleOptions(person.role), managers: await managerOptions(person.managerId) } : {}),
        });
      },
    }),
    route({
      method: 'post',
      path: '/users/:id',
      kind: 'page',
      access: 'users.manage',
      handler: async (req, res) => {
        const actor = actorOf(req.user!);
        const id = String(req.params.id);
        try {
          const { _csrf: _ignored, ...fields } = req.body as Record<string, unknown>;
          const updated = await accounts.update(actor, id, parse(updateUserInput, fields));
          flash(req, 'success', `Saved changes to ${updated.name}.`);
          res.redirect(303, `/users/${updated.id}`);
        } catch (err) {
          const person = await accounts.get(actor, id);
          const body = req.body as Record<string, string | undefined>;
          renderFormProblem(
            res,
            'users/show',
            { title: person.name, person, canManage: true, roles: roleOptions(body.role ?? person.role), managers: await managerOptions(body.managerId ?? person.managerId) },
            err,
          );
        }
      },
    }),
    route({
      method: 'post',
      path: '/users/:id/password-reset',
      kind: 'page',
      access: 'users.manage',
      handler: async (req, res) => {
        const reset = await accounts.resetPassword(actorOf(req.user!), String(req.params.id));
        res.render('users/created', { title: 'Password reset', created: reset, reset: true });
      },
    }),
  ];
}
