import { fileURLToPath } from 'node:url';
import type { Express, Request, RequestHandler, Response } from 'express';
import { engine } from 'express-handlebars';
import type { Role } from '../engine/access.js';
import { csrfTokenFor } from './middleware/csrf.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));
export const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));

const ROLE_LABELS: Record<Role, string> = { rep: 'Rep', manager: 'Manager', trainer: 'Trainer', admin: 'Admin' };

interface NavItem {
  href: string;
  label: string;
}

/** The navigation each role sees; later features add their entries here. */
export function navFor(role: Role): NavItem[] {
  const items: NavItem[] = [{ href: '/', label: 'Home' }];
  if (role === 'rep') items.push({ href: '/roadmap', label: 'My roadmap' }, { href: '/reinforcement', label: 'Questions' });
  if (role === 'rep') items.push({ href: '/me/progress', label: 'My progress' });
  if (role === 'manager') items.push({ href: '/enrollments', label: 'Team progress' }, { href: '/reviews', label: 'Reviews' }, { href: '/users', label: 'My team' });
  if (role === 'manager') items.push({ href: '/team/dashboard', label: 'Coaching' });
  if (role === 'trainer' || role === 'admin') items.push({ href: '/dashboard', label: 'Dashboard' });
  if (role === 'trainer') {
    items.push({ href: '/curricula', label: 'Curricula' }, { href: '/enrollments', label: 'Enrollments' }, { href: '/sessions', label: 'Sessions' }, { href: '/assessments', label: 'Results' }, { href: '/reports/transfer', label: 'Transfer' }, { href: '/reports/retention', label: 'Retention' }, { href: '/users', label: 'People' });
  }
  if (role === 'admin') {
    items.push({ href: '/users', label: 'Users' }, { href: '/curricula', label: 'Curricula' }, { href: '/enrollments', label: 'Enrollments' }, { href: '/sessions', label: 'Sessions' }, { href: '/assessments', label: 'Results' }, { href: '/reports/transfer', label: 'Transfer' }, { href: '/reports/retention', label: 'Retention' }, { href: '/admin/lrs', label: 'xAPI' }, { href: '/admin/outbox', label: 'Outbox' }, { href: '/admin/queues', label: 'Jobs' }, { href: '/admin/audit', label: 'Audit log' });
  }
  items.push({ href: '/account', label: 'Account' });
  return items;
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

export function setUpViews(app: Express, cache: boolean): void {
  app.engine(
    'hbs',
    engine({
      extname: '.hbs',
      defaultLayout: 'main',
      layoutsDir: `${TEMPLATES_DIR}/layouts`,
      partialsDir: `${TEMPLATES_DIR}/partials`,
      helpers: {
        eq: (a: unknown, b: unknown) => a === b,
        lt: (a: number, b: number) => a < b,
        roleLabel: (role: Role) => ROLE_LABELS[role] ?? role,
        date: (iso: unknown) => (typeof iso === 'string' && iso ? `${dateFormat.format(new Date(iso))} UTC` : '—'),
      },
    }),
  );
  app.set('view engine', 'hbs');
  app.set('views', `${TEMPLATES_DIR}/pages`);
  if (cache) app.enable('view cache');
}

/** What every page's layout needs: the user, their navigation, flash messages and a CSRF token. */
export function fillPageLocals(req: Request, res: Response): void {
  res.locals.currentPath = req.path;
  if (req.user) {
    res.locals.user = req.user;
    res.locals.nav = navFor(req.user.role).map((i) => ({ ...i, active: i.href === '/' ? req.path === '/' : req.path.startsWith(i.href) }));
  }
  if (req.session && !req.path.startsWith('/api/') && !req.authVia?.startsWith('token')) {
    res.locals.csrfToken = csrfTokenFor(req);
    if (req.method === 'GET') {
      res.locals.flash = req.session.flash ?? [];
      delete req.session.flash;
    }
  }
}

export const pageLocals: RequestHandler = (req, res, next) => {
  fillPageLocals(req, res);
  next();
};

export function flash(req: Request, kind: 'success' | 'error' | 'info', message: string): void {
  if (!req.session) return;
  req.session.flash = [...(req.session.flash ?? []), { kind, message }];
}
