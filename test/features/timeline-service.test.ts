import { describe, expect, it } from 'vitest';
import { NotFound, ValidationFailed } from '../../src/errors.js';
import { decodePosition, encodePosition, PAGE_SCAN_LIMIT, TimelineService, type TimelineDeps, type TimelineStatements } from '../../src/features/timeline/service.js';
import type { StatementDoc } from '../../src/xapi/lrs/store.js';

/**
 * The timeline's paging over a fake statement store: every event once, in order, with and without
 * a category filter, and a page that stops at the scan limit when the category is rare.
 */
const REP = '65f1c2a9e4b0a1b2c3d4e501';
const MANAGER = '65f1c2a9e4b0a1b2c3d4e502';
const config = { baseIri: 'https://onramp.example.com/xapi/activities', platform: 'Onramp', homePage: 'https://onramp.example.com' };
const actor = `account:https://onramp.example.com|${REP}`;

type Doc = Pick<StatementDoc, '_id' | 'json' | 'stored' | 'seq'>;

/** Statements oldest first, ten to a stored millisecond (as a batch is: in order by seq). */
function docs(kinds: ('module' | 'other')[]): Doc[] {
  return kinds.map((kind, i) => ({
    _id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    stored: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 10)),
    seq: i % 10,
    json: JSON.stringify({
      id: `s${i}`,
      actor: { account: { homePage: 'https://onramp.example.com', name: REP } },
      verb: { id: kind === 'module' ? 'http://adlnet.gov/expapi/verbs/completed' : 'https://example.com/verbs/poked', display: { 'en-US': 'poked' } },
      object: { id: `https://example.com/things/${i}`, definition: { type: kind === 'module' ? 'http://adlnet.gov/expapi/activities/module' : undefined, name: { 'en-US': `Thing ${i}` } } },
      timestamp: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    }),
  }));
}

/** The store's contract: newest first by (stored, seq, id), after `before`, for the person's identifiers. */
function fakeStore(all: Doc[]): TimelineStatements & { reads: number } {
  const key = (d: Doc) => [d.stored.getTime(), d.seq, d._id] as const;
  const newer = (a: readonly [number, number, string], b: readonly [number, number, string]) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
  const sorted = [...all].sort((a, b) => newer(key(b), key(a)));
  const store = {
    reads: 0,
    async aboutPerson(q: Parameters<TimelineStatements['aboutPerson']>[0]) {
      store.reads += 1;
      expect(q.agents).toContain(actor);
      const from = q.before ? ([q.before.stored.getTime(), q.before.seq, q.before.id] as const) : null;
      return sorted.filter((d) => !from || newer(key(d), from) < 0).slice(0, q.limit);
    },
  };
  return store;
}

function service(all: Doc[]) {
  const store = fakeStore(all);
  const user = { _id: REP, name: 'Sam Lee', email: 'sam@example.com', role: 'rep', managerId: MANAGER };
  const models = {
    User: { findById: (id: string) => ({ lean: async () => (id === REP ? user : null) }) },
    Enrollment: { find: () => ({ sort: () => ({ lean: async () => [] }) }) },
  } as unknown as TimelineDeps['models'];
  return { store, svc: new TimelineService({ models, curricula: { version: async () => Promise.reject(new NotFound('none')) }, statements: store, catalogue: config }) };
}

const trainer = { id: '65f1c2a9e4b0a1b2c3d4e5ff', role: 'trainer' as const };

describe('timeline paging', () => {
  it('reads every statement once, newest first, page after page', async () => {
    const all = docs(Array.from({ length: 123 }, () => 'other' as const));
    const { svc } = service(all);
    const ids: string[] = [];
    let before: string | undefined;
    for (let n = 0; n < 10; n += 1) {
      const page = await svc.page(trainer, REP, { before, limit: 50 });
      ids.push(...page.rows.map((r) => r.id));
      if (!page.next) break;
      before = page.next;
    }
    expect(ids).toHaveLength(123);
    expect(ids[0]).toBe('s122');
    expect(ids.at(-1)).toBe('s0');
    expect(new Set(ids).size).toBe(123);
  });

  it('fills a page of one category from several reads, and knows whether an older page exists', async () => {
    // every fifth statement is a module event: 60 of 300
    const all = docs(Array.from({ length: 300 }, (_, i) => (i % 5 === 0 ? 'module' : 'other')));
    const { svc } = service(all);
    const first = await svc.page(trainer, REP, { category: 'module', limit: 50 });
    expect(first.rows).toHaveLength(50);
    expect(first.rows.every((r) => r.category === 'module')).toBe(true);
    expect(first.next).not.toBeNull();
    const second = await svc.page(trainer, REP, { category: 'module', limit: 50, before: first.next! });
    expect(second.rows).toHaveLength(10);
    expect(second.next).toBeNull();
    expect([...first.rows, ...second.rows].map((r) => r.id)).toEqual(Array.from({ length: 60 }, (_, k) => `s${295 - 5 * k}`));
    // exactly a page's worth: no "older" link to an empty page
    const exact = await service(docs(Array.from({ length: 50 }, () => 'module' as const))).svc.page(trainer, REP, { category: 'module', limit: 50 });
    expect(exact.rows).toHaveLength(50);
    expect(exact.next).toBeNull();
  });

  it('stops at the scan limit when the category is rare, and goes on from there on the next page', async () => {
    const kinds = Array.from({ length: PAGE_SCAN_LIMIT + 300 }, () => 'other' as const) as ('module' | 'other')[];
    kinds[0] = 'module'; // the oldest statement is the only module event
    const { svc } = service(docs(kinds));
    const first = await svc.page(trainer, REP, { category: 'module' });
    expect(first.rows).toEqual([]);
    expect(first.partial).toBe(true);
    expect(first.next).not.toBeNull();
    const second = await svc.page(trainer, REP, { category: 'module', before: first.next! });
    expect(second.rows.map((r) => r.id)).toEqual(['s0']);
    expect(second.next).toBeNull();
  });

  it('refuses a position that is not one, and hides people outside the actor’s scope', async () => {
    const { svc } = service(docs(['module']));
    await expect(svc.page(trainer, REP, { before: 'nope' })).rejects.toThrow(ValidationFailed);
    await expect(svc.page({ id: '65f1c2a9e4b0a1b2c3d4e5aa', role: 'manager' }, REP)).rejects.toThrow(NotFound);
    await expect(svc.page({ id: '65f1c2a9e4b0a1b2c3d4e5ab', role: 'rep' }, REP)).rejects.toThrow(NotFound);
    expect((await svc.page({ id: MANAGER, role: 'manager' }, REP)).rows).toHaveLength(1);
    expect((await svc.page({ id: REP, role: 'rep' }, REP)).rows).toHaveLength(1);
    await expect(svc.page(trainer, '65f1c2a9e4b0a1b2c3d4e5ac')).rejects.toThrow(NotFound);
  });

  it('positions round-trip', () => {
    const d = { _id: 'abc', stored: new Date('2026-01-01T00:00:00.123Z'), seq: 4 };
    expect(decodePosition(encodePosition(d))).toEqual({ stored: d.stored, seq: 4, id: 'abc' });
    expect(decodePosition(Buffer.from('[1,"x","y"]').toString('base64url'))).toBeNull();
  });

  it('the export reads everything', async () => {
    const { svc, store } = service(docs(Array.from({ length: 1234 }, () => 'other' as const)));
    const all = await svc.all(trainer, REP);
    expect(all.rows).toHaveLength(1234);
    expect(all.next).toBeNull();
    expect(store.reads).toBe(3);
  });
});
