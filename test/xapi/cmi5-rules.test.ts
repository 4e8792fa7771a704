import { describe, expect, it } from 'vitest';
import { isSatisfied, MOVE_ON, parseCourse } from '../../src/xapi/cmi5/course.js';
import { checkAuPackage } from './cmi5-helpers.js';
import { validateCurriculum } from '../../src/content/validate.js';
import { fixtureFiles } from '../support/curriculum-fixture.js';
import { CATEGORY, checkAuStatement, checkAuStatements, EXTENSION, VERB, type RegistrationFacts, type SessionFacts } from '../../src/xapi/cmi5/rules.js';

const NS = 'https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd';
const course = (body: string, ns = NS) => `<?xml version="1.0"?>\n<courseStructure xmlns="${ns}">\n  <course id="https://x.example/c"><title><langstring lang="en-US">C</langstring></title></course>\n${body}\n</courseStructure>`;
const au = (attrs: string, url = 'index.html', id = 'https://x.example/c/au') => `  <au id="${id}" ${attrs}><title><langstring lang="en-US">AU</langstring></title><url>${url}</url></au>`;

describe('cmi5.xml', () => {
  it('reads course, blocks and AUs with their launch settings', () => {
    const { course: c, problems } = parseCourse(
      course(`  <block id="https://x.example/c/b"><title><langstring lang="en-US">B</langstring></title>\n${au('moveOn="Passed" masteryScore="0.8" launchMethod="OwnWindow"')}\n  </block>\n${au('', 'https://cdn.example/au2/', 'https://x.example/c/au2')}`),
      (p) => p === 'index.html',
    );
    expect(problems).toEqual([]);
    expect(c!.aus).toEqual([
      expect.objectContaining({ id: 'https://x.example/c/au', moveOn: 'Passed', masteryScore: 0.8, launchMethod: 'OwnWindow', url: 'index.html', blocks: ['https://x.example/c/b'] }),
      expect.objectContaining({ id: 'https://x.example/c/au2', moveOn: 'NotApplicable', masteryScore: null, launchMethod: 'AnyWindow', blocks: [] }),
    ]);
    expect(c!.blocks).toEqual([{ id: 'https://x.example/c/b', title: 'B', children: ['https://x.example/c/au'] }]);
  });

  const bad: [string, string, RegExp, number?][] = [
    ['malformed XML', '<courseStructure><course>', /not well-formed XML/],
    ['a wrong namespace', course(au(''), 'http://example.com/ns'), /must declare xmlns/],
    ['an unknown moveOn', course(au('moveOn="Sometimes"')), /moveOn.*must be one of/, 4],
    ['a masteryScore above 1', course(au('masteryScore="80"')), /masteryScore.*decimal from 0 to 1/],
    ['a relative url not in the package', course(au('', 'missing.html')), /not in the package/],
    ['a url that uses a launch parameter', course(au('', 'index.html?fetch=1')), /launch parameter\(s\) fetch/],
    ['a url outside the package', course(au('', '../index.html')), /inside the package/],
    ['a duplicate id', course(`${au('')}\n${au('')}`), /used twice/],
    ['no AU', course(''), /no <au>/],
    ['an AU id that is not an IRI', course(au('', 'index.html', 'drill')), /absolute IRI/],
  ];
  it.each(bad)('reports %s with the line', (_name, xml, message, line) => {
    const { course: c, problems } = parseCourse(xml, (p) => p === 'index.html');
    expect(c).toBeUndefined();
    expect(problems.map((p) => `${p.field}: ${p.message}`).join('\n')).toMatch(message);
    if (line) expect(problems[0]!.line).toBe(line);
  });

  it('finds a zip or folder package without cmi5.xml at its root', () => {
    expect(checkAuPackage(new Map([['course/cmi5.xml', '<x/>']]))).toMatch(/no cmi5.xml at its root/);
  });

  it.each([
    ['NotApplicable', {}, true],
    ['Passed', { passed: true }, true],
    ['Passed', { completed: true }, false],
    ['Completed', { completed: true }, true],
    ['CompletedAndPassed', { completed: true }, false],
    ['CompletedAndPassed', { completed: true, passed: true }, true],
    ['CompletedOrPassed', { passed: true }, true],
    ['CompletedOrPassed', {}, false],
    ['CompletedAndPassed', { waived: true }, true],
  ] as const)('moveOn %s with %o is satisfied: %s', (moveOn, seen, expected) => {
    expect(MOVE_ON).toContain(moveOn);
    expect(isSatisfied(moveOn, { completed: false, passed: false, waived: false, ...seen })).toBe(expected);
  });
});

describe('the cmi5 rules for AU statements', () => {
  const session: SessionFacts = {
    sessionId: 's-1',
    registration: 'b8f1d3a2-0000-4000-8000-000000000001',
    activityId: 'https://onramp.example/m/drill',
    actor: { homePage: 'https://onramp.example', name: 'rep-1' },
    launchMode: 'Normal',
    masteryScore: 0.8,
    state: 'initialized',
    verbs: [VERB.initialized],
    preferencesRead: true,
  };
  const none: RegistrationFacts = { completed: false, passed: false, waived: false };
  const s = (verb: string, extra: { result?: object; moveOn?: boolean; cmi5?: boolean; ext?: object; object?: string; actor?: object } = {}) => ({
    actor: extra.actor ?? { objectType: 'Agent', account: session.actor },
    verb: { id: verb },
    object: { id: extra.object ?? session.activityId },
    ...(extra.result ? { result: extra.result } : {}),
    context: {
      registration: session.registration,
      contextActivities: { category: [...(extra.cmi5 === false ? [] : [{ id: CATEGORY.cmi5 }]), ...(extra.moveOn ? [{ id: CATEGORY.moveOn }] : [])] },
      extensions: { [EXTENSION.sessionId]: session.sessionId, ...(extra.ext ?? {}) },
    },
  });
  const passed = (scaled: number) => s(VERB.passed, { moveOn: true, result: { success: true, score: { scaled }, duration: 'PT1M' }, ext: { [EXTENSION.masteryScore]: 0.8 } });

  it('accepts a well-formed pass and records it for the registration', () => {
    const v = checkAuStatement(session, none, passed(0.9));
    expect(v).toMatchObject({ ok: true, registration: { passed: true }, session: { verbs: [VERB.initialized, VERB.passed] } });
  });

  const rejected: [string, SessionFacts, RegistrationFacts, Record<string, unknown>, 401 | 403, RegExp][] = [
    ['after terminated', { ...session, state: 'terminated' }, none, passed(0.9), 401, /terminated/],
    ['before initialized', { ...session, state: 'launched', verbs: [] }, none, passed(0.9), 403, /first statement/],
    ['before the learner preferences were read', { ...session, preferencesRead: false }, none, passed(0.9), 403, /cmi5LearnerPreferences/],
    ['from another actor', session, none, s(VERB.passed, { actor: { mbox: 'mailto:x@example.com' } }), 403, /launch actor/],
    ['for another registration', session, none, { ...passed(0.9), context: { ...passed(0.9).context, registration: 'b8f1d3a2-0000-4000-8000-000000000099' } }, 403, /registration/],
    ['a pass below the mastery score', session, none, passed(0.5), 403, /at least the masteryScore/],
    ['a pass without the moveOn category', session, none, s(VERB.passed, { result: { success: true, duration: 'PT1M' } }), 403, /moveOn category/],
    ['a pass without a duration', session, none, s(VERB.passed, { moveOn: true, result: { success: true } }), 403, /duration/],
    ['a completed with success', session, none, s(VERB.completed, { moveOn: true, result: { completion: true, success: true, duration: 'PT1M' } }), 403, /no result.success/],
    ['a second pass in a registration', session, { ...none, passed: true }, passed(0.9), 403, /already passed/],
    ['a fail after a pass', session, { ...none, passed: true }, s(VERB.failed, { moveOn: true, result: { success: false, score: { scaled: 0.1 }, duration: 'PT1M' }, ext: { [EXTENSION.masteryScore]: 0.8 } }), 403, /already passed/],
    ['a pass in Review mode', { ...session, launchMode: 'Review' }, none, passed(0.9), 403, /Review mode/],
    ['a cmi5 statement about another activity', session, none, s(VERB.terminated, { object: 'https://elsewhere.example/a', result: { duration: 'PT1M' } }), 403, /launch activityId/],
    ['a cmi5 statement with a verb cmi5 does not define', session, none, s(VERB.launched), 403, /initialized, completed, passed, failed or terminated/],
    ['a voiding statement', session, none, s(VERB.voided, { cmi5: false }), 403, /may not void/],
    ['the moveOn category on an allowed statement', session, none, s('http://adlnet.gov/expapi/verbs/experienced', { cmi5: false, moveOn: true }), 403, /Only cmi5/],
    ['a wrong masteryscore extension', session, none, s(VERB.passed, { moveOn: true, result: { success: true, score: { scaled: 0.9 }, duration: 'PT1M' }, ext: { [EXTENSION.masteryScore]: 0.5 } }), 403, /must be the launch masteryScore/],
  ];
  it.each(rejected)('rejects %s', (_name, sess, reg, statement, status, message) => {
    const v = checkAuStatement(sess, reg, statement);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.status).toBe(status);
      expect(v.message).toMatch(message);
    }
  });

  it('checks a batch in order, all or nothing', () => {
    const batch = [s(VERB.completed, { moveOn: true, result: { completion: true, duration: 'PT1M' } }), s(VERB.completed, { moveOn: true, result: { completion: true, duration: 'PT1M' } })];
    expect(checkAuStatements(session, none, batch)).toMatchObject({ ok: false, status: 403 });
    expect(checkAuStatements(session, none, [batch[0]!, s(VERB.terminated, { result: { duration: 'PT2M' } })])).toMatchObject({ ok: true, session: { state: 'terminated' }, registration: { completed: true } });
  });
});

describe('modules that launch a cmi5 AU, in content validation', () => {
  const pkg = (xml: string) => ({ name: 'drill', origin: 'demo/cmi5/drill', files: new Map([['cmi5.xml', Buffer.from(xml)], ['index.html', Buffer.from('<html></html>')]]) });
  const module = (extra: string, modality = 'elearning') => `---\nid: drill\ntitle: Drill\nphase: basics\nmodality: ${modality}\nminutes: 5\n${extra}---\nBody.\n`;
  const problemsOf = (extra: string, packages = [pkg(course(au('moveOn="Passed"')))], modality = 'elearning') =>
    validateCurriculum('demo', fixtureFiles({ 'demo/modules/00-drill.md': module(extra, modality) }), packages).problems.map((p) => `${p.file}:${p.line} ${p.field}: ${p.message}`);

  it('completes by the AU (rule cmi5) and names the AU when the course has one', () => {
    const r = validateCurriculum('demo', fixtureFiles({ 'demo/modules/00-drill.md': module('cmi5:\n  package: drill\n') }), [pkg(course(au('moveOn="Passed"')))]);
    expect(r.problems).toEqual([]);
    expect(r.content!.definition.modules.find((m) => m.id === 'drill')).toMatchObject({ completion: { rule: 'cmi5' }, cmi5: { package: 'drill', au: 'https://x.example/c/au' } });
    expect(r.content!.cmi5!.drill!.hash).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    ['an unknown package', 'cmi5:\n  package: nope\n', /unknown cmi5 package 'nope'/],
    ['an AU the package does not have', 'cmi5:\n  package: drill\n  au: https://x.example/other\n', /has no AU 'https:\/\/x.example\/other'/],
    ['the cmi5 rule without a package', 'completion:\n  rule: cmi5\n', /'cmi5' completes a module that launches a cmi5 AU/],
  ])('reports %s at its line', (_name, extra, message) => {
    const problems = problemsOf(extra);
    expect(problems.join('\n')).toMatch(message);
    expect(problems[0]).toMatch(/^demo\/modules\/00-drill\.md:\d+ /);
  });

  it('reports a broken cmi5.xml with the file inside the package', () => {
    expect(problemsOf('cmi5:\n  package: drill\n', [pkg(course(au('moveOn="Never"')))]).join('\n')).toMatch(/^demo\/cmi5\/drill\/cmi5\.xml:4 au https:\/\/x\.example\/c\/au moveOn: must be one of/m);
  });

  it('only elearning modules launch one', () => {
    expect(problemsOf('cmi5:\n  package: drill\nassessment:\n  purpose: check\n  pools:\n    - bank: basics\n', undefined, 'assessment').join('\n')).toMatch(/only elearning modules launch a cmi5 AU/);
  });
});
