import type { Container } from '../../container.js';
import { Conflict, GateLocked } from '../../errors.js';
import { route, type RouteDef } from '../../http/route.js';
import { flash } from '../../http/views.js';
import { actorOf } from '../../features/accounts/service.js';

/**
 * The pages of an AU are somebody else's code (authoring tools inline scripts and use eval): they
 * get a permissive policy of their own. Isolation comes from the origin: launch URLs point at
 * CMI5_CONTENT_URL, another host name of this server, where the rep's Onramp cookie is never sent
 * and Onramp pages are cross-origin; the AU reaches the LRS through CORS with its session token.
 */
const CONTENT_CSP = "default-src * data: blob: 'unsafe-inline' 'unsafe-eval'; frame-ancestors *";

export function cmi5Routes(c: Container): RouteDef[] {
  return [
    route({
      method: 'post',
      path: '/learn/:enrollmentId/modules/:moduleId/launch',
      kind: 'page',
      access: 'learning.take',
      handler: async (req, res) => {
        const enrollmentId = String(req.params.enrollmentId);
        const moduleId = String(req.params.moduleId);
        try {
          const url = await c.cmi5.launch(actorOf(req.user!), enrollmentId, moduleId);
          const origin = new URL(url).origin;
          if (origin === new URL(c.config.cmi5ContentUrl).origin || origin === new URL(c.config.publicUrl).origin) return res.redirect(303, url);
          // an AU hosted elsewhere: a form may not redirect off-site (CSP form-action), a link may
          res.render('learning/launch', { title: 'Open the course', url, host: new URL(url).host });
        } catch (err) {
          if (!(err instanceof Conflict) && !(err instanceof GateLocked)) throw err;
          flash(req, 'error', err instanceof GateLocked ? `${err.message} ${err.reasons.join(' ')}` : err.message);
          res.redirect(303, `/learn/${enrollmentId}/modules/${moduleId}`);
        }
      },
    }),
    route({
      method: 'post',
      path: '/cmi5/fetch/:handle',
      kind: 'api',
      // the AU calls it with no credentials and no CSRF token: the one-time handle is the secret
      access: 'xapi',
      handler: async (req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        res.status(200).json(await c.cmi5.fetch(String(req.params.handle)));
      },
    }),
    route({
      method: 'get',
      path: '/cmi5/content/:sessionId/*path',
      kind: 'api',
      access: 'public',
      handler: async (req, res) => {
        const segments = ([] as string[]).concat((req.params as Record<string, string | string[]>).path ?? []);
        const path = segments.join('/');
        const file = segments.some((s) => s === '..' || s === '') ? null : await c.cmi5.file(String(req.params.sessionId), path);
        if (!file) {
          res.status(404).type('text/plain').send(`No file ${path} in this course package.`);
          return;
        }
        res.setHeader('Content-Security-Policy', CONTENT_CSP);
        res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
        res.setHeader('Cache-Control', 'private, max-age=3600');
        res.type(file.contentType).send(file.data);
      },
    }),
  ];
}
