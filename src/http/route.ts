import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Permission } from '../engine/access.js';

/**
 * Every route is declared once, with who may call it. createApp registers the list; the
 * authorization matrix test walks the same list, so a route without a rule cannot hide.
 */
/**
 * 'xapi': an LRS client with Basic credentials (checked by the /xapi handlers, not by role);
 * 'metrics': a Prometheus scraper with METRICS_TOKEN (checked by the /metrics handler, not by role)
 */
export type Access = 'public' | 'signed-in' | 'xapi' | 'metrics' | Permission;

export interface RouteDef {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  /** 'page' answers HTML (anonymous → redirect to sign-in); 'api' answers JSON (anonymous → 401) */
  kind: 'page' | 'api';
  access: Access;
  /** extra middleware before the handler (rate limits) */
  before?: RequestHandler[];
  handler: (req: Request, res: Response, next: NextFunction) => Promise<unknown> | unknown;
}

export type RouteSummary = Pick<RouteDef, 'method' | 'path' | 'kind' | 'access'>;

export const route = (def: RouteDef): RouteDef => def;
