import { ACTIVITY_TYPES, CMI5_CATEGORIES, CMI5_EXTENSIONS, VERBS } from '../../xapi/catalogue.js';
import { agentKey } from '../../xapi/validate.js';

/**
 * One xAPI statement as a line of a learner's timeline: when, who did what to which thing, the
 * result, and the context worth a glance. Pure: the statement, the viewer's time zone and a name
 * lookup come in; nothing is read. Written for any statement an LRS may hold — Onramp's catalogue
 * (docs/xapi.md) in plain words, anything else from its own verb display and names — so a field
 * that is missing, mistyped or unknown gives a plainer line, never an error.
 */

type Json = Record<string, unknown>;

export const TIMELINE_CATEGORIES = ['enrollment', 'module', 'assessment', 'live-session', 'transfer', 'reinforcement', 'cmi5', 'other'] as const;
export type TimelineCategory = (typeof TIMELINE_CATEGORIES)[number];

export const CATEGORY_LABELS: Record<TimelineCategory, string> = {
  enrollment: 'Enrollment',
  module: 'Module',
  assessment: 'Assessment',
  'live-session': 'Live session',
  transfer: 'Transfer',
  reinforcement: 'Reinforcement',
  cmi5: 'cmi5 course',
  other: 'Other',
};

export interface TimelineRow {
  /** the statement id */
  id: string;
  /** when it happened (the statement's timestamp, else when it was stored), ISO 8601; null when neither is a date */
  at: string | null;
  /** YYYY-MM-DD in the viewer's time zone ('' when unknown) */
  day: string;
  /** "Tuesday 4 March 2025" */
  dayLabel: string;
  /** "14:02" */
  time: string;
  /** "2025-03-04 14:02" */
  when: string;
  timeZone: string;
  /** when the LRS stored it, when that is more than an hour from `at` (attendance marked the day after) */
  recorded: string | null;
  category: TimelineCategory;
  categoryLabel: string;
  /** who did it, when that was someone other than the person whose timeline this is (the manager who approved) */
  actor: string | null;
  /** the verb in plain words: "completed", "registered for", "asked for changes to" */
  verb: string;
  verbId: string;
  /** the object's name: the module, assessment, question prompt, session or form */
  object: string;
  /** what the object is: "module", "assessment", "question", "live session", "form" …; null when unknown */
  objectKind: string | null;
  /** a page about the object (Onramp's module pages), when the lookup knows one */
  objectHref: string | null;
  /** "80% (8 of 10)", "Correct", "12 calls · 8 contacts …"; null when the statement has no result */
  result: string | null;
  outcome: 'success' | 'failure' | null;
  /** the answer given, or the reviewer's comment */
  response: string | null;
  /** notable context: instructor, attempt, channel, cmi5 session, the module a question belongs to … */
  context: string[];
  /** the curriculum the event belongs to, when the statement names it and it is not the object */
  curriculum: string | null;
  /** the whole line as one sentence (CSV, screen readers): "Completed Introduction" */
  summary: string;
}

export interface PresentOptions {
  /** the viewer's IANA time zone; UTC when absent or unknown */
  timeZone?: string;
  /** the identifiers (agent keys, see xapi/validate agentKey) of the person whose timeline this is */
  subject?: readonly string[];
  /** names and pages of activities the statement leaves unnamed (a cmi5 AU's own statements) */
  activity?: (iri: string) => { name?: string; href?: string } | undefined;
}

// ---- reading untrusted JSON -----------------------------------------------------------------------

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
}

/** A language map's text: en-US, then any English, then whatever it has. */
function text(map: unknown): string | undefined {
  const m = obj(map);
  if (!m) return str(map);
  const keys = Object.keys(m);
  const pick = keys.find((k) => k.toLowerCase() === 'en-us') ?? keys.find((k) => k.toLowerCase().startsWith('en')) ?? keys[0];
  return pick === undefined ? undefined : str(m[pick]);
}

function clip(s: string, max = 300): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The extension whose IRI ends in `/extensions/<name>`: Onramp's own, whatever the installation's base IRI. */
function onrampExt(extensions: Json | undefined, name: string): unknown {
  if (!extensions) return undefined;
  const key = Object.keys(extensions).find((k) => k.endsWith(`/extensions/${name}`));
  return key === undefined ? undefined : extensions[key];
}

function lastSegment(iri: string): string {
  const m = /([^/#?]+)[/#?]*$/.exec(iri);
  return m ? decodeURIComponentSafe(m[1]!) : iri;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

// ---- people ---------------------------------------------------------------------------------------

function personName(agent: unknown): string | undefined {
  const a = obj(agent);
  if (!a) return undefined;
  const name = str(a.name);
  if (name) return name;
  const mbox = str(a.mbox);
  if (mbox) return mbox.replace(/^mailto:/i, '');
  const account = obj(a.account);
  if (account && str(account.name)) return str(account.name);
  return str(a.openid);
}

// ---- time -----------------------------------------------------------------------------------------

interface Formatters {
  parts: Intl.DateTimeFormat;
  day: Intl.DateTimeFormat;
}

const formatters = new Map<string, Formatters>();

function formattersFor(timeZone: string | undefined): { zone: string; f: Formatters } {
  const zone = timeZone && timeZone.trim() ? timeZone.trim() : 'UTC';
  let f = formatters.get(zone);
  if (!f) {
    try {
      f = {
        parts: new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
        day: new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }),
      };
    } catch {
      return zone === 'UTC' ? { zone, f: formattersFor(undefined).f } : formattersFor('UTC');
    }
    if (formatters.size > 200) formatters.clear();
    formatters.set(zone, f);
  }
  return { zone, f };
}

function instant(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** An instant as the viewer reads it: the day (for grouping), its label and the time of day. */
export function zonedTime(at: Date, timeZone?: string): { day: string; dayLabel: string; time: string; when: string; timeZone: string } {
  const { zone, f } = formattersFor(timeZone);
  const p: Record<string, string> = {};
  for (const part of f.parts.formatToParts(at)) if (part.type !== 'literal') p[part.type] = part.value;
  const day = `${p.year}-${p.month}-${p.day}`;
  const time = `${p.hour === '24' ? '00' : p.hour}:${p.minute}`;
  return { day, dayLabel: f.day.format(at).replace(',', ''), time, when: `${day} ${time}`, timeZone: zone };
}

/** An ISO 8601 duration (PT1H5M3S) in words: "1 h 5 min", "45 s"; undefined when it is not one, or is under a second. */
export function durationWords(iso: unknown): string | undefined {
  if (typeof iso !== 'string') return undefined;
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T')) return undefined;
  const seconds = Number(m[1] ?? 0) * 86_400 + Number(m[2] ?? 0) * 3_600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  if (seconds < 0.5) return undefined; // "took 0 s" says nothing
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${h} h ${rest} min` : `${h} h`;
}

// ---- vocabulary -----------------------------------------------------------------------------------

const ADL = 'http://adlnet.gov/expapi/verbs/';
const CMI5_ACTIVITY_TYPE = 'https://w3id.org/xapi/cmi5/activitytype/';

/** Plain words for common verbs Onramp does not emit itself (AUs and other tools do). */
const OTHER_VERBS: Record<string, string> = {
  [`${ADL}terminated`]: 'closed',
  [`${ADL}experienced`]: 'viewed',
  [`${ADL}progressed`]: 'made progress in',
  [`${ADL}mastered`]: 'mastered',
  [`${ADL}commented`]: 'commented on',
  [`${ADL}asked`]: 'asked',
  [`${ADL}interacted`]: 'interacted with',
  [`${ADL}resumed`]: 'resumed',
  [`${ADL}suspended`]: 'paused',
  [`${ADL}exited`]: 'left',
  [`${ADL}preferred`]: 'set preferences in',
  [`${ADL}shared`]: 'shared',
  [`${ADL}imported`]: 'imported',
  [`${ADL}responded`]: 'responded to',
  'https://w3id.org/xapi/adl/verbs/logged-in': 'signed in to',
  'https://w3id.org/xapi/adl/verbs/logged-out': 'signed out of',
  'http://activitystrea.ms/schema/1.0/complete': 'completed',
  'http://activitystrea.ms/schema/1.0/start': 'started',
  'http://activitystrea.ms/schema/1.0/watch': 'watched',
  'http://id.tincanapi.com/verb/viewed': 'viewed',
};

const OBJECT_KINDS: Record<string, string> = {
  [ACTIVITY_TYPES.course]: 'curriculum',
  [ACTIVITY_TYPES.module]: 'module',
  [ACTIVITY_TYPES.assessment]: 'assessment',
  [ACTIVITY_TYPES.meeting]: 'live session',
  [ACTIVITY_TYPES.interaction]: 'question',
  [ACTIVITY_TYPES.performance]: 'results',
  [ACTIVITY_TYPES.document]: 'form',
  [`${CMI5_ACTIVITY_TYPE}course`]: 'cmi5 course',
  [`${CMI5_ACTIVITY_TYPE}block`]: 'cmi5 block',
  'http://adlnet.gov/expapi/activities/lesson': 'lesson',
  'http://adlnet.gov/expapi/activities/question': 'question',
  'http://adlnet.gov/expapi/activities/media': 'media',
  'http://adlnet.gov/expapi/activities/simulation': 'simulation',
};

const PURPOSES: Record<string, string> = { pretest: 'pre-test', check: 'check', posttest: 'post-test', retest: 're-test' };
const RELEASE_REASONS: Record<string, string> = {
  rep: 'Cancelled by the rep',
  'session-cancelled': 'The session was cancelled',
  'module-done': 'Released: the module was already done',
};

// ---- the statement --------------------------------------------------------------------------------

interface Parts {
  s: Json;
  verbId: string;
  object: Json;
  definition: Json | undefined;
  type: string | undefined;
  result: Json | undefined;
  resultExt: Json | undefined;
  context: Json | undefined;
  contextExt: Json | undefined;
  contextActivities: Json | undefined;
}

function partsOf(s: Json): Parts {
  const object = obj(s.object) ?? {};
  const definition = obj(object.definition);
  const result = obj(s.result);
  const context = obj(s.context);
  return {
    s,
    verbId: str(obj(s.verb)?.id) ?? '',
    object,
    definition,
    type: str(definition?.type),
    result,
    resultExt: obj(result?.extensions),
    context,
    contextExt: obj(context?.extensions),
    contextActivities: obj(context?.contextActivities),
  };
}

function isCmi5(p: Parts): boolean {
  const categories = list(p.contextActivities?.category).map((a) => str(obj(a)?.id));
  return (
    categories.includes(CMI5_CATEGORIES.cmi5.id) ||
    p.contextExt?.[CMI5_EXTENSIONS.sessionId] !== undefined ||
    (p.type?.startsWith(CMI5_ACTIVITY_TYPE) ?? false)
  );
}

function categoryOf(p: Parts): TimelineCategory {
  const v = p.verbId;
  if (isCmi5(p)) return 'cmi5';
  if (onrampExt(p.contextExt, 'reinforcement-delivery') !== undefined) return 'reinforcement';
  if (p.type === ACTIVITY_TYPES.meeting || v === VERBS.attended.id || v === VERBS.skipped.id || v === VERBS.unregistered.id) return 'live-session';
  if (p.type === ACTIVITY_TYPES.document || p.type === ACTIVITY_TYPES.performance || v === VERBS.submitted.id || v === VERBS.approved.id || v === VERBS.returned.id) {
    return 'transfer';
  }
  if (v === VERBS.registered.id) return p.type === ACTIVITY_TYPES.course || p.type === undefined ? 'enrollment' : 'other';
  if (p.type === ACTIVITY_TYPES.assessment || p.type === ACTIVITY_TYPES.interaction || [VERBS.attempted.id, VERBS.scored.id, VERBS.passed.id, VERBS.failed.id, VERBS.answered.id].includes(v as never)) {
    return 'assessment';
  }
  if (p.type === ACTIVITY_TYPES.module || [VERBS.launched.id, VERBS.initialized.id, VERBS.completed.id, VERBS.waived.id].includes(v as never)) return 'module';
  return 'other';
}

/** The verb in plain words, for what it was done to. */
function verbWords(p: Parts, category: TimelineCategory): string {
  const v = p.verbId;
  const meeting = p.type === ACTIVITY_TYPES.meeting;
  switch (v) {
    case VERBS.registered.id:
      if (meeting) return onrampExt(p.contextExt, 'seat') === 'waitlisted' ? 'joined the waitlist for' : 'registered for';
      return category === 'enrollment' ? 'enrolled in' : 'registered for';
    case VERBS.unregistered.id:
      return meeting ? 'gave up a seat in' : 'unregistered from';
    case VERBS.launched.id:
      return category === 'cmi5' ? 'launched' : 'opened';
    case VERBS.initialized.id:
      return 'started';
    case VERBS.completed.id:
      return 'completed';
    case VERBS.attempted.id:
      return 'started an attempt at';
    case VERBS.answered.id:
      return 'answered';
    case VERBS.scored.id:
      return 'was scored on';
    case VERBS.passed.id:
      return 'passed';
    case VERBS.failed.id:
      return 'failed';
    case VERBS.waived.id:
      return str(p.resultExt?.[CMI5_EXTENSIONS.reason]) === undefined || str(p.resultExt?.[CMI5_EXTENSIONS.reason]) === 'Tested Out' ? 'tested out of' : 'was excused from';
    case VERBS.attended.id:
      return onrampExt(p.contextExt, 'attendance') === 'partial' ? 'partly attended' : 'attended';
    case VERBS.skipped.id:
      return meeting ? 'missed' : 'skipped';
    case VERBS.submitted.id:
      return p.type === ACTIVITY_TYPES.performance ? 'logged on-the-job results for' : 'submitted';
    case VERBS.approved.id:
      return onrampExt(p.contextExt, 'adjusted') === true ? 'adjusted and approved' : 'approved';
    case VERBS.returned.id:
      return 'asked for changes to';
    case VERBS.voided.id:
      return 'withdrew';
    case VERBS.abandoned.id:
      return 'abandoned a session of';
    case VERBS.satisfied.id:
      return 'met the requirements of';
  }
  if (OTHER_VERBS[v]) return OTHER_VERBS[v];
  const display = text(obj(p.s.verb)?.display);
  if (display) return clip(display, 80);
  return v ? lastSegment(v) : 'did something with';
}

function objectOf(p: Parts, options: PresentOptions): { name: string; kind: string | null; href: string | null } {
  const o = p.object;
  const objectType = str(o.objectType) ?? 'Activity';
  if (objectType === 'Agent' || objectType === 'Group') return { name: personName(o) ?? 'someone', kind: objectType === 'Group' ? 'group' : 'person', href: null };
  if (objectType === 'StatementRef') return { name: 'an earlier statement', kind: 'statement', href: null };
  if (objectType === 'SubStatement') return { name: 'a statement about something else', kind: 'statement', href: null };
  const id = str(o.id) ?? '';
  const known = id ? options.activity?.(id) : undefined;
  let name = text(p.definition?.name) ?? known?.name ?? text(p.definition?.description) ?? (id ? lastSegment(id) : 'an activity');
  // "On-the-job results: Build your script" reads as "logged on-the-job results for Build your script"
  if (p.type === ACTIVITY_TYPES.performance && p.verbId === VERBS.submitted.id) name = name.replace(/^On-the-job results:\s*/i, '');
  return { name: clip(name, 200), kind: p.type ? (OBJECT_KINDS[p.type] ?? null) : null, href: known?.href ?? null };
}

/** The activities above the object: its parent (the module of a question) and the curriculum. */
function surroundings(p: Parts, options: PresentOptions): { parent: string | null; curriculum: string | null } {
  const nameOf = (a: unknown) => {
    const act = obj(a);
    const id = str(act?.id);
    return text(obj(act?.definition)?.name) ?? (id ? options.activity?.(id)?.name : undefined);
  };
  const isCourse = (a: unknown) => str(obj(obj(a)?.definition)?.type) === ACTIVITY_TYPES.course;
  const parents = list(p.contextActivities?.parent);
  const grouping = list(p.contextActivities?.grouping);
  const course = [...parents, ...grouping].find(isCourse);
  const parent = parents.find((a) => !isCourse(a));
  return { parent: parent ? (nameOf(parent) ?? null) : null, curriculum: course ? (nameOf(course) ?? null) : null };
}

function percent(scaled: number): string {
  // floored, like the catalogue's scores: 79.99% never reads as a pass mark of 80%
  return `${Math.floor(scaled * 100 + 1e-9)}%`;
}

function scoreWords(score: Json | undefined, meeting: boolean): string | undefined {
  if (!score) return undefined;
  const scaled = num(score.scaled);
  const raw = num(score.raw);
  const max = num(score.max);
  if (meeting && raw !== undefined) return max !== undefined ? `${raw} of ${max} points` : `${raw} points`;
  if (scaled !== undefined) return raw !== undefined && max !== undefined ? `${percent(scaled)} (${raw} of ${max})` : percent(scaled);
  if (raw !== undefined) return max !== undefined ? `${raw} of ${max}` : String(raw);
  return undefined;
}

/** The answer given, in the words of the question's choices when it lists them. */
function responseWords(p: Parts): string | undefined {
  const response = typeof p.result?.response === 'string' ? p.result.response : undefined;
  if (response === undefined) return undefined;
  const interaction = str(p.definition?.interactionType);
  if (interaction === 'true-false') return response === 'true' ? 'True' : response === 'false' ? 'False' : clip(response);
  if (interaction === 'choice' || interaction === 'sequencing') {
    const choices = new Map(list(p.definition?.choices).map((c) => [str(obj(c)?.id), text(obj(c)?.description)]));
    const picked = response === '' ? [] : response.split('[,]');
    const words = picked.map((id) => choices.get(id) ?? id);
    return words.length ? clip(words.join('; ')) : 'No option chosen';
  }
  return response.trim() ? clip(response) : undefined;
}

function resultOf(p: Parts, category: TimelineCategory): { result: string | null; outcome: 'success' | 'failure' | null; response: string | null } {
  const r = p.result;
  if (!r) return { result: null, outcome: null, response: null };
  const v = p.verbId;
  const parts: string[] = [];
  const success = typeof r.success === 'boolean' ? r.success : undefined;
  const scaled = num(obj(r.score)?.scaled);
  const isQuestion = v === VERBS.answered.id || p.type === ACTIVITY_TYPES.interaction;
  if (isQuestion) {
    if (success === true) parts.push('Correct');
    else if (scaled !== undefined && scaled > 0 && scaled < 1) parts.push(`Partly correct (${percent(scaled)})`);
    else if (success === false) parts.push('Incorrect');
  } else {
    const score = scoreWords(obj(r.score), p.type === ACTIVITY_TYPES.meeting);
    if (score) parts.push(score);
    // passed / failed / waived say it in the verb already
    if (success !== undefined && ![VERBS.passed.id, VERBS.failed.id, VERBS.waived.id].includes(v as never)) {
      parts.push(p.type === ACTIVITY_TYPES.meeting && v === VERBS.scored.id ? (success ? 'pass' : 'below the pass mark') : success ? 'successful' : 'not successful');
    }
  }
  if (p.type === ACTIVITY_TYPES.performance || onrampExt(p.resultExt, 'calls') !== undefined) {
    const count = (name: string, one: string, many: string) => {
      const n = num(onrampExt(p.resultExt, name));
      if (n !== undefined) parts.push(`${n} ${n === 1 ? one : many}`);
    };
    count('calls', 'call', 'calls');
    count('contacts', 'contact', 'contacts');
    count('presentations', 'presentation', 'presentations');
    count('appointments', 'appointment set', 'appointments set');
    const met = onrampExt(p.resultExt, 'met-with-manager');
    if (typeof met === 'boolean') parts.push(met ? 'met with their manager' : 'did not meet their manager');
  }
  const reason = str(p.resultExt?.[CMI5_EXTENSIONS.reason]);
  if (v === VERBS.waived.id && reason && reason !== 'Tested Out') parts.push(reason);
  const took = durationWords(r.duration);
  if (took && category !== 'live-session') parts.push(`took ${took}`);
  const answer = responseWords(p);
  const isReview = v === VERBS.approved.id || v === VERBS.returned.id;
  const response = answer === undefined ? null : isQuestion ? `Answer: ${answer}` : isReview ? `“${answer}”` : answer;
  const outcome = success === undefined ? null : success ? 'success' : 'failure';
  return { result: parts.length ? capitalize(parts.join(' · ')) : null, outcome, response };
}

function contextOf(p: Parts, category: TimelineCategory, parent: string | null, objectName: string, options: PresentOptions): string[] {
  const out: string[] = [];
  const ext = p.contextExt;
  // the module a question, session or form belongs to (not when the line names it already: logged results)
  if (parent && parent !== objectName && (p.type === ACTIVITY_TYPES.interaction || p.type === ACTIVITY_TYPES.meeting || p.type === ACTIVITY_TYPES.document || p.type === ACTIVITY_TYPES.performance)) {
    out.push(`In ${parent}`);
  }
  const instructor = personName(p.context?.instructor);
  if (instructor) out.push(`${category === 'transfer' ? 'Manager' : 'Instructor'}: ${instructor}`);
  const attempt = num(onrampExt(ext, 'attempt-number'));
  const purpose = str(onrampExt(ext, 'assessment-purpose'));
  if (attempt !== undefined) out.push(`Attempt ${attempt}${purpose ? ` (${PURPOSES[purpose] ?? purpose})` : ''}`);
  const mastery = num(ext?.[CMI5_EXTENSIONS.masteryScore]);
  if (mastery !== undefined && category !== 'cmi5') out.push(`Pass mark ${percent(mastery)}`);
  const testedOut = list(onrampExt(ext, 'tested-out')).map((iri) => (typeof iri === 'string' ? (options.activity?.(iri)?.name ?? lastSegment(iri)) : undefined)).filter((x): x is string => !!x);
  if (testedOut.length) out.push(`Tested out of ${testedOut.join(', ')}`);
  const cohort = str(onrampExt(ext, 'cohort'));
  if (cohort) out.push(`Cohort ${cohort}`);
  const start = str(onrampExt(ext, 'start-date'));
  if (start) out.push(`Starts ${start}`);
  const release = str(onrampExt(ext, 'reason'));
  if (release) out.push(RELEASE_REASONS[release] ?? `Reason: ${release}`);
  const feedback = str(onrampExt(p.resultExt, 'feedback'));
  if (feedback) out.push(`Feedback: ${clip(feedback, 200)}`);
  const channel = str(onrampExt(ext, 'channel'));
  if (channel) out.push(channel === 'email' ? 'Answered from an email' : channel === 'in-app' ? 'Answered in the app' : `Channel: ${channel}`);
  else if (category === 'reinforcement') out.push('Reinforcement question');
  const session = str(ext?.[CMI5_EXTENSIONS.sessionId]);
  if (session) out.push(`cmi5 session ${session.slice(0, 8)}`);
  const mode = str(ext?.[CMI5_EXTENSIONS.launchMode]);
  if (mode && mode !== 'Normal') out.push(`${mode} mode`);
  const platform = str(p.context?.platform);
  if (platform && platform !== 'Onramp') out.push(`From ${clip(platform, 60)}`);
  return out;
}

/**
 * A statement as a timeline row. Anything that is not a statement object still gives a row
 * ("did something with an activity"): the timeline shows what the LRS holds, it does not judge it.
 */
export function presentStatement(statement: unknown, options: PresentOptions = {}): TimelineRow {
  const s = obj(statement) ?? {};
  const p = partsOf(s);
  const category = categoryOf(p);
  const verb = verbWords(p, category);
  const object = objectOf(p, options);
  const { parent, curriculum } = surroundings(p, options);
  const { result, outcome, response } = resultOf(p, category);

  const timestamp = instant(s.timestamp);
  const stored = instant(s.stored);
  const at = timestamp ?? stored;
  const zoned = at ? zonedTime(at, options.timeZone) : { day: '', dayLabel: 'Date unknown', time: '', when: '', timeZone: formattersFor(options.timeZone).zone };
  const recorded = timestamp && stored && Math.abs(stored.getTime() - timestamp.getTime()) > 3_600_000 ? zonedTime(stored, options.timeZone).when : null;

  const actorKey = agentKey(s.actor);
  const isSubject = !options.subject || (actorKey !== null && options.subject.includes(actorKey));
  const actor = isSubject ? null : (personName(s.actor) ?? 'Someone');
  const showCurriculum = curriculum && !(category === 'enrollment' && object.name === curriculum) ? curriculum : null;
  const summary = `${actor ? `${actor} ${verb}` : capitalize(verb)} ${object.name}`;

  return {
    id: str(s.id) ?? '',
    at: at ? at.toISOString() : null,
    ...zoned,
    recorded,
    category,
    categoryLabel: CATEGORY_LABELS[category],
    actor,
    verb,
    verbId: p.verbId,
    object: object.name,
    objectKind: object.kind,
    objectHref: object.href,
    result,
    outcome,
    response,
    context: contextOf(p, category, parent, object.name, options),
    curriculum: showCurriculum,
    summary,
  };
}

export interface TimelineDay {
  day: string;
  label: string;
  rows: TimelineRow[];
}

/**
 * Rows grouped under their day, keeping their order: a row whose day differs from the one before
 * starts a new group (an attendance timed at a session the day before stays where it was recorded).
 */
export function groupByDay(rows: readonly TimelineRow[]): TimelineDay[] {
  const days: TimelineDay[] = [];
  for (const row of rows) {
    const last = days.at(-1);
    if (last && last.day === row.day) last.rows.push(row);
    else days.push({ day: row.day, label: row.dayLabel, rows: [row] });
  }
  return days;
}

/** The CSV columns of a timeline export, and a row's cells in that order. */
export const CSV_HEADER = ['when', 'time_zone', 'timestamp', 'category', 'actor', 'verb', 'object', 'object_kind', 'result', 'outcome', 'response', 'context', 'curriculum', 'statement_id'];

export function csvCells(row: TimelineRow): unknown[] {
  return [row.when, row.timeZone, row.at ?? '', row.category, row.actor ?? '', row.verb, row.object, row.objectKind ?? '', row.result ?? '', row.outcome ?? '', row.response ?? '', row.context.join('; '), row.curriculum ?? '', row.id];
}
