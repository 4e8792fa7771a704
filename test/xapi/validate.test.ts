import { describe, expect, it } from 'vitest';
import type { Statement } from '@xapi/xapi';
import {
  agentKey,
  canonicalize,
  isAbsoluteIri,
  isIso8601DateTime,
  isIso8601Duration,
  isLanguageTag,
  isUuid,
  validateStatement,
  validateStatements,
} from '../../src/xapi/validate.js';

type Json = Record<string, unknown>;

const DROP = Symbol('drop');

/** A deep copy of `base` with each `path` (dots and [i]) set to its value, or removed for DROP. */
function patched(base: Json, patches: Record<string, unknown>): Json {
  const copy = structuredClone(base);
  for (const [path, value] of Object.entries(patches)) {
    const keys = path.split(/\.|\[(\d+)\]/).filter((k): k is string => Boolean(k));
    let node = copy;
    for (const k of keys.slice(0, -1)) {
      node[k] ??= {};
      node = node[k] as Json;
    }
    const last = keys.at(-1)!;
    if (value === DROP) delete node[last];
    else node[last] = value;
  }
  return copy;
}

const UUID_1 = 'fd41c918-b88b-4b20-a0a5-a4c32391aaa0';
const UUID_2 = '7ccd3322-e1a5-411a-a67d-6a735c76f119';
const VOIDED = 'http://adlnet.gov/expapi/verbs/voided';
const SHA = '495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a';

const MINIMAL: Json = {
  actor: { mbox: 'mailto:rep@example.com' },
  verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' },
  object: { id: 'https://onramp.example/activities/discovery-call' },
};

const INTERACTION: Json = {
  ...MINIMAL,
  object: {
    objectType: 'Activity',
    id: 'https://onramp.example/activities/quiz/q1',
    definition: {
      name: { 'en-US': 'Pricing question' },
      description: { 'en-US': 'Which tier fits a 40-seat team?' },
      type: 'http://adlnet.gov/expapi/activities/cmi.interaction',
      moreInfo: 'https://onramp.example/help/pricing',
      interactionType: 'choice',
      correctResponsesPattern: ['team', 'team[,]business'],
      choices: [
        { id: 'starter', description: { 'en-US': 'Starter' } },
        { id: 'team', description: { 'en-US': 'Team' } },
      ],
      extensions: { 'https://onramp.example/xapi/ext/module': 'pricing' },
    },
  },
};

/** Every part of a statement at once, with a SubStatement object, a Group actor and attachment metadata. */
const RICH: Json = {
  id: UUID_1,
  actor: {
    objectType: 'Group',
    name: 'Pod East',
    member: [
      { mbox: 'mailto:ana@example.com', name: 'Ana' },
      { objectType: 'Agent', account: { homePage: 'https://crm.example.com', name: 'u-42' } },
    ],
  },
  verb: { id: 'http://adlnet.gov/expapi/verbs/planned', display: { 'en-US': 'planned', 'de-DE': 'plante' } },
  object: {
    objectType: 'SubStatement',
    actor: { openid: 'https://openid.example.com/rep' },
    verb: { id: 'http://adlnet.gov/expapi/verbs/attended' },
    object: structuredClone(INTERACTION.object),
    result: { success: true },
    context: { revision: 'v2', platform: 'Onramp', contextActivities: { parent: { id: 'https://onramp.example/curricula/ae' } } },
    timestamp: '2024-05-18T09:30:00+02:00',
  },
  result: {
    score: { scaled: 0.85, raw: 17, min: 0, max: 20 },
    success: true,
    completion: true,
    response: 'team',
    duration: 'PT4M12.5S',
    extensions: { 'https://onramp.example/xapi/ext/attempt': 2, 'https://onramp.example/xapi/ext/none': null },
  },
  context: {
    registration: UUID_2,
    instructor: { mbox_sha1sum: 'cd9b00a5611f94eaa7b1661edab976068e364975', name: 'Coach' },
    team: { objectType: 'Group', account: { homePage: 'https://crm.example.com', name: 'team-east' }, member: [{ mbox: 'mailto:ana@example.com' }] },
    contextActivities: {
      parent: { id: 'https://onramp.example/curricula/ae' },
      grouping: [{ id: 'https://onramp.example/phases/1' }],
      category: [{ objectType: 'Activity', id: 'https://onramp.example/profiles/onboarding', definition: { type: 'http://adlnet.gov/expapi/activities/profile' } }],
      other: [],
    },
    language: 'en-US',
    statement: { objectType: 'StatementRef', id: UUID_2 },
    extensions: { 'https://onramp.example/xapi/ext/cohort': '2024-05' },
  },
  timestamp: '2024-05-18T07:30:00.123Z',
  stored: '2024-05-18T07:30:01.000+00:00',
  authority: {
    objectType: 'Group',
    member: [{ account: { homePage: 'https://onramp.example/oauth', name: 'consumer-1' } }, { mbox: 'mailto:admin@example.com' }],
  },
  version: '1.0.3',
  attachments: [
    {
      usageType: 'http://adlnet.gov/expapi/attachments/signature',
      display: { 'en-US': 'Signed call plan' },
      description: { 'en-US': 'The plan, signed by the manager' },
      contentType: 'application/pdf',
      length: 27,
      sha2: SHA,
      fileUrl: 'https://files.example.com/plan.pdf',
    },
  ],
};

const AGENT_OBJECT: Json = { ...MINIMAL, object: { objectType: 'Agent', mbox: 'mailto:manager@example.com' } };
const REF_OBJECT: Json = { ...MINIMAL, object: { objectType: 'StatementRef', id: UUID_2 } };
const SUB: Json = { objectType: 'SubStatement', ...MINIMAL };

describe('validateStatement: valid statements', () => {
  it.each<[string, Json]>([
    ['the minimal statement', MINIMAL],
    ['the rich statement (SubStatement, Group actor, attachments)', RICH],
    ['a voiding statement', patched(REF_OBJECT, { 'verb.id': VOIDED })],
    ['an Agent object with objectType', AGENT_OBJECT],
    ['an identified Group actor without members', patched(MINIMAL, { actor: { objectType: 'Group', mbox: 'mailto:team@example.com' } })],
    ['version "1.0", which the suite sends', patched(MINIMAL, { version: '1.0' })],
    ['version "1.0.9"', patched(MINIMAL, { version: '1.0.9' })],
    ['an upper-case statement id', patched(MINIMAL, { id: UUID_1.toUpperCase() })],
    ['a timestamp with a negative offset', patched(MINIMAL, { timestamp: '2024-01-31T23:59:59.999-05:00' })],
    ['a duration in weeks', patched(MINIMAL, { 'result.duration': 'P4W' })],
    ['score scaled at the bounds', patched(MINIMAL, { 'result.score': { scaled: -1, raw: 0, min: 0, max: 1 } })],
    ['a grandfathered and a private-use language tag', patched(MINIMAL, { 'verb.display': { 'i-enochian': 'a', 'x-whatever': 'b', 'zh-cmn-Hans-CN': 'c' } })],
    ['revision on a SubStatement about an Activity', patched(AGENT_OBJECT, { object: { ...SUB, context: { revision: '2' } } })],
  ])('accepts %s', (_name, statement) => {
    const r = validateStatement(statement);
    expect(r.ok ? [] : r.errors).toEqual([]);
  });
});

/** [what is wrong, statement, the one path reported, what the message must say] */
const INVALID: [string, Json, string, RegExp][] = [
  // the statement itself
  ['an unknown top-level property', patched(MINIMAL, { foo: 1 }), 'foo', /"foo" is not a property of a Statement/],
  ['a key in the wrong case', patched(MINIMAL, { Actor: MINIMAL.actor }), 'Actor', /not a property of a Statement/],
  ['a missing actor', patched(MINIMAL, { actor: DROP }), 'actor', /required/],
  ['a missing verb', patched(MINIMAL, { verb: DROP }), 'verb', /required/],
  ['a missing object', patched(MINIMAL, { object: DROP }), 'object', /required/],
  ['a null actor', patched(MINIMAL, { actor: null }), 'actor', /null/],
  ['an id with too many digits', patched(MINIMAL, { id: 'AA97B177-9383-4934-8543-0F91A7A028368' }), 'id', /UUID/],
  ['an id with a non-hex letter', patched(MINIMAL, { id: 'MA97B177-9383-4934-8543-0F91A7A02836' }), 'id', /UUID/],
  ['a numeric id', patched(MINIMAL, { id: 12345 }), 'id', /UUID.*number/],
  ['version 1.1.0', patched(MINIMAL, { version: '1.1.0' }), 'version', /"1\.0" or "1\.0\.x"/],
  ['version 0.9.9', patched(MINIMAL, { version: '0.9.9' }), 'version', /1\.0/],
  // actor
  ['two IFIs on an agent', patched(MINIMAL, { 'actor.openid': 'https://openid.example.com/rep' }), 'actor', /exactly one inverse functional identifier.*2: mbox, openid/],
  ['an agent without an IFI', patched(MINIMAL, { actor: { name: 'Nobody' } }), 'actor', /exactly one.*none/],
  ['mbox without mailto:', patched(MINIMAL, { 'actor.mbox': 'rep@example.com' }), 'actor.mbox', /mailto:/],
  ['mbox_sha1sum that is not 40 hex', patched(MINIMAL, { actor: { mbox_sha1sum: 'xyz' } }), 'actor.mbox_sha1sum', /40 hex/],
  ['openid that is not an IRI', patched(MINIMAL, { actor: { openid: 'not an iri' } }), 'actor.openid', /absolute IRI/],
  ['an account without a name', patched(MINIMAL, { actor: { account: { homePage: 'https://crm.example.com' } } }), 'actor.account.name', /required/],
  ['an account name that is an object', patched(MINIMAL, { actor: { account: { homePage: 'https://crm.example.com', name: { key: 'x' } } } }), 'actor.account.name', /string/],
  ['an account homePage without a scheme', patched(MINIMAL, { actor: { account: { homePage: 'crm.example.com', name: 'u' } } }), 'actor.account.homePage', /absolute IRI/],
  ['an agent name that is a number', patched(MINIMAL, { 'actor.name': 7 }), 'actor.name', /string.*number/],
  ['objectType in the wrong case', patched(MINIMAL, { 'actor.objectType': 'agent' }), 'actor.objectType', /"Agent" or "Group"/],
  ['member on an Agent', patched(MINIMAL, { 'actor.member': [] }), 'actor.member', /belongs to a Group/],
  ['an anonymous Group without members', patched(MINIMAL, { actor: { objectType: 'Group', name: 'Pod' } }), 'actor.member', /required.*anonymous/],
  ['an anonymous Group with an empty member list', patched(MINIMAL, { actor: { objectType: 'Group', member: [] } }), 'actor.member', /empty/],
  ['a Group inside a Group', patched(RICH, { 'actor.member[0]': { objectType: 'Group', mbox: 'mailto:g@example.com' } }), 'actor.member[0].objectType', /Agents, not Groups/],
  ['a member with a bad mbox', patched(RICH, { 'actor.member[1]': { mbox: 'mailto:' } }), 'actor.member[1].mbox', /mailto:/],
  ['a Group with two IFIs', patched(MINIMAL, { actor: { objectType: 'Group', mbox: 'mailto:g@example.com', openid: 'https://id.example.com/g' } }), 'actor', /exactly one.*2/],
  // verb
  ['a verb without id', patched(MINIMAL, { verb: { display: { en: 'did' } } }), 'verb.id', /required/],
  ['a verb id that is not an IRI', patched(MINIMAL, { 'verb.id': 'should fail' }), 'verb.id', /absolute IRI/],
  ['an unknown property inside verb', patched(MINIMAL, { 'verb.foo': 'bar' }), 'verb.foo', /"foo" is not a property of a Verb/],
  ['a display that is a string', patched(MINIMAL, { 'verb.display': 'did' }), 'verb.display', /language map/],
  ['an empty display', patched(MINIMAL, { 'verb.display': {} }), 'verb.display', /empty language map/],
  ['a language map with a bad tag', patched(MINIMAL, { 'verb.display': { 'de-419-DE': 'besucht' } }), 'verb.display["de-419-DE"]', /RFC 5646/],
  ['a language map with a repeated extension singleton', patched(MINIMAL, { 'verb.display': { 'ar-a-aaa-b-bbb-a-ccc': 'x' } }), 'verb.display["ar-a-aaa-b-bbb-a-ccc"]', /RFC 5646/],
  ['a language map value that is null', patched(MINIMAL, { 'verb.display': { 'en-US': null } }), 'verb.display["en-US"]', /string, not null/],
  ['the voided verb with an Activity object', patched(MINIMAL, { 'verb.id': VOIDED }), 'object', /StatementRef.*not an Activity/],
  // object
  ['an Agent object without objectType', patched(MINIMAL, { object: { mbox: 'mailto:manager@example.com' } }), 'object.objectType', /required when the object is an Agent/],
  ['an unknown objectType', patched(MINIMAL, { 'object.objectType': 'activity' }), 'object.objectType', /one of "Activity"/],
  ['an Activity without id', patched(MINIMAL, { object: { objectType: 'Activity' } }), 'object.id', /required/],
  ['an Activity id with a bad scheme', patched(MINIMAL, { 'object.id': 'ab=c://should.fail.com' }), 'object.id', /absolute IRI/],
  ['a definition that is a string', patched(MINIMAL, { 'object.definition': 'should error' }), 'object.definition', /JSON object/],
  ['a definition name that is null', patched(INTERACTION, { 'object.definition.name': null }), 'object.definition.name', /null/],
  ['a definition type that is not an IRI', patched(INTERACTION, { 'object.definition.type': 'should error' }), 'object.definition.type', /absolute IRI/],
  ['a moreInfo that is not an IRL', patched(INTERACTION, { 'object.definition.moreInfo': 'should error' }), 'object.definition.moreInfo', /absolute IRI/],
  ['an interactionType in the wrong case', patched(INTERACTION, { 'object.definition.interactionType': 'choiCe' }), 'object.definition.interactionType', /one of true-false, choice/],
  ['correctResponsesPattern that is a string', patched(INTERACTION, { 'object.definition.correctResponsesPattern': 'team' }), 'object.definition.correctResponsesPattern', /array of strings/],
  ['correctResponsesPattern holding a number', patched(INTERACTION, { 'object.definition.correctResponsesPattern': ['a', 1] }), 'object.definition.correctResponsesPattern[1]', /string/],
  ['choices with interactionType likert', patched(INTERACTION, { 'object.definition.interactionType': 'likert' }), 'object.definition.choices', /not allowed with interactionType "likert"/],
  ['scale without any interactionType', patched(MINIMAL, { 'object.definition': { scale: [{ id: '1' }] } }), 'object.definition.scale', /needs interactionType "likert"/],
  ['two choices with the same id', patched(INTERACTION, { 'object.definition.choices[1].id': 'starter' }), 'object.definition.choices[1].id', /repeats the id "starter"/],
  ['an interaction component with an extra property', patched(INTERACTION, { 'object.definition.choices[0].label': 'x' }), 'object.definition.choices[0].label', /not a property of an interaction component/],
  ['an extensions key that is not an IRI', patched(INTERACTION, { 'object.definition.extensions': { id: 'valid' } }), 'object.definition.extensions["id"]', /extension key "id" is not an absolute IRI/],
  ['extensions that are a string', patched(INTERACTION, { 'object.definition.extensions': 'should error' }), 'object.definition.extensions', /object whose keys are IRIs/],
  ['a StatementRef with a bad id', patched(REF_OBJECT, { 'object.id': 'not-a-uuid' }), 'object.id', /UUID/],
  ['a StatementRef with an extra property', patched(REF_OBJECT, { 'object.definition': {} }), 'object.definition', /not a property of a StatementRef/],
  // SubStatement
  ['a SubStatement with id', patched(RICH, { 'object.id': UUID_2 }), 'object.id', /SubStatement must not have "id"/],
  ['a SubStatement with authority', patched(RICH, { 'object.authority': { mbox: 'mailto:a@example.com' } }), 'object.authority', /must not have "authority"/],
  ['a SubStatement inside a SubStatement', patched(RICH, { 'object.object': SUB }), 'object.object.objectType', /must not contain another SubStatement/],
  ['a SubStatement without a verb', patched(RICH, { 'object.verb': DROP }), 'object.verb', /required in a SubStatement/],
  ['a SubStatement timestamp without a zone', patched(RICH, { 'object.timestamp': '2024-05-18T09:30:00' }), 'object.timestamp', /no time zone/],
  // result
  ['score scaled 1.5', patched(MINIMAL, { 'result.score.scaled': 1.5 }), 'result.score.scaled', /between -1 and 1, not 1\.5/],
  ['raw above max', patched(MINIMAL, { 'result.score': { raw: 0.6767676, max: 0.6567676 } }), 'result.score.raw', /above max/],
  ['raw below min', patched(MINIMAL, { 'result.score': { raw: 3, min: 5 } }), 'result.score.raw', /below min/],
  ['min not below max', patched(MINIMAL, { 'result.score': { min: 10, max: 10 } }), 'result.score.min', /less than max/],
  ['max as a string holding a number', patched(MINIMAL, { 'result.score.max': '100' }), 'result.score.max', /number, not the string "100"/],
  ['a score that is a number', patched(MINIMAL, { 'result.score': 12345 }), 'result.score', /JSON object/],
  ['success as a string', patched(MINIMAL, { 'result.success': 'false' }), 'result.success', /true or false/],
  ['duration "PT1.5.2S"', patched(MINIMAL, { 'result.duration': 'PT1.5.2S' }), 'result.duration', /ISO 8601 duration/],
  ['duration "PA1H0M0S"', patched(MINIMAL, { 'result.duration': 'PA1H0M0S' }), 'result.duration', /ISO 8601 duration/],
  ['a result extensions key that is not an IRI', patched(MINIMAL, { 'result.extensions': { score: 1 } }), 'result.extensions["score"]', /not an absolute IRI/],
  ['an unknown property inside result', patched(MINIMAL, { 'result.passed': true }), 'result.passed', /not a property of a Result/],
  // context
  ['a registration that is not a UUID', patched(MINIMAL, { 'context.registration': 'abc' }), 'context.registration', /UUID/],
  ['a null registration', patched(MINIMAL, { 'context.registration': null }), 'context.registration', /null/],
  ['an instructor with a bad mbox', patched(MINIMAL, { 'context.instructor': { mbox: 'coach@example.com' } }), 'context.instructor.mbox', /mailto:/],
  ['a team that is an Agent', patched(MINIMAL, { 'context.team': { mbox: 'mailto:t@example.com' } }), 'context.team.objectType', /team is a Group/],
  ['an unknown contextActivities key', patched(MINIMAL, { 'context.contextActivities.parents': [] }), 'context.contextActivities.parents', /not a property of contextActivities/],
  ['a context parent with a bad id', patched(RICH, { 'context.contextActivities.parent': [{ id: 'nope' }] }), 'context.contextActivities.parent[0].id', /absolute IRI/],
  ['a context grouping that is a string', patched(MINIMAL, { 'context.contextActivities.grouping': 'x' }), 'context.contextActivities.grouping', /Activity or an array of Activities/],
  ['revision with an Agent object', patched(AGENT_OBJECT, { 'context.revision': '2' }), 'context.revision', /only allowed when the object is an Activity; here it is an Agent/],
  ['platform with a StatementRef object', patched(REF_OBJECT, { 'context.platform': 'LMS' }), 'context.platform', /only allowed when the object is an Activity; here it is a StatementRef/],
  ['a revision that is a number', patched(MINIMAL, { 'context.revision': 2 }), 'context.revision', /string/],
  ['a context language that is not a tag', patched(MINIMAL, { 'context.language': 'something' }), 'context.language', /RFC 5646/],
  ['a context statement without objectType', patched(MINIMAL, { 'context.statement': { id: UUID_2 } }), 'context.statement.objectType', /"StatementRef"/],
  ['a context statement with a bad id', patched(MINIMAL, { 'context.statement': { objectType: 'StatementRef', id: 12345 } }), 'context.statement.id', /UUID/],
  ['context extensions that are an array', patched(MINIMAL, { 'context.extensions': [] }), 'context.extensions', /object whose keys are IRIs, not an array/],
  // timestamps
  ['a timestamp without a zone', patched(MINIMAL, { timestamp: '2024-05-18T09:30:00.000' }), 'timestamp', /no time zone/],
  ['a timestamp with offset -00:00', patched(MINIMAL, { timestamp: '2008-09-15T15:53:00.601-00:00' }), 'timestamp', /-00:00/],
  ['a timestamp with offset -0000', patched(MINIMAL, { timestamp: '2008-09-15T15:53:00.601-0000' }), 'timestamp', /-00:00/],
  ['a timestamp that is not a date', patched(MINIMAL, { timestamp: '01/011/2015' }), 'timestamp', /not an ISO 8601 date-time/],
  ['a timestamp on 30 February', patched(MINIMAL, { timestamp: '2023-02-30T10:00:00Z' }), 'timestamp', /does not exist/],
  ['stored without a zone', patched(MINIMAL, { stored: '2024-05-18T09:30:00' }), 'stored', /no time zone/],
  // attachments
  ['attachments that are an object', patched(RICH, { attachments: (RICH.attachments as Json[])[0] }), 'attachments', /array of Attachment objects/],
  ['an attachment that is a number', patched(MINIMAL, { attachments: [12345] }), 'attachments[0]', /JSON object/],
  ['an attachment usageType that is not an IRI', patched(RICH, { 'attachments[0].usageType': 'should fail' }), 'attachments[0].usageType', /absolute IRI/],
  ['an attachment without sha2', patched(RICH, { 'attachments[0].sha2': DROP }), 'attachments[0].sha2', /required in an Attachment/],
  ['an attachment sha2 that is a number', patched(RICH, { 'attachments[0].sha2': 12345 }), 'attachments[0].sha2', /SHA-2/],
  ['an attachment length that is a string', patched(RICH, { 'attachments[0].length': 'should fail' }), 'attachments[0].length', /whole number/],
  ['an attachment length with a fraction', patched(RICH, { 'attachments[0].length': 2.5 }), 'attachments[0].length', /whole number/],
  ['an attachment contentType that is not a media type', patched(RICH, { 'attachments[0].contentType': 'should fail' }), 'attachments[0].contentType', /media type/],
  ['an attachment fileUrl that is not an IRL', patched(RICH, { 'attachments[0].fileUrl': 'should fail' }), 'attachments[0].fileUrl', /absolute IRI/],
  ['an attachment display that is empty', patched(RICH, { 'attachments[0].display': {} }), 'attachments[0].display', /empty language map/],
  ['an attachment description with a bad tag', patched(RICH, { 'attachments[0].description': { 'de-419-DE': 'x' } }), 'attachments[0].description["de-419-DE"]', /RFC 5646/],
  // authority
  ['an authority Group of three', patched(RICH, { 'authority.member[2]': { mbox: 'mailto:third@example.com' } }), 'authority.member', /exactly two Agents.*not 3/],
  ['an identified authority Group', patched(RICH, { 'authority.mbox': 'mailto:oauth@example.com' }), 'authority.mbox', /must be anonymous/],
  ['an authority Agent with two IFIs', patched(MINIMAL, { authority: { mbox: 'mailto:a@example.com', mbox_sha1sum: 'cd9b00a5611f94eaa7b1661edab976068e364975' } }), 'authority', /exactly one/],
];

describe('validateStatement: invalid statements', () => {
  it.each(INVALID)('rejects %s', (_name, statement, path, message) => {
    const r = validateStatement(statement);
    expect(r.ok).toBe(false);
    const errors = r.ok ? [] : r.errors;
    // Each case breaks one thing, so exactly one problem comes back, at exactly that path.
    expect(errors.map((e) => e.path)).toEqual([path]);
    expect(errors[0]?.message).toMatch(message);
  });

  it('has the breadth the conformance suite needs', () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(60);
  });
});

describe('validateStatement: behaviour', () => {
  it('collects every problem, not only the first', () => {
    const r = validateStatement(patched(MINIMAL, { foo: 1, 'actor.mbox': 'x', 'verb.foo': 2, 'result.score.scaled': 2, timestamp: '2024-01-01T00:00:00' }));
    expect(r.ok ? [] : r.errors.map((e) => e.path).sort()).toEqual(['actor.mbox', 'foo', 'result.score.scaled', 'timestamp', 'verb.foo']);
  });

  it('refuses what is not an object at all', () => {
    for (const input of [null, 'statement', 42, [MINIMAL]]) {
      const r = validateStatement(input);
      expect(r.ok ? [] : r.errors).toEqual([{ path: '', message: expect.stringMatching(/A Statement must be a JSON object/) }]);
    }
  });

  it('does not read keys such as "constructor" from Object.prototype', () => {
    const r = validateStatement(JSON.parse('{"actor":{"mbox":"mailto:a@b.c"},"verb":{"id":"http://x.y/v"},"object":{"id":"http://x.y/o"},"constructor":1,"__proto__":{}}'));
    expect(r.ok ? [] : r.errors.map((e) => e.path)).toEqual(['constructor', '__proto__']);
  });

  it('accepts null as an extension value (only there)', () => {
    expect(validateStatement(patched(MINIMAL, { 'result.extensions': { 'https://x.example/e': null } })).ok).toBe(true);
  });

  it('returns arrays for contextActivities and objectType "Activity" on the object, without touching the input', () => {
    const input = structuredClone(RICH);
    const r = validateStatement(input);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(input).toEqual(RICH);
    expect(r.statement.context?.contextActivities?.parent).toEqual([{ id: 'https://onramp.example/curricula/ae' }]);
    expect(r.statement.context?.contextActivities?.other).toEqual([]);
    const sub = r.statement.object as unknown as Json;
    expect((sub.context as Json).contextActivities).toEqual({ parent: [{ id: 'https://onramp.example/curricula/ae' }] });
    const minimal = validateStatement(MINIMAL);
    expect(minimal.ok && minimal.statement.object).toEqual({ id: 'https://onramp.example/activities/discovery-call', objectType: 'Activity' });
  });

  it('checks the request version header when given one', () => {
    expect(validateStatement(MINIMAL, { version: '1.0.3' }).ok).toBe(true);
    const r = validateStatement(MINIMAL, { version: '2.0.0' });
    expect(r.ok ? [] : r.errors).toEqual([{ path: 'X-Experience-API-Version', message: expect.stringMatching(/1\.0\.x/) }]);
  });
});

describe('validateStatements', () => {
  it('takes a single statement or a batch', () => {
    const one = validateStatements(MINIMAL);
    expect(one.ok && one.statements).toHaveLength(1);
    const many = validateStatements([MINIMAL, RICH]);
    expect(many.ok && many.statements).toHaveLength(2);
  });

  it('prefixes paths with the index of the statement', () => {
    const r = validateStatements([MINIMAL, patched(MINIMAL, { 'actor.mbox': 'nope' }), patched(MINIMAL, { 'verb.foo': 1 })]);
    expect(r.ok ? [] : r.errors.map((e) => e.path)).toEqual(['[1].actor.mbox', '[2].verb.foo']);
  });

  it('refuses an empty batch and a batch that repeats an id', () => {
    const empty = validateStatements([]);
    expect(empty.ok ? [] : empty.errors).toEqual([{ path: '', message: expect.stringMatching(/empty/) }]);
    const twice = validateStatements([patched(MINIMAL, { id: UUID_1 }), patched(MINIMAL, { id: UUID_1.toUpperCase() })]);
    expect(twice.ok ? [] : twice.errors).toEqual([{ path: '[1].id', message: expect.stringMatching(/repeats the id of statement \[0\]/) }]);
  });
});

describe('format helpers', () => {
  it.each<[unknown, boolean]>([
    [UUID_1, true],
    [UUID_1.toUpperCase(), true],
    ['00000000-0000-0000-0000-000000000000', true],
    [UUID_1.replaceAll('-', ''), false],
    [`${UUID_1}0`, false],
    [42, false],
  ])('isUuid(%j) → %s', (v, ok) => expect(isUuid(v)).toBe(ok));

  it.each<[unknown, boolean]>([
    ['http://adlnet.gov/expapi/verbs/completed', true],
    ['urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0', true],
    ['mailto:rep@example.com', true],
    ['https://例え.jp/活動', true],
    ['should fail', false],
    ['ab=c://should.fail.com', false],
    ['/relative/path', false],
    ['http://', false],
    ['http://x.y/a b', false],
    ['http://x.y/%zz', false],
    ['', false],
  ])('isAbsoluteIri(%j) → %s', (v, ok) => expect(isAbsoluteIri(v)).toBe(ok));

  it.each<[string, boolean]>([
    ['2013-05-18T05:32:34.804Z', true],
    ['2008-09-15T15:53:00.601+00:00', true],
    ['2008-09-15T15:53:00+0530', true],
    ['2024-02-29T12:00Z', true],
    ['2008-09-15T15:53:00.601-00', false],
    ['2008-09-15T15:53:00.601-00:00', false],
    ['2008-09-15T15:53:00', false],
    ['2023-02-29T12:00:00Z', false],
    ['2024-05-18T24:00:00Z', false],
    ['2024-05-18 09:30:00Z', false],
  ])('isIso8601DateTime(%j) → %s', (v, ok) => expect(isIso8601DateTime(v)).toBe(ok));

  it.each<[string, boolean]>([
    ['PT1H0M0.1S', true],
    ['PT16559.14S', true],
    ['P3Y1M29DT4H35M59.14S', true],
    ['P4W', true],
    ['PT0.5H', true],
    ['PT1.5.2S', false],
    ['PA1H0M0S', false],
    ['P1.5DT2H', false],
    ['P', false],
    ['PT', false],
    ['P1DT', false],
  ])('isIso8601Duration(%j) → %s', (v, ok) => expect(isIso8601Duration(v)).toBe(ok));

  it.each<[string, boolean]>([
    ['en', true],
    ['zh-Hant', true],
    ['sr-Latn-RS', true],
    ['sl-rozaj-biske', true],
    ['de-CH-1901', true],
    ['hy-Latn-IT-arevela', true],
    ['az-Arab-x-AZE-derbend', true],
    ['es-419', true],
    ['de-419-DE', false],
    ['a-DE', false],
    ['ar-a-aaa-b-bbb-a-ccc', false],
    ['de-1901-1901', false],
    ['something', false],
    ['a12345', false],
    ['en_US', false],
  ])('isLanguageTag(%j) → %s', (v, ok) => expect(isLanguageTag(v)).toBe(ok));
});

describe('agentKey', () => {
  it.each<[unknown, string | null]>([
    [{ mbox: 'mailto:a@b.c' }, 'mbox:mailto:a@b.c'],
    [{ objectType: 'Agent', mbox: 'MAILTO:Rep@Example.COM' }, 'mbox:mailto:Rep@example.com'],
    [{ mbox_sha1sum: 'CD9B00A5611F94EAA7B1661EDAB976068E364975' }, 'mbox_sha1sum:cd9b00a5611f94eaa7b1661edab976068e364975'],
    [{ openid: 'https://openid.example.com/rep' }, 'openid:https://openid.example.com/rep'],
    [{ account: { homePage: 'https://x', name: 'name' } }, 'account:https://x|name'],
    [{ objectType: 'Group', mbox: 'mailto:team@example.com', member: [{ mbox: 'mailto:a@b.c' }] }, 'mbox:mailto:team@example.com'],
    [{ objectType: 'Group', member: [{ mbox: 'mailto:a@b.c' }] }, null],
    [{ mbox: 'mailto:a@b.c', openid: 'https://x' }, null],
    [{ mbox: 'a@b.c' }, null],
    ['mailto:a@b.c', null],
  ])('agentKey(%j) → %s', (agent, key) => expect(agentKey(agent)).toBe(key));
});

describe('canonicalize', () => {
  const statement = patched(RICH, { 'attachments[0].display': { de: 'Plan', 'en-GB': 'Plan (GB)' } }) as unknown as Statement;

  it('keeps the first wanted language each map has, else its first entry', () => {
    const c = canonicalize(statement, ['fr', 'de-DE', 'en']) as unknown as Json;
    expect((c.verb as Json).display).toEqual({ 'de-DE': 'plante' });
    expect((c.attachments as Json[])[0]?.display).toEqual({ 'en-GB': 'Plan (GB)' });
    const inner = ((c.object as Json).object as Json).definition as Json;
    expect(inner.name).toEqual({ 'en-US': 'Pricing question' });
    expect((inner.choices as Json[])[1]).toEqual({ id: 'team', description: { 'en-US': 'Team' } });
    expect(canonicalize(statement, []).verb.display).toEqual({ 'en-US': 'planned' });
  });

  it('leaves agent names, extensions and the input alone', () => {
    const before = structuredClone(statement);
    const withExt = patched(MINIMAL, { 'result.extensions': { 'https://x.example/e': { name: { en: 'a', de: 'b' } } } }) as unknown as Statement;
    expect(canonicalize(withExt, ['de']).result?.extensions).toEqual({ 'https://x.example/e': { name: { en: 'a', de: 'b' } } });
    const c = canonicalize(statement, ['de']) as unknown as Json;
    expect(((c.actor as Json).member as Json[])[0]).toEqual({ mbox: 'mailto:ana@example.com', name: 'Ana' });
    expect(statement).toEqual(before);
  });
});
