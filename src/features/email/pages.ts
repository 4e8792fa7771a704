import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { actorOf } from '../accounts/service.js';

/**
 * The outbox: every email Onramp stored, newest first, with its state. Without SMTP_URL this is
 * where email is read (local runs need no mail server); with it, where a failing server shows.
 * Opening one email reads someone else's mail: it is in the audit log first (no entry, no email).
 */
export function emailAdminRoutes(c: Container): RouteDef[] {
  return [
    route({
      method: 'get',
      path: '/admin/outbox',
      kind: 'page',
      access: 'system.view',
      handler: async (_req, res) => {
        const [messages, counts] = await Promise.all([c.email.list(200), c.email.counts()]);
        res.render('outbox/list', { title: 'Outbox', messages, counts, smtp: c.email.smtpConfigured, limit: 200 });
      },
    }),
    route({
      method: 'get',
      path: '/admin/outbox/:id',
      kind: 'page',
      access: 'system.view',
      handler: async (req, res) => {
        const { html: _html, ...message } = await c.email.get(String(req.params.id));
        await c.audit.record(actorOf(req.user!), 'email.view', { type: 'email', id: message.id }, { format: 'text' });
        res.render('outbox/message', { title: message.subject, message });
      },
    }),
    // The email's own HTML, as its recipient's mail client would show it, on a page of its own: a
    // policy that runs no script, loads nothing but inline styles and images, and sandboxes the
    // document (a unique origin: no cookies, no access to Onramp pages).
    route({
      method: 'get',
      path: '/admin/outbox/:id/html',
      kind: 'page',
      access: 'system.view',
      handler: async (req, res) => {
        const message = await c.email.get(String(req.params.id));
        await c.audit.record(actorOf(req.user!), 'email.view', { type: 'email', id: message.id }, { format: 'html' });
        res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; form-action 'none'; frame-ancestors 'none'; sandbox");
        res.setHeader('Cache-Control', 'no-store');
        res.type('html').send(message.html);
      },
    }),
  ];
}
