import type { Statement } from '@xapi/xapi';
import type { FieldProblem } from '../errors.js';

/**
 * xAPI 1.0.3 Statement validation (IEEE xAPI 1.0.3 Part Two: Experience API Data, §2.2 and §2.4),
 * strict where the ADL lrs-conformance-test-suite expects a 400. Pure: JSON in, verdict out.
 *
 * Every problem is collected, not only the first, so a client sees all that is wrong at once.
 * Paths use dots for the spec's own properties (`context.contextActivities.parent[0].id`) and
 * quoted brackets for free-form keys, because extension keys are IRIs full of dots
 * (`result.extensions["http://x.y/z"]`, `verb.display["en-US"]`).
 */

type Json = Record<string, unknown>;
type Errors = FieldProblem[];

export interface ValidateOptions {
  /** The request's X-Experience-API-Version header, when the caller wants it checked too. */
  version?: string;
  /**
   * Normalize the input itself instead of a copy: for a caller that owns it (a parsed request
   * body). Saves a deep copy per statement on the ingest path.
   */
  inPlace?: boolean;
}

export type StatementValidation = { ok: true; statement: Statement } | { ok: false; errors: FieldProblem[] };
export type StatementsValidation = { ok: true; statements: Statement[] } | { ok: false; errors: FieldProblem[] };

/** One Statement. The returned copy has contextActivities as arrays and the object's objectType set. */
export function validateStatement(input: unknown, opts: ValidateOptions = {}): StatementValidation {
  const errors: Errors = [];
  checkHeaderVersion(opts.version, errors);
  checkStatement(input, '', errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, statement: normalized(input, opts.inPlace) };
}

/** The body of POST /statements: one Statement or a non-empty array of them, paths prefixed `[i].`. */
export function validateStatements(input: unknown, opts: ValidateOptions = {}): StatementsValidation {
  if (!Array.isArray(input)) {
    const one = validateStatement(input, opts);
    return one.ok ? { ok: true, statements: [one.statement] } : one;
  }
  const errors: Errors = [];
  checkHeaderVersion(opts.version, errors);
  if (input.length === 0) fail(errors, '', 'The batch is empty: send a Statement or a non-empty array of Statements.');
  input.forEach((s, i) => checkStatement(s, `[${i}]`, errors));
  checkDistinctIds(input, errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, statements: input.map((s) => normalized(s, opts.inPlace)) };
}

// ---- formats ------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Standard string form; the suite sends upper case and any version, so neither is restricted. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/** Characters RFC 3987 never allows unescaped in an IRI (space and controls are checked apart). */
const IRI_FORBIDDEN = /[<>"{}|\\^`]/;

/**
 * Best effort (the spec allows it, Data 2.2.s4.b6): a scheme, something after it, no characters an
 * IRI cannot hold, well-formed percent escapes, and a non-empty authority after `//`.
 */
export function isAbsoluteIri(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const scheme = SCHEME.exec(value);
  if (!scheme) return false;
  const rest = value.slice(scheme[0].length);
  if (rest === '' || IRI_FORBIDDEN.test(rest) || hasSpaceOrControl(rest)) return false;
  if (/%(?![0-9a-f]{2})/i.test(rest)) return false;
  return !rest.startsWith('//') || /^\/\/[^/?#]/.test(rest);
}

function hasSpaceOrControl(s: string): boolean {
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (code <= 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/**
 * ISO 8601 extended date-time WITH a zone: `2013-05-18T05:32:34.804Z`, `…+02:00`, `…+0200`.
 * Only forms `new Date()` reads are accepted, because the LRS filters and orders by the instant:
 * the basic format, comma decimals and hour-only offsets are refused rather than misread.
 */
export function isIso8601DateTime(value: unknown): value is string {
  return typeof value === 'string' && dateTimeProblem(value) === null;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

function dateTimeProblem(s: string): string | null {
  const m = DATE_TIME.exec(s);
  if (!m) return 'is not an ISO 8601 date-time like "2024-05-18T09:30:00.000Z"';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return 'has a date that does not exist';
  if (hour > 23 || minute > 59 || second > 59) return 'has a time of day out of range';
  const offset = m[7];
  if (offset === undefined) return 'has no time zone: end it with Z or an offset such as +02:00';
  if (offset !== 'Z') {
    const [oh, om] = [Number(offset.slice(1, 3)), Number(offset.slice(-2))];
    if (oh > 23 || om > 59) return 'has a time zone offset out of range';
    // RFC 3339 §4.3: -00:00 means "offset unknown", which the spec and the suite refuse.
    if (offset.startsWith('-') && oh === 0 && om === 0) return 'uses the offset -00:00 ("unknown local offset"); use Z or +00:00';
  }
  return null;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** `P[nY][nM][nW][nD][T[nH][nM][nS]]`; only the smallest unit present may carry a decimal fraction. */
export function isIso8601Duration(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DURATION.exec(value);
  if (!m) return false;
  const parts = m.slice(1);
  const present = parts.filter((p) => p !== undefined);
  if (present.length === 0) return false;
  if (value.includes('T') && parts.slice(4).every((p) => p === undefined)) return false;
  return present.slice(0, -1).every((p) => !p.includes('.'));
}

const N = '(\\d+(?:\\.\\d+)?)';
const DURATION = new RegExp(`^P(?:${N}Y)?(?:${N}M)?(?:${N}W)?(?:${N}D)?(?:T(?:${N}H)?(?:${N}M)?(?:${N}S)?)?$`);

// RFC 5646 §2.1, case-insensitive. The suite checks the grammar, not the registry: `de-419-DE`
// (two regions) and `a-DE` must fail, `zh-cmn-Hans-CN` and `x-whatever` must pass.
const LANGUAGE = '(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})';
const VARIANT = '(?:[a-z0-9]{5,8}|\\d[a-z0-9]{3})';
const EXTENSION = '(?:[0-9a-wy-z](?:-[a-z0-9]{2,8})+)';
const PRIVATE_USE = '(?:x(?:-[a-z0-9]{1,8})+)';
const GRANDFATHERED = [
  'en-gb-oed', 'i-ami', 'i-bnn', 'i-default', 'i-enochian', 'i-hak', 'i-klingon', 'i-lux', 'i-mingo', 'i-navajo', 'i-pwn', 'i-tao', 'i-tay',
  'i-tsu', 'sgn-be-fr', 'sgn-be-nl', 'sgn-ch-de', 'art-lojban', 'cel-gaulish', 'no-bok', 'no-nyn', 'zh-guoyu', 'zh-hakka', 'zh-min', 'zh-min-nan', 'zh-xiang',
];
const LANGTAG = new RegExp(`^(?:${LANGUAGE}(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\\d{3}))?(?:-${VARIANT})*(?:-${EXTENSION})*(?:-${PRIVATE_USE})?|${PRIVATE_USE})$`, 'i');
const VARIANT_SUBTAG = new RegExp(`^${VARIANT}$`, 'i');

/** Well-formed and free of repeated variants or extension singletons (RFC 5646 §2.2.5–2.2.6). */
export function isLanguageTag(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const tag = value.toLowerCase();
  if (GRANDFATHERED.includes(tag)) return true;
  if (!LANGTAG.test(tag)) return false;
  const subtags = tag.split('-');
  const end = subtags.indexOf('x');
  const before = end === -1 ? subtags : subtags.slice(0, end);
  const firstSingleton = before.findIndex((s, i) => i > 0 && s.length === 1);
  const singletons = before.filter((s, i) => i > 0 && s.length === 1);
  const variants = (firstSingleton === -1 ? before : before.slice(0, firstSingleton)).filter((s, i) => i > 0 && VARIANT_SUBTAG.test(s));
  return !hasDuplicates(singletons) && !hasDuplicates(variants);
}

function hasDuplicates(list: string[]): boolean {
  return new Set(list).size !== list.length;
}

/** 1.0 or 1.0.x: the suite sends "1.0" and expects it accepted, as well as "1.0.9". */
function isSupportedVersion(value: unknown): value is string {
  return typeof value === 'string' && /^1\.0(?:\.\d+)?$/.test(value);
}

// ---- agents -------------------------------------------------------------------------------------

const IFIS = ['mbox', 'mbox_sha1sum', 'openid', 'account'] as const;

/**
 * The one inverse functional identifier of an Agent or identified Group as a string to compare
 * and index by, e.g. `mbox:mailto:a@b.c`, `account:https://x|name`. Null for anything that is not
 * identified by exactly one IFI (an anonymous Group, two IFIs, not an object).
 * Case differences the spec says do not matter (Data 2.3.1.b7: the mailto scheme and the e-mail
 * domain, the hex of a SHA-1) are folded, so the same person gives the same key.
 */
export function agentKey(agentOrGroup: unknown): string | null {
  if (!isJsonObject(agentOrGroup)) return null;
  const ifis = IFIS.filter((k) => get(agentOrGroup, k) !== undefined);
  if (ifis.length !== 1) return null;
  const v = get(agentOrGroup, ifis[0]!);
  switch (ifis[0]) {
    case 'mbox':
      return typeof v === 'string' && MBOX.test(v) ? `mbox:${foldMbox(v)}` : null;
    case 'mbox_sha1sum':
      return typeof v === 'string' ? `mbox_sha1sum:${v.toLowerCase()}` : null;
    case 'openid':
      return typeof v === 'string' ? `openid:${v}` : null;
    case 'account': {
      // `|` cannot appear unescaped in an IRI, so the homePage never runs into the name.
      const homePage = isJsonObject(v) ? get(v, 'homePage') : undefined;
      const name = isJsonObject(v) ? get(v, 'name') : undefined;
      return typeof homePage === 'string' && typeof name === 'string' ? `account:${homePage}|${name}` : null;
    }
    default:
      return null;
  }
}

const MBOX = /^mailto:[^@\s]+@[^@\s]+$/i;

function foldMbox(mbox: string): string {
  const at = mbox.lastIndexOf('@');
  return `mailto:${mbox.slice('mailto:'.length, at)}@${mbox.slice(at + 1).toLowerCase()}`;
}

// ---- canonical format ---------------------------------------------------------------------------

/** The properties that hold language maps wherever they occur (an Agent's name is a string, not an object). */
const LANGUAGE_MAP_PROPERTIES = new Set(['display', 'name', 'description']);

/**
 * For GET /statements?format=canonical: every language map keeps one entry, the first of
 * `languages` (the Accept-Language order) it has, else its first. A language range also matches
 * its sub-tags (`en` picks `en-US`, RFC 4647 basic filtering). Extensions are opaque and untouched.
 */
export function canonicalize(statement: Statement, languages: readonly string[]): Statement {
  return reduceLanguageMaps(statement, languages, null) as Statement;
}

function reduceLanguageMaps(value: unknown, languages: readonly string[], property: string | null): unknown {
  if (Array.isArray(value)) return value.map((v) => reduceLanguageMaps(v, languages, null));
  if (!isJsonObject(value)) return value;
  if (property !== null && LANGUAGE_MAP_PROPERTIES.has(property)) return pickLanguage(value, languages);
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'extensions' ? v : reduceLanguageMaps(v, languages, k)]));
}

function pickLanguage(map: Json, languages: readonly string[]): Json {
  const tags = Object.keys(map);
  for (const wanted of languages) {
    const w = wanted.toLowerCase();
    const hit = tags.find((t) => t.toLowerCase() === w) ?? tags.find((t) => t.toLowerCase().startsWith(`${w}-`));
    if (hit !== undefined) return Object.fromEntries([[hit, map[hit]]]);
  }
  const first = tags[0];
  return first === undefined ? {} : Object.fromEntries([[first, map[first]]]);
}

// ---- statement ----------------------------------------------------------------------------------

const STATEMENT_KEYS = ['id', 'actor', 'verb', 'object', 'result', 'context', 'timestamp', 'stored', 'authority', 'version', 'attachments'];
const SUBSTATEMENT_KEYS = ['objectType', 'actor', 'verb', 'object', 'result', 'context', 'timestamp', 'attachments'];
const VOIDED = 'http://adlnet.gov/expapi/verbs/voided';

type ObjectKind = 'Activity' | 'Agent' | 'Group' | 'StatementRef' | 'SubStatement';

function checkHeaderVersion(version: string | undefined, errors: Errors): void {
  if (version !== undefined && !isSupportedVersion(version)) {
    fail(errors, 'X-Experience-API-Version', `The request version ${JSON.stringify(version)} is not supported: this LRS speaks xAPI 1.0.x.`);
  }
}

function checkStatement(s: unknown, path: string, errors: Errors): void {
  if (!checkShape(s, path, errors, 'a Statement', STATEMENT_KEYS)) return;
  checkOptional(s, 'id', path, errors, checkUuid);
  checkStatementBody(s, path, errors, false);
  checkOptional(s, 'stored', path, errors, checkDateTime);
  checkOptional(s, 'authority', path, errors, checkAuthority);
  checkOptional(s, 'version', path, errors, (v, p) => {
    if (!isSupportedVersion(v)) fail(errors, p, `must be "1.0" or "1.0.x" (this LRS speaks xAPI 1.0.3), not ${describe(v)}.`);
  });
}

/** What a Statement and a SubStatement share: actor, verb, object, result, context, timestamp, attachments. */
function checkStatementBody(s: Json, path: string, errors: Errors, inSubStatement: boolean): void {
  for (const key of ['actor', 'verb', 'object']) requireKey(s, key, path, errors, inSubStatement ? 'a SubStatement' : 'a Statement');
  checkOptional(s, 'actor', path, errors, (v, p) => checkAgentOrGroup(v, p, errors, { agents: true, groups: true }));
  checkOptional(s, 'verb', path, errors, (v, p) => checkVerb(v, p, errors));
  const object = get(s, 'object');
  const kind = object === undefined ? null : checkStatementObject(object, at(path, 'object'), errors, inSubStatement);
  const verb = get(s, 'verb');
  const verbId = isJsonObject(verb) ? get(verb, 'id') : undefined;
  if (verbId === VOIDED && object !== undefined && kind !== 'StatementRef') {
    fail(errors, at(path, 'object'), `The verb ${VOIDED} voids a statement, so the object must be a StatementRef to it${kind === null ? '' : `, not ${withArticle(kind)}`}.`);
  }
  checkOptional(s, 'result', path, errors, (v, p) => checkResult(v, p, errors));
  checkOptional(s, 'context', path, errors, (v, p) => checkContext(v, p, errors, kind));
  checkOptional(s, 'timestamp', path, errors, checkDateTime);
  checkOptional(s, 'attachments', path, errors, (v, p) => checkAttachments(v, p, errors));
}

/** Statement ids must be unique within one POST (Communication 2.1.2: reject the batch). */
function checkDistinctIds(batch: unknown[], errors: Errors): void {
  const seen = new Map<string, number>();
  batch.forEach((s, i) => {
    const id = isJsonObject(s) ? get(s, 'id') : undefined;
    if (!isUuid(id)) return;
    const first = seen.get(id.toLowerCase());
    if (first === undefined) seen.set(id.toLowerCase(), i);
    else fail(errors, `[${i}].id`, `repeats the id of statement [${first}]; the ids in one batch must differ.`);
  });
}

// ---- actor, authority, instructor, team ---------------------------------------------------------

interface ActorRules {
  agents: boolean;
  groups: boolean;
}

function checkAgentOrGroup(v: unknown, path: string, errors: Errors, rules: ActorRules): void {
  if (!isJsonObject(v)) return fail(errors, path, `must be an Agent or Group object, not ${describe(v)}.`);
  const type = get(v, 'objectType');
  if (type !== undefined && type !== 'Agent' && type !== 'Group') {
    return fail(errors, at(path, 'objectType'), `must be "Agent" or "Group" (exactly, case included), not ${describe(type)}.`);
  }
  if (type === 'Group') {
    if (!rules.groups) return fail(errors, at(path, 'objectType'), 'must be "Agent": a Group\'s members are Agents, not Groups.');
    checkGroup(v, path, errors);
  } else {
    if (!rules.agents) return fail(errors, at(path, 'objectType'), 'must be "Group": a team is a Group, so objectType "Group" is required.');
    checkAgent(v, path, errors);
  }
}

const AGENT_KEYS = ['objectType', 'name', ...IFIS];
const GROUP_KEYS = [...AGENT_KEYS, 'member'];

function checkAgent(v: Json, path: string, errors: Errors): void {
  checkShape(v, path, errors, 'an Agent', AGENT_KEYS, { member: '"member" belongs to a Group; an Agent has none (set objectType "Group" for a group).' });
  checkOptional(v, 'name', path, errors, checkString);
  const ifis = checkIfis(v, path, errors);
  if (ifis.length !== 1) {
    fail(errors, path, `An Agent needs exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account); this one has ${ifis.length === 0 ? 'none' : `${ifis.length}: ${ifis.join(', ')}`}.`);
  }
}

function checkGroup(v: Json, path: string, errors: Errors): void {
  checkShape(v, path, errors, 'a Group', GROUP_KEYS);
  checkOptional(v, 'name', path, errors, checkString);
  const ifis = checkIfis(v, path, errors);
  if (ifis.length > 1) fail(errors, path, `An identified Group has exactly one inverse functional identifier; this one has ${ifis.length}: ${ifis.join(', ')}.`);
  if (ifis.length === 0 && !Object.hasOwn(v, 'member')) {
    fail(errors, at(path, 'member'), 'is required: a Group without an identifier (anonymous) is known only by its members.');
  }
  checkOptional(v, 'member', path, errors, (m, p) => {
    if (!Array.isArray(m)) return fail(errors, p, `must be an array of Agents, not ${describe(m)}.`);
    if (m.length === 0 && ifis.length === 0) fail(errors, p, 'is empty: an anonymous Group needs at least one member.');
    m.forEach((agent, i) => checkAgentOrGroup(agent, `${p}[${i}]`, errors, { agents: true, groups: false }));
  });
}

/** Validates each IFI present and returns their names, so callers can count them. */
function checkIfis(v: Json, path: string, errors: Errors): string[] {
  const present = IFIS.filter((k) => Object.hasOwn(v, k));
  checkOptional(v, 'mbox', path, errors, (m, p) => {
    if (typeof m !== 'string' || !MBOX.test(m)) fail(errors, p, `must be a mailto: IRI such as "mailto:rep@example.com", not ${describe(m)}.`);
  });
  checkOptional(v, 'mbox_sha1sum', path, errors, (m, p) => {
    if (typeof m !== 'string' || !/^[0-9a-f]{40}$/i.test(m)) fail(errors, p, `must be the SHA-1 of the mailto: IRI as 40 hex digits, not ${describe(m)}.`);
  });
  checkOptional(v, 'openid', path, errors, checkIri);
  checkOptional(v, 'account', path, errors, (a, p) => {
    if (!checkShape(a, p, errors, 'an account', ['homePage', 'name'])) return;
    for (const key of ['homePage', 'name']) requireKey(a, key, p, errors, 'an account');
    checkOptional(a, 'homePage', p, errors, checkIri);
    checkOptional(a, 'name', p, errors, checkString);
  });
  return present;
}

/** An Agent, or the anonymous two-Agent Group of three-legged OAuth (Data 2.4.9.s3). */
function checkAuthority(v: unknown, path: string, errors: Errors): void {
  checkAgentOrGroup(v, path, errors, { agents: true, groups: true });
  if (!isJsonObject(v) || get(v, 'objectType') !== 'Group') return;
  const ifis = IFIS.filter((k) => Object.hasOwn(v, k));
  if (ifis.length > 0) fail(errors, at(path, ifis[0]!), 'An authority Group must be anonymous (the OAuth consumer and user as its two members), without an identifier.');
  const member = get(v, 'member');
  if (Array.isArray(member) && member.length !== 2) {
    fail(errors, at(path, 'member'), `An authority Group (OAuth) has exactly two Agents as members, not ${member.length}.`);
  }
}

// ---- verb ---------------------------------------------------------------------------------------

function checkVerb(v: unknown, path: string, errors: Errors): void {
  if (!checkShape(v, path, errors, 'a Verb', ['id', 'display'])) return;
  requireKey(v, 'id', path, errors, 'a Verb');
  checkOptional(v, 'id', path, errors, checkIri);
  checkOptional(v, 'display', path, errors, checkLanguageMap);
}

// ---- object -------------------------------------------------------------------------------------

/** Validates the object by its objectType and says which kind it is (null when it cannot tell). */
function checkStatementObject(v: unknown, path: string, errors: Errors, inSubStatement: boolean): ObjectKind | null {
  if (!isJsonObject(v)) {
    fail(errors, path, `must be an Activity, Agent, Group, StatementRef or SubStatement object, not ${describe(v)}.`);
    return null;
  }
  const type = get(v, 'objectType');
  if (type === undefined) {
    // Without objectType the object is an Activity; an IFI here means the author meant an Agent.
    if ([...IFIS, 'member'].some((k) => Object.hasOwn(v, k))) {
      fail(errors, at(path, 'objectType'), 'is required when the object is an Agent or Group (without it the object is read as an Activity).');
      return null;
    }
    checkActivity(v, path, errors);
    return 'Activity';
  }
  switch (type) {
    case 'Activity':
      checkActivity(v, path, errors);
      return 'Activity';
    case 'Agent':
    case 'Group':
      checkAgentOrGroup(v, path, errors, { agents: true, groups: true });
      return type === 'Agent' ? 'Agent' : 'Group';
    case 'StatementRef':
      checkStatementRef(v, path, errors);
      return 'StatementRef';
    case 'SubStatement':
      if (!inSubStatement) {
        checkSubStatement(v, path, errors);
        return 'SubStatement';
      }
      // Not a kind the enclosing context can be judged against: one error, no follow-on ones.
      fail(errors, at(path, 'objectType'), 'is "SubStatement" inside a SubStatement: a SubStatement must not contain another SubStatement.');
      return null;
    default:
      fail(errors, at(path, 'objectType'), `must be one of "Activity", "Agent", "Group", "StatementRef", "SubStatement" (exactly, case included), not ${describe(type)}.`);
      return null;
  }
}

function checkStatementRef(v: unknown, path: string, errors: Errors): void {
  if (!checkShape(v, path, errors, 'a StatementRef', ['objectType', 'id'])) return;
  const type = get(v, 'objectType');
  if (!Object.hasOwn(v, 'objectType')) fail(errors, at(path, 'objectType'), 'is required and must be "StatementRef".');
  else if (type !== undefined && type !== 'StatementRef') fail(errors, at(path, 'objectType'), `must be "StatementRef", not ${describe(type)}.`);
  requireKey(v, 'id', path, errors, 'a StatementRef');
  checkOptional(v, 'id', path, errors, checkUuid);
}

const SUBSTATEMENT_FORBIDDEN: Record<string, string> = Object.fromEntries(
  ['id', 'stored', 'version', 'authority'].map((k) => [k, `A SubStatement must not have "${k}" (Data 2.4.4.3): only the enclosing Statement does.`]),
);

function checkSubStatement(v: Json, path: string, errors: Errors): void {
  checkShape(v, path, errors, 'a SubStatement', SUBSTATEMENT_KEYS, SUBSTATEMENT_FORBIDDEN);
  checkStatementBody(v, path, errors, true);
}

const DEFINITION_KEYS = ['name', 'description', 'type', 'moreInfo', 'extensions', 'interactionType', 'correctResponsesPattern', 'choices', 'scale', 'source', 'target', 'steps'];
const INTERACTION_TYPES = ['true-false', 'choice', 'fill-in', 'long-fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric', 'other'];
/** Which interaction component lists each interactionType may carry (Data 2.4.4.1, Interaction Components). */
const COMPONENT_LISTS: Record<string, readonly string[]> = {
  choices: ['choice', 'sequencing'],
  scale: ['likert'],
  source: ['matching'],
  target: ['matching'],
  steps: ['performance'],
};

function checkActivity(v: unknown, path: string, errors: Errors): void {
  if (!checkShape(v, path, errors, 'an Activity', ['objectType', 'id', 'definition'])) return;
  const type = get(v, 'objectType');
  if (type !== undefined && type !== 'Activity') fail(errors, at(path, 'objectType'), `must be "Activity" (or absent) here, not ${describe(type)}.`);
  requireKey(v, 'id', path, errors, 'an Activity');
  checkOptional(v, 'id', path, errors, checkIri);
  checkOptional(v, 'definition', path, errors, (d, p) => checkDefinition(d, p, errors));
}

function checkDefinition(d: unknown, path: string, errors: Errors): void {
  if (!checkShape(d, path, errors, 'an Activity definition', DEFINITION_KEYS)) return;
  checkOptional(d, 'name', path, errors, checkLanguageMap);
  checkOptional(d, 'description', path, errors, checkLanguageMap);
  checkOptional(d, 'type', path, errors, checkIri);
  checkOptional(d, 'moreInfo', path, errors, checkIri);
  checkOptional(d, 'extensions', path, errors, checkExtensions);
  const interactionType = get(d, 'interactionType');
  checkOptional(d, 'interactionType', path, errors, (t, p) => {
    if (typeof t !== 'string' || !INTERACTION_TYPES.includes(t)) fail(errors, p, `must be one of ${INTERACTION_TYPES.join(', ')} (exactly, case included), not ${describe(t)}.`);
  });
  const known = typeof interactionType === 'string' && INTERACTION_TYPES.includes(interactionType) ? interactionType : null;
  checkOptional(d, 'correctResponsesPattern', path, errors, (c, p) => {
    if (!Array.isArray(c)) return fail(errors, p, `must be an array of strings, not ${describe(c)}.`);
    c.forEach((r, i) => checkString(r, `${p}[${i}]`, errors));
    if (!Object.hasOwn(d, 'interactionType')) fail(errors, p, 'needs an interactionType: correct responses only make sense for an interaction.');
  });
  for (const [list, types] of Object.entries(COMPONENT_LISTS)) {
    checkOptional(d, list, path, errors, (c, p) => {
      if (known !== null && !types.includes(known)) fail(errors, p, `is not allowed with interactionType "${known}": ${list} belongs to ${types.map((t) => `"${t}"`).join(' or ')}.`);
      if (!Object.hasOwn(d, 'interactionType')) fail(errors, p, `needs interactionType ${types.map((t) => `"${t}"`).join(' or ')}.`);
      checkComponents(c, p, errors);
    });
  }
}

function checkComponents(list: unknown, path: string, errors: Errors): void {
  if (!Array.isArray(list)) return fail(errors, path, `must be an array of interaction components, not ${describe(list)}.`);
  const ids: string[] = [];
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!checkShape(c, p, errors, 'an interaction component', ['id', 'description'])) return;
    requireKey(c, 'id', p, errors, 'an interaction component');
    checkOptional(c, 'id', p, errors, (id, ip) => {
      if (!checkString(id, ip, errors)) return;
      if (ids.includes(id)) fail(errors, ip, `repeats the id ${JSON.stringify(id)}: ids within one component list must differ.`);
      ids.push(id);
    });
    checkOptional(c, 'description', p, errors, checkLanguageMap);
  });
}

// ---- result -------------------------------------------------------------------------------------

function checkResult(r: unknown, path: string, errors: Errors): void {
  if (!checkShape(r, path, errors, 'a Result', ['score', 'success', 'completion', 'response', 'duration', 'extensions'])) return;
  checkOptional(r, 'score', path, errors, (s, p) => checkScore(s, p, errors));
  checkOptional(r, 'success', path, errors, checkBoolean);
  checkOptional(r, 'completion', path, errors, checkBoolean);
  checkOptional(r, 'response', path, errors, checkString);
  checkOptional(r, 'duration', path, errors, (d, p) => {
    if (!isIso8601Duration(d)) fail(errors, p, `must be an ISO 8601 duration such as "PT1H30M" or "PT4.5S", not ${describe(d)}.`);
  });
  checkOptional(r, 'extensions', path, errors, checkExtensions);
}

function checkScore(s: unknown, path: string, errors: Errors): void {
  if (!checkShape(s, path, errors, 'a Score', ['scaled', 'raw', 'min', 'max'])) return;
  const num = (key: string): number | undefined => {
    const v = get(s, key);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    fail(errors, at(path, key), `must be a number, not ${describe(v)}.`);
    return undefined;
  };
  const [scaled, raw, min, max] = [num('scaled'), num('raw'), num('min'), num('max')];
  if (scaled !== undefined && (scaled < -1 || scaled > 1)) fail(errors, at(path, 'scaled'), `must be between -1 and 1, not ${scaled}.`);
  if (min !== undefined && max !== undefined && min >= max) fail(errors, at(path, 'min'), `must be less than max (${max}), not ${min}.`);
  if (raw !== undefined && min !== undefined && raw < min) fail(errors, at(path, 'raw'), `${raw} is below min (${min}): raw must lie between min and max.`);
  if (raw !== undefined && max !== undefined && raw > max) fail(errors, at(path, 'raw'), `${raw} is above max (${max}): raw must lie between min and max.`);
}

// ---- context ------------------------------------------------------------------------------------

const CONTEXT_KEYS = ['registration', 'instructor', 'team', 'contextActivities', 'revision', 'platform', 'language', 'statement', 'extensions'];
const CONTEXT_ACTIVITY_KEYS = ['parent', 'grouping', 'category', 'other'];

function checkContext(c: unknown, path: string, errors: Errors, objectKind: ObjectKind | null): void {
  if (!checkShape(c, path, errors, 'a Context', CONTEXT_KEYS)) return;
  checkOptional(c, 'registration', path, errors, checkUuid);
  checkOptional(c, 'instructor', path, errors, (v, p) => checkAgentOrGroup(v, p, errors, { agents: true, groups: true }));
  checkOptional(c, 'team', path, errors, (v, p) => checkAgentOrGroup(v, p, errors, { agents: false, groups: true }));
  checkOptional(c, 'contextActivities', path, errors, (v, p) => checkContextActivities(v, p, errors));
  // Revision and platform describe an Activity; on any other object they say nothing (Data 2.4.6).
  for (const key of ['revision', 'platform']) {
    checkOptional(c, key, path, errors, (v, p) => {
      checkString(v, p, errors);
      if (objectKind !== null && objectKind !== 'Activity') fail(errors, p, `is only allowed when the object is an Activity; here it is ${withArticle(objectKind)}.`);
    });
  }
  checkOptional(c, 'language', path, errors, (v, p) => {
    if (!isLanguageTag(v)) fail(errors, p, `must be an RFC 5646 language tag such as "en-US", not ${describe(v)}.`);
  });
  checkOptional(c, 'statement', path, errors, (v, p) => checkStatementRef(v, p, errors));
  checkOptional(c, 'extensions', path, errors, checkExtensions);
}

function checkContextActivities(v: unknown, path: string, errors: Errors): void {
  if (!checkShape(v, path, errors, 'contextActivities', CONTEXT_ACTIVITY_KEYS)) return;
  for (const key of CONTEXT_ACTIVITY_KEYS) {
    checkOptional(v, key, path, errors, (list, p) => {
      if (Array.isArray(list)) list.forEach((a, i) => checkActivity(a, `${p}[${i}]`, errors));
      else if (isJsonObject(list)) checkActivity(list, p, errors);
      else fail(errors, p, `must be an Activity or an array of Activities, not ${describe(list)}.`);
    });
  }
}

// ---- attachments --------------------------------------------------------------------------------

const ATTACHMENT_KEYS = ['usageType', 'display', 'description', 'contentType', 'length', 'sha2', 'fileUrl'];
const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(?:\s*;.*)?$/i;

function checkAttachments(v: unknown, path: string, errors: Errors): void {
  if (!Array.isArray(v)) return fail(errors, path, `must be an array of Attachment objects, not ${describe(v)}.`);
  v.forEach((a, i) => {
    const p = `${path}[${i}]`;
    if (!checkShape(a, p, errors, 'an Attachment', ATTACHMENT_KEYS)) return;
    for (const key of ['usageType', 'display', 'contentType', 'length', 'sha2']) requireKey(a, key, p, errors, 'an Attachment');
    checkOptional(a, 'usageType', p, errors, checkIri);
    checkOptional(a, 'display', p, errors, checkLanguageMap);
    checkOptional(a, 'description', p, errors, checkLanguageMap);
    checkOptional(a, 'contentType', p, errors, (t, tp) => {
      if (typeof t !== 'string' || !MEDIA_TYPE.test(t)) fail(errors, tp, `must be an Internet media type such as "application/pdf", not ${describe(t)}.`);
    });
    checkOptional(a, 'length', p, errors, (n, np) => {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) fail(errors, np, `must be the size in octets as a whole number, not ${describe(n)}.`);
    });
    checkOptional(a, 'sha2', p, errors, (h, hp) => {
      if (typeof h !== 'string' || !/^(?:[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$/i.test(h)) {
        fail(errors, hp, `must be a SHA-2 hash in hex (SHA-224/256/384/512), not ${describe(h)}.`);
      }
    });
    checkOptional(a, 'fileUrl', p, errors, checkIri);
  });
}

// ---- shared value checks ------------------------------------------------------------------------

function checkLanguageMap(v: unknown, path: string, errors: Errors): void {
  if (!isJsonObject(v)) return fail(errors, path, `must be a language map (an object from RFC 5646 language tag to string), not ${describe(v)}.`);
  const tags = Object.keys(v);
  if (tags.length === 0) fail(errors, path, 'is an empty language map: it needs at least one language tag and string.');
  for (const tag of tags) {
    const p = `${path}[${JSON.stringify(tag)}]`;
    if (!isLanguageTag(tag)) fail(errors, p, `${JSON.stringify(tag)} is not a valid RFC 5646 language tag (e.g. "en", "en-US", "zh-Hant").`);
    if (typeof v[tag] !== 'string') fail(errors, p, `must be a string, not ${describe(v[tag])}.`);
  }
}

/**
 * Arrays and objects inside one free JSON value (an extension value, a merged document), however
 * deep the value itself sits: far beyond any real use, far below what overflows the stack.
 */
export const MAX_NESTING = 64;

/**
 * Extension values are free JSON, null included (Data 2.2.s4.b1.b1): only the keys are checked, and
 * the depth, because a value nested thousands deep overflows the stack of whatever serializes it
 * next (JSON.stringify when storing it, or every later read of it).
 */
function checkExtensions(v: unknown, path: string, errors: Errors): void {
  if (!isJsonObject(v)) return fail(errors, path, `must be an object whose keys are IRIs, not ${describe(v)}.`);
  for (const key of Object.keys(v)) {
    const p = `${path}[${JSON.stringify(key)}]`;
    if (!isAbsoluteIri(key)) fail(errors, p, `The extension key ${JSON.stringify(key)} is not an absolute IRI (e.g. "https://example.com/xapi/ext/x").`);
    if (nestedDeeperThan(v[key], MAX_NESTING)) fail(errors, p, `is nested more than ${MAX_NESTING} levels deep.`);
  }
}

/** Whether arrays and objects nest more than `max` deep; without recursion, so that the check itself cannot overflow the stack. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

function checkIri(v: unknown, path: string, errors: Errors): void {
  if (!isAbsoluteIri(v)) fail(errors, path, `must be an absolute IRI with a scheme, such as "https://example.com/x", not ${describe(v)}.`);
}

function checkUuid(v: unknown, path: string, errors: Errors): void {
  if (!isUuid(v)) fail(errors, path, `must be a UUID in standard form (8-4-4-4-12 hex digits), not ${describe(v)}.`);
}

function checkDateTime(v: unknown, path: string, errors: Errors): void {
  if (typeof v !== 'string') return fail(errors, path, `must be an ISO 8601 date-time string, not ${describe(v)}.`);
  const problem = dateTimeProblem(v);
  if (problem !== null) fail(errors, path, `${JSON.stringify(v)} ${problem}.`);
}

function checkString(v: unknown, path: string, errors: Errors): v is string {
  if (typeof v === 'string') return true;
  fail(errors, path, `must be a string, not ${describe(v)}.`);
  return false;
}

function checkBoolean(v: unknown, path: string, errors: Errors): void {
  if (typeof v !== 'boolean') fail(errors, path, `must be true or false (a JSON boolean), not ${describe(v)}.`);
}

// ---- plumbing -----------------------------------------------------------------------------------

function isJsonObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own properties only: a key like "constructor" must not reach Object.prototype. Null reads as absent (reported once, by checkShape). */
function get(o: Json, key: string): unknown {
  return Object.hasOwn(o, key) && o[key] !== null ? o[key] : undefined;
}

function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function fail(errors: Errors, path: string, message: string): void {
  errors.push({ path, message });
}

/**
 * An object with only `allowed` keys and no null values. Unknown keys are refused (Data 2.2.s4.b1.b7),
 * which also catches wrong case (`Actor`, `iD`). Returns whether the deeper checks can go on.
 */
function checkShape(v: unknown, path: string, errors: Errors, what: string, allowed: readonly string[], hints: Readonly<Record<string, string>> = {}): v is Json {
  if (!isJsonObject(v)) {
    fail(errors, path, `${capitalize(what)} must be a JSON object, not ${describe(v)}.`);
    return false;
  }
  for (const key of Object.keys(v)) {
    const p = at(path, key);
    if (Object.hasOwn(hints, key)) fail(errors, p, hints[key]!);
    else if (!allowed.includes(key)) fail(errors, p, `"${key}" is not a property of ${what}: xAPI 1.0.3 allows ${allowed.join(', ')} (anything else goes in extensions).`);
    else if (v[key] === null) fail(errors, p, 'is null: xAPI allows null only inside extensions; leave the property out instead.');
  }
  return true;
}

function requireKey(o: Json, key: string, path: string, errors: Errors, what: string): void {
  if (!Object.hasOwn(o, key)) fail(errors, at(path, key), `is required in ${what}.`);
}

/** Runs `check` on a property that is present and not null (null is already reported). */
function checkOptional(o: Json, key: string, path: string, errors: Errors, check: (v: unknown, path: string, errors: Errors) => void): void {
  const v = get(o, key);
  if (v !== undefined) check(v, at(path, key), errors);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v === '' ? 'an empty string' : `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v === 'number' ? 'the number' : 'the boolean'} ${String(v)}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

function withArticle(kind: ObjectKind): string {
  return `${kind === 'Activity' || kind === 'Agent' ? 'an' : 'a'} ${kind}`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---- the returned copy --------------------------------------------------------------------------

/**
 * A copy for storage: a single context Activity becomes a one-element array (Data 2.4.6.2: the LRS
 * returns arrays) and an object without objectType gets "Activity" (Data 2.4.4.s2: the LRS
 * generates it). Nothing else changes. Only called on input that passed validation.
 */
function normalized(input: unknown, inPlace = false): Statement {
  const copy = (inPlace ? input : structuredClone(input)) as Json;
  normalizeBody(copy);
  // Validated above: from here on the shape is the one @xapi/xapi describes.
  return copy as unknown as Statement;
}

function normalizeBody(s: Json): void {
  const object = s.object as Json;
  if (!Object.hasOwn(object, 'objectType')) object.objectType = 'Activity';
  if (object.objectType === 'SubStatement') normalizeBody(object);
  const activities = isJsonObject(s.context) ? get(s.context, 'contextActivities') : undefined;
  if (!isJsonObject(activities)) return;
  for (const key of CONTEXT_ACTIVITY_KEYS) {
    const v = get(activities, key);
    if (v !== undefined && !Array.isArray(v)) activities[key] = [v];
  }
}
