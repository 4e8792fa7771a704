import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { sameOriginOnly } from '../../http/middleware/csrf.js';
import { notFoundHandler } from '../../http/middleware/errors.js';
import { actorOf } from '../accounts/service.js';

/**
 * Bull Board (https://github.com/felixmosh/bull-board), the open-source BullMQ UI, for admins:
 * the queue's waiting, delayed, failed and completed jobs, each with its data and error, and
 * retry / promote / remove. It is a separate Express app of its own (a React page, its static
 * files and a JSON API) that runs behind Onramp's routes, so that our authentication,
 * authorization ('system.view') and CSRF rules apply to every request before it gets there; the
 * board itself checks nothing.
 */
export const QUEUE_BOARD_PATH = '/admin/queues';

export function queueBoardRoutes(c: Container): RouteDef[] {
  const board = createBoardApp(c);
  const handler = delegateTo(board);
  // The board's page calls its API with fetch and cannot send our CSRF token: its state-changing
  // requests (retry, promote, clean, pause, add…) must come from a page of this origin instead.
  const sameOrigin = sameOriginOnly(c.config.publicUrl);
  // the audit log has every change made on the board (retry, promote, clean, pause, add …) and every
  // opening of its page, written before the board acts (no entry, no change); not its polling reads
  const recorded = (action: 'queue.board.open' | 'queue.board.change'): RouteDef['handler'] => async (req, res, next) => {
    const path = req.path.slice(QUEUE_BOARD_PATH.length, QUEUE_BOARD_PATH.length + 200) || '/';
    await c.audit.record(actorOf(req.user!), action, { type: 'queue', id: c.queue.name }, { method: req.method, path });
    return handler(req, res, next);
  };
  const api = (method: RouteDef['method']): RouteDef =>
    route({ method, path: `${QUEUE_BOARD_PATH}/api/*rest`, kind: 'api', access: 'system.view', before: [sameOrigin], handler: method === 'get' ? handler : recorded('queue.board.change') });
  return [
    // the board's JSON API; these are every method it serves (test/http/queue-board.test.ts walks its route table)
    api('get'),
    api('put'),
    api('patch'),
    api('post'),
    // its scripts, styles, images and translations (no page locals: these are files)
    route({ method: 'get', path: `${QUEUE_BOARD_PATH}/static/*path`, kind: 'api', access: 'system.view', handler }),
    // its page, at every address of the single-page app (/, /queue/:name, /queue/:name/:jobId, …)
    route({ method: 'get', path: `${QUEUE_BOARD_PATH}{/*rest}`, kind: 'page', access: 'system.view', before: [allowInlineStylesOnThisPage], handler: recorded('queue.board.open') }),
  ];
}

function createBoardApp(c: Container): Express {
  const serverAdapter = new ExpressAdapter().setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(c.queue)],
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Onramp jobs',
        favIcon: { default: '/assets/favicon.svg', alternative: '/assets/favicon.svg' },
        miscLinks: [{ text: 'Back to Onramp', url: '/' }],
        hideDocsLink: true,
      },
    },
  });
  const board = serverAdapter.getRouter() as Express;
  board.disable('x-powered-by');
  // The board's page template links IBM Plex from fonts.googleapis.com: a request to a third party
  // on every visit (our CSP refuses it anyway). Without it the page uses the system fonts.
  const render = board.render.bind(board);
  board.render = ((name: string, options: object, done: (err: Error | null, html?: string) => void) =>
    render(name, options, (err, html) => done(err, err ? html : withoutThirdPartyFonts(html)))) as Express['render'];
  return board;
}

export function withoutThirdPartyFonts(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="https:\/\/fonts\.(?:googleapis|gstatic)\.com\/[^"]*"[^>]*>\s*/g, '');
}

/**
 * Hands the request to the board app as if it were mounted at QUEUE_BOARD_PATH (the board sees
 * `/api/queues`, not `/admin/queues/api/queues`). What the board does not answer (an unknown
 * address) is Onramp's 404 at once (no other route is tried) — with req/res set back to Onramp's
 * app, as `app.use` does after a mounted app, so that our error pages render with our views.
 */
function delegateTo(board: Express): RouteDef['handler'] {
  const mount = express.Router().use(QUEUE_BOARD_PATH, board);
  return (req: Request, res: Response, next: NextFunction) => {
    const [reqProto, resProto] = [Object.getPrototypeOf(req) as object, Object.getPrototypeOf(res) as object];
    mount(req, res, (err?: unknown) => {
      Object.setPrototypeOf(req, reqProto);
      Object.setPrototypeOf(res, resProto);
      if (err) next(err);
      else notFoundHandler(req, res, next);
    });
  };
}

/**
 * The board's page only: the same Content-Security-Policy as every other page, plus inline styles.
 * Scripts stay 'self' only (the board's page has no inline script; its config is a JSON data block,
 * which CSP does not run). Inline styles cannot be covered with a nonce or hashes: besides the
 * loading placeholder in its template (style attributes and a <style> element) and a <style> inside
 * an SVG icon its React code renders, its bundle creates <style> elements at run time with content
 * of its own making — CodeMirror in the job-data editor (Add job, Update data), base-ui's scroll lock
 * while that dialog is open — and takes no nonce from outside the bundle. So 'unsafe-inline' for
 * styles, on this page only (test/e2e/queue-board.test.ts opens the editor and checks that the browser
 * reports no violation); every other response keeps style-src 'self'.
 */
const allowInlineStylesOnThisPage: RequestHandler = (_req, res, next) => {
  const policy = res.getHeader('Content-Security-Policy');
  if (typeof policy === 'string') res.setHeader('Content-Security-Policy', withInlineStyles(policy));
  next();
};

/** The policy with 'unsafe-inline' added to style-src (and nothing else changed). */
export function withInlineStyles(policy: string): string {
  const directives = policy.split(';').map((d) => d.trim()).filter(Boolean);
  const i = directives.findIndex((d) => /^style-src\s/i.test(d) || d.toLowerCase() === 'style-src');
  if (i === -1) return [...directives, "style-src 'self' 'unsafe-inline'"].join(';');
  if (!directives[i]!.includes("'unsafe-inline'")) directives[i] = `${directives[i]} 'unsafe-inline'`;
  return directives.join(';');
}
