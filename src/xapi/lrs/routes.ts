import type { Request, RequestHandler, Response } from 'express';
import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { allows, type LrsClient } from './credentials.js';
import { MAX_LIMIT, readCursor, XapiError } from './statements.js';
import { parseMixed, writeMixed, type MixedBody } from './multipart.js';
import { agentKey, isIso8601DateTime } from '../validate.js';

export const XAPI_VERSION = '1.0.3';

/**
 * The Learning Record Store at /xapi (xAPI 1.0.3). Clients authenticate with HTTP Basic
 * credentials issued by an admin; every response carries the version header; any 1.0.x request
 * version is accepted (authoring tools still send 1.0.2).
 */
function xapi(c: Container, need: 'read' | 'write' | null, fn: (req: Request, res: Response, client: LrsClient | null) => Promise<unknown>) {
  return async (req: Request, res: Response) => {
    res.setHeader('X-Experience-API-Version', XAPI_VERSION);
    // GET statements answers the header whatever the status (Communication 2.1.3.s2.b5)
    if (need === 'read') res.setHeader('X-Experience-API-Consistent-Through', c.statements.consistentThrough());
    try {
      let client: LrsClient | null = null;
      if (need) {
        // the version first: a request without it is a 400 even when it has no credentials either
        checkVersionHeader(req);
        client = (await c.lrsCredentials.authenticate(req.headers.authorization)) ?? null;
        if (!client) {
          res.setHeader('WWW-Authenticate', 'Basic realm="Onramp LRS"');
          throw new XapiError(401, 'Authenticate with the Basic credentials an Onramp admin issued.');
        }
        if (!allows(client, need)) throw new XapiError(403, `The credential ${client.key} may not ${need} statements.`);
      }
      await fn(req, res, client);
    } catch (err) {
      if (err instanceof XapiError) {
        res.status(err.status).json({ error: { message: err.message } });
        return;
      }
      if ((err as { type?: string }).type === 'entity.parse.failed') {
        res.status(400).json({ error: { message: 'The request body is not valid JSON.' } });
        return;
      }
      throw err;
    }
  };
}

/** Every resource but /about needs X-Experience-API-Version with a 1.0.x version (Communication 3.3). */
export function checkVersionHeader(req: Request): void {
  const version = req.headers['x-experience-api-version'];
  if (typeof version !== 'string' || !/^1\.0(\.\d+)?$/.test(version.trim())) {
    throw new XapiError(400, `Send the X-Experience-API-Version header with a 1.0.x version${typeof version === 'string' ? `, not ${JSON.stringify(version.slice(0, 20))}` : ''}.`);
  }
}

/**
 * JSON with the Content-Type exactly `application/json` (the suite compares the header as a string;
 * res.json would add "; charset=utf-8"). UTF-8 is JSON's encoding anyway (RFC 8259 §8.1).
 */
export function sendJson(res: Response, body: unknown, status = 200): void {
  res.status(status).setHeader('Content-Type', 'application/json');
  res.send(Buffer.from(JSON.stringify(body), 'utf8'));
}

/**
 * Early on every /xapi request, before the body is parsed: the version header, and for GET
 * statements the consistency header, so that even an answer the LRS handlers never see (a body
 * that is not JSON, a malformed Authorization header, an unknown path) carries them.
 */
export function xapiResponseHeaders(c: Container): RequestHandler {
  return (req, res, next) => {
    if (!req.path.startsWith('/xapi/')) return next();
    res.setHeader('X-Experience-API-Version', XAPI_VERSION);
    if ((req.method === 'GET' || req.method === 'HEAD') && req.path === '/xapi/statements') res.setHeader('X-Experience-API-Consistent-Through', c.statements.consistentThrough());
    next();
  };
}

const one = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The statements of a PUT/POST: plain JSON, or multipart/mixed with the attachments' content. */
function statementsBody(req: Request): MixedBody {
  const contentType = req.headers['content-type'] ?? '';
  if (/^\s*multipart\//i.test(contentType)) {
    if (!Buffer.isBuffer(req.body)) throw new XapiError(400, 'The multipart body could not be read.');
    return parseMixed(req.body, contentType);
  }
  if (!/^\s*application\/json\s*(;|$)/i.test(contentType)) {
    throw new XapiError(400, `Send statements as application/json (or multipart/mixed with attachments), not ${contentType || 'a body without a Content-Type'}.`);
  }
  return { json: req.body, parts: [] };
}

/** Answers JSON, or with attachments=true multipart/mixed with the attachments' content after it. */
async function answer(c: Container, req: Request, res: Response, json: Record<string, unknown>, statements: Record<string, unknown>[]): Promise<void> {
  // again now the statements are read: none of them was stored after this instant
  res.setHeader('X-Experience-API-Consistent-Through', c.statements.consistentThrough());
  if (req.query.attachments !== 'true') {
    sendJson(res, json);
    return;
  }
  const mixed = writeMixed(json, await c.statements.attachmentsFor(statements));
  res.status(200).type(mixed.contentType).send(mixed.body);
}

export function lrsRoutes(c: Container): RouteDef[] {
  const authorityOf = (client: LrsClient) => ({ objectType: 'Agent', name: client.name, account: { homePage: c.config.publicUrl, name: client.key } });
  return [
    route({
      method: 'get',
      path: '/xapi/about',
      kind: 'api',
      access: 'public',
      handler: xapi(c, null, async (_req, res) => {
        sendJson(res, { version: ['1.0.3', '1.0.2', '1.0.1', '1.0.0'], extensions: { 'https://onramp.dev/xapi/extensions/product': 'Onramp' } });
      }),
    }),
    route({
      method: 'post',
      path: '/xapi/statements',
      kind: 'api',
      access: 'xapi',
      handler: xapi(c, 'write', async (req, res, client) => {
        const { json, parts } = statementsBody(req);
        const save = () => c.statements.save(json, authorityOf(client!), undefined, parts);
        const ids = client!.cmi5Session ? await c.cmi5.acceptStatements(client!.cmi5Session, ([] as unknown[]).concat(json) as Record<string, unknown>[], save) : await save();
        sendJson(res, ids);
      }),
    }),
    route({
      method: 'delete',
      path: '/xapi/statements',
      kind: 'api',
      access: 'xapi',
      handler: xapi(c, null, async (_req, res) => {
        res.setHeader('Allow', 'GET, HEAD, PUT, POST');
        res.status(405).json({ error: { message: 'Statements are never deleted: void one by storing a statement with the verb http://adlnet.gov/expapi/verbs/voided.' } });
      }),
    }),
    route({
      method: 'put',
      path: '/xapi/statements',
      kind: 'api',
      access: 'xapi',
      handler: xapi(c, 'write', async (req, res, client) => {
        const id = one(req.query.statementId);
        if (!id) throw new XapiError(400, 'PUT /xapi/statements needs the statementId parameter.');
        const { json, parts } = statementsBody(req);
        if (Array.isArray(json)) throw new XapiError(400, 'PUT stores one statement: send an object, not an array.');
        const save = () => c.statements.save(json, authorityOf(client!), id, parts);
        if (client!.cmi5Session) await c.cmi5.acceptStatements(client!.cmi5Session, [{ ...(json as Record<string, unknown>), id }], save);
        else await save();
        res.status(204).end();
      }),
    }),
    route({
      method: 'get',
      path: '/xapi/statements',
      kind: 'api',
      access: 'xapi',
      handler: xapi(c, 'read', async (req, res, client) => {
        const q = req.query;
        const statementId = one(q.statementId);
        const voidedId = one(q.voidedStatementId);
        const format = (one(q.format) ?? 'exact') as 'exact' | 'ids' | 'canonical';
        if (!['exact', 'ids', 'canonical'].includes(format)) throw new XapiError(400, 'format must be exact, ids or canonical.');
        const languages = (req.headers['accept-language'] ?? '').split(',').map((l) => l.split(';')[0]!.trim()).filter(Boolean);
        if (statementId || voidedId) {
          if (client!.cmi5Session) await c.cmi5.checkQuery(client!, undefined);
          const others = Object.keys(q).filter((k) => !['statementId', 'voidedStatementId', 'format', 'attachments'].includes(k));
          if ((statementId && voidedId) || others.length) throw new XapiError(400, `statementId and voidedStatementId go alone (with format and attachments), not with ${others.join(', ') || 'each other'}.`);
          const statement = await c.statements.one(statementId ?? voidedId!, Boolean(voidedId), format, languages);
          return answer(c, req, res, statement, [statement]);
        }
        let agent: string | undefined;
        if (q.agent !== undefined) {
          try {
            agent = agentKey(JSON.parse(String(q.agent))) ?? undefined;
          } catch {
            agent = undefined;
          }
          if (!agent) throw new XapiError(400, 'agent must be a JSON Agent or identified Group.');
        }
        const date = (name: 'since' | 'until') => {
          const v = one(q[name]);
          if (v === undefined) return undefined;
          if (!isIso8601DateTime(v)) throw new XapiError(400, `${name} must be an ISO 8601 timestamp with a time zone.`);
          return new Date(v);
        };
        if (client!.cmi5Session) await c.cmi5.checkQuery(client!, agent);
        const limitRaw = one(q.limit);
        const limit = limitRaw === undefined || limitRaw === '0' ? MAX_LIMIT : Number(limitRaw);
        if (!Number.isInteger(limit) || limit < 0) throw new XapiError(400, 'limit must be a whole number.');
        const known = ['agent', 'verb', 'activity', 'registration', 'related_activities', 'related_agents', 'since', 'until', 'limit', 'format', 'attachments', 'ascending', 'cursor'];
        const unknown = Object.keys(q).filter((k) => !known.includes(k));
        if (unknown.length) throw new XapiError(400, `Unknown parameter(s): ${unknown.join(', ')}.`);
        const params = new URLSearchParams(Object.entries(q).filter(([k]) => k !== 'cursor').map(([k, v]): [string, string] => [k, String(v)]));
        const result = await c.statements.query(
          {
            ...(agent ? { agent } : {}),
            ...(one(q.verb) ? { verb: one(q.verb)! } : {}),
            ...(one(q.activity) ? { activity: one(q.activity)! } : {}),
            ...(one(q.registration) ? { registration: one(q.registration)! } : {}),
            relatedActivities: q.related_activities === 'true',
            relatedAgents: q.related_agents === 'true',
            ...(date('since') ? { since: date('since')! } : {}),
            ...(date('until') ? { until: date('until')! } : {}),
            ascending: q.ascending === 'true',
            limit: Math.min(limit, MAX_LIMIT),
            ...(one(q.cursor) ? { after: readCursor(one(q.cursor)!) } : {}),
          },
          format,
          languages,
          '/xapi/statements',
          params,
        );
        await answer(c, req, res, result as unknown as Record<string, unknown>, result.statements);
      }),
    }),
  ];
}
