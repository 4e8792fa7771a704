import type { NextFunction, Request, Response } from 'express';

/**
 * Cross-origin access to the LRS, for elearning served from another host (a CDN, an authoring
 * tool's preview). Safe to open to any origin: xAPI clients authenticate every request with the
 * credentials they send themselves, and no cookie is ever allowed cross-origin (no
 * Access-Control-Allow-Credentials), so a foreign page cannot act with a signed-in user's session.
 */
export function xapiCors(req: Request, res: Response, next: NextFunction): void {
  // the cmi5 fetch URL too: a launched AU runs sandboxed, in an origin of its own
  if (!req.path.startsWith('/xapi/') && !req.path.startsWith('/cmi5/fetch/')) return next();
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', 'ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through');
  if (req.method !== 'OPTIONS') return next();
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, PUT, POST, DELETE');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match');
  res.setHeader('Access-Control-Max-Age', '600');
  res.status(204).end();
}
