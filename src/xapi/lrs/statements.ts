import { randomUUID } from 'node:crypto';
import { canonicalize, isUuid, validateStatements } from '../validate.js';
import { canonicalJson } from './canonical-json.js';
import type { AttachmentStore } from './attachments.js';
import { XapiError } from './errors.js';
import type { AttachmentPart } from './multipart.js';
import { checkSignature } from './signature.js';
import { indexFields, refFieldsOf, VOIDED, type StatementDoc, type StatementRefDoc, type StatementQuery, type StatementStore } from './store.js';

type Json = Record<string, unknown>;

export { XapiError };

export const MAX_LIMIT = 100;

/**
 * Whether a re-sent statement is the one stored: the fields the LRS set (stored, authority,
 * version, and timestamp when the client sent none) are left out of the comparison.
 */
function sameStatement(stored: Json, resent: Json): boolean {
  const strip = ({ stored: _s, authority: _a, version: _v, ...rest }: Json) => rest;
  const old = strip(stored);
  if (resent.timestamp === undefined) delete old.timestamp;
  return canonicalJson(old) === canonicalJson(strip(resent));
}


export interface StatementResult {
  statements: Json[];
  more: string;
}

/** The Statements resource: store (with conflict and voiding rules) and query. */
export class StatementsService {
  constructor(
    private readonly store: StatementStore,
    private readonly attachments: AttachmentStore,
    private readonly now: () => Date = () => new Date(),
    /** told how many statements each save stored anew (the ingest rate in the metrics) */
    private readonly onStored: (count: number) => void = () => undefined,
  ) {}

  /**
   * Stores one statement or a batch: every statement is validated first (all or nothing), ids are
   * generated where absent, a re-sent id with the same content is accepted without storing twice,
   * with other content it is a 409.
   */
  async save(input: unknown, authority: Json, putId?: string, parts: AttachmentPart[] = []): Promise<string[]> {
    if (Array.isArray(input) && !input.length) throw new XapiError(400, 'The request body is an empty array: send at least one statement.');
    // the input is this request's own parsed body (or a batch built for this call): no copy needed
    const checked = validateStatements(input, { inPlace: true });
    if (!checked.ok) throw new XapiError(400, `Invalid statement: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    const statements = checked.statements as unknown as Json[];

    if (putId !== undefined) {
      if (!isUuid(putId)) throw new XapiError(400, 'statementId must be a UUID.');
      const s = statements[0]!;
      if (s.id && String(s.id).toLowerCase() !== putId.toLowerCase()) throw new XapiError(409, 'The statement id differs from the statementId parameter.');
      s.id = putId.toLowerCase();
    }
    checkAttachmentParts(statements, parts);
    for (const s of statements) s.id = s.id ? String(s.id).toLowerCase() : randomUUID();
    const ids = statements.map((s) => String(s.id));

    // Voiding (Data 2.3.2): a voiding statement that voided a stored statement cannot be voided,
    // nor can a statement that is voided already (by another voiding statement). One whose target
    // was never stored voided nothing, so it is an ordinary statement and may be voided.
    const voiding = statements.filter((s) => (s.verb as Json).id === VOIDED);
    const targets = voiding.map((s) => String((s.object as Json).id).toLowerCase());
    const refTargets = [...new Set(statements.filter((s) => (s.object as Json).objectType === 'StatementRef').map((s) => String((s.object as Json).id).toLowerCase()))];
    const referenced = await this.store.byIds(refTargets);
    if (targets.length) {
      const inBatch = new Set(voiding.map((s) => String(s.id)));
      const resent = new Set((await this.store.byIds(voiding.map((s) => String(s.id)))).map((d) => d._id));
      const voidsSomething = async (d: StatementDoc) => d.voids !== null && (await this.store.byIds([d.voids])).length > 0;
      for (const [i, t] of targets.entries()) {
        const target = referenced.find((d) => d._id === t);
        if (inBatch.has(t) || (target && (await voidsSomething(target)))) throw new XapiError(400, `Statement ${t} is itself a voiding statement and cannot be voided.`);
        if (target?.voided && !resent.has(String(voiding[i]!.id))) throw new XapiError(400, `Statement ${t} is voided already: a statement is voided once.`);
      }
    }

    // the content first: a statement is never stored without the attachments it names
    if (parts.length) await this.attachments.put(parts);
    const storedAt = this.now();
    const docs: StatementDoc[] = statements.map((s, seq) => {
      const full: Json = { ...s, stored: storedAt.toISOString(), authority, version: s.version ?? '1.0.0', timestamp: s.timestamp ?? storedAt.toISOString() };
      return { _id: String(s.id), json: JSON.stringify(full), stored: storedAt, seq, voided: false, ...indexFields(full) };
    });
    // what the statements targeting a stored statement (or one earlier in the batch) borrow from it
    const borrowed = new Map((await this.store.refsOf(referenced.map((d) => d._id))).map((r) => [r._id, r]));
    const refs: StatementRefDoc[] = [];
    docs.forEach((doc, seq) => {
      const object = statements[seq]!.object as Json;
      if (object.objectType !== 'StatementRef') return;
      const t = String(object.id).toLowerCase();
      const target = referenced.find((d) => d._id === t) ?? docs.slice(0, seq).find((d) => d._id === t);
      if (!target) return;
      const ref: StatementRefDoc = { _id: doc._id, stored: doc.stored, seq, ...refFieldsOf(target, borrowed.get(t)) };
      refs.push(ref);
      borrowed.set(doc._id, ref); // a later statement of the batch may target this one
    });
    // Optimistic: write first; ids stored already are compared afterwards. A re-sent identical
    // statement is fine; a different one under a known id rejects the whole request (409), and what
    // this request had just written is taken back, so a batch is stored whole or not at all.
    const already = await this.store.insertNew(docs);
    if (already.length) {
      const existing = await this.store.byIds(already);
      const conflict = existing.find((d) => !sameStatement(JSON.parse(d.json) as Json, statements.find((s) => s.id === d._id)!));
      if (conflict) {
        await this.store.remove(ids.filter((id) => !already.includes(id)));
        throw new XapiError(409, `A different statement with the id ${conflict._id} is stored already.`);
      }
    }
    this.onStored(docs.length - already.length);
    await this.store.insertRefs(refs);
    await this.store.applyVoids(targets); // idempotent: a voided statement stays voided
    return ids;
  }

  /** One statement by id: voided ones only through voidedStatementId, others only through statementId. */
  async one(id: string, voided: boolean, format: 'exact' | 'ids' | 'canonical' = 'exact', languages: string[] = []): Promise<Json> {
    if (!isUuid(id)) throw new XapiError(400, `${voided ? 'voidedStatementId' : 'statementId'} must be a UUID.`);
    const [doc] = await this.store.byIds([id.toLowerCase()]);
    if (!doc || doc.voided !== voided) throw new XapiError(404, `No ${voided ? 'voided ' : ''}statement ${id}.`);
    return shape(JSON.parse(doc.json) as Json, format, languages);
  }

  async query(q: StatementQuery, format: 'exact' | 'ids' | 'canonical', languages: string[], moreBase: string, params: URLSearchParams): Promise<StatementResult> {
    const docs = await this.store.query({ ...q, limit: q.limit + 1 });
    const page = docs.slice(0, q.limit);
    const statements = page.map((d) => shape(JSON.parse(d.json) as Json, format, languages));
    let more = '';
    if (docs.length > q.limit) {
      const last = page.at(-1)!;
      const next = new URLSearchParams(params);
      next.set('cursor', Buffer.from(JSON.stringify([last.stored.getTime(), last.seq, last._id])).toString('base64url'));
      more = `${moreBase}?${next.toString()}`;
    }
    return { statements, more };
  }

  /** The stored content of the statements' attachments, for a GET with attachments=true. */
  async attachmentsFor(statements: Json[]): Promise<AttachmentPart[]> {
    return this.attachments.get(attachmentHashes(statements));
  }

  /**
   * Every statement stored before this instant is in query results: writes are acknowledged
   * before they are answered, so "now" is a true bound (and costs no query).
   */
  consistentThrough(): string {
    return this.now().toISOString();
  }
}

/**
 * Every attachment without a fileUrl came as a multipart part, every part is an attachment of one
 * of the statements, and signed statements carry a valid signature (Data 2.4.11, 2.6).
 */
function checkAttachmentParts(statements: Json[], parts: AttachmentPart[]): void {
  const declared = new Set<string>();
  statements.forEach((s, i) => {
    const list = Array.isArray(s.attachments) ? (s.attachments as Json[]) : [];
    list.forEach((a, j) => {
      const sha2 = String(a.sha2).toLowerCase();
      declared.add(sha2);
      if (a.fileUrl === undefined && !parts.some((p) => p.sha2 === sha2)) {
        throw new XapiError(400, `statement ${i} attachments[${j}] has no fileUrl, so its content must be sent as a multipart/mixed part with X-Experience-API-Hash ${sha2}.`);
      }
    });
    checkSignature(s, i, parts);
  });
  const stray = parts.find((p) => !declared.has(p.sha2));
  if (stray) throw new XapiError(400, `The multipart part with X-Experience-API-Hash ${stray.sha2} matches the sha2 of no attachment in the statements.`);
}

/** The hashes of the attachments whose content the LRS holds (those without a fileUrl may be held too). */
export function attachmentHashes(statements: Json[]): string[] {
  return [...new Set(statements.flatMap((s) => (Array.isArray(s.attachments) ? (s.attachments as Json[]) : []).map((a) => String(a.sha2).toLowerCase())))];
}

export function readCursor(token: string): { stored: Date; seq: number; id: string } {
  try {
    const [stored, seq, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [number, number, string];
    if (typeof stored !== 'number' || typeof seq !== 'number' || typeof id !== 'string') throw new Error('shape');
    return { stored: new Date(stored), seq, id };
  } catch {
    throw new XapiError(400, 'The cursor of this "more" link is not valid: start the query again.');
  }
}

/** format=ids keeps only identifiers of agents and activities; canonical keeps one language. */
function shape(s: Json, format: 'exact' | 'ids' | 'canonical', languages: string[]): Json {
  if (format === 'canonical') return canonicalize(s as never, languages) as unknown as Json;
  if (format === 'exact') return s;
  const idsOnly = (v: unknown): unknown => {
    if (!v || typeof v !== 'object') return v;
    const o = v as Json;
    if (o.objectType === 'Agent' || o.objectType === 'Group' || o.mbox || o.mbox_sha1sum || o.openid || o.account) {
      const out: Json = {};
      for (const k of ['objectType', 'mbox', 'mbox_sha1sum', 'openid', 'account']) if (o[k] !== undefined) out[k] = o[k];
      if (o.objectType === 'Group' && !o.mbox && !o.mbox_sha1sum && !o.openid && !o.account && Array.isArray(o.member)) out.member = o.member.map(idsOnly);
      return out;
    }
    return v;
  };
  const activityId = (a: unknown) => ({ objectType: 'Activity', id: (a as Json).id });
  const out: Json = { ...s, actor: idsOnly(s.actor) };
  const object = s.object as Json;
  out.object = !object.objectType || object.objectType === 'Activity' ? activityId(object) : idsOnly(object);
  if (s.context) {
    const c = { ...(s.context as Json) };
    if (c.instructor) c.instructor = idsOnly(c.instructor);
    if (c.team) c.team = idsOnly(c.team);
    if (c.contextActivities) {
      const ca = { ...(c.contextActivities as Json) };
      for (const k of Object.keys(ca)) ca[k] = ([] as unknown[]).concat(ca[k]).map(activityId);
      c.contextActivities = ca;
    }
    out.context = c;
  }
  if (s.authority) out.authority = idsOnly(s.authority);
  return out;
}
