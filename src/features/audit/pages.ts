import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { Container } from '../../container.js';
import type { Actor } from '../../engine/access.js';
import { ValidationFailed, type FieldProblem } from '../../errors.js';
import { csvLines } from '../../http/csv.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import type { UserDoc } from '../accounts/model.js';
import { actorOf } from '../accounts/service.js';
import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES, type AuditEntryDoc, type AuditFilter } from './service.js';

export const AUDIT_PAGE_SIZE = 50;
const DAY = 86_400_000;

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const text = (max: number) => z.preprocess(blankToUndefined, z.string().trim().max(max, `must be at most ${max} characters`).optional());
const day = z.preprocess(
  blankToUndefined,
  z
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
    .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'is not a date in the calendar')
    .optional(),
);

export const auditQuery = z
  .object({
    /** who acted: an email or a user id */
    actor: text(254),
    /** an action, or the start of one (`user` is every user.* action) */
    action: z.preprocess(blankToUndefined, z.string().trim().regex(/^[a-z][a-z-]*(\.[a-z][a-z-]*)*$/, 'must be an action such as user.role.change, or its start such as user').max(64).optional()),
    targetType: z.preprocess(blankToUndefined, z.string().trim().regex(/^[a-z][a-z_]*$/, 'must be a target type such as user or api_token').max(40).optional()),
    /** what was acted on: its id, or a person's email */
    target: text(200),
    from: day,
    to: day,
    page: z.preprocess(blankToUndefined, z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(100_000, 'is too far').optional()),
  })
  .strict();
type AuditQuery = z.infer<typeof auditQuery>;

/** The query as the service's filter: emails become user ids, days become UTC instants (`to` inclusive). */
async function filterOf(c: Container, q: AuditQuery): Promise<AuditFilter> {
  const problems: FieldProblem[] = [];
  const person = async (value: string, path: string): Promise<string | undefined> => {
    if (Types.ObjectId.isValid(value) && /^[a-f0-9]{24}$/i.test(value)) return value.toLowerCase();
    if (value.includes('@')) {
      const user = await c.accounts.findByEmail(value);
      if (user) return user.id;
      problems.push({ path, message: `no user has the email ${value}` });
      return undefined;
    }
    if (path === 'target') return value; // any other target id (a curriculum, a credential key …)
    problems.push({ path, message: 'must be an email address or a user id' });
    return undefined;
  };
  const filter: AuditFilter = {};
  if (q.actor) filter.actorId = await person(q.actor, 'actor');
  if (q.target) filter.targetId = await person(q.target, 'target');
  if (q.action) filter.action = q.action;
  if (q.targetType) filter.targetType = q.targetType;
  if (q.from) filter.from = new Date(`${q.from}T00:00:00Z`);
  if (q.to) filter.before = new Date(new Date(`${q.to}T00:00:00Z`).getTime() + DAY);
  if (q.from && q.to && q.from > q.to) problems.push({ path: 'to', message: `must not be before from (${q.from})` });
  if (problems.length) throw new ValidationFailed(problems, `The filters cannot be used: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}.`);
  return filter;
}

/** The filters as a query string (the CSV link, the other pages). */
function queryString(q: AuditQuery, page?: number): string {
  const params = Object.entries({ actor: q.actor, action: q.action, targetType: q.targetType, target: q.target, from: q.from, to: q.to, page: page && page > 1 ? String(page) : undefined });
  return new URLSearchParams(params.filter((e): e is [string, string] => Boolean(e[1]))).toString();
}

/** Names of the people an entry names (actor, user targets), by id; a person since erased is missing. */
async function namesOf(c: Container, entries: AuditEntryDoc[]): Promise<Map<string, string>> {
  const ids = new Set<string>();
  for (const e of entries) {
    if (e.actorId) ids.add(e.actorId);
    if (e.targetType === 'user') ids.add(e.targetId);
  }
  const valid = [...ids].filter((id) => Types.ObjectId.isValid(id));
  const users = valid.length ? await c.models.User.find({ _id: { $in: valid } }, { name: 1 }).lean<Pick<UserDoc, '_id' | 'name'>[]>() : [];
  return new Map(users.map((u) => [String(u._id), u.name]));
}

function detailText(detail: AuditEntryDoc['detail']): string {
  return Object.entries(detail ?? {})
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' ') || '—' : v === null ? '—' : String(v)}`)
    .join(', ');
}

function rowOf(e: AuditEntryDoc, names: Map<string, string>) {
  const isUser = e.targetType === 'user';
  return {
    at: e.at.toISOString(),
    actorId: e.actorId,
    actorName: e.actorId ? (names.get(e.actorId) ?? `unknown user ${e.actorId}`) : null,
    actorRole: e.actorRole,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    targetName: isUser ? (names.get(e.targetId) ?? null) : null,
    targetHref: isUser ? `/users/${e.targetId}` : e.targetType === 'curriculum' ? `/curricula/${encodeURIComponent(e.targetId)}` : null,
    requestId: e.requestId,
    clientRequestId: e.clientRequestId ?? null,
    failed: e.failed,
    detail: detailText(e.detail),
  };
}

const CSV_HEADER = ['at', 'actor_id', 'actor_name', 'actor_role', 'action', 'target_type', 'target_id', 'target_name', 'request_id', 'client_request_id', 'failed', 'detail'];

/** The CSV, a batch of entries at a time. */
async function* csvChunks(c: Container, actor: Actor, filter: AuditFilter): AsyncGenerator<string> {
  yield csvLines([CSV_HEADER]);
  for await (const batch of c.audit.batches(actor, filter)) {
    const names = await namesOf(c, batch);
    const rows = batch.map((e) => {
      const r = rowOf(e, names);
      return [r.at, r.actorId, r.actorName, r.actorRole, r.action, r.targetType, r.targetId, r.targetName, r.requestId, r.clientRequestId, r.failed, JSON.stringify(e.detail ?? {})];
    });
    yield csvLines(rows);
  }
}

/** Admins read the audit log: filters, pages of 50 newest first, and the CSV of everything that matches. */
export function auditRoutes(c: Container): RouteDef[] {
  const form = (q: Partial<AuditQuery>) => ({
    ...q,
    actions: AUDIT_ACTIONS.map((a) => ({ value: a, selected: a === q.action })),
    targetTypes: AUDIT_TARGET_TYPES.map((t) => ({ value: t, selected: t === q.targetType })),
  });

  return [
    route({
      method: 'get',
      path: '/admin/audit',
      kind: 'page',
      access: 'audit.read',
      handler: async (req: Request, res) => {
        let q: AuditQuery;
        let filter: AuditFilter;
        try {
          q = parse(auditQuery, req.query, 'query');
          filter = await filterOf(c, q);
        } catch (err) {
          if (!(err instanceof ValidationFailed)) throw err;
          const raw = Object.fromEntries(Object.entries(req.query).filter(([, v]) => typeof v === 'string')) as Partial<AuditQuery>;
          return res.status(422).render('audit/list', { title: 'Audit log', form: form(raw), problems: err.problems, invalid: true });
        }
        const page = q.page ?? 1;
        const { entries, total } = await c.audit.page(actorOf(req.user!), filter, page, AUDIT_PAGE_SIZE);
        const names = await namesOf(c, entries);
        const pages = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
        res.render('audit/list', {
          title: 'Audit log',
          form: form(q),
          rows: entries.map((e) => rowOf(e, names)),
          total,
          page,
          pages,
          newerHref: page > 1 ? `/admin/audit?${queryString(q, page - 1)}` : null,
          olderHref: page < pages ? `/admin/audit?${queryString(q, page + 1)}` : null,
          csvHref: `/admin/audit.csv?${queryString(q)}`,
          filtered: Object.keys(filter).length > 0,
        });
      },
    }),
    route({
      method: 'get',
      path: '/admin/audit.csv',
      kind: 'page',
      access: 'audit.read',
      handler: async (req, res) => {
        const { page: _page, ...q } = parse(auditQuery, req.query, 'query');
        const filter = await filterOf(c, q);
        const actor = actorOf(req.user!);
        // reading the whole log out is itself recorded, with its filters as ids (fail closed: no entry, no file)
        const given = { actorId: filter.actorId, action: filter.action, targetType: filter.targetType, targetId: filter.targetId, from: q.from, to: q.to };
        const detail = Object.fromEntries(Object.entries(given).filter((e): e is [string, string] => typeof e[1] === 'string'));
        await c.audit.record(actor, 'audit.export', { type: 'audit_log', id: 'export' }, detail);
        // the whole log, people's ids and names in it: not for a shared cache or the browser's
        res.type('text/csv').attachment(`audit-log-${new Date().toISOString().slice(0, 10)}.csv`).set('Cache-Control', 'no-store');
        // a stream: the log is read as fast as the client takes the file (one batch ahead), and no further once it leaves
        try {
          await pipeline(Readable.from(csvChunks(c, actor, filter), { highWaterMark: 1 }), res);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client went away
          throw err;
        }
      },
    }),
  ];
}
