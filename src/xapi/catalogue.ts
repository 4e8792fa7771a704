import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type {
  Activity,
  ActivityDefinition,
  Agent,
  Context,
  Extensions,
  InteractionActivity,
  InteractionActivityDefinition,
  InteractionComponent,
  Result,
  ResultScore,
  Statement,
  Verb,
} from '@xapi/xapi';
import type { AssessmentPurpose, AttendanceStatus, Modality } from '../engine/curriculum.js';

/**
 * The xAPI statement catalogue: one builder per learning event Onramp records, so that every
 * statement of one kind has the same shape wherever it is emitted. Pure: the statement id comes
 * from `env.newId` and the moment from `input.at`, so the same inputs always give the same
 * statement. Builders validate nothing (the LRS validates what it stores); they are written so that
 * what they build is valid xAPI 1.0.3: absolute IRIs, `en-US` language maps, UUID ids (given a UUID
 * generator), scores within their ranges, one identifier per agent. docs/xapi.md is the reference.
 *
 * Conventions:
 * - Activity IRIs hang off `config.baseIri` (see the *Iri functions); so do Onramp's extension IRIs.
 * - The actor is the person who did the thing: the rep, except where a trainer or manager acts
 *   (approved, returned, voided). The rep's enrollment is always `context.registration`.
 * - `context.contextActivities.parent` is the activity directly above the object (the curriculum
 *   for a module, the module for a question, session, form or results log); `grouping` is the
 *   curriculum when it is not already the parent.
 */

// ---- configuration and people ---------------------------------------------------------------------

export interface CatalogueConfig {
  /** the root of Onramp's activity IRIs, e.g. https://onramp.example.com/xapi/activities (a trailing slash is ignored) */
  baseIri: string;
  /** context.platform, e.g. "Onramp" */
  platform: string;
  /** account.homePage of every agent (the site's public URL); defaults to the origin of baseIri */
  homePage?: string;
}

/** What every builder needs besides the event: the installation's settings and a UUID generator. */
export interface CatalogueEnv {
  config: CatalogueConfig;
  /** a new UUID for each statement (crypto.randomUUID in production, a sequence in tests) */
  newId: () => string;
}

/** A user as the catalogue sees one. The email is accepted but not used: see agentOf. */
export interface Person {
  id: string;
  name: string;
  email?: string;
}

export interface CurriculumRef {
  id: string;
  title: string;
  /** the published version the enrollment is on: context.revision */
  version?: string;
}

export interface ModuleRef {
  id: string;
  title: string;
  modality: Modality;
  /** the cmi5 AU the module launches (its publisher id) */
  cmi5Au?: string;
}

export interface SessionRef {
  id: string;
  title: string;
  modality: 'vilt' | 'ilt';
  /** ISO instants, written into the activity definition when given */
  startsAt?: string;
  endsAt?: string;
}

export interface FormRef {
  id: string;
  title: string;
}

/** Question ids are unique within their bank only, so a question is named by bank and id. */
export interface QuestionRef {
  bank: string;
  id: string;
  /** the question's text, as the activity's name */
  prompt?: string;
}

// ---- vocabulary -----------------------------------------------------------------------------------

/** Every verb the catalogue uses: ADL where ADL has one, then cmi5 (ADL w3id), TinCan and Activity Streams registry IRIs. */
export const VERBS = {
  registered: { id: 'http://adlnet.gov/expapi/verbs/registered', display: 'registered' },
  unregistered: { id: 'http://id.tincanapi.com/verb/unregistered', display: 'unregistered' },
  launched: { id: 'http://adlnet.gov/expapi/verbs/launched', display: 'launched' },
  initialized: { id: 'http://adlnet.gov/expapi/verbs/initialized', display: 'initialized' },
  completed: { id: 'http://adlnet.gov/expapi/verbs/completed', display: 'completed' },
  attempted: { id: 'http://adlnet.gov/expapi/verbs/attempted', display: 'attempted' },
  answered: { id: 'http://adlnet.gov/expapi/verbs/answered', display: 'answered' },
  scored: { id: 'http://adlnet.gov/expapi/verbs/scored', display: 'scored' },
  passed: { id: 'http://adlnet.gov/expapi/verbs/passed', display: 'passed' },
  failed: { id: 'http://adlnet.gov/expapi/verbs/failed', display: 'failed' },
  waived: { id: 'https://w3id.org/xapi/adl/verbs/waived', display: 'waived' },
  attended: { id: 'http://adlnet.gov/expapi/verbs/attended', display: 'attended' },
  skipped: { id: 'http://id.tincanapi.com/verb/skipped', display: 'skipped' },
  submitted: { id: 'http://activitystrea.ms/schema/1.0/submit', display: 'submitted' },
  approved: { id: 'http://activitystrea.ms/schema/1.0/approve', display: 'approved' },
  returned: { id: 'http://activitystrea.ms/schema/1.0/return', display: 'returned' },
  voided: { id: 'http://adlnet.gov/expapi/verbs/voided', display: 'voided' },
  abandoned: { id: 'https://w3id.org/xapi/adl/verbs/abandoned', display: 'abandoned' },
  satisfied: { id: 'https://w3id.org/xapi/adl/verbs/satisfied', display: 'satisfied' },
} as const satisfies Record<string, { id: string; display: string }>;
export type VerbKey = keyof typeof VERBS;

export const ACTIVITY_TYPES = {
  course: 'http://adlnet.gov/expapi/activities/course',
  module: 'http://adlnet.gov/expapi/activities/module',
  assessment: 'http://adlnet.gov/expapi/activities/assessment',
  meeting: 'http://adlnet.gov/expapi/activities/meeting',
  interaction: 'http://adlnet.gov/expapi/activities/cmi.interaction',
  performance: 'http://adlnet.gov/expapi/activities/performance',
  document: 'http://id.tincanapi.com/activitytype/document',
} as const;

/** Onramp's own extensions: each is `${baseIri}/extensions/<name>` (see extensionIri). */
export const EXTENSIONS = [
  'cohort',
  'start-date',
  'attempt',
  'attempt-number',
  'assessment-purpose',
  'tested-out',
  'seat',
  'reason',
  'starts-at',
  'ends-at',
  'attendance',
  'rubric',
  'feedback',
  'submission',
  'learner',
  'adjusted',
  'calls',
  'contacts',
  'presentations',
  'appointments',
  'met-with-manager',
  'reinforcement-delivery',
  'channel',
] as const;
export type ExtensionName = (typeof EXTENSIONS)[number];

/** cmi5's extensions, used with their cmi5 meaning (Onramp's statements are not cmi5 statements). */
export const CMI5_EXTENSIONS = {
  /** result extension of a waived statement: "Tested Out", "Equivalent AU", … */
  reason: 'https://w3id.org/xapi/cmi5/result/extensions/reason',
  sessionId: 'https://w3id.org/xapi/cmi5/context/extensions/sessionid',
  launchMode: 'https://w3id.org/xapi/cmi5/context/extensions/launchmode',
  launchUrl: 'https://w3id.org/xapi/cmi5/context/extensions/launchurl',
  moveOn: 'https://w3id.org/xapi/cmi5/context/extensions/moveon',
  launchParameters: 'https://w3id.org/xapi/cmi5/context/extensions/launchparameters',
  /** context extension: the scaled score needed to pass (0 to 1) */
  masteryScore: 'https://w3id.org/xapi/cmi5/context/extensions/masteryscore',
} as const;

/**
 * A fixed namespace for registrationOf. Never change it: every registration already stored in an
 * LRS was computed with it.
 */
export const REGISTRATION_NAMESPACE = 'b34faff8-93aa-4a3a-be93-c61752b02409';

// ---- identifiers ----------------------------------------------------------------------------------

/**
 * The xAPI registration of an enrollment: a name-based UUID (RFC 4122 version 5, SHA-1) of the
 * enrollment's 24-hex id, lowercased, in REGISTRATION_NAMESPACE. Stable (the same enrollment always
 * gives the same registration, on any installation), a valid UUID to every validator, and anyone
 * holding the enrollment id can compute it (Python: uuid.uuid5(UUID(namespace), enrollment_id)).
 */
export function registrationOf(enrollmentId: string): string {
  if (!/^[0-9a-f]{24}$/i.test(enrollmentId)) throw new RangeError(`Not an enrollment id (24 hexadecimal digits): ${enrollmentId}`);
  return uuidV5(REGISTRATION_NAMESPACE, enrollmentId.toLowerCase());
}

function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function base(config: CatalogueConfig): string {
  return config.baseIri.replace(/\/+$/, '');
}

/** Ids are slugs and hex today; encoding keeps an IRI valid whatever an id becomes. */
function seg(id: string): string {
  return encodeURIComponent(id);
}

export function curriculumIri(config: CatalogueConfig, curriculumId: string): string {
  return `${base(config)}/curricula/${seg(curriculumId)}`;
}

export function moduleIri(config: CatalogueConfig, curriculumId: string, moduleId: string): string {
  return `${curriculumIri(config, curriculumId)}/modules/${seg(moduleId)}`;
}

/** `…/modules/<module>/questions/<bank>.<question>` (ids are [a-z0-9-], so the dot is unambiguous). */
export function questionIri(config: CatalogueConfig, curriculumId: string, moduleId: string, question: Pick<QuestionRef, 'bank' | 'id'>): string {
  return `${moduleIri(config, curriculumId, moduleId)}/questions/${seg(question.bank)}.${seg(question.id)}`;
}

export function sessionIri(config: CatalogueConfig, sessionId: string): string {
  return `${base(config)}/sessions/${seg(sessionId)}`;
}

export function formIri(config: CatalogueConfig, curriculumId: string, moduleId: string, formId: string): string {
  return `${moduleIri(config, curriculumId, moduleId)}/forms/${seg(formId)}`;
}

/** The on-the-job results a rep logs for a transfer module. */
export function resultsIri(config: CatalogueConfig, curriculumId: string, moduleId: string): string {
  return `${moduleIri(config, curriculumId, moduleId)}/results`;
}

export function extensionIri(config: CatalogueConfig, name: ExtensionName): string {
  return `${base(config)}/extensions/${name}`;
}

/**
 * A person as an xAPI Agent, identified by their Onramp account: `account.name` is the user id and
 * `account.homePage` the site. Not by email: an Agent carries exactly one identifier, and an account
 * id survives a change of email address (and keeps addresses out of forwarded statements).
 */
export function agentOf(config: CatalogueConfig, person: Person): Agent {
  return { objectType: 'Agent', name: person.name, account: { homePage: homePageOf(config), name: person.id } };
}

/** Onramp itself as an Agent: the authority of what it records, the actor of the voiding statements an erasure stores. */
export function onrampAgent(homePage: string) {
  return { objectType: 'Agent' as const, name: 'Onramp', account: { homePage, name: 'onramp' } };
}

function homePageOf(config: CatalogueConfig): string {
  return config.homePage?.replace(/\/+$/, '') ?? new URL(config.baseIri).origin;
}

// ---- activities -----------------------------------------------------------------------------------

function activity(id: string, type: string, name: string, extra: Omit<ActivityDefinition, 'type' | 'name'> = {}): Activity {
  return { objectType: 'Activity', id, definition: { type, name: { 'en-US': name }, ...extra } };
}

export function curriculumActivity(config: CatalogueConfig, curriculum: CurriculumRef): Activity {
  return activity(curriculumIri(config, curriculum.id), ACTIVITY_TYPES.course, curriculum.title);
}

/** Assessment modules are ADL assessments; every other modality an ADL module. */
export function moduleActivity(config: CatalogueConfig, curriculum: CurriculumRef, module: ModuleRef): Activity {
  const type = module.modality === 'assessment' ? ACTIVITY_TYPES.assessment : ACTIVITY_TYPES.module;
  return activity(moduleIri(config, curriculum.id, module.id), type, module.title);
}

export function sessionActivity(config: CatalogueConfig, session: SessionRef): Activity {
  const extensions = compact({
    [extensionIri(config, 'starts-at')]: session.startsAt,
    [extensionIri(config, 'ends-at')]: session.endsAt,
  });
  return activity(sessionIri(config, session.id), ACTIVITY_TYPES.meeting, session.title, extensions ? { extensions } : {});
}

export function formActivity(config: CatalogueConfig, curriculum: CurriculumRef, module: ModuleRef, form: FormRef): Activity {
  return activity(formIri(config, curriculum.id, module.id, form.id), ACTIVITY_TYPES.document, form.title);
}

export function resultsActivity(config: CatalogueConfig, curriculum: CurriculumRef, module: ModuleRef): Activity {
  return activity(resultsIri(config, curriculum.id, module.id), ACTIVITY_TYPES.performance, `On-the-job results: ${module.title}`);
}

// ---- what an answer looks like --------------------------------------------------------------------

/** A response to one question. null: not answered. */
export type QuestionAnswer =
  /** single and multiple choice: the bank's original option indexes chosen; options: their texts, as the interaction's choices */
  | { interactionType: 'choice'; chosen: number[] | null; options?: string[] }
  | { interactionType: 'true-false'; value: boolean | null }
  | { interactionType: 'numeric'; value: number | null };

/**
 * The question as a cmi.interaction. No correctResponsesPattern: answer keys never leave the
 * server, and statements may be forwarded to another LRS.
 */
export function questionActivity(config: CatalogueConfig, curriculum: CurriculumRef, module: ModuleRef, question: QuestionRef, answer: QuestionAnswer): InteractionActivity {
  const id = questionIri(config, curriculum.id, module.id, question);
  const name = question.prompt === undefined ? {} : { name: { 'en-US': question.prompt } };
  let definition: InteractionActivityDefinition;
  switch (answer.interactionType) {
    case 'choice': {
      const choices: InteractionComponent[] | undefined = answer.options?.map((text, i) => ({ id: String(i), description: { 'en-US': text } }));
      definition = { type: ACTIVITY_TYPES.interaction, ...name, interactionType: 'choice', ...(choices ? { choices } : {}) };
      break;
    }
    case 'true-false':
      definition = { type: ACTIVITY_TYPES.interaction, ...name, interactionType: 'true-false' };
      break;
    case 'numeric':
      definition = { type: ACTIVITY_TYPES.interaction, ...name, interactionType: 'numeric' };
      break;
  }
  return { objectType: 'Activity', id, definition };
}

/** The response in xAPI's format for the interaction type, or undefined when unanswered. */
function responseOf(answer: QuestionAnswer): string | undefined {
  switch (answer.interactionType) {
    case 'choice':
      return answer.chosen === null ? undefined : [...answer.chosen].sort((a, b) => a - b).join('[,]');
    case 'true-false':
      return answer.value === null ? undefined : String(answer.value);
    case 'numeric':
      return answer.value === null || !Number.isFinite(answer.value) ? undefined : String(answer.value);
  }
}

// ---- results --------------------------------------------------------------------------------------

/** An ISO 8601 duration (PT…H…M…S) to xAPI's 0.01 s precision; negative and non-finite give PT0S. */
export function isoDuration(ms: number): string {
  const cs = Number.isFinite(ms) && ms > 0 ? Math.round(ms / 10) : 0;
  const hours = Math.floor(cs / 360_000);
  const minutes = Math.floor((cs % 360_000) / 6_000);
  const seconds = (cs % 6_000) / 100;
  if (cs === 0) return 'PT0S';
  return `PT${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds ? `${seconds}S` : ''}`;
}

/**
 * A score from points earned out of possible: scaled rounded down to four decimals (so a score
 * just under a pass mark never reads as the pass mark), raw within min and max. Nothing possible:
 * scaled 0 alone (xAPI needs max > min).
 */
export function scoreOf(earned: number, possible: number): ResultScore {
  if (!(possible > 0)) return { scaled: 0 };
  const raw = Math.min(Math.max(Number.isFinite(earned) ? earned : 0, 0), possible);
  return { scaled: Math.floor((raw / possible) * 10_000 + 1e-9) / 10_000, raw, min: 0, max: possible };
}

// ---- statements -----------------------------------------------------------------------------------

/** Common to every event: when it happened and which enrollment it belongs to. */
export interface EventInput {
  /** ISO 8601 instant the event happened: the statement's timestamp */
  at: string;
  /** the enrollment (24 hex digits): context.registration via registrationOf */
  enrollmentId: string;
  curriculum: CurriculumRef;
}

export interface RepEventInput extends EventInput {
  rep: Person;
}

export interface ModuleEventInput extends RepEventInput {
  module: ModuleRef;
}

interface ContextParts {
  /** the activity directly above the object; none: the object is the curriculum itself */
  parent?: Activity;
  instructor?: Person;
  /** another statement this one is about */
  statementId?: string;
  extensions?: Record<string, unknown>;
}

function contextOf(env: CatalogueEnv, event: EventInput, parts: ContextParts = {}): Context {
  const { config } = env;
  const curriculum = curriculumActivity(config, event.curriculum);
  const grouping = parts.parent && parts.parent.id !== curriculum.id ? { grouping: [curriculum] } : {};
  const extensions = compact(parts.extensions ?? {});
  const context: Context = { registration: registrationOf(event.enrollmentId) };
  if (parts.instructor) context.instructor = agentOf(config, parts.instructor);
  if (parts.parent) context.contextActivities = { parent: [parts.parent], ...grouping };
  if (event.curriculum.version !== undefined) context.revision = event.curriculum.version;
  context.platform = config.platform;
  context.language = 'en-US';
  if (parts.statementId !== undefined) context.statement = { objectType: 'StatementRef', id: parts.statementId };
  if (extensions) context.extensions = extensions;
  return context;
}

function verbOf(key: VerbKey): Verb {
  const v = VERBS[key];
  return { id: v.id, display: { 'en-US': v.display } };
}

interface Parts {
  actor: Person;
  verb: VerbKey;
  object: Activity | InteractionActivity;
  result?: Result;
  context: Context;
  at: string;
}

/** Properties in the order the spec lists them, so stored and documented statements read the same. */
function statement(env: CatalogueEnv, parts: Parts): Statement {
  return {
    id: env.newId(),
    actor: agentOf(env.config, parts.actor),
    verb: verbOf(parts.verb),
    object: parts.object,
    ...(parts.result ? { result: parts.result } : {}),
    context: parts.context,
    timestamp: parts.at,
    version: '1.0.3',
  };
}

/** Extensions without the keys whose value is undefined (or an empty cohort), or undefined when none is left. */
function compact(record: Record<string, unknown>): Extensions | undefined {
  const entries = Object.entries(record).filter(([, v]) => v !== undefined && v !== '');
  return entries.length ? Object.fromEntries(entries) : undefined;
}

function ext(env: CatalogueEnv, values: Partial<Record<ExtensionName, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([name, v]) => [extensionIri(env.config, name as ExtensionName), v]));
}

function moduleStatement(env: CatalogueEnv, verb: VerbKey, input: ModuleEventInput, result?: Result, extensions?: Record<string, unknown>): Statement {
  const { config } = env;
  return statement(env, {
    actor: input.rep,
    verb,
    object: moduleActivity(config, input.curriculum, input.module),
    result,
    context: contextOf(env, input, { parent: curriculumActivity(config, input.curriculum), extensions }),
    at: input.at,
  });
}

// ---- enrollment and modules -----------------------------------------------------------------------

export interface RegisteredInput extends RepEventInput {
  /** '' or absent: no cohort */
  cohort?: string;
  /** YYYY-MM-DD: the enrollment's day 0 */
  startDate: string;
}

/** A rep is enrolled on a curriculum. */
export function registered(env: CatalogueEnv, input: RegisteredInput): Statement {
  const { config } = env;
  return statement(env, {
    actor: input.rep,
    verb: 'registered',
    object: curriculumActivity(config, input.curriculum),
    context: contextOf(env, input, { extensions: ext(env, { cohort: input.cohort?.trim(), 'start-date': input.startDate }) }),
    at: input.at,
  });
}

/** The rep opens a module from the roadmap. */
export function launched(env: CatalogueEnv, input: ModuleEventInput): Statement {
  return moduleStatement(env, 'launched', input);
}

/** The module's content starts for the rep (Onramp's own lessons: as they are first shown in a launch). */
export function initialized(env: CatalogueEnv, input: ModuleEventInput): Statement {
  return moduleStatement(env, 'initialized', input);
}

export interface CompletedInput extends ModuleEventInput {
  /** time spent, when known */
  durationMs?: number;
}

/** A module is done by its completion rule (viewed, acknowledged, passed, attended, approved and logged). */
export function completed(env: CatalogueEnv, input: CompletedInput): Statement {
  const duration = input.durationMs === undefined ? {} : { duration: isoDuration(input.durationMs) };
  return moduleStatement(env, 'completed', input, { completion: true, ...duration });
}

// ---- assessments ----------------------------------------------------------------------------------

export interface AttemptInput extends ModuleEventInput {
  attempt: { id: string; number: number };
  purpose: AssessmentPurpose;
}

function attemptExtensions(env: CatalogueEnv, input: AttemptInput): Record<string, unknown> {
  return ext(env, { attempt: input.attempt.id, 'attempt-number': input.attempt.number, 'assessment-purpose': input.purpose });
}

/** The rep starts an attempt at an assessment. */
export function attempted(env: CatalogueEnv, input: AttemptInput): Statement {
  return moduleStatement(env, 'attempted', input, undefined, attemptExtensions(env, input));
}

export interface AnsweredInput extends AttemptInput {
  question: QuestionRef;
  answer: QuestionAnswer;
  /** 0 to 1: the credit the answer earned */
  credit: number;
  /** full credit */
  correct: boolean;
}

function answerResult(input: Pick<AnsweredInput, 'answer' | 'credit' | 'correct'>): Result {
  const response = responseOf(input.answer);
  return { score: scoreOf(input.credit, 1), success: input.correct, ...(response === undefined ? {} : { response }) };
}

/** One question of a submitted attempt, scored. */
export function answered(env: CatalogueEnv, input: AnsweredInput): Statement {
  const { config } = env;
  return statement(env, {
    actor: input.rep,
    verb: 'answered',
    object: questionActivity(config, input.curriculum, input.module, input.question, input.answer),
    result: answerResult(input),
    context: contextOf(env, input, { parent: moduleActivity(config, input.curriculum, input.module), extensions: attemptExtensions(env, input) }),
    at: input.at,
  });
}

export interface ScoredInput extends AttemptInput {
  /** points: every answerable unit is worth one, partial credit may give fractions */
  score: { earned: number; possible: number };
  durationMs?: number;
}

function attemptResult(input: ScoredInput, success?: boolean): Result {
  return {
    score: scoreOf(input.score.earned, input.score.possible),
    ...(success === undefined ? {} : { success }),
    completion: true,
    ...(input.durationMs === undefined ? {} : { duration: isoDuration(input.durationMs) }),
  };
}

/** A submitted attempt's score. */
export function scored(env: CatalogueEnv, input: ScoredInput): Statement {
  return moduleStatement(env, 'scored', input, attemptResult(input), attemptExtensions(env, input));
}

export interface JudgedInput extends ScoredInput {
  /** percent needed to pass (the module's threshold) */
  threshold: number;
  /** pre-test sections passed: the modules they test the rep out of */
  testedOut?: ModuleRef[];
}

function judged(env: CatalogueEnv, verb: 'passed' | 'failed', input: JudgedInput): Statement {
  const testedOut = input.testedOut?.length ? input.testedOut.map((m) => moduleIri(env.config, input.curriculum.id, m.id)) : undefined;
  return moduleStatement(env, verb, input, attemptResult(input, verb === 'passed'), {
    ...attemptExtensions(env, input),
    [CMI5_EXTENSIONS.masteryScore]: Math.min(Math.max(input.threshold / 100, 0), 1),
    ...ext(env, { 'tested-out': testedOut }),
  });
}

/** A submitted attempt at or above the threshold. */
export function passed(env: CatalogueEnv, input: JudgedInput): Statement {
  return judged(env, 'passed', input);
}

/** A submitted attempt below the threshold. */
export function failed(env: CatalogueEnv, input: JudgedInput): Statement {
  return judged(env, 'failed', input);
}

export interface WaivedInput extends ModuleEventInput {
  /** the pre-test statement (passed or failed, with its tested-out extension) that waived the module */
  byStatementId: string;
  /** cmi5's reason; Onramp waives only by test-out */
  reason?: 'Tested Out' | 'Equivalent AU' | 'Equivalent Outside Activity' | 'Administrative';
}

/**
 * A module the rep tested out of: done without taking it. For a module that launches a cmi5 AU it
 * is the cmi5 "waived" statement (9.3.8): the AU's publisher id in grouping, the cmi5 and moveOn
 * categories, and a session id of its own.
 */
export function waived(env: CatalogueEnv, input: WaivedInput): Statement {
  const { config } = env;
  const base = contextOf(env, input, { parent: curriculumActivity(config, input.curriculum), statementId: input.byStatementId });
  const au = input.module.cmi5Au;
  const s = statement(env, {
    actor: input.rep,
    verb: 'waived',
    object: moduleActivity(config, input.curriculum, input.module),
    result: { success: true, completion: true, extensions: { [CMI5_EXTENSIONS.reason]: input.reason ?? 'Tested Out' } },
    context: base,
    at: input.at,
  });
  // a session of its own (cmi5 9.3.8), derived from the statement id so the same event gives the same statement
  if (au) s.context = cmi5Context(base, au, uuidV5(REGISTRATION_NAMESPACE, `cmi5-session|${s.id!}`), true);
  return s;
}

export const CMI5_CATEGORIES = {
  cmi5: { id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' },
  moveOn: { id: 'https://w3id.org/xapi/cmi5/context/categories/moveon' },
} as const;

/** An LMS statement's cmi5 context: the publisher id in grouping, the cmi5 category, the session id. */
function cmi5Context(base: Context, publisherId: string, sessionId: string, moveOn: boolean, extensions: Record<string, unknown> = {}): Context {
  const ca = base.contextActivities ?? {};
  return {
    ...base,
    contextActivities: {
      ...ca,
      grouping: [{ id: publisherId }, ...([] as Activity[]).concat((ca.grouping as Activity[] | undefined) ?? [])],
      category: [CMI5_CATEGORIES.cmi5, ...(moveOn ? [CMI5_CATEGORIES.moveOn] : [])],
    },
    extensions: { ...(base.extensions ?? {}), [CMI5_EXTENSIONS.sessionId]: sessionId, ...extensions },
  };
}

export interface Cmi5SessionInput extends ModuleEventInput {
  /** the AU's publisher id */
  au: string;
  sessionId: string;
}

export interface Cmi5LaunchedInput extends Cmi5SessionInput {
  launchMode: 'Normal' | 'Browse' | 'Review';
  /** the AU's URL without the launch parameters */
  launchUrl: string;
  moveOn: string;
  masteryScore: number | null;
  launchParameters: string | null;
}

/** The LMS launched a cmi5 AU (9.3.2): written before the AU opens. */
export function cmi5Launched(env: CatalogueEnv, input: Cmi5LaunchedInput): Statement {
  const { config } = env;
  const base = contextOf(env, input, { parent: curriculumActivity(config, input.curriculum) });
  return statement(env, {
    actor: input.rep,
    verb: 'launched',
    object: moduleActivity(config, input.curriculum, input.module),
    context: cmi5Context(base, input.au, input.sessionId, false, {
      [CMI5_EXTENSIONS.launchMode]: input.launchMode,
      [CMI5_EXTENSIONS.launchUrl]: input.launchUrl,
      [CMI5_EXTENSIONS.moveOn]: input.moveOn,
      ...(input.masteryScore !== null ? { [CMI5_EXTENSIONS.masteryScore]: input.masteryScore } : {}),
      ...(input.launchParameters !== null ? { [CMI5_EXTENSIONS.launchParameters]: input.launchParameters } : {}),
    }),
    at: input.at,
  });
}

/** The LMS gave up on a session the AU never terminated (a relaunch in the same registration). */
export function cmi5Abandoned(env: CatalogueEnv, input: Cmi5SessionInput & { durationMs: number }): Statement {
  const { config } = env;
  const base = contextOf(env, input, { parent: curriculumActivity(config, input.curriculum) });
  return statement(env, {
    actor: input.rep,
    verb: 'abandoned',
    object: moduleActivity(config, input.curriculum, input.module),
    result: { duration: isoDuration(input.durationMs) },
    context: cmi5Context(base, input.au, input.sessionId, false),
    at: input.at,
  });
}

export interface Cmi5SatisfiedInput extends Cmi5SessionInput {
  /** the LMS's id for the block or course, and the publisher's id for it */
  target: { id: string; publisherId: string; kind: 'block' | 'course'; title: string };
}

/** Every AU of a cmi5 block or course is satisfied (9.3.9). */
export function cmi5Satisfied(env: CatalogueEnv, input: Cmi5SatisfiedInput): Statement {
  const base = contextOf(env, input, { parent: curriculumActivity(env.config, input.curriculum) });
  const context = cmi5Context(base, input.target.publisherId, input.sessionId, false);
  return statement(env, {
    actor: input.rep,
    verb: 'satisfied',
    object: { objectType: 'Activity', id: input.target.id, definition: { type: `https://w3id.org/xapi/cmi5/activitytype/${input.target.kind}`, name: { 'en-US': input.target.title } } },
    context,
    at: input.at,
  });
}

export interface TestOutInput extends JudgedInput {
  /** the pre-test as a whole passed (its sections test out on their own) */
  success: boolean;
  testedOut: ModuleRef[];
}

/**
 * A pre-test submitted with sections passed: the pre-test's passed (or failed) statement listing the
 * modules tested out of, then one waived statement per module pointing back at it.
 */
export function testedOut(env: CatalogueEnv, input: TestOutInput): Statement[] {
  const { success, testedOut: modules, ...judgedInput } = input;
  const pretest = judged(env, success ? 'passed' : 'failed', { ...judgedInput, testedOut: modules });
  const waivers = modules.map((module) =>
    waived(env, { at: input.at, enrollmentId: input.enrollmentId, curriculum: input.curriculum, rep: input.rep, module, byStatementId: pretest.id! }),
  );
  return [pretest, ...waivers];
}

// ---- live sessions --------------------------------------------------------------------------------

export interface SessionEventInput extends ModuleEventInput {
  session: SessionRef;
}

function sessionStatement(env: CatalogueEnv, verb: VerbKey, input: SessionEventInput, extra: { result?: Result; instructor?: Person; extensions?: Record<string, unknown> } = {}): Statement {
  const { config } = env;
  return statement(env, {
    actor: input.rep,
    verb,
    object: sessionActivity(config, input.session),
    result: extra.result,
    context: contextOf(env, input, { parent: moduleActivity(config, input.curriculum, input.module), instructor: extra.instructor, extensions: extra.extensions }),
    at: input.at,
  });
}

export interface BookedInput extends SessionEventInput {
  seat: 'booked' | 'waitlisted';
}

/** The rep takes a seat on a live session, or a place on its waitlist. */
export function booked(env: CatalogueEnv, input: BookedInput): Statement {
  return sessionStatement(env, 'registered', input, { extensions: ext(env, { seat: input.seat }) });
}

export interface BookingCancelledInput extends SessionEventInput {
  /** why: 'rep' (cancelled it), 'session-cancelled', 'module-done' (seat released once the module completed) */
  reason?: string;
}

/** The rep's seat or waitlist place is given up. */
export function bookingCancelled(env: CatalogueEnv, input: BookingCancelledInput): Statement {
  return sessionStatement(env, 'unregistered', input, { extensions: ext(env, { reason: input.reason }) });
}

export interface AttendedInput extends SessionEventInput {
  /** who ran the session and marked attendance */
  instructor: Person;
  /** partial: there for part of it (not complete) */
  status?: Exclude<AttendanceStatus, 'absent'>;
  durationMs?: number;
}

/** The instructor marks the rep attended (or partly attended). `at`: when the session took place. */
export function attended(env: CatalogueEnv, input: AttendedInput): Statement {
  const status = input.status ?? 'attended';
  const duration = input.durationMs === undefined ? {} : { duration: isoDuration(input.durationMs) };
  return sessionStatement(env, 'attended', input, {
    result: { completion: status === 'attended', ...duration },
    instructor: input.instructor,
    extensions: ext(env, { attendance: status }),
  });
}

export interface AbsentInput extends SessionEventInput {
  instructor: Person;
}

/** The instructor marks the rep absent: a seat they did not use. */
export function absent(env: CatalogueEnv, input: AbsentInput): Statement {
  return sessionStatement(env, 'skipped', input, { result: { completion: false }, instructor: input.instructor, extensions: ext(env, { attendance: 'absent' }) });
}

export interface RubricScoredInput extends SessionEventInput {
  instructor: Person;
  /** criterion id → points */
  criteria: Record<string, number>;
  points: number;
  maxPoints: number;
  /** against the module's rubric pass mark; null: the module has none */
  passed: boolean | null;
  feedback?: string;
}

/** The instructor scores the rep's role play on the module's rubric. */
export function rubricScored(env: CatalogueEnv, input: RubricScoredInput): Statement {
  const feedback = input.feedback?.trim();
  const result: Result = {
    score: scoreOf(input.points, input.maxPoints),
    ...(input.passed === null ? {} : { success: input.passed }),
    extensions: compact(ext(env, { rubric: { ...input.criteria }, feedback }))!,
  };
  return sessionStatement(env, 'scored', input, { result, instructor: input.instructor });
}

// ---- transfer activities --------------------------------------------------------------------------

export interface SubmissionInput extends ModuleEventInput {
  form: FormRef;
  submissionId: string;
}

export interface SubmittedInput extends SubmissionInput {
  /** the rep's manager, who reviews it */
  manager?: Person;
}

/** The rep submits what they built (e.g. the call script) for their manager's review. */
export function submitted(env: CatalogueEnv, input: SubmittedInput): Statement {
  const { config } = env;
  return statement(env, {
    actor: input.rep,
    verb: 'submitted',
    object: formActivity(config, input.curriculum, input.module, input.form),
    context: contextOf(env, input, {
      parent: moduleActivity(config, input.curriculum, input.module),
      instructor: input.manager,
      extensions: ext(env, { submission: input.submissionId }),
    }),
    at: input.at,
  });
}

export interface ReviewInput extends SubmissionInput {
  manager: Person;
  /** the rep's submitted statement this review answers */
  submittedStatementId: string;
  /** the manager's notes or requested changes */
  comment?: string;
}

export interface ApprovedInput extends ReviewInput {
  /** the manager changed it before approving */
  adjusted?: boolean;
}

function reviewStatement(env: CatalogueEnv, verb: 'approved' | 'returned', input: ReviewInput, extensions: Record<string, unknown>): Statement {
  const { config } = env;
  const comment = input.comment?.trim();
  return statement(env, {
    actor: input.manager,
    verb,
    object: formActivity(config, input.curriculum, input.module, input.form),
    result: comment ? { response: comment } : undefined,
    context: contextOf(env, input, {
      parent: moduleActivity(config, input.curriculum, input.module),
      statementId: input.submittedStatementId,
      extensions: { ...ext(env, { submission: input.submissionId, learner: agentOf(config, input.rep) }), ...extensions },
    }),
    at: input.at,
  });
}

/** The manager approves the rep's submission (the manager is the actor). */
export function approved(env: CatalogueEnv, input: ApprovedInput): Statement {
  return reviewStatement(env, 'approved', input, ext(env, { adjusted: input.adjusted }));
}

/** The manager returns the rep's submission for changes (the manager is the actor). */
export function returned(env: CatalogueEnv, input: ReviewInput): Statement {
  return reviewStatement(env, 'returned', input, {});
}

export interface LoggedActivityInput extends ModuleEventInput {
  metWithManager: boolean;
  calls: number;
  contacts: number;
  presentations: number;
  appointments: number;
  manager?: Person;
  submissionId?: string;
}

/** The rep logs what happened on the job after the manager's review: the counts and whether they met. */
export function loggedActivity(env: CatalogueEnv, input: LoggedActivityInput): Statement {
  const { config } = env;
  return statement(env, {
    actor: input.rep,
    verb: 'submitted',
    object: resultsActivity(config, input.curriculum, input.module),
    result: {
      completion: true,
      extensions: ext(env, {
        'met-with-manager': input.metWithManager,
        calls: input.calls,
        contacts: input.contacts,
        presentations: input.presentations,
        appointments: input.appointments,
      }),
    },
    context: contextOf(env, input, {
      parent: moduleActivity(config, input.curriculum, input.module),
      instructor: input.manager,
      extensions: ext(env, { submission: input.submissionId }),
    }),
    at: input.at,
  });
}

// ---- reinforcement --------------------------------------------------------------------------------

/** `module`: the module the question reinforces. */
export interface ReinforcementAnsweredInput extends ModuleEventInput {
  question: QuestionRef;
  answer: QuestionAnswer;
  credit: number;
  correct: boolean;
  deliveryId: string;
  channel?: 'in-app' | 'email';
}

/** The rep answers a reinforcement question delivered after the module. */
export function reinforcementAnswered(env: CatalogueEnv, input: ReinforcementAnsweredInput): Statement {
  const { config } = env;
  return statement(env, {
    actor: input.rep,
    verb: 'answered',
    object: questionActivity(config, input.curriculum, input.module, input.question, input.answer),
    result: answerResult(input),
    context: contextOf(env, input, {
      parent: moduleActivity(config, input.curriculum, input.module),
      extensions: ext(env, { 'reinforcement-delivery': input.deliveryId, channel: input.channel }),
    }),
    at: input.at,
  });
}

// ---- voiding --------------------------------------------------------------------------------------

export interface VoidedInput {
  at: string;
  /** who withdraws the statement (e.g. the trainer correcting attendance) */
  actor: Person;
  statementId: string;
  /** the enrollment the voided statement belongs to, as its registration */
  enrollmentId?: string;
}

/**
 * Withdraws an earlier statement (xAPI never edits one). The object is a StatementRef, so the
 * context has no platform or revision (xAPI allows them only with an Activity object).
 */
export function voided(env: CatalogueEnv, input: VoidedInput): Statement {
  return {
    id: env.newId(),
    actor: agentOf(env.config, input.actor),
    verb: verbOf('voided'),
    object: { objectType: 'StatementRef', id: input.statementId },
    context: { ...(input.enrollmentId === undefined ? {} : { registration: registrationOf(input.enrollmentId) }), language: 'en-US' },
    timestamp: input.at,
    version: '1.0.3',
  };
}
