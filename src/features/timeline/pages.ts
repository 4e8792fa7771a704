import type { Request } from 'express';
import { z } from 'zod';
import type { Container } from '../../container.js';
import { toCsv } from '../../http/csv.js';
import { parse } from '../../http/middleware/validate.js';
import { route, type RouteDef } from '../../http/route.js';
import { StatementStore } from '../../xapi/lrs/store.js';
import { actorOf } from '../accounts/service.js';
import { CATEGORY_LABELS, CSV_HEADER, csvCells, groupByDay, TIMELINE_CATEGORIES, type TimelineCategory, type TimelineRow } from './present.js';
import { PAGE_SCAN_LIMIT, TimelineService } from './service.js';

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);
const category = z.preprocess(blankToUndefined, z.enum(TIMELINE_CATEGORIES, { error: `must be one of ${TIMELINE_CATEGORIES.join(', ')}` }).optional());
const before = z.preprocess(blankToUndefined, z.string().trim().max(200, 'is too long').optional());

const pageQuery = z.object({ category, before }).strict();
const csvQuery = z.object({ category }).strict();
const apiQuery = z
  .object({
    category,
    before,
    limit: z.preprocess(blankToUndefined, z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').optional()),
  })
  .strict();

function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** The timeline's address with these parameters (empty ones left out). */
function href(userId: string, params: Record<string, string | undefined>, suffix = ''): string {
  const qs = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1])).toString();
  return `/people/${encodeURIComponent(userId)}/timeline${suffix}${qs ? `?${qs}` : ''}`;
}

/** The learner timeline: a page (grouped by day, filter by kind, older pages), its CSV and its JSON. */
export function timelineRoutes(c: Container): RouteDef[] {
  // read-only use of the statement store: no outbox and no locks are needed to read
  const timeline = new TimelineService({
    models: c.models,
    curricula: c.curricula,
    statements: new StatementStore(c.mongo),
    catalogue: { baseIri: c.config.xapiActivityBase, platform: 'Onramp', homePage: c.config.publicUrl },
  });
  const viewerZone = (req: Request) => req.user!.timezone || 'UTC';

  return [
    route({
      method: 'get',
      path: '/people/:id/timeline',
      kind: 'page',
      access: 'enrollments.read',
      handler: async (req, res) => {
        const q = parse(pageQuery, req.query, 'query');
        const id = String(req.params.id);
        const page = await timeline.page(actorOf(req.user!), id, { category: q.category, before: q.before, timeZone: viewerZone(req) });
        const isSelf = page.person.id === req.user!.id;
        const lineOf = (row: TimelineRow) => ({ ...row, lead: row.actor ? row.verb : capitalize(row.verb) });
        res.render('timeline/index', {
          title: isSelf ? 'My activity' : `${page.person.name} — timeline`,
          heading: isSelf ? 'My activity' : page.person.name,
          isSelf,
          person: page.person,
          profileHref: `/users/${encodeURIComponent(page.person.id)}`,
          enrollments: page.enrollments,
          days: groupByDay(page.rows).map((d) => ({ ...d, rows: d.rows.map(lineOf) })),
          count: page.rows.length,
          category: q.category ?? null,
          categoryLabel: q.category ? CATEGORY_LABELS[q.category] : null,
          filters: [
            { label: 'All events', href: href(id, {}), current: !q.category, value: 'all' },
            ...TIMELINE_CATEGORIES.map((k: TimelineCategory) => ({ label: CATEGORY_LABELS[k], href: href(id, { category: k }), current: q.category === k, value: k })),
          ],
          olderHref: page.next ? href(id, { category: q.category, before: page.next }) : null,
          newestHref: q.before ? href(id, { category: q.category }) : null,
          csvHref: href(id, { category: q.category }, '.csv'),
          partial: page.partial,
          scanLimit: PAGE_SCAN_LIMIT.toLocaleString('en-GB'),
          empty: q.before
            ? { title: 'No older events', text: 'Everything before this point has been shown.' }
            : q.category
              ? { title: `No ${CATEGORY_LABELS[q.category].toLowerCase()} events`, text: 'Nothing of this kind has been recorded yet. Choose “All events” to see everything.' }
              : { title: 'Nothing recorded yet', text: 'Enrollments, lessons, assessments, live sessions, transfer work and reinforcement answers appear here as they happen.' },
          timeZone: viewerZone(req),
          paged: Boolean(q.before),
        });
      },
    }),
    route({
      method: 'get',
      path: '/people/:id/timeline.csv',
      kind: 'page',
      access: 'enrollments.read',
      handler: async (req, res) => {
        const q = parse(csvQuery, req.query, 'query');
        const all = await timeline.all(actorOf(req.user!), String(req.params.id), { category: q.category, timeZone: viewerZone(req) });
        const slug = all.person.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || all.person.id;
        res.type('text/csv').attachment(`timeline-${slug}${q.category ? `-${q.category}` : ''}.csv`);
        // more than the export holds: say so in a header rather than end the file silently
        if (all.next) res.setHeader('X-Timeline-Truncated', 'true');
        res.send(toCsv(CSV_HEADER, all.rows.map(csvCells)));
      },
    }),
    route({
      method: 'get',
      path: '/api/people/:id/timeline',
      kind: 'api',
      access: 'enrollments.read',
      handler: async (req, res) => {
        const q = parse(apiQuery, req.query, 'query');
        const page = await timeline.page(actorOf(req.user!), String(req.params.id), { category: q.category, before: q.before, limit: q.limit, timeZone: viewerZone(req) });
        res.json({ person: { id: page.person.id, name: page.person.name }, events: page.rows, next: page.next });
      },
    }),
  ];
}
