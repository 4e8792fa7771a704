/**
 * The cmi5 rules for statements an AU sends during a session (cmi5 spec 9 and 10), pure: given
 * what the session and the registration have seen, accept a statement (and say what it changes)
 * or reject it with the status an LMS answers (401 for a session that is over, 403 for a
 * statement that breaks a rule).
 */
export const VERB = {
  launched: 'http://adlnet.gov/expapi/verbs/launched',
  initialized: 'http://adlnet.gov/expapi/verbs/initialized',
  completed: 'http://adlnet.gov/expapi/verbs/completed',
  passed: 'http://adlnet.gov/expapi/verbs/passed',
  failed: 'http://adlnet.gov/expapi/verbs/failed',
  terminated: 'http://adlnet.gov/expapi/verbs/terminated',
  abandoned: 'https://w3id.org/xapi/adl/verbs/abandoned',
  waived: 'https://w3id.org/xapi/adl/verbs/waived',
  satisfied: 'https://w3id.org/xapi/adl/verbs/satisfied',
  voided: 'http://adlnet.gov/expapi/verbs/voided',
} as const;
export const CATEGORY = {
  cmi5: 'https://w3id.org/xapi/cmi5/context/categories/cmi5',
  moveOn: 'https://w3id.org/xapi/cmi5/context/categories/moveon',
} as const;
const EXT = 'https://w3id.org/xapi/cmi5/context/extensions/';
export const EXTENSION = {
  sessionId: `${EXT}sessionid`,
  masteryScore: `${EXT}masteryscore`,
  launchMode: `${EXT}launchmode`,
  launchUrl: `${EXT}launchurl`,
  moveOn: `${EXT}moveon`,
  launchParameters: `${EXT}launchparameters`,
  reason: 'https://w3id.org/xapi/cmi5/result/extensions/reason',
} as const;

/** The verbs an AU may send with the cmi5 category ("cmi5 defined" statements). */
const DEFINED = new Set<string>([VERB.initialized, VERB.completed, VERB.passed, VERB.failed, VERB.terminated]);
const JUDGED = new Set<string>([VERB.completed, VERB.passed, VERB.failed]);

export type LaunchMode = 'Normal' | 'Browse' | 'Review';
export type SessionState = 'launched' | 'initialized' | 'terminated' | 'abandoned';

export interface SessionFacts {
  sessionId: string;
  registration: string;
  /** the activity id the LMS gave the AU */
  activityId: string;
  actor: { homePage: string; name: string };
  launchMode: LaunchMode;
  masteryScore: number | null;
  state: SessionState;
  /** cmi5-defined verbs accepted in this session */
  verbs: string[];
  /** the AU read cmi5LearnerPreferences (it must, before sending statements) */
  preferencesRead: boolean;
}

/** What the registration has recorded for this AU, across its sessions. */
export interface RegistrationFacts {
  completed: boolean;
  passed: boolean;
  waived: boolean;
}

export type Verdict = { ok: true; session: SessionFacts; registration: RegistrationFacts } | { ok: false; status: 401 | 403; message: string };

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const ids = (v: unknown): string[] => ([] as unknown[]).concat(v ?? []).map((a) => String(obj(a).id));

function reject(status: 401 | 403, message: string): Verdict {
  return { ok: false, status, message };
}

/** Checks one statement; on success returns the facts as they are after it. */
export function checkAuStatement(session: SessionFacts, registration: RegistrationFacts, statement: Json): Verdict {
  if (session.state === 'terminated' || session.state === 'abandoned') {
    return reject(401, `This cmi5 session is ${session.state}: its token no longer stores statements. Launch the AU again.`);
  }
  const verb = String(obj(statement.verb).id);
  if (verb === VERB.voided) return reject(403, 'An AU may not void statements.');
  const actor = obj(statement.actor);
  const account = obj(actor.account);
  if ((actor.objectType !== undefined && actor.objectType !== 'Agent') || account.homePage !== session.actor.homePage || account.name !== session.actor.name) {
    return reject(403, 'The statement actor must be the launch actor (the Agent with the account given in the launch URL).');
  }
  const context = obj(statement.context);
  if (String(context.registration ?? '').toLowerCase() !== session.registration) return reject(403, `context.registration must be the launch registration ${session.registration}.`);
  if (obj(context.extensions)[EXTENSION.sessionId] !== session.sessionId) return reject(403, `context.extensions must carry ${EXTENSION.sessionId} = ${session.sessionId} (from LMS.LaunchData contextTemplate).`);
  if (!session.preferencesRead) return reject(403, 'Read the agent profile cmi5LearnerPreferences before sending statements (cmi5 11.0).');

  const categories = ids(obj(context.contextActivities).category);
  const defined = categories.includes(CATEGORY.cmi5);
  const result = obj(statement.result);
  const next: SessionFacts = { ...session, verbs: [...session.verbs] };
  const reg: RegistrationFacts = { ...registration };

  if (session.state === 'launched' && !(defined && verb === VERB.initialized)) {
    return reject(403, 'The first statement of a cmi5 session must be "initialized" with the cmi5 category.');
  }
  if (categories.includes(CATEGORY.moveOn) && !(defined && JUDGED.has(verb))) {
    return reject(403, 'Only cmi5 "completed", "passed" and "failed" statements carry the moveOn category.');
  }
  if (!defined) {
    // "cmi5 allowed": any xAPI statement in an initialized session, with no moveOn meaning
    return { ok: true, session: next, registration: reg };
  }

  if (!DEFINED.has(verb)) return reject(403, `An AU's cmi5 statements use initialized, completed, passed, failed or terminated, not ${verb}.`);
  if (String(obj(statement.object).id) !== session.activityId) return reject(403, `The object of a cmi5 statement is the launch activityId ${session.activityId}.`);
  if (next.verbs.includes(verb)) return reject(403, `"${verb.split('/').pop()}" was already sent in this session.`);
  if (JUDGED.has(verb) && session.launchMode !== 'Normal') return reject(403, `In ${session.launchMode} mode an AU may not send completed, passed or failed.`);
  if (JUDGED.has(verb) && !categories.includes(CATEGORY.moveOn)) return reject(403, `A cmi5 "${verb.split('/').pop()}" statement carries the moveOn category ${CATEGORY.moveOn}.`);
  if ((verb === VERB.terminated || JUDGED.has(verb)) && typeof result.duration !== 'string') return reject(403, `A cmi5 "${verb.split('/').pop()}" statement needs result.duration.`);

  switch (verb) {
    case VERB.initialized:
      next.state = 'initialized';
      break;
    case VERB.terminated:
      next.state = 'terminated';
      break;
    case VERB.completed:
      if (result.completion !== true || result.success !== undefined) return reject(403, 'A cmi5 "completed" statement has result.completion true and no result.success.');
      if (reg.completed) return reject(403, 'This registration already has a "completed" statement for the AU.');
      reg.completed = true;
      break;
    case VERB.passed:
    case VERB.failed: {
      const passed = verb === VERB.passed;
      if (result.success !== passed) return reject(403, `A cmi5 "${passed ? 'passed' : 'failed'}" statement has result.success ${passed}.`);
      if (result.completion !== undefined) return reject(403, `A cmi5 "${passed ? 'passed' : 'failed'}" statement has no result.completion.`);
      if (next.verbs.includes(passed ? VERB.failed : VERB.passed)) return reject(403, 'A session has either "passed" or "failed", not both.');
      if (reg.passed) return reject(403, `This registration already passed the AU${passed ? '' : ': a later "failed" is not accepted'}.`);
      const scaled = obj(result.score).scaled;
      if (session.masteryScore !== null && typeof scaled === 'number') {
        if (passed && scaled < session.masteryScore) return reject(403, `"passed" needs a scaled score of at least the masteryScore ${session.masteryScore} (got ${scaled}).`);
        if (!passed && scaled >= session.masteryScore) return reject(403, `"failed" needs a scaled score below the masteryScore ${session.masteryScore} (got ${scaled}).`);
        const sent = obj(context.extensions)[EXTENSION.masteryScore];
        if (sent !== session.masteryScore) return reject(403, `context.extensions ${EXTENSION.masteryScore} must be the launch masteryScore ${session.masteryScore}.`);
      }
      if (passed) reg.passed = true;
      break;
    }
  }
  if (verb !== VERB.initialized && verb !== VERB.terminated && result.score !== undefined && !(verb === VERB.passed || verb === VERB.failed)) {
    return reject(403, 'Only cmi5 "passed" and "failed" statements carry a score.');
  }
  next.verbs.push(verb);
  return { ok: true, session: next, registration: reg };
}

/** Checks a batch in order; the first rejection rejects the whole batch. */
export function checkAuStatements(session: SessionFacts, registration: RegistrationFacts, statements: Json[]): Verdict {
  let s = session;
  let r = registration;
  for (const statement of statements) {
    const v = checkAuStatement(s, r, statement);
    if (!v.ok) return v;
    s = v.session;
    r = v.registration;
  }
  return { ok: true, session: s, registration: r };
}
