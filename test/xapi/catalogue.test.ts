import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Activity, Agent, Statement } from '@xapi/xapi';
import {
  ACTIVITY_TYPES,
  CMI5_EXTENSIONS,
  EXTENSIONS,
  REGISTRATION_NAMESPACE,
  VERBS,
  absent,
  agentOf,
  answered,
  approved,
  attempted,
  attended,
  booked,
  bookingCancelled,
  completed,
  curriculumIri,
  extensionIri,
  failed,
  formIri,
  initialized,
  isoDuration,
  launched,
  loggedActivity,
  moduleIri,
  passed,
  questionIri,
  registered,
  registrationOf,
  reinforcementAnswered,
  resultsIri,
  returned,
  rubricScored,
  scoreOf,
  scored,
  sessionIri,
  submitted,
  testedOut,
  voided,
  waived,
  cmi5Abandoned,
  cmi5Launched,
  cmi5Satisfied,
  type CatalogueConfig,
  type CatalogueEnv,
  type ModuleRef,
} from '../../src/xapi/catalogue.js';

// ---- fixtures ---------------------------------------------------------------------------------------

const BASE = 'https://onramp.example.com/xapi/activities';
const config: CatalogueConfig = { baseIri: BASE, platform: 'Onramp' };

/** A deterministic UUID (v4 shape) generator: 1, 2, 3 … */
function sequence(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
}

function envOf(c: CatalogueConfig = config): CatalogueEnv {
  return { config: c, newId: sequence() };
}

const ENROLLMENT = '65f1c2a9e4b0a1b2c3d4e5f6';
/** uuid.uuid5(UUID(REGISTRATION_NAMESPACE), ENROLLMENT) in Python */
const REGISTRATION = '80b2365c-5417-553a-83f5-6250d03d3fed';
const AT = '2025-03-03T09:30:00.000Z';

const rep = { id: '65f1c2a9e4b0a1b2c3d4e501', name: 'Sam Lee', email: 'sam.lee@example.com' };
const trainer = { id: '65f1c2a9e4b0a1b2c3d4e502', name: 'Taylor Brooks', email: 'taylor@example.com' };
const manager = { id: '65f1c2a9e4b0a1b2c3d4e503', name: 'Morgan Diaz', email: 'morgan@example.com' };
const curriculum = { id: 'new-rep-onboarding', title: 'Crewline new account executive onboarding', version: '65f1c2a9e4b0a1b2c3d4e5ff' };

const lesson: ModuleRef = { id: 'market-and-personas', title: 'Our market and buyer personas', modality: 'elearning' };
const drill: ModuleRef = { id: 'value-statement-drill', title: 'Value statement drill', modality: 'elearning', cmi5Au: 'https://crewline.example/courses/drill/au' };
const SESSION_ID = 'c8a0f6e2-1d7b-4b6e-9a51-3f0e2d4c5b6a';
const lesson2: ModuleRef = { id: 'buying-process', title: 'The buying process and its exit criteria', modality: 'elearning' };
const pretest: ModuleRef = { id: 'foundations-pretest', title: 'Foundations pre-test', modality: 'assessment' };
const check: ModuleRef = { id: 'foundations-check', title: 'Foundations check', modality: 'assessment' };
const vilt: ModuleRef = { id: 'roleplay-prep-vilt', title: 'Live virtual session', modality: 'vilt' };
const workshop: ModuleRef = { id: 'roleplay-workshop', title: 'Role-play workshop (classroom)', modality: 'ilt' };
const transfer: ModuleRef = { id: 'appointment-script', title: 'Build your appointment-setting script', modality: 'transfer' };
const form = { id: 'appointment-script', title: 'Your appointment-setting call script' };
const session = { id: '65f1c2a9e4b0a1b2c3d4e600', title: 'Role-play prep (virtual)', modality: 'vilt' as const, startsAt: '2025-03-20T15:00:00.000Z', endsAt: '2025-03-20T16:30:00.000Z' };
const ilt = { id: '65f1c2a9e4b0a1b2c3d4e601', title: 'Role-play workshop, Denver', modality: 'ilt' as const };

const base = { at: AT, enrollmentId: ENROLLMENT, curriculum, rep };
const attempt = { attempt: { id: '65f1c2a9e4b0a1b2c3d4e700', number: 2 }, purpose: 'check' as const };
const question = { bank: 'foundations', id: 'personas-2', prompt: 'Which metrics matter most to Marco?' };

const ext = (name: (typeof EXTENSIONS)[number]) => extensionIri(config, name);
const curriculumId = `${BASE}/curricula/new-rep-onboarding`;

// ---- an xAPI 1.0.3 shape check, applied to every statement the tests build --------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function isAbsoluteIri(value: unknown): boolean {
  if (typeof value !== 'string' || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function expectLanguageMap(map: unknown): void {
  expect(map).toBeTypeOf('object');
  expect(Object.keys(map as object)).toEqual(['en-US']);
  for (const v of Object.values(map as object)) expect(v).toBeTypeOf('string');
}

function expectExtensions(extensions: unknown): void {
  if (extensions === undefined) return;
  for (const key of Object.keys(extensions as object)) expect(isAbsoluteIri(key), key).toBe(true);
  for (const v of Object.values(extensions as object)) expect(v).not.toBeUndefined();
}

function expectAgent(agent: Agent): void {
  const ifis = (['mbox', 'mbox_sha1sum', 'openid', 'account'] as const).filter((k) => agent[k] !== undefined);
  expect(ifis).toEqual(['account']);
  expect(agent.objectType).toBe('Agent');
  expect(isAbsoluteIri(agent.account!.homePage)).toBe(true);
  expect(agent.account!.name).toBeTruthy();
}

function expectActivity(a: Activity): void {
  expect(isAbsoluteIri(a.id), a.id).toBe(true);
  const d = a.definition;
  if (!d) return;
  if (d.type !== undefined) expect(isAbsoluteIri(d.type), d.type).toBe(true);
  if (d.name) expectLanguageMap(d.name);
  if (d.description) expectLanguageMap(d.description);
  if ('interactionType' in d) {
    expect(d.type).toBe(ACTIVITY_TYPES.interaction);
    for (const c of (d as { choices?: { id: string; description?: unknown }[] }).choices ?? []) {
      expect(c.id).toMatch(/^\S+$/);
      if (c.description) expectLanguageMap(c.description);
    }
  }
  expectExtensions(d.extensions);
}

function expectValidXapi(s: Statement): void {
  expect(s.id).toMatch(UUID);
  expect(s.version).toBe('1.0.3');
  expect(Number.isNaN(Date.parse(s.timestamp!))).toBe(false);
  expectAgent(s.actor as Agent);
  expect(isAbsoluteIri(s.verb.id)).toBe(true);
  expectLanguageMap(s.verb.display);
  const isActivity = !('objectType' in s.object) || s.object.objectType === 'Activity';
  if (isActivity) expectActivity(s.object as Activity);
  else if (s.object.objectType === 'StatementRef') expect(s.object.id).toMatch(UUID);
  if (s.result) {
    const score = s.result.score;
    if (score) {
      expect(score.scaled).toBeGreaterThanOrEqual(-1);
      expect(score.scaled).toBeLessThanOrEqual(1);
      if (score.max !== undefined && score.min !== undefined) expect(score.max).toBeGreaterThan(score.min);
      if (score.raw !== undefined) {
        if (score.min !== undefined) expect(score.raw).toBeGreaterThanOrEqual(score.min);
        if (score.max !== undefined) expect(score.raw).toBeLessThanOrEqual(score.max);
      }
    }
    if (s.result.duration !== undefined) expect(s.result.duration).toMatch(/^PT(\d+H)?(\d+M)?(\d+(\.\d+)?S)?$/);
    if (s.result.response !== undefined) expect(s.result.response).toBeTypeOf('string');
    expectExtensions(s.result.extensions);
  }
  const c = s.context;
  if (c) {
    if (c.registration !== undefined) expect(c.registration).toMatch(UUID);
    if (c.instructor) expectAgent(c.instructor as Agent);
    for (const list of Object.values(c.contextActivities ?? {})) for (const a of list as Activity[]) expectActivity(a);
    if (!isActivity) {
      expect(c.platform).toBeUndefined();
      expect(c.revision).toBeUndefined();
    }
    if (c.language !== undefined) expect(c.language).toBe('en-US');
    if (c.statement) expect(c.statement.id).toMatch(UUID);
    expectExtensions(c.extensions);
  }
}

describe('the shape check itself', () => {
  const good = () => launched(envOf(), { ...base, module: lesson });
  const broken: [string, (s: Statement) => void][] = [
    ['a non-UUID id', (s) => (s.id = 'statement-1')],
    ['two identifiers on the actor', (s) => ((s.actor as Agent).mbox = 'mailto:sam.lee@example.com')],
    ['a relative verb IRI', (s) => (s.verb.id = 'verbs/launched')],
    ['a language map in another language', (s) => (s.verb.display = { en: 'launched' })],
    ['a scaled score above 1', (s) => (s.result = { score: { scaled: 1.2 } })],
    ['a raw score above max', (s) => (s.result = { score: { scaled: 1, raw: 11, min: 0, max: 10 } })],
    ['a non-UUID registration', (s) => (s.context!.registration = ENROLLMENT)],
    ['a relative extension key', (s) => (s.context!.extensions = { cohort: 'x' })],
    ['platform with a StatementRef object', (s) => (s.object = { objectType: 'StatementRef', id: s.id! })],
  ];

  it('passes a good statement', () => expectValidXapi(good()));

  it.each(broken)('rejects %s', (_, breakIt) => {
    const s = good();
    breakIt(s);
    expect(() => expectValidXapi(s)).toThrow();
  });
});

// ---- every builder, for the checks common to all --------------------------------------------------

type Build = (env: CatalogueEnv) => Statement[];

const BUILDERS: [string, Build][] = [
  ['registered', (env) => [registered(env, { ...base, cohort: '2025-03 West', startDate: '2025-03-03' })]],
  ['launched', (env) => [launched(env, { ...base, module: lesson })]],
  ['initialized', (env) => [initialized(env, { ...base, module: lesson })]],
  ['completed', (env) => [completed(env, { ...base, module: lesson, durationMs: 1_234_560 })]],
  ['attempted', (env) => [attempted(env, { ...base, module: check, ...attempt })]],
  ['answered', (env) => [answered(env, { ...base, module: check, ...attempt, question, answer: { interactionType: 'choice', chosen: [2, 0], options: ['a', 'b', 'c'] }, credit: 0.5, correct: false })]],
  ['scored', (env) => [scored(env, { ...base, module: check, ...attempt, score: { earned: 17, possible: 20 } })]],
  ['passed', (env) => [passed(env, { ...base, module: check, ...attempt, score: { earned: 17, possible: 20 }, threshold: 80, durationMs: 600_000 })]],
  ['failed', (env) => [failed(env, { ...base, module: check, ...attempt, score: { earned: 11, possible: 20 }, threshold: 80 })]],
  ['waived', (env) => [waived(env, { ...base, module: lesson, byStatementId: '00000000-0000-4000-8000-0000000000ff' })]],
  ['testedOut', (env) => testedOut(env, { ...base, module: pretest, ...attempt, purpose: 'pretest', score: { earned: 13, possible: 16 }, threshold: 80, success: true, testedOut: [lesson, lesson2] })],
  ['booked', (env) => [booked(env, { ...base, module: vilt, session, seat: 'booked' })]],
  ['bookingCancelled', (env) => [bookingCancelled(env, { ...base, module: vilt, session, reason: 'rep' })]],
  ['attended', (env) => [attended(env, { ...base, module: workshop, session: ilt, instructor: trainer })]],
  ['absent', (env) => [absent(env, { ...base, module: workshop, session: ilt, instructor: trainer })]],
  ['rubricScored', (env) => [rubricScored(env, { ...base, module: workshop, session: ilt, instructor: trainer, criteria: { opening: 3, discovery: 4 }, points: 7, maxPoints: 8, passed: true, feedback: 'Strong agenda.' })]],
  ['submitted', (env) => [submitted(env, { ...base, module: transfer, form, submissionId: '65f1c2a9e4b0a1b2c3d4e800', manager })]],
  ['approved', (env) => [approved(env, { ...base, module: transfer, form, submissionId: '65f1c2a9e4b0a1b2c3d4e800', manager, submittedStatementId: '00000000-0000-4000-8000-0000000000aa', adjusted: true, comment: 'Tightened the opening.' })]],
  ['returned', (env) => [returned(env, { ...base, module: transfer, form, submissionId: '65f1c2a9e4b0a1b2c3d4e800', manager, submittedStatementId: '00000000-0000-4000-8000-0000000000aa', comment: 'Add a second ask.' })]],
  ['loggedActivity', (env) => [loggedActivity(env, { ...base, module: transfer, metWithManager: true, calls: 42, contacts: 15, presentations: 4, appointments: 3, manager, submissionId: '65f1c2a9e4b0a1b2c3d4e800' })]],
  ['reinforcementAnswered', (env) => [reinforcementAnswered(env, { ...base, module: lesson, question: { bank: 'foundations', id: 'personas-3' }, answer: { interactionType: 'true-false', value: false }, credit: 1, correct: true, deliveryId: '65f1c2a9e4b0a1b2c3d4e900', channel: 'email' })]],
  ['cmi5Launched', (env) => [cmi5Launched(env, { ...base, module: drill, au: drill.cmi5Au!, sessionId: SESSION_ID, launchMode: 'Normal', launchUrl: 'https://onramp.example.com/cmi5/content/x/index.html', moveOn: 'CompletedAndPassed', masteryScore: 0.75, launchParameters: null })]],
  ['cmi5Satisfied', (env) => [cmi5Satisfied(env, { ...base, module: drill, au: drill.cmi5Au!, sessionId: SESSION_ID, target: { id: `${BASE}/curricula/new-rep-onboarding/cmi5/drill`, publisherId: 'https://crewline.example/courses/drill', kind: 'course', title: 'Drill' } })]],
  ['cmi5Abandoned', (env) => [cmi5Abandoned(env, { ...base, module: drill, au: drill.cmi5Au!, sessionId: SESSION_ID, durationMs: 240_000 })]],
  ['waived (cmi5)', (env) => [waived(env, { ...base, module: drill, byStatementId: '00000000-0000-4000-8000-0000000000ff' })]],
  ['voided', (env) => [voided(env, { at: AT, actor: trainer, statementId: '00000000-0000-4000-8000-0000000000bb', enrollmentId: ENROLLMENT })]],
];

describe('every builder', () => {
  it.each(BUILDERS)('%s builds valid xAPI 1.0.3', (_, build) => {
    const statements = build(envOf());
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) expectValidXapi(s);
  });

  it.each(BUILDERS)('%s is deterministic: same inputs and id sequence, same statements', (_, build) => {
    expect(build(envOf())).toStrictEqual(build(envOf()));
  });

  it.each(BUILDERS)('%s takes one id per statement from newId, in order, and the timestamp from the input', (_, build) => {
    const ids: string[] = [];
    const next = sequence();
    const statements = build({ config, newId: () => (ids.push(next()), ids.at(-1)!) });
    expect(statements.map((s) => s.id)).toEqual(ids);
    for (const s of statements) expect(s.timestamp).toBe(AT);
  });

  it.each(BUILDERS)('%s survives a JSON round trip unchanged (no undefined, no Dates, no shared state)', (_, build) => {
    const statements = build(envOf());
    expect(JSON.parse(JSON.stringify(statements))).toStrictEqual(statements);
  });

  it.each(BUILDERS)('%s carries the enrollment as context.registration', (_, build) => {
    for (const s of build(envOf())) expect(s.context?.registration).toBe(REGISTRATION);
  });

  it.each(BUILDERS.filter(([name]) => name !== 'voided'))('%s sets context.platform and context.language', (_, build) => {
    for (const s of build(envOf())) {
      expect(s.context?.platform).toBe('Onramp');
      expect(s.context?.language).toBe('en-US');
      expect(s.context?.revision).toBe(curriculum.version);
    }
  });
});

// ---- identifiers --------------------------------------------------------------------------------------

describe('registrationOf', () => {
  it('is the RFC 4122 version 5 UUID of the enrollment id in the Onramp namespace (vectors from Python uuid5)', () => {
    expect(REGISTRATION_NAMESPACE).toBe('b34faff8-93aa-4a3a-be93-c61752b02409');
    expect(registrationOf(ENROLLMENT)).toBe(REGISTRATION);
    expect(registrationOf('000000000000000000000000')).toBe('9f6b18ae-a97f-5a86-a069-444071695324');
    expect(registrationOf('ffffffffffffffffffffffff')).toBe('1ebebdda-c3ce-538f-af6e-b68b800946c7');
  });

  it('is stable, case-insensitive, and different for different enrollments', () => {
    expect(registrationOf(ENROLLMENT)).toBe(registrationOf(ENROLLMENT));
    expect(registrationOf(ENROLLMENT.toUpperCase())).toBe(REGISTRATION);
    expect(registrationOf('66a0b1c2d3e4f5a6b7c8d9e0')).toBe('2fa37807-091f-5e56-abc4-915e07b0976c');
    expect(registrationOf('66a0b1c2d3e4f5a6b7c8d9e0')).not.toBe(REGISTRATION);
  });

  it('refuses what is not a 24-hex enrollment id', () => {
    for (const bad of ['', 'abc', `${ENROLLMENT}0`, 'zzzzzzzzzzzzzzzzzzzzzzzz', ` ${ENROLLMENT}`]) expect(() => registrationOf(bad)).toThrow(RangeError);
  });

  it('gives every statement of one enrollment the same registration, whoever the actor', () => {
    const env = envOf();
    const mine = registered(env, { ...base, startDate: '2025-03-03' });
    const managers = returned(env, { ...base, module: transfer, form, submissionId: 's1', manager, submittedStatementId: mine.id! });
    const other = launched(env, { ...base, enrollmentId: '66a0b1c2d3e4f5a6b7c8d9e0', module: lesson });
    expect(managers.context?.registration).toBe(mine.context?.registration);
    expect(other.context?.registration).not.toBe(mine.context?.registration);
  });
});

describe('activity IRIs', () => {
  it('follow the documented scheme under the base IRI', () => {
    expect(curriculumIri(config, 'new-rep-onboarding')).toBe(curriculumId);
    expect(moduleIri(config, 'new-rep-onboarding', 'foundations-check')).toBe(`${curriculumId}/modules/foundations-check`);
    expect(questionIri(config, 'new-rep-onboarding', 'foundations-check', { bank: 'foundations', id: 'personas-2' })).toBe(`${curriculumId}/modules/foundations-check/questions/foundations.personas-2`);
    expect(sessionIri(config, session.id)).toBe(`${BASE}/sessions/${session.id}`);
    expect(formIri(config, 'new-rep-onboarding', 'appointment-script', 'appointment-script')).toBe(`${curriculumId}/modules/appointment-script/forms/appointment-script`);
    expect(resultsIri(config, 'new-rep-onboarding', 'appointment-script')).toBe(`${curriculumId}/modules/appointment-script/results`);
    expect(extensionIri(config, 'calls')).toBe(`${BASE}/extensions/calls`);
  });

  it('ignore a trailing slash on the base IRI and follow a different base', () => {
    expect(curriculumIri({ ...config, baseIri: `${BASE}/` }, 'c')).toBe(`${BASE}/curricula/c`);
    expect(moduleIri({ baseIri: 'https://lrs.acme.test/onramp', platform: 'Onramp' }, 'c', 'm')).toBe('https://lrs.acme.test/onramp/curricula/c/modules/m');
  });

  it('encode ids that would otherwise break the IRI', () => {
    const iri = moduleIri(config, 'a b', 'x/y?z');
    expect(iri).toBe(`${BASE}/curricula/a%20b/modules/x%2Fy%3Fz`);
    expect(isAbsoluteIri(iri)).toBe(true);
  });

  it('a question is distinct per bank, so equal ids in two banks do not collide', () => {
    expect(questionIri(config, 'c', 'm', { bank: 'a', id: 'q-1' })).not.toBe(questionIri(config, 'c', 'm', { bank: 'b', id: 'q-1' }));
  });
});

describe('agentOf', () => {
  it('identifies a person by their account on the site, never by email', () => {
    const agent = agentOf(config, rep);
    expect(agent).toStrictEqual({ objectType: 'Agent', name: 'Sam Lee', account: { homePage: 'https://onramp.example.com', name: rep.id } });
    expect(JSON.stringify(agent)).not.toContain('sam.lee@example.com');
  });

  it('uses the configured home page when there is one', () => {
    expect(agentOf({ ...config, homePage: 'https://learn.acme.test/' }, rep).account).toStrictEqual({ homePage: 'https://learn.acme.test', name: rep.id });
  });
});

describe('isoDuration and scoreOf', () => {
  it('writes durations as ISO 8601 to a hundredth of a second', () => {
    expect(isoDuration(3_723_450)).toBe('PT1H2M3.45S');
    expect(isoDuration(60_000)).toBe('PT1M');
    expect(isoDuration(90 * 3_600_000)).toBe('PT90H');
    expect(isoDuration(4)).toBe('PT0S');
    expect(isoDuration(0)).toBe('PT0S');
    expect(isoDuration(-5)).toBe('PT0S');
    expect(isoDuration(Number.NaN)).toBe('PT0S');
  });

  it('scales rounding down, keeps raw within min and max, and needs something possible', () => {
    expect(scoreOf(17, 20)).toStrictEqual({ scaled: 0.85, raw: 17, min: 0, max: 20 });
    expect(scoreOf(2, 3).scaled).toBe(0.6666);
    expect(scoreOf(29, 100).scaled).toBe(0.29); // 0.29 * 10000 is 2899.999… in floating point
    expect(scoreOf(25, 20)).toStrictEqual({ scaled: 1, raw: 20, min: 0, max: 20 });
    expect(scoreOf(-3, 20)).toStrictEqual({ scaled: 0, raw: 0, min: 0, max: 20 });
    expect(scoreOf(0, 0)).toStrictEqual({ scaled: 0 });
  });
});

// ---- enrollment and modules ---------------------------------------------------------------------------

describe('registered', () => {
  it('the rep registered on the curriculum (a course), with cohort and start date', () => {
    const s = registered(envOf(), { ...base, cohort: ' 2025-03 West ', startDate: '2025-03-03' });
    expect(s.verb).toStrictEqual({ id: 'http://adlnet.gov/expapi/verbs/registered', display: { 'en-US': 'registered' } });
    expect(s.actor).toStrictEqual(agentOf(config, rep));
    expect(s.object).toStrictEqual({ objectType: 'Activity', id: curriculumId, definition: { type: ACTIVITY_TYPES.course, name: { 'en-US': curriculum.title } } });
    expect(s.context?.contextActivities).toBeUndefined();
    expect(s.context?.extensions).toStrictEqual({ [ext('cohort')]: '2025-03 West', [ext('start-date')]: '2025-03-03' });
  });

  it('leaves out an empty cohort and a missing version', () => {
    const s = registered(envOf(), { ...base, curriculum: { id: curriculum.id, title: curriculum.title }, cohort: '', startDate: '2025-03-03' });
    expect(s.context?.extensions).toStrictEqual({ [ext('start-date')]: '2025-03-03' });
    expect(s.context).not.toHaveProperty('revision');
  });
});

describe('launched, initialized, completed', () => {
  it('name the module as the object and the curriculum as its parent', () => {
    const env = envOf();
    for (const [s, verb] of [
      [launched(env, { ...base, module: lesson }), VERBS.launched.id],
      [initialized(env, { ...base, module: lesson }), VERBS.initialized.id],
      [completed(env, { ...base, module: lesson }), VERBS.completed.id],
    ] as const) {
      expect(s.verb.id).toBe(verb);
      expect(s.object).toMatchObject({ id: `${curriculumId}/modules/market-and-personas`, definition: { type: ACTIVITY_TYPES.module } });
      expect(s.context?.contextActivities).toStrictEqual({ parent: [{ objectType: 'Activity', id: curriculumId, definition: { type: ACTIVITY_TYPES.course, name: { 'en-US': curriculum.title } } }] });
    }
  });

  it('completed: completion true, with the duration when known', () => {
    expect(completed(envOf(), { ...base, module: lesson }).result).toStrictEqual({ completion: true });
    expect(completed(envOf(), { ...base, module: lesson, durationMs: 1_234_560 }).result).toStrictEqual({ completion: true, duration: 'PT20M34.56S' });
  });

  it('an assessment module is an ADL assessment; vILT, ILT and transfer modules are modules', () => {
    expect(launched(envOf(), { ...base, module: check }).object).toMatchObject({ definition: { type: ACTIVITY_TYPES.assessment } });
    for (const module of [vilt, workshop, transfer]) expect(launched(envOf(), { ...base, module }).object).toMatchObject({ definition: { type: ACTIVITY_TYPES.module } });
  });
});

// ---- assessments --------------------------------------------------------------------------------------

describe('assessments', () => {
  const attemptExt = { [ext('attempt')]: attempt.attempt.id, [ext('attempt-number')]: 2, [ext('assessment-purpose')]: 'check' };

  it('attempted: the assessment module, with the attempt and the purpose', () => {
    const s = attempted(envOf(), { ...base, module: check, ...attempt });
    expect(s.verb.id).toBe('http://adlnet.gov/expapi/verbs/attempted');
    expect(s.object).toMatchObject({ id: `${curriculumId}/modules/foundations-check`, definition: { type: ACTIVITY_TYPES.assessment } });
    expect(s.result).toBeUndefined();
    expect(s.context?.extensions).toStrictEqual(attemptExt);
  });

  it('answered (multiple choice): a cmi.interaction under the module, the response in xAPI format, success and credit', () => {
    const s = answered(envOf(), { ...base, module: check, ...attempt, question, answer: { interactionType: 'choice', chosen: [2, 0], options: ['On-time arrival', 'Jobs per day', 'Uptime'] }, credit: 0.5, correct: false });
    expect(s.verb.id).toBe('http://adlnet.gov/expapi/verbs/answered');
    expect(s.object).toStrictEqual({
      objectType: 'Activity',
      id: `${curriculumId}/modules/foundations-check/questions/foundations.personas-2`,
      definition: {
        type: 'http://adlnet.gov/expapi/activities/cmi.interaction',
        name: { 'en-US': question.prompt },
        interactionType: 'choice',
        choices: [
          { id: '0', description: { 'en-US': 'On-time arrival' } },
          { id: '1', description: { 'en-US': 'Jobs per day' } },
          { id: '2', description: { 'en-US': 'Uptime' } },
        ],
      },
    });
    expect(s.result).toStrictEqual({ score: { scaled: 0.5, raw: 0.5, min: 0, max: 1 }, success: false, response: '0[,]2' });
    expect(s.context?.contextActivities?.parent?.map((a) => a.id)).toEqual([`${curriculumId}/modules/foundations-check`]);
    expect(s.context?.contextActivities?.grouping?.map((a) => a.id)).toEqual([curriculumId]);
    expect(s.context?.extensions).toStrictEqual(attemptExt);
  });

  it('answered never carries the answer key', () => {
    const s = answered(envOf(), { ...base, module: check, ...attempt, question, answer: { interactionType: 'choice', chosen: [1], options: ['a', 'b'] }, credit: 1, correct: true });
    expect(JSON.stringify(s)).not.toContain('correctResponsesPattern');
  });

  it('answered (true-false, numeric, unanswered): the response per interaction type, none when unanswered', () => {
    const tf = answered(envOf(), { ...base, module: check, ...attempt, question, answer: { interactionType: 'true-false', value: true }, credit: 0, correct: false });
    expect(tf.object).toMatchObject({ definition: { interactionType: 'true-false' } });
    expect(tf.result?.response).toBe('true');
    const num = answered(envOf(), { ...base, module: check, ...attempt, question: { bank: 'skills', id: 'roi-1' }, answer: { interactionType: 'numeric', value: 12.5 }, credit: 1, correct: true });
    expect(num.object).toMatchObject({ definition: { interactionType: 'numeric' } });
    expect(num.object).not.toHaveProperty('definition.name');
    expect(num.result).toStrictEqual({ score: { scaled: 1, raw: 1, min: 0, max: 1 }, success: true, response: '12.5' });
    const none = answered(envOf(), { ...base, module: check, ...attempt, question, answer: { interactionType: 'choice', chosen: null }, credit: 0, correct: false });
    expect(none.result).toStrictEqual({ score: { scaled: 0, raw: 0, min: 0, max: 1 }, success: false });
    expect(none.object).not.toHaveProperty('definition.choices');
  });

  it('scored: score and completion, no success', () => {
    const s = scored(envOf(), { ...base, module: check, ...attempt, score: { earned: 17, possible: 20 } });
    expect(s.verb.id).toBe('http://adlnet.gov/expapi/verbs/scored');
    expect(s.result).toStrictEqual({ score: { scaled: 0.85, raw: 17, min: 0, max: 20 }, completion: true });
  });

  it('passed: score, success, completion, duration and the mastery score', () => {
    const s = passed(envOf(), { ...base, module: check, ...attempt, score: { earned: 17, possible: 20 }, threshold: 80, durationMs: 600_000 });
    expect(s.verb).toStrictEqual({ id: 'http://adlnet.gov/expapi/verbs/passed', display: { 'en-US': 'passed' } });
    expect(s.result).toStrictEqual({ score: { scaled: 0.85, raw: 17, min: 0, max: 20 }, success: true, completion: true, duration: 'PT10M' });
    expect(s.context?.extensions).toStrictEqual({ ...attemptExt, [CMI5_EXTENSIONS.masteryScore]: 0.8 });
  });

  it('failed: success false', () => {
    const s = failed(envOf(), { ...base, module: check, ...attempt, score: { earned: 159, possible: 200 }, threshold: 80 });
    expect(s.verb.id).toBe('http://adlnet.gov/expapi/verbs/failed');
    expect(s.result).toMatchObject({ score: { scaled: 0.795, raw: 159 }, success: false, completion: true });
  });
});

describe('test-out', () => {
  const input = { ...base, module: pretest, ...attempt, purpose: 'pretest' as const, score: { earned: 13, possible: 16 }, threshold: 80, testedOut: [lesson, lesson2] };

  it('the pre-test passed, listing the module IRIs tested out of, then one waived statement per module', () => {
    const [pre, ...waivers] = testedOut(envOf(), { ...input, success: true });
    expect(pre!.verb.id).toBe('http://adlnet.gov/expapi/verbs/passed');
    expect(pre!.object).toMatchObject({ id: `${curriculumId}/modules/foundations-pretest` });
    expect(pre!.context?.extensions?.[`${BASE}/extensions/tested-out`]).toEqual([`${curriculumId}/modules/market-and-personas`, `${curriculumId}/modules/buying-process`]);
    expect(waivers.map((w) => w.object)).toMatchObject([{ id: `${curriculumId}/modules/market-and-personas` }, { id: `${curriculumId}/modules/buying-process` }]);
    for (const w of waivers) {
      expect(w.verb).toStrictEqual({ id: 'https://w3id.org/xapi/adl/verbs/waived', display: { 'en-US': 'waived' } });
      expect(w.result).toStrictEqual({ success: true, completion: true, extensions: { 'https://w3id.org/xapi/cmi5/result/extensions/reason': 'Tested Out' } });
      expect(w.context?.statement).toStrictEqual({ objectType: 'StatementRef', id: pre!.id });
      expect(w.context?.registration).toBe(REGISTRATION);
    }
  });

  it('a pre-test failed as a whole still waives the sections passed', () => {
    const [pre, ...waivers] = testedOut(envOf(), { ...input, success: false, testedOut: [lesson] });
    expect(pre!.verb.id).toBe(VERBS.failed.id);
    expect(pre!.result?.success).toBe(false);
    expect(waivers).toHaveLength(1);
  });

  it('passed without test-outs has no tested-out extension', () => {
    const s = passed(envOf(), { ...input, testedOut: [] });
    expect(s.context?.extensions).not.toHaveProperty([ext('tested-out')]);
  });
});

// ---- live sessions ------------------------------------------------------------------------------------

describe('live sessions', () => {
  it('booked: registered for the session (a meeting) under its module, with the seat', () => {
    const s = booked(envOf(), { ...base, module: vilt, session, seat: 'waitlisted' });
    expect(s.verb.id).toBe('http://adlnet.gov/expapi/verbs/registered');
    expect(s.object).toStrictEqual({
      objectType: 'Activity',
      id: `${BASE}/sessions/${session.id}`,
      definition: { type: ACTIVITY_TYPES.meeting, name: { 'en-US': session.title }, extensions: { [ext('starts-at')]: session.startsAt, [ext('ends-at')]: session.endsAt } },
    });
    expect(s.context?.contextActivities?.parent?.map((a) => a.id)).toEqual([`${curriculumId}/modules/roleplay-prep-vilt`]);
    expect(s.context?.contextActivities?.grouping?.map((a) => a.id)).toEqual([curriculumId]);
    expect(s.context?.extensions).toStrictEqual({ [ext('seat')]: 'waitlisted' });
  });

  it('bookingCancelled: unregistered, with the reason when given', () => {
    const s = bookingCancelled(envOf(), { ...base, module: workshop, session: ilt, reason: 'session-cancelled' });
    expect(s.verb.id).toBe('http://id.tincanapi.com/verb/unregistered');
    expect(s.object).toStrictEqual({ objectType: 'Activity', id: `${BASE}/sessions/${ilt.id}`, definition: { type: ACTIVITY_TYPES.meeting, name: { 'en-US': ilt.title } } });
    expect(bookingCancelled(envOf(), { ...base, module: workshop, session: ilt }).context).not.toHaveProperty('extensions');
  });

  it('attended: ADL attended with the instructor in context; partial is attended but not complete', () => {
    const full = attended(envOf(), { ...base, module: workshop, session: ilt, instructor: trainer, durationMs: 27_000_000 });
    expect(full.verb.id).toBe('http://adlnet.gov/expapi/verbs/attended');
    expect(full.context?.instructor).toStrictEqual(agentOf(config, trainer));
    expect(full.result).toStrictEqual({ completion: true, duration: 'PT7H30M' });
    expect(full.context?.extensions).toStrictEqual({ [ext('attendance')]: 'attended' });
    const part = attended(envOf(), { ...base, module: workshop, session: ilt, instructor: trainer, status: 'partial' });
    expect(part.verb.id).toBe(VERBS.attended.id);
    expect(part.result).toStrictEqual({ completion: false });
    expect(part.context?.extensions).toStrictEqual({ [ext('attendance')]: 'partial' });
  });

  it('absent: skipped, not complete, never the attended verb', () => {
    const s = absent(envOf(), { ...base, module: workshop, session: ilt, instructor: trainer });
    expect(s.verb.id).toBe('http://id.tincanapi.com/verb/skipped');
    expect(s.result).toStrictEqual({ completion: false });
    expect(s.context?.extensions).toStrictEqual({ [ext('attendance')]: 'absent' });
    expect(s.context?.instructor).toStrictEqual(agentOf(config, trainer));
  });

  it('rubricScored: points as the score, criteria and feedback as extensions, success only with a pass mark', () => {
    const input = { ...base, module: workshop, session: ilt, instructor: trainer, criteria: { opening: 3, discovery: 2 }, points: 5, maxPoints: 8 };
    const s = rubricScored(envOf(), { ...input, passed: false, feedback: '  Ask about impact.  ' });
    expect(s.verb.id).toBe('http://adlnet.gov/expapi/verbs/scored');
    expect(s.object).toMatchObject({ id: `${BASE}/sessions/${ilt.id}` });
    expect(s.result).toStrictEqual({
      score: { scaled: 0.625, raw: 5, min: 0, max: 8 },
      success: false,
      extensions: { [ext('rubric')]: { opening: 3, discovery: 2 }, [ext('feedback')]: 'Ask about impact.' },
    });
    const noPass = rubricScored(envOf(), { ...input, passed: null });
    expect(noPass.result).not.toHaveProperty('success');
    expect(noPass.result?.extensions).toStrictEqual({ [ext('rubric')]: { opening: 3, discovery: 2 } });
  });
});

// ---- transfer -----------------------------------------------------------------------------------------

describe('transfer activities', () => {
  const submission = { ...base, module: transfer, form, submissionId: '65f1c2a9e4b0a1b2c3d4e800' };

  it('submitted: the rep submitted the form (a document) under the transfer module, the manager as instructor', () => {
    const s = submitted(envOf(), { ...submission, manager });
    expect(s.verb).toStrictEqual({ id: 'http://activitystrea.ms/schema/1.0/submit', display: { 'en-US': 'submitted' } });
    expect(s.actor).toStrictEqual(agentOf(config, rep));
    expect(s.object).toStrictEqual({
      objectType: 'Activity',
      id: `${curriculumId}/modules/appointment-script/forms/appointment-script`,
      definition: { type: ACTIVITY_TYPES.document, name: { 'en-US': form.title } },
    });
    expect(s.context?.instructor).toStrictEqual(agentOf(config, manager));
    expect(s.context?.contextActivities?.parent?.map((a) => a.id)).toEqual([`${curriculumId}/modules/appointment-script`]);
    expect(s.context?.extensions).toStrictEqual({ [ext('submission')]: submission.submissionId });
    expect(submitted(envOf(), submission).context).not.toHaveProperty('instructor');
  });

  it('approved: the manager is the actor; the rep is the learner extension; it points at the submitted statement', () => {
    const env = envOf();
    const sub = submitted(env, { ...submission, manager });
    const s = approved(env, { ...submission, manager, submittedStatementId: sub.id!, adjusted: true, comment: 'Tightened the opening.' });
    expect(s.verb).toStrictEqual({ id: 'http://activitystrea.ms/schema/1.0/approve', display: { 'en-US': 'approved' } });
    expect(s.actor).toStrictEqual(agentOf(config, manager));
    expect(s.object).toStrictEqual(sub.object);
    expect(s.result).toStrictEqual({ response: 'Tightened the opening.' });
    expect(s.context?.statement).toStrictEqual({ objectType: 'StatementRef', id: sub.id });
    expect(s.context?.registration).toBe(sub.context?.registration);
    expect(s.context).not.toHaveProperty('instructor');
    expect(s.context?.extensions).toStrictEqual({ [ext('submission')]: submission.submissionId, [ext('learner')]: agentOf(config, rep), [ext('adjusted')]: true });
  });

  it('returned: the manager returned it for changes, with the requested changes as the response', () => {
    const s = returned(envOf(), { ...submission, manager, submittedStatementId: '00000000-0000-4000-8000-0000000000aa', comment: 'Add a second ask.' });
    expect(s.verb).toStrictEqual({ id: 'http://activitystrea.ms/schema/1.0/return', display: { 'en-US': 'returned' } });
    expect(s.actor).toStrictEqual(agentOf(config, manager));
    expect(s.result).toStrictEqual({ response: 'Add a second ask.' });
    expect(returned(envOf(), { ...submission, manager, submittedStatementId: '00000000-0000-4000-8000-0000000000aa' })).not.toHaveProperty('result');
  });

  it('loggedActivity: the on-the-job results (a performance) with the counts and the manager meeting', () => {
    const s = loggedActivity(envOf(), { ...base, module: transfer, metWithManager: false, calls: 42, contacts: 15, presentations: 4, appointments: 3, manager });
    expect(s.verb.id).toBe(VERBS.submitted.id);
    expect(s.object).toMatchObject({ id: `${curriculumId}/modules/appointment-script/results`, definition: { type: ACTIVITY_TYPES.performance } });
    expect(s.result).toStrictEqual({
      completion: true,
      extensions: { [ext('met-with-manager')]: false, [ext('calls')]: 42, [ext('contacts')]: 15, [ext('presentations')]: 4, [ext('appointments')]: 3 },
    });
    expect(s.context?.instructor).toStrictEqual(agentOf(config, manager));
    expect(s.context?.contextActivities?.parent?.map((a) => a.id)).toEqual([`${curriculumId}/modules/appointment-script`]);
    expect(s.context).not.toHaveProperty('extensions');
  });
});

// ---- reinforcement and voiding ------------------------------------------------------------------------

describe('reinforcementAnswered', () => {
  it('answered a question under the module it reinforces, with the delivery id and channel', () => {
    const s = reinforcementAnswered(envOf(), { ...base, module: lesson, question: { bank: 'foundations', id: 'personas-3' }, answer: { interactionType: 'true-false', value: false }, credit: 1, correct: true, deliveryId: 'd-1', channel: 'in-app' });
    expect(s.verb.id).toBe(VERBS.answered.id);
    expect(s.object).toMatchObject({ id: `${curriculumId}/modules/market-and-personas/questions/foundations.personas-3`, definition: { interactionType: 'true-false' } });
    expect(s.result).toStrictEqual({ score: { scaled: 1, raw: 1, min: 0, max: 1 }, success: true, response: 'false' });
    expect(s.context?.contextActivities?.parent?.map((a) => a.id)).toEqual([`${curriculumId}/modules/market-and-personas`]);
    expect(s.context?.contextActivities?.grouping?.map((a) => a.id)).toEqual([curriculumId]);
    expect(s.context?.extensions).toStrictEqual({ [ext('reinforcement-delivery')]: 'd-1', [ext('channel')]: 'in-app' });
  });
});

describe('voided', () => {
  it('voids a statement by reference, without platform or revision', () => {
    const s = voided(envOf(), { at: AT, actor: trainer, statementId: '00000000-0000-4000-8000-0000000000bb', enrollmentId: ENROLLMENT });
    expect(s.verb).toStrictEqual({ id: 'http://adlnet.gov/expapi/verbs/voided', display: { 'en-US': 'voided' } });
    expect(s.object).toStrictEqual({ objectType: 'StatementRef', id: '00000000-0000-4000-8000-0000000000bb' });
    expect(s.context).toStrictEqual({ registration: REGISTRATION, language: 'en-US' });
    expect(voided(envOf(), { at: AT, actor: trainer, statementId: '00000000-0000-4000-8000-0000000000bb' }).context).toStrictEqual({ language: 'en-US' });
  });
});

describe('purity', () => {
  it('does not change its inputs, and a statement shares no object with them', () => {
    const input = { ...base, module: workshop, session: ilt, instructor: trainer, criteria: { opening: 3 }, points: 3, maxPoints: 4, passed: true };
    const before = structuredClone(input);
    const s = rubricScored(envOf(), input);
    expect(input).toStrictEqual(before);
    (s.result!.extensions![ext('rubric')] as Record<string, number>).opening = 0;
    expect(input.criteria.opening).toBe(3);
  });

  it('statements share no verb objects: changing one leaves the next intact', () => {
    const env = envOf();
    const a = launched(env, { ...base, module: lesson });
    a.verb.display!['en-US'] = 'changed';
    expect(launched(env, { ...base, module: lesson }).verb.display).toStrictEqual({ 'en-US': 'launched' });
  });
});

describe('cmi5 statements of the LMS', () => {
  it('a waiver of a module that launches an AU is the cmi5 waived: grouping, categories, a session id', () => {
    const w = waived(envOf(), { ...base, module: drill, byStatementId: '00000000-0000-4000-8000-0000000000ff' });
    expect(w.context?.contextActivities?.grouping?.[0]).toStrictEqual({ id: drill.cmi5Au });
    expect(w.context?.contextActivities?.category).toStrictEqual([{ id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' }, { id: 'https://w3id.org/xapi/cmi5/context/categories/moveon' }]);
    expect(w.context?.extensions?.['https://w3id.org/xapi/cmi5/context/extensions/sessionid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(w.result?.extensions?.['https://w3id.org/xapi/cmi5/result/extensions/reason']).toBe('Tested Out');
    const plain = waived(envOf(), { ...base, module: lesson, byStatementId: '00000000-0000-4000-8000-0000000000ff' });
    expect(plain.context?.contextActivities?.category).toBeUndefined();
  });

  it('launched carries the launch settings; satisfied has no result and no moveOn category', () => {
    const l = cmi5Launched(envOf(), { ...base, module: drill, au: drill.cmi5Au!, sessionId: SESSION_ID, launchMode: 'Normal', launchUrl: 'https://x.example/index.html', moveOn: 'Passed', masteryScore: null, launchParameters: 'level=1' });
    expect(l.context?.extensions).toMatchObject({ 'https://w3id.org/xapi/cmi5/context/extensions/sessionid': SESSION_ID, 'https://w3id.org/xapi/cmi5/context/extensions/moveon': 'Passed', 'https://w3id.org/xapi/cmi5/context/extensions/launchparameters': 'level=1' });
    expect(l.context?.extensions?.['https://w3id.org/xapi/cmi5/context/extensions/masteryscore']).toBeUndefined();
    const s = cmi5Satisfied(envOf(), { ...base, module: drill, au: drill.cmi5Au!, sessionId: SESSION_ID, target: { id: 'https://x.example/c', publisherId: 'https://p.example/c', kind: 'course', title: 'C' } });
    expect(s.result).toBeUndefined();
    expect(s.context?.contextActivities?.category).toStrictEqual([{ id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' }]);
    expect(s.object).toMatchObject({ definition: { type: 'https://w3id.org/xapi/cmi5/activitytype/course' } });
  });
});

describe('docs/xapi.md', () => {
  const doc = readFileSync(new URL('../../docs/xapi.md', import.meta.url), 'utf8');
  const examples = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].flatMap((m) => [JSON.parse(m[1]!) as Statement | Statement[]].flat())
    .filter((s) => 'verb' in s); // the Actors section shows an Agent alone

  it('every example statement is valid xAPI, uses a catalogue verb and the documented registration', () => {
    expect(examples.length).toBeGreaterThanOrEqual(BUILDERS.length);
    const verbs = new Set<string>(Object.values(VERBS).map((v) => v.id));
    for (const s of examples) {
      expectValidXapi(s);
      expect(verbs.has(s.verb.id), s.verb.id).toBe(true);
      expect(s.context?.registration).toBe(REGISTRATION);
    }
  });

  it('shows every verb of the catalogue at least once', () => {
    expect(new Set(examples.map((s) => s.verb.id))).toEqual(new Set(Object.values(VERBS).map((v) => v.id)));
  });
});
