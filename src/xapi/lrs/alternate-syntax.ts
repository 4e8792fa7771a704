import type { NextFunction, Request, Response } from 'express';

/** Form parameters that stand for headers in the Alternate Request Syntax (Communication 1.3). */
const HEADER_PARAMS = ['Authorization', 'X-Experience-API-Version', 'Content-Type', 'Content-Length', 'If-Match', 'If-None-Match'];
const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

function refuse(res: Response, message: string): void {
  res.setHeader('X-Experience-API-Version', '1.0.3');
  res.status(400).json({ error: { message } });
}

/**
 * The xAPI Alternate Request Syntax: a client that cannot send some methods or headers (an old
 * browser, a locked-down proxy) sends `POST /xapi/…?method=PUT` with a form body whose fields are
 * the headers, the query parameters and the `content`. This rewrites such a request into the one it
 * stands for before routing, so every resource supports it in one place. The form fields that
 * stand for headers win over headers of the same name: they are what the request says.
 *
 * A form-encoded POST to /xapi/statements without `method` is a GET too ("GET Statements may be
 * called using POST and form fields", Communication 2.1.2): statements are never form-encoded.
 */
export function alternateRequestSyntax(req: Request, res: Response, next: NextFunction): void {
  if (!req.path.startsWith('/xapi/')) return next();
  const at = req.url.indexOf('?');
  const query = new URLSearchParams(at >= 0 ? req.url.slice(at + 1) : '');
  const statementsQuery = req.method === 'POST' && req.path === '/xapi/statements' && !query.size && Boolean(req.is('application/x-www-form-urlencoded'));
  const method = query.get('method') ?? (statementsQuery ? 'GET' : null);
  if (method === null) return next();
  if (req.method !== 'POST') return refuse(res, 'The Alternate Request Syntax (?method=…) is sent as a POST.');
  if ([...query.keys()].some((k) => k !== 'method')) return refuse(res, 'With the Alternate Request Syntax, every parameter except method goes in the form body, not the query string.');
  const target = method.toUpperCase();
  if (!METHODS.includes(target)) return refuse(res, `method must be one of ${METHODS.join(', ')}, not ${method}.`);
  if (!req.is('application/x-www-form-urlencoded')) return refuse(res, 'The Alternate Request Syntax sends its fields as application/x-www-form-urlencoded.');

  const form = (req.body ?? {}) as Record<string, unknown>;
  const params = new URLSearchParams();
  let content: string | undefined;
  for (const [key, value] of Object.entries(form)) {
    if (typeof value !== 'string') return refuse(res, `The form field ${key} is given more than once.`);
    const header = HEADER_PARAMS.find((h) => h.toLowerCase() === key.toLowerCase());
    if (header) {
      req.headers[header.toLowerCase()] = value;
    } else if (key === 'content') {
      content = value;
    } else {
      params.append(key, value);
    }
  }
  if ((target === 'PUT' || target === 'POST') && content === undefined) return refuse(res, `An alternate ${target} carries its body in the form field "content".`);

  if (!Object.keys(form).some((k) => k.toLowerCase() === 'content-type')) req.headers['content-type'] = 'application/json';
  const body = Buffer.from(content ?? '', 'utf8');
  req.headers['content-length'] = String(body.length);
  (req as Request & { rawBody?: Buffer }).rawBody = body;
  if (content !== undefined && req.is('application/json')) {
    try {
      req.body = JSON.parse(content);
    } catch {
      return refuse(res, 'The form field "content" is not valid JSON.');
    }
  } else {
    req.body = content === undefined ? undefined : body;
  }
  req.method = target;
  const search = params.toString();
  req.url = req.path + (search ? `?${search}` : '');
  next();
}
