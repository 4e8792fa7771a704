import { createHash } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { Binary, type Collection, type Filter } from 'mongodb';
import type { Connection } from 'mongoose';
import type { Container } from '../../container.js';
import { route, type RouteDef } from '../../http/route.js';
import { agentKey, isAbsoluteIri, isIso8601DateTime, isUuid, MAX_NESTING, nestedDeeperThan } from '../validate.js';
import { allows, type LrsClient } from './credentials.js';
import { checkVersionHeader, XAPI_VERSION } from './routes.js';
import { XapiError } from './statements.js';
import { STATEMENTS_COLLECTION, type StatementDoc } from './store.js';

/**
 * The Document Resources of the LRS (xAPI 1.0.3 Part Three, Communication 2.2, 2.3, 2.6, 2.7):
 * State, Activity Profile and Agent Profile, plus the read-only Activities and Agents resources
 * (2.4, 2.5).
 *
 * A document is opaque bytes with the content type it was sent with, returned byte for byte.
 * It is stored as BSON binary, never as a nested object: JSON documents carry user keys, and
 * FerretDB refuses field names with '.' or a leading '$'.
 *
 * Request bodies: createApp's global express.json() and express.urlencoded() run before any
 * route, so for application/json (and form-encoded) bodies the stream is already consumed and
 * req.body is a parsed object. Those bodies are re-serialized (JSON.stringify, or form encoding)
 * — equivalent JSON, not necessarily the client's exact bytes (whitespace, key order of
 * duplicates, number spelling). When the global parsers keep the raw bytes as `req.rawBody` (a
 * `verify` hook), those exact bytes are used instead. Every other content type is read here as
 * raw bytes, after authentication, so an anonymous client cannot make the server buffer 10 MB.
 */

export const DOCUMENTS_COLLECTION = 'xapi_documents';
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

type Json = Record<string, unknown>;
export type DocumentResource = 'state' | 'activityProfile' | 'agentProfile';

export interface DocumentDoc {
  /** sha1 of (resource, activityId, agent, registration, docId): one stored document per address */
  _id: string;
  resource: DocumentResource;
  activityId: string | null;
  /** agentKey of the agent (`mbox:mailto:…`, `account:home|name`, …) */
  agent: string | null;
  /** lower case */
  registration: string | null;
  /** the stateId or profileId */
  docId: string;
  contentType: string;
  content: Binary;
  /** SHA-1 of the content in hex, unquoted */
  etag: string;
  updated: Date;
}

/** Where a document lives. For State, registration null means "no registration". */
export interface DocumentAddress {
  resource: DocumentResource;
  activityId: string | null;
  agent: string | null;
  registration: string | null;
}

/** A list or bulk delete: for State, registration undefined means "any registration". */
export interface DocumentScope {
  resource: DocumentResource;
  activityId: string | null;
  agent: string | null;
  registration?: string;
}

export interface StoredDocument {
  docId: string;
  contentType: string;
  content: Buffer;
  etag: string;
  updated: Date;
}

export interface DocumentBody {
  contentType: string;
  content: Buffer;
}

/** Parsed If-Match / If-None-Match: null when absent, '*' or the listed entity tags (unquoted, lower case). */
export interface Preconditions {
  ifMatch: '*' | string[] | null;
  ifNoneMatch: '*' | string[] | null;
}

const sha1 = (data: string | Buffer) => createHash('sha1').update(data).digest('hex');

export function documentKey(address: DocumentAddress, docId: string): string {
  return sha1(JSON.stringify([address.resource, address.activityId, address.agent, address.registration, docId]));
}

const asBuffer = (b: Binary | Buffer | Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : b instanceof Binary ? Buffer.from(b.buffer) : Buffer.from(b));

// ---- store --------------------------------------------------------------------------------------

/** The xapi_documents collection (native driver, like the statement store). */
export class DocumentStore {
  readonly col: Collection<DocumentDoc>;

  constructor(conn: Connection) {
    this.col = conn.db!.collection<DocumentDoc>(DOCUMENTS_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await Promise.all([
      // State lists (activity, agent[, registration]) and Activity Profile lists (activity)
      this.col.createIndex({ resource: 1, activityId: 1, agent: 1, registration: 1, updated: 1 }),
      // Agent Profile lists
      this.col.createIndex({ resource: 1, agent: 1, updated: 1 }),
    ]);
  }

  get(id: string): Promise<DocumentDoc | null> {
    return this.col.findOne({ _id: id });
  }

  async ids(scope: DocumentScope, since?: Date): Promise<string[]> {
    const filter: Filter<DocumentDoc> = { resource: scope.resource };
    if (scope.activityId !== null) filter.activityId = scope.activityId;
    if (scope.agent !== null) filter.agent = scope.agent;
    if (scope.registration !== undefined) filter.registration = scope.registration;
    if (since) filter.updated = { $gt: since };
    const docs = await this.col.find(filter, { projection: { docId: 1 } }).sort({ updated: 1 }).toArray();
    return [...new Set(docs.map((d) => d.docId))];
  }

  /** false when a document with this id exists already */
  async insert(doc: DocumentDoc): Promise<boolean> {
    try {
      await this.col.insertOne(doc);
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }

  async upsert(doc: DocumentDoc): Promise<void> {
    await this.col.replaceOne({ _id: doc._id }, doc, { upsert: true });
  }

  /** Replaces the document only if it is still the version read (same etag and time); false otherwise. */
  async replaceIf(old: DocumentDoc, doc: DocumentDoc): Promise<boolean> {
    const res = await this.col.replaceOne({ _id: old._id, etag: old.etag, updated: old.updated }, doc);
    return res.matchedCount === 1;
  }

  async deleteOne(id: string, old?: DocumentDoc): Promise<boolean> {
    const res = await this.col.deleteOne(old ? { _id: id, etag: old.etag, updated: old.updated } : { _id: id });
    return res.deletedCount === 1;
  }

  async deleteMany(scope: DocumentScope): Promise<void> {
    const filter: Filter<DocumentDoc> = { resource: scope.resource, activityId: scope.activityId, agent: scope.agent };
    if (scope.registration !== undefined) filter.registration = scope.registration;
    await this.col.deleteMany(filter);
  }
}

// ---- service ------------------------------------------------------------------------------------

const mediaType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();
export const isJsonType = (contentType: string) => mediaType(contentType) === 'application/json';

function isJsonObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The document as a JSON object, or null when it is not labelled application/json or not an object. */
function jsonObjectOf(contentType: string, content: Buffer): Json | null {
  if (!isJsonType(contentType)) return null;
  try {
    const v: unknown = JSON.parse(content.toString('utf8'));
    return isJsonObject(v) ? v : null;
  } catch {
    return null;
  }
}

function parsesAsJson(content: Buffer): boolean {
  try {
    JSON.parse(content.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

const hasPreconditions = (pre: Preconditions) => pre.ifMatch !== null || pre.ifNoneMatch !== null;

/** Communication 3.1 (Concurrency): 412 when a precondition fails; 409/400 when a required one is missing. */
function checkPreconditions(existing: DocumentDoc | null, pre: Preconditions, required: boolean): void {
  if (pre.ifMatch !== null) {
    if (!existing) throw new XapiError(412, 'If-Match failed: there is no such document. Create it with If-None-Match: * instead.');
    if (pre.ifMatch !== '*' && !pre.ifMatch.includes(existing.etag)) {
      throw new XapiError(412, `If-Match failed: the document has changed since you read it (its ETag is now "${existing.etag}"). GET it again, then retry.`);
    }
  }
  if (pre.ifNoneMatch !== null && existing && (pre.ifNoneMatch === '*' || pre.ifNoneMatch.includes(existing.etag))) {
    throw new XapiError(412, 'If-None-Match failed: the document exists already. GET it, then send If-Match with its ETag to change it.');
  }
  if (required && !hasPreconditions(pre)) {
    if (existing) {
      throw new XapiError(
        409,
        `The document exists already and the request has neither If-Match nor If-None-Match. Check the current document, set If-Match: "${existing.etag}" (its current ETag) and resubmit.`,
      );
    }
    throw new XapiError(400, 'A PUT to this resource needs a concurrency header: If-None-Match: * to create a document, or If-Match with the ETag to replace one.');
  }
}

/** The Document Resources' rules (storage, JSON merge, concurrency), independent of HTTP. */
export class DocumentService {
  private indexes: Promise<void> | undefined;

  constructor(
    private readonly store: DocumentStore,
    private readonly now: () => Date = () => new Date(),
    private readonly onIndexError: (err: unknown) => void = () => undefined,
  ) {}

  /** Indexes are created on first use (once per process); a failure is reported, not fatal. */
  private ready(): Promise<void> {
    this.indexes ??= this.store.ensureIndexes().catch((err: unknown) => this.onIndexError(err));
    return this.indexes;
  }

  private build(address: DocumentAddress, docId: string, body: DocumentBody): DocumentDoc {
    return {
      _id: documentKey(address, docId),
      ...address,
      docId,
      contentType: body.contentType,
      content: new Binary(body.content),
      etag: sha1(body.content),
      updated: this.now(),
    };
  }

  private static stored(doc: DocumentDoc): StoredDocument {
    return { docId: doc.docId, contentType: doc.contentType, content: asBuffer(doc.content), etag: doc.etag, updated: doc.updated };
  }

  async get(address: DocumentAddress, docId: string): Promise<StoredDocument | null> {
    await this.ready();
    const doc = await this.store.get(documentKey(address, docId));
    return doc ? DocumentService.stored(doc) : null;
  }

  async ids(scope: DocumentScope, since?: Date): Promise<string[]> {
    await this.ready();
    return this.store.ids(scope, since);
  }

  /**
   * Stores or replaces a document. `required`: the resource needs If-Match/If-None-Match on PUT
   * (Activity and Agent Profile; State is exempt).
   */
  async put(address: DocumentAddress, docId: string, body: DocumentBody, pre: Preconditions, required: boolean): Promise<StoredDocument> {
    await this.ready();
    if (isJsonType(body.contentType) && !parsesAsJson(body.content)) throw new XapiError(400, 'The document is labelled application/json but is not valid JSON.');
    const doc = this.build(address, docId, body);
    const existing = await this.store.get(doc._id);
    checkPreconditions(existing, pre, required);
    if (!hasPreconditions(pre)) {
      await this.store.upsert(doc);
    } else if (existing ? !(await this.store.replaceIf(existing, doc)) : !(await this.store.insert(doc))) {
      throw new XapiError(412, 'The document changed while this request was processed; GET it again, then retry.');
    }
    return DocumentService.stored(doc);
  }

  /**
   * Communication 2.2.s7: without a stored document, a POST stores it as a PUT would; with one,
   * both must be JSON objects and the posted top-level properties replace the stored ones.
   */
  async post(address: DocumentAddress, docId: string, body: DocumentBody, pre: Preconditions): Promise<StoredDocument> {
    await this.ready();
    if (isJsonType(body.contentType) && !parsesAsJson(body.content)) throw new XapiError(400, 'The document is labelled application/json but is not valid JSON.');
    const id = documentKey(address, docId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.store.get(id);
      checkPreconditions(existing, pre, false);
      if (!existing) {
        const doc = this.build(address, docId, body);
        if (await this.store.insert(doc)) return DocumentService.stored(doc);
        continue; // created meanwhile: merge into it
      }
      const stored = jsonObjectOf(existing.contentType, asBuffer(existing.content));
      if (!stored) throw new XapiError(400, `The stored document is ${isJsonType(existing.contentType) ? 'not a JSON object' : `of type ${existing.contentType}, not application/json`}: it cannot be merged into. PUT replaces it.`);
      const posted = jsonObjectOf(body.contentType, body.content);
      if (!posted) throw new XapiError(400, `A POST merges JSON: the posted document must be a JSON object sent as application/json, not ${isJsonType(body.contentType) ? 'other JSON' : body.contentType}.`);
      // the merge is written back with JSON.stringify, which recurses: a document nested thousands deep would overflow the stack
      const tooDeep = nestedDeeperThan(posted, MAX_NESTING) ? 'posted' : nestedDeeperThan(stored, MAX_NESTING) ? 'stored' : null;
      if (tooDeep) throw new XapiError(400, `A POST merges JSON objects nested at most ${MAX_NESTING} levels deep, and the ${tooDeep} document is deeper. PUT replaces the whole document.`);
      // Object.fromEntries defines own properties, so a "__proto__" key stays data
      const merged = Object.fromEntries([...Object.entries(stored), ...Object.entries(posted)]);
      const doc = this.build(address, docId, { contentType: 'application/json', content: Buffer.from(JSON.stringify(merged)) });
      if (await this.store.replaceIf(existing, doc)) return DocumentService.stored(doc);
    }
    throw new XapiError(409, 'The document kept changing while it was being merged; retry.');
  }

  async remove(address: DocumentAddress, docId: string, pre: Preconditions): Promise<void> {
    await this.ready();
    const id = documentKey(address, docId);
    const existing = await this.store.get(id);
    checkPreconditions(existing, pre, false);
    if (!existing) return;
    if (hasPreconditions(pre)) {
      if (!(await this.store.deleteOne(id, existing))) throw new XapiError(412, 'The document changed while this request was processed; GET it again, then retry.');
    } else {
      await this.store.deleteOne(id);
    }
  }

  async removeAll(scope: DocumentScope): Promise<void> {
    await this.ready();
    await this.store.deleteMany(scope);
  }
}

// ---- Activities and Agents ----------------------------------------------------------------------

export interface Person {
  objectType: 'Person';
  name?: string[];
  mbox?: string[];
  mbox_sha1sum?: string[];
  openid?: string[];
  account?: { homePage: string; name: string }[];
}

/** What the statements say about activities and agents (read-only, from xapi_statements). */
export class StatementLookups {
  private readonly col: Collection<StatementDoc>;

  constructor(conn: Connection) {
    this.col = conn.db!.collection<StatementDoc>(STATEMENTS_COLLECTION);
  }

  /**
   * The Activity with everything the statements say about it (Communication 2.5: "all available
   * information"): the definitions of the latest statements that use it (as object, context
   * activity, or in a sub-statement) merged oldest first, language maps and extensions key by key,
   * so a name sent in one language and later in another keeps both. Just the id if none.
   */
  async activity(id: string): Promise<Json> {
    const docs = await this.col.find({ relatedActivities: id }, { projection: { json: 1 } }).sort({ stored: -1, seq: -1 }).limit(100).toArray();
    const definitions: Json[] = [];
    const visit = (a: unknown) => {
      if (isJsonObject(a) && a.id === id && (a.objectType === undefined || a.objectType === 'Activity') && isJsonObject(a.definition)) definitions.push(a.definition);
    };
    const inStatement = (s: Json) => {
      visit(s.object);
      const ca = isJsonObject(s.context) && isJsonObject(s.context.contextActivities) ? s.context.contextActivities : {};
      for (const list of Object.values(ca)) ([] as unknown[]).concat(list).forEach(visit);
      if (isJsonObject(s.object) && s.object.objectType === 'SubStatement') inStatement(s.object);
    };
    for (const d of docs.reverse()) inStatement(JSON.parse(d.json) as Json);
    if (!definitions.length) return { objectType: 'Activity', id };
    return { objectType: 'Activity', id, definition: definitions.reduce(mergeDefinition, {}) };
  }

  /** The names this agent was given in its latest statements (as actor, object or group member). */
  async namesOf(key: string): Promise<string[]> {
    const docs = await this.col.find({ agents: key }, { projection: { json: 1 } }).sort({ stored: -1, seq: -1 }).limit(50).toArray();
    const names: string[] = [];
    const visit = (who: unknown) => {
      if (!isJsonObject(who)) return;
      if (agentKey(who) === key && typeof who.name === 'string') names.push(who.name);
      if (Array.isArray(who.member)) who.member.forEach(visit);
    };
    for (const d of docs) {
      const s = JSON.parse(d.json) as Json;
      visit(s.actor);
      if (isJsonObject(s.object) && (s.object.objectType === 'Agent' || s.object.objectType === 'Group')) visit(s.object);
    }
    return names;
  }
}

/** A later definition over an earlier one: name, description and extensions merge by key, the rest is replaced. */
function mergeDefinition(earlier: Json, later: Json): Json {
  const merged: Json = { ...earlier, ...later };
  for (const key of ['name', 'description', 'extensions']) {
    if (isJsonObject(earlier[key]) && isJsonObject(later[key])) merged[key] = Object.fromEntries([...Object.entries(earlier[key]), ...Object.entries(later[key])]);
  }
  return merged;
}

/** The Person for an agent: its identifier and every name known for it (given first). */
export function personOf(agent: Json, namesSeen: string[]): Person {
  const person: Person = { objectType: 'Person' };
  const names = [...new Set([...(typeof agent.name === 'string' ? [agent.name] : []), ...namesSeen])];
  if (names.length) person.name = names;
  if (typeof agent.mbox === 'string') person.mbox = [agent.mbox];
  if (typeof agent.mbox_sha1sum === 'string') person.mbox_sha1sum = [agent.mbox_sha1sum];
  if (typeof agent.openid === 'string') person.openid = [agent.openid];
  if (isJsonObject(agent.account)) person.account = [{ homePage: String(agent.account.homePage), name: String(agent.account.name) }];
  return person;
}

// ---- HTTP: parameters ---------------------------------------------------------------------------

type Query = Record<string, unknown>;

const describe = (v: string) => (v === '' ? 'an empty string' : JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v));

function queryOf(req: Request, allowed: readonly string[]): Query {
  const q = req.query as Query;
  const unknown = Object.keys(q).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    throw new XapiError(400, `Unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: ${req.method} ${req.path} takes ${allowed.join(', ')} (names are case-sensitive).`);
  }
  return q;
}

function text(q: Query, name: string, required: true): string;
function text(q: Query, name: string, required: boolean): string | undefined;
function text(q: Query, name: string, required: boolean): string | undefined {
  const v = q[name];
  if (v === undefined) {
    if (required) throw new XapiError(400, `The ${name} parameter is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw new XapiError(400, `Give the ${name} parameter once.`);
  if (v === '') throw new XapiError(400, `The ${name} parameter is empty.`);
  return v;
}

function activityIdParam(q: Query): string {
  const v = text(q, 'activityId', true);
  if (!isAbsoluteIri(v)) throw new XapiError(400, `activityId must be an absolute IRI such as "https://example.com/activities/intro", not ${describe(v)}.`);
  return v;
}

function registrationParam(q: Query): string | undefined {
  const v = text(q, 'registration', false);
  if (v === undefined) return undefined;
  if (!isUuid(v)) throw new XapiError(400, `registration must be a UUID (8-4-4-4-12 hex digits), not ${describe(v)}.`);
  return v.toLowerCase();
}

function sinceParam(q: Query): Date | undefined {
  const v = text(q, 'since', false);
  if (v === undefined) return undefined;
  if (!isIso8601DateTime(v)) throw new XapiError(400, `since must be an ISO 8601 timestamp with a time zone, such as "2024-05-18T09:30:00Z", not ${describe(v)}.`);
  return new Date(v);
}

const AGENT_IFIS = ['mbox', 'mbox_sha1sum', 'openid', 'account'] as const;

/** Why a value is not an Agent (or identified Group) identified by exactly one valid IFI; null when it is. */
function agentProblem(v: unknown): string | null {
  if (!isJsonObject(v)) return 'must be a JSON Agent object such as {"objectType":"Agent","mbox":"mailto:rep@example.com"}';
  const type = v.objectType;
  if (type !== undefined && type !== 'Agent' && type !== 'Group') return `objectType must be "Agent" (or "Group"), not ${JSON.stringify(type)}`;
  const allowed = ['objectType', 'name', ...AGENT_IFIS, ...(type === 'Group' ? ['member'] : [])];
  const extra = Object.keys(v).filter((k) => !allowed.includes(k));
  if (extra.length) return `has ${extra.map((k) => JSON.stringify(k)).join(', ')}, which ${extra.length > 1 ? 'are not properties' : 'is not a property'} of an Agent`;
  if (v.name !== undefined && typeof v.name !== 'string') return 'name must be a string';
  const ifis = AGENT_IFIS.filter((k) => v[k] !== undefined && v[k] !== null);
  if (ifis.length !== 1) {
    return `needs exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account); it has ${ifis.length ? ifis.join(' and ') : 'none'}`;
  }
  if (v.mbox !== undefined && (typeof v.mbox !== 'string' || !/^mailto:[^@\s]+@[^@\s]+$/i.test(v.mbox))) return 'mbox must be a mailto: IRI such as "mailto:rep@example.com"';
  if (v.mbox_sha1sum !== undefined && (typeof v.mbox_sha1sum !== 'string' || !/^[0-9a-f]{40}$/i.test(v.mbox_sha1sum))) return 'mbox_sha1sum must be 40 hex digits';
  if (v.openid !== undefined && !isAbsoluteIri(v.openid)) return 'openid must be an absolute IRI';
  if (v.account !== undefined) {
    const a = v.account;
    if (!isJsonObject(a) || Object.keys(a).some((k) => k !== 'homePage' && k !== 'name')) return 'account must be an object with homePage and name only';
    if (!isAbsoluteIri(a.homePage)) return 'account.homePage must be an absolute IRI';
    if (typeof a.name !== 'string' || a.name === '') return 'account.name must be a non-empty string';
  }
  return agentKey(v) ? null : 'is not an identifiable Agent';
}

function agentParam(q: Query): { key: string; agent: Json } {
  const raw = text(q, 'agent', true);
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new XapiError(400, `agent must be an Agent as (URL-encoded) JSON, such as {"mbox":"mailto:rep@example.com"}; ${describe(raw)} is not JSON.`);
  }
  const problem = agentProblem(v);
  if (problem) throw new XapiError(400, `agent ${problem}.`);
  return { key: agentKey(v)!, agent: v as Json };
}

/** An entity-tag list from If-Match / If-None-Match: quotes and a weak W/ prefix dropped, lower case. */
function entityTags(header: string | undefined): '*' | string[] | null {
  if (header === undefined) return null;
  const h = header.trim();
  if (h === '*') return '*';
  return h
    .split(',')
    .map((t) => t.trim().replace(/^W\//i, '').replace(/^"(.*)"$/, '$1').toLowerCase())
    .filter(Boolean);
}

function preconditionsOf(req: Request): Preconditions {
  return { ifMatch: entityTags(req.headers['if-match']), ifNoneMatch: entityTags(req.headers['if-none-match']) };
}

// ---- HTTP: bodies and responses -----------------------------------------------------------------

const rawParser = express.raw({ type: () => true, limit: MAX_DOCUMENT_BYTES });

/** The request's document: raw bytes, or the global parsers' result re-serialized (see the top of the file). */
async function readDocument(req: Request, res: Response): Promise<DocumentBody> {
  await new Promise<void>((resolve, reject) => {
    void rawParser(req, res, (err?: unknown) => (err ? reject(err as Error) : resolve()));
  });
  const contentType = req.headers['content-type']?.trim() || 'application/octet-stream';
  const raw = (req as Request & { rawBody?: unknown }).rawBody;
  if (Buffer.isBuffer(raw)) return { contentType, content: raw };
  const body: unknown = req.body;
  if (body === undefined || body === null) return { contentType, content: Buffer.alloc(0) };
  if (Buffer.isBuffer(body)) return { contentType, content: body };
  if (req.is('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(body as Json)) for (const one of ([] as unknown[]).concat(v)) form.append(k, String(one));
    return { contentType, content: Buffer.from(form.toString()) };
  }
  return { contentType, content: Buffer.from(JSON.stringify(body)) };
}

function sendDocument(req: Request, res: Response, doc: StoredDocument): void {
  res.setHeader('ETag', `"${doc.etag}"`);
  res.setHeader('Last-Modified', doc.updated.toUTCString());
  const none = entityTags(req.headers['if-none-match']);
  if (none === '*' || none?.includes(doc.etag)) {
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Type', doc.contentType);
  res.setHeader('Content-Length', String(doc.content.length));
  // documents are client data served from Onramp's origin: never let a browser run or frame them
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'; sandbox");
  res.status(200).end(doc.content);
}

function written(res: Response, doc: StoredDocument): void {
  res.setHeader('ETag', `"${doc.etag}"`);
  res.status(204).end();
}

// ---- HTTP: authentication -----------------------------------------------------------------------

type Need = 'read' | 'state';

/** Reads take any reading scope or 'state'; writes take 'state' (or 'all'). */
function may(client: LrsClient, need: Need): boolean {
  return need === 'read' ? allows(client, 'read') || allows(client, 'state') : allows(client, 'state');
}

/**
 * Like the statements' wrapper in routes.ts: the version header on every response, a 1.0.x
 * request version, Basic credentials, the scope, and XapiError → its status as JSON.
 */
function lrsHandler(c: Container, need: Need | null, fn: (req: Request, res: Response, client: LrsClient | null) => Promise<unknown>) {
  return async (req: Request, res: Response) => {
    res.setHeader('X-Experience-API-Version', XAPI_VERSION);
    try {
      let client: LrsClient | null = null;
      if (need) {
        checkVersionHeader(req);
        client = (await c.lrsCredentials.authenticate(req.headers.authorization)) ?? null;
        if (!client) {
          res.setHeader('WWW-Authenticate', 'Basic realm="Onramp LRS"');
          throw new XapiError(401, 'Authenticate with the Basic credentials an Onramp admin issued.');
        }
        if (!may(client, need)) {
          throw new XapiError(403, `The credential ${client.key} may not ${need === 'read' ? 'read' : 'write'} documents${need === 'state' ? ' (that takes the state or all scope)' : ''}.`);
        }
      }
      await fn(req, res, client);
    } catch (err) {
      if (err instanceof XapiError) {
        res.status(err.status).json({ error: { message: err.message } });
        return;
      }
      // body-parser errors (size, encoding, aborted) carry their 4xx status
      const e = err as { type?: string; status?: number };
      if (e.type === 'entity.too.large') {
        res.status(413).json({ error: { message: `The document is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MB.` } });
        return;
      }
      if (e.type && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
        res.status(e.status).json({ error: { message: (err as Error).message } });
        return;
      }
      throw err;
    }
  };
}

// ---- routes -------------------------------------------------------------------------------------

/** One Document Resource's four methods. */
interface ResourceSpec {
  path: string;
  resource: DocumentResource;
  /** the document id parameter */
  idParam: 'stateId' | 'profileId';
  /** the parameters (besides the id and since) that address documents */
  addressParams: readonly string[];
  address: (q: Query) => DocumentAddress;
  /** for lists and bulk deletes (State: registration optional = any) */
  scope: (q: Query) => DocumentScope;
  /** PUT needs If-Match / If-None-Match (Profiles; State is exempt) */
  putNeedsPrecondition: boolean;
  /** DELETE without the id deletes every document in scope (State only) */
  deleteMany: boolean;
}

function resourceRoutes(c: Container, docs: DocumentService, spec: ResourceSpec): RouteDef[] {
  const { path, idParam, addressParams } = spec;
  const common = { path, kind: 'api' as const, access: 'xapi' as const };
  return [
    route({
      ...common,
      method: 'get',
      handler: lrsHandler(c, 'read', async (req, res, client) => {
        const q = queryOf(req, [...addressParams, idParam, 'since']);
        const docId = text(q, idParam, false);
        if (client?.cmi5Session) await c.cmi5.checkDocument(client, { ...spec.scope(q), registration: q.registration === undefined ? null : String(q.registration), ...(docId === undefined ? {} : { docId }), write: false });
        if (docId === undefined) {
          const scope = spec.scope(q);
          res.json(await docs.ids(scope, sinceParam(q)));
          return;
        }
        const address = spec.address(q);
        sinceParam(q); // validated, but it only filters lists
        const doc = await docs.get(address, docId);
        if (!doc) throw new XapiError(404, `There is no document with the ${idParam} ${JSON.stringify(docId)} here.`);
        sendDocument(req, res, doc);
      }),
    }),
    route({
      ...common,
      method: 'put',
      handler: lrsHandler(c, 'state', async (req, res, client) => {
        const q = queryOf(req, [...addressParams, idParam]);
        const address = spec.address(q);
        const docId = text(q, idParam, true);
        if (client?.cmi5Session) await c.cmi5.checkDocument(client, { ...address, docId, write: true });
        written(res, await docs.put(address, docId, await readDocument(req, res), preconditionsOf(req), spec.putNeedsPrecondition));
      }),
    }),
    route({
      ...common,
      method: 'post',
      handler: lrsHandler(c, 'state', async (req, res, client) => {
        const q = queryOf(req, [...addressParams, idParam]);
        const address = spec.address(q);
        const docId = text(q, idParam, true);
        if (client?.cmi5Session) await c.cmi5.checkDocument(client, { ...address, docId, write: true });
        written(res, await docs.post(address, docId, await readDocument(req, res), preconditionsOf(req)));
      }),
    }),
    route({
      ...common,
      method: 'delete',
      handler: lrsHandler(c, 'state', async (req, res, client) => {
        const q = queryOf(req, [...addressParams, idParam]);
        const docId = text(q, idParam, !spec.deleteMany);
        if (client?.cmi5Session) await c.cmi5.checkDocument(client, { ...spec.scope(q), registration: q.registration === undefined ? null : String(q.registration), ...(docId === undefined ? {} : { docId }), write: true });
        if (docId === undefined) await docs.removeAll(spec.scope(q));
        else await docs.remove(spec.address(q), docId, preconditionsOf(req));
        res.status(204).end();
      }),
    }),
  ];
}

/** Methods the spec does not define on a read-only resource: 405 (Communication 3.2), before authentication. */
function notAllowed(c: Container, path: string): RouteDef[] {
  return (['post', 'put', 'delete'] as const).map((method) =>
    route({
      method,
      path,
      kind: 'api',
      access: 'xapi',
      handler: lrsHandler(c, null, async (_req, res) => {
        res.setHeader('Allow', 'GET, HEAD');
        res.status(405).json({ error: { message: `${path} only answers GET.` } });
      }),
    }),
  );
}

/**
 * The routes of the State, Activity Profile, Agent Profile, Activities and Agents resources.
 * Every one is `access: 'xapi'`: the handlers check Basic credentials themselves.
 */
export function documentRoutes(c: Container): RouteDef[] {
  const docs = c.documents;
  const lookups = new StatementLookups(c.mongo);
  return [
    ...resourceRoutes(c, docs, {
      path: '/xapi/activities/state',
      resource: 'state',
      idParam: 'stateId',
      addressParams: ['activityId', 'agent', 'registration'],
      address: (q) => ({ resource: 'state', activityId: activityIdParam(q), agent: agentParam(q).key, registration: registrationParam(q) ?? null }),
      scope: (q) => {
        const registration = registrationParam(q);
        return { resource: 'state', activityId: activityIdParam(q), agent: agentParam(q).key, ...(registration ? { registration } : {}) };
      },
      putNeedsPrecondition: false,
      deleteMany: true,
    }),
    ...resourceRoutes(c, docs, {
      path: '/xapi/activities/profile',
      resource: 'activityProfile',
      idParam: 'profileId',
      addressParams: ['activityId'],
      address: (q) => ({ resource: 'activityProfile', activityId: activityIdParam(q), agent: null, registration: null }),
      scope: (q) => ({ resource: 'activityProfile', activityId: activityIdParam(q), agent: null }),
      putNeedsPrecondition: true,
      deleteMany: false,
    }),
    ...resourceRoutes(c, docs, {
      path: '/xapi/agents/profile',
      resource: 'agentProfile',
      idParam: 'profileId',
      addressParams: ['agent'],
      address: (q) => ({ resource: 'agentProfile', activityId: null, agent: agentParam(q).key, registration: null }),
      scope: (q) => ({ resource: 'agentProfile', activityId: null, agent: agentParam(q).key }),
      putNeedsPrecondition: true,
      deleteMany: false,
    }),
    route({
      method: 'get',
      path: '/xapi/activities',
      kind: 'api',
      access: 'xapi',
      handler: lrsHandler(c, 'read', async (req, res) => {
        const q = queryOf(req, ['activityId']);
        res.json(await lookups.activity(activityIdParam(q)));
      }),
    }),
    ...notAllowed(c, '/xapi/activities'),
    route({
      method: 'get',
      path: '/xapi/agents',
      kind: 'api',
      access: 'xapi',
      handler: lrsHandler(c, 'read', async (req, res) => {
        const q = queryOf(req, ['agent']);
        const { key, agent } = agentParam(q);
        res.json(personOf(agent, await lookups.namesOf(key)));
      }),
    }),
    ...notAllowed(c, '/xapi/agents'),
  ];
}
