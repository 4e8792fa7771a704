/**
 * Requests to export or erase one person's data: the rules, without I/O. Which xAPI statements are
 * the person's record and which are other people's records that only name them; how such a
 * statement is made to stop naming them; the typed confirmation an erasure needs.
 */

type Json = Record<string, unknown>;

/** What erasure does with the person's xAPI statements: void them (the xAPI way) or delete them. */
export const STATEMENT_ERASURES = ['void', 'remove'] as const;
export type StatementErasure = (typeof STATEMENT_ERASURES)[number];

/** Who a statement (or the fields a StatementRef borrows from its target) names, as agent keys. */
export interface StatementPeople {
  /** the actor, and the object when it is an agent or group */
  agents: readonly string[];
  /** every agent it names: instructor, team, authority, those of a sub-statement */
  relatedAgents: readonly string[];
  registrations: readonly string[];
}

export interface PersonKeys {
  /** whether an agent key is the person's (their account, under any homePage; their mbox, mbox_sha1sum) */
  isAgent(key: string): boolean;
  /** the registrations of the person's enrollments */
  registrations: ReadonlySet<string>;
  /** whether a registration that is not the person's is another person's enrollment */
  isOthers(registration: string): boolean;
}

/**
 * 'theirs': the statement belongs to one of the person's enrollments, or the person is its actor
 * (or the agent it is about) outside anyone else's enrollment. 'mentions': it is another person's
 * record that names them — the manager approving a rep's work, the instructor of a rep's logged
 * activity — and is kept for that person, pseudonymised. 'unrelated': neither.
 */
export function relationOf(s: StatementPeople, p: PersonKeys): 'theirs' | 'mentions' | 'unrelated' {
  if (s.registrations.some((r) => p.registrations.has(r))) return 'theirs';
  const acts = s.agents.some((a) => p.isAgent(a));
  if (acts && !s.registrations.some((r) => p.isOthers(r))) return 'theirs';
  if (acts || s.relatedAgents.some((a) => p.isAgent(a))) return 'mentions';
  return 'unrelated';
}

const IFIS = ['mbox', 'mbox_sha1sum', 'openid', 'account'];

function isAgentLike(o: Json): boolean {
  return (o.objectType === undefined || o.objectType === 'Agent' || o.objectType === 'Group') && IFIS.some((k) => o[k] !== undefined);
}

/**
 * The statement with every agent (or identified group) that is the person — wherever it appears:
 * actor, object, instructor, team, authority, an extension — replaced by a bare account: no name,
 * no email, only `pseudonym` (the erased account's id on this site, which names nobody once the
 * account is deleted). Other agents are left as they are. Returns the very same value when nothing
 * changed, so a second pass is a no-op.
 */
export function pseudonymise<T>(value: T, isTheirs: (agent: Json) => boolean, pseudonym: { homePage: string; name: string }): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const next = v.map(walk);
      return next.some((x, i) => x !== v[i]) ? next : v;
    }
    if (!v || typeof v !== 'object') return v;
    const o = v as Json;
    if (isAgentLike(o) && isTheirs(o)) {
      const bare = { ...(o.objectType === undefined ? {} : { objectType: o.objectType }), account: { homePage: pseudonym.homePage, name: pseudonym.name } };
      return JSON.stringify(bare) === JSON.stringify(o) ? o : bare;
    }
    let changed = false;
    const next: Json = {};
    for (const [k, x] of Object.entries(o)) {
      next[k] = walk(x);
      if (next[k] !== x) changed = true;
    }
    return changed ? next : o;
  };
  return walk(value) as T;
}

/** The typed confirmation of an erasure: the person's email address, as stored (case and spaces aside). */
export function confirmsErasure(typed: string, email: string): boolean {
  return typed.trim().toLowerCase() === email.trim().toLowerCase() && email.trim() !== '';
}
