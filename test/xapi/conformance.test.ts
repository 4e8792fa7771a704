import { createHash, randomUUID } from 'node:crypto';
import XAPIModule from '@xapi/xapi';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';

const XAPI = XAPIModule.default;

/**
 * Cases of the ADL LRS conformance test suite (adlnet/lrs-conformance-test-suite, test/v1_0_3)
 * that Onramp failed when its source was read against the LRS, each named by the suite's
 * requirement text and section. The statements are the suite's templates (templates/statements,
 * activities, contexts), trimmed to what the case needs.
 */
let ctx: TestContext;
let auth: string;
const headers = () => ({ Authorization: auth, 'X-Experience-API-Version': '1.0.3' });
const api = () => supertest(ctx.app);

/** templates/statements/default.json */
const defaultStatement = (extra: Record<string, unknown> = {}) => ({
  actor: { objectType: 'Agent', name: 'xAPI mbox', mbox: 'mailto:xapi@adlnet.gov' },
  verb: { id: 'http://adlnet.gov/expapi/verbs/attended', display: { 'en-GB': 'attended', 'en-US': 'attended' } },
  object: { objectType: 'Activity', id: 'http://www.example.com/meetings/occurances/34534' },
  ...extra,
});
/** templates/statements/object_statementref.json, and with verbs/voided */
const statementRef = (target: string, extra: Record<string, unknown> = {}) => defaultStatement({ object: { objectType: 'StatementRef', id: target }, ...extra });
const voiding = (target: string, extra: Record<string, unknown> = {}) =>
  statementRef(target, { verb: { id: 'http://adlnet.gov/expapi/verbs/voided', display: { 'en-US': 'voided' } }, ...extra });
/** templates/activities/default.json */
const meeting = (id: string) => ({
  objectType: 'Activity',
  id,
  definition: {
    type: 'http://adlnet.gov/expapi/activities/meeting',
    name: { 'en-GB': 'example meeting', 'en-US': 'example meeting' },
    description: { 'en-GB': 'An example meeting that happened on a specific occasion with certain people present.', 'en-US': 'An example meeting that happened on a specific occasion with certain people present.' },
    moreInfo: 'http://virtualmeeting.example.com/345256',
    extensions: { 'http://example.com/profiles/meetings/extension/location': 'X:\\meetings\\minutes\\examplemeeting.one', 'http://example.com/profiles/meetings/extension/reporter': { name: 'Thomas', id: 'http://openid.com/342' } },
  },
});

const post = (body: unknown) => api().post('/xapi/statements').set(headers()).send(body as object);
const get = (query: Record<string, string>) => api().get('/xapi/statements').set(headers()).query(query);

beforeAll(async () => {
  ctx = await createTestContext();
  const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Conformance', scopes: ['all'] });
  auth = XAPI.toBasicAuth(key, secret);
});
afterAll(async () => ctx?.close());

describe('HEAD Request Implementation Requirements (Communication 1.1)', () => {
  it('An LRS responds to a HEAD request in the same way as a GET request, but without the message-body (Communication 1.1.s3.b1)', async () => {
    const agent = JSON.stringify({ objectType: 'Agent', account: { homePage: 'http://www.example.com/agentId/1', name: 'Rick James' } });
    const activityId = 'http://www.example.com/activityId/hashset';
    expect((await post([defaultStatement({ object: { objectType: 'Activity', id: activityId } })])).status).toBe(200);
    const doc = { name: randomUUID(), location: { name: randomUUID() } };
    for (const [path, params] of [
      ['/xapi/activities/state', { activityId, agent, stateId: randomUUID() }],
      ['/xapi/activities/profile', { activityId, profileId: randomUUID() }],
      ['/xapi/agents/profile', { agent, profileId: randomUUID() }],
    ] as const) {
      expect((await api().post(path).set(headers()).query(params).send(doc)).status).toBe(204);
    }
    const resources: [string, Record<string, string>][] = [
      ['/xapi/about', {}],
      ['/xapi/statements', {}],
      ['/xapi/activities', { activityId }],
      ['/xapi/agents', { agent }],
    ];
    for (const [path, query] of resources) {
      const got = await api().get(path).set(headers()).query(query);
      const head = await api().head(path).set(headers()).query(query);
      expect([path, head.status]).toEqual([path, 200]);
      expect(head.text ?? '').toBe('');
      expect(head.headers['content-type']).toBe(got.headers['content-type']);
      expect(head.headers['x-experience-api-version']).toBe('1.0.3');
    }
  });
});

describe('Alternate Request Syntax Requirements (Communication 1.3)', () => {
  it("During an alternate request syntax the LRS treats the listed form parameters, 'Authorization', 'X-Experience-API-Version', 'Content-Type', 'Content-Length', 'If-Match' and 'If-None-Match', as header parameters (Communictation 1.3.s3.b7)", async () => {
    const statementId = randomUUID();
    const form = new URLSearchParams({ statementId, 'X-Experience-API-Version': '0.8', content: JSON.stringify(defaultStatement()) }).toString();
    const res = await api().post('/xapi/statements?method=PUT').set(headers()).type('form').send(form);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/X-Experience-API-Version/);
    expect((await get({ statementId })).status).toBe(404);
  });

  it('A GET request is defined as either a GET request or a POST request containing a GET request (7.2.3, 7.2.2.e)', async () => {
    const res = await api().post('/xapi/statements').set(headers()).type('form').send('limit=1');
    expect(res.status).toBe(200);
    expect(res.body).toHaveProperty('statements');
    expect(res.body).toHaveProperty('more');
    expect(res.body.statements).toHaveLength(1);
  });
});

describe('Statement Resource Requirements (Communication 2.1)', () => {
  it('An LRS\'s Statement Resource upon processing a GET request, returns a header with name "X-Experience-API-Consistent-Through" regardless of the code returned (Communication 2.1.3.s2.b5, XAPI-00153): misusing GET (status code 400)', async () => {
    const res = await api().get('/xapi/statements'); // no version header and no credentials
    expect(res.status).toBe(400);
    expect(res.headers['x-experience-api-consistent-through']).toBeTruthy();
    expect(res.headers['x-experience-api-version']).toBe('1.0.3');
  });

  it('An LRSs Statement API not return attachment data and only return application/json if the "attachment" parameter set to "false" (Communication 2.1.3.s1.b1, XAPI-00161)', async () => {
    const [id] = (await post(defaultStatement())).body as string[];
    const queries: Record<string, string>[] = [{ statementId: id! }, { statementId: id!, attachments: 'false' }, { limit: '1' }];
    for (const query of queries) {
      const res = await get(query);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
    }
  });

  describe('An LRS\'s Statement Resource, upon processing a successful GET request wishing to return a Voided Statement still returns Statements which target it (Communication 2.1.4.s1.b2, XAPI-00162)', () => {
    const verb = `http://adlnet.gov/expapi/test/voided/target/${randomUUID()}`;
    const [voidedId, voidingId, statementRefId] = [randomUUID(), randomUUID(), randomUUID()];
    let voidingTime: string;

    beforeAll(async () => {
      expect((await post(defaultStatement({ id: voidedId, verb: { id: verb } }))).status).toBe(200);
      expect((await post(voiding(voidedId, { id: voidingId }))).status).toBe(200);
      voidingTime = new Date(Date.now() - 10_000).toISOString();
      expect((await post(statementRef(voidedId, { id: statementRefId, verb: { id: verb } }))).status).toBe(200);
    });

    it('should return StatementRef and voiding statement when not using "since", "until", "limit"', async () => {
      const res = await get({ verb });
      expect(res.body.statements.map((s: { id: string }) => s.id)).toEqual([statementRefId, voidingId]);
    });

    it('should only return statements stored after designated "since" timestamp when using "since" parameter', async () => {
      expect(JSON.stringify((await get({ verb, since: voidingTime })).body.statements)).toContain(statementRefId);
    });

    it('should return the number of statements listed in "limit" parameter', async () => {
      const page1 = await get({ verb, limit: '1' });
      expect(page1.body.statements.map((s: { id: string }) => s.id)).toEqual([statementRefId]);
      const page2 = await api().get(page1.body.more).set(headers());
      expect(page2.body.statements.map((s: { id: string }) => s.id)).toEqual([voidingId]);
      expect(page2.body.more).toBe('');
    });

    it('applies the rule recursively (a targets b which targets c) and to every filter, but not to a statement that merely shares a filter with nothing it targets', async () => {
      const agent = { mbox: `mailto:${randomUUID()}@example.com` };
      const [c, b, a] = [randomUUID(), randomUUID(), randomUUID()];
      const activity = `http://www.example.com/activities/${randomUUID()}`;
      const registration = randomUUID();
      await post(defaultStatement({ id: c, actor: agent, object: { id: activity }, context: { registration } }));
      await post([statementRef(c, { id: b }), statementRef(b, { id: a })]);
      const queries: Record<string, string>[] = [{ agent: JSON.stringify(agent) }, { activity }, { registration }, { agent: JSON.stringify(agent), activity }, { activity, related_activities: 'true' }];
      for (const query of queries) {
        const ids = (await get(query)).body.statements.map((s: { id: string }) => s.id);
        expect([query, ids]).toEqual([query, [a, b, c]]);
      }
      expect((await get({ agent: JSON.stringify(agent), verb: 'http://adlnet.gov/expapi/verbs/experienced' })).body.statements).toEqual([]);
    });
  });
});

describe('Activities Resource Requirements (Communication 2.5)', () => {
  it('An LRS\'s Activities Resource upon processing a successful GET request returns the complete Activity Object (Communication 2.5.s1)', async () => {
    const activity = meeting(`http://www.example.com/verify/complete/${randomUUID()}`);
    expect((await post([defaultStatement({ object: activity })])).status).toBe(200);
    const res = await api().get('/xapi/activities').set(headers()).query({ activityId: activity.id });
    expect(res.body).toEqual(activity);
  });

  it('The Activity Object must contain all available information about an activity from any statements who target the same "activityId". For example, LRS accepts two statements each with a different language description of an activity using the exact same "activityId". The LRS must return both language descriptions when a GET request is made to the Activities endpoint for that "activityId" (multiplicity, Communication.md#2.5.s1.table1.row1, XAPI-00254)', async () => {
    const id = `http://www.example.com/verify/complete/${randomUUID()}`;
    const second = meeting(id);
    second.definition.name = { 'fr-FR': 'réunion' } as never;
    expect((await post([defaultStatement({ object: meeting(id) }), defaultStatement({ object: second })])).status).toBe(200);
    const res = await api().get('/xapi/activities').set(headers()).query({ activityId: id });
    expect(res.body.definition.name).toEqual({ 'en-GB': 'example meeting', 'en-US': 'example meeting', 'fr-FR': 'réunion' });
    expect(res.body.definition.type).toBe('http://adlnet.gov/expapi/activities/meeting');
  });
});

describe('Attachments Property Requirements (Data 2.4.11)', () => {
  it('An LRS rejects with error code 400 Bad Request, a Request which uses Attachments and does not have a "Content-Type" header with value "application/json" or "multipart/mixed" (Format, Data 2.4.11, XAPI-00127): should succeed when attachment is raw data and request content-type is "multipart/mixed" (the JPEG part sent as a "binary" string, so as UTF-8)', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xc3, 0xa9, 0x80, 0xff, 0xd9]);
    const sha2 = createHash('sha256').update(jpeg).digest('hex');
    const statement = defaultStatement({ attachments: [{ usageType: 'http://example.com/attachment-usage/test', display: { 'en-US': 'A test attachment' }, contentType: 'image/jpeg', length: jpeg.length, sha2 }] });
    const boundary = '-------314159265358979323846';
    // what the suite does: fs.readFileSync(part, {encoding: 'binary'}), then a string body (sent as UTF-8)
    const body = `--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(statement)}\r\n--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: ${sha2}\r\n\r\n${jpeg.toString('latin1')}\r\n--${boundary}--\r\n`;
    const res = await api().post('/xapi/statements').set(headers()).set('Content-Type', `multipart/mixed; boundary=${boundary}`).send(Buffer.from(body, 'utf8'));
    expect(res.status).toBe(200);
    const back = await api().get('/xapi/statements').set(headers()).query({ statementId: res.body[0], attachments: 'true' }).buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
    expect((back.body as Buffer).includes(jpeg)).toBe(true);
    // bytes that are neither the content nor its UTF-8 spelling still fail
    const wrong = body.replace(jpeg.toString('latin1'), 'not the picture');
    expect((await api().post('/xapi/statements').set(headers()).set('Content-Type', `multipart/mixed; boundary=${boundary}`).send(Buffer.from(wrong, 'utf8'))).status).toBe(400);
  });
});

describe('Statement Lifecycle Requirements (Data 2.3)', () => {
  it('A Voided Statement is defined as a Statement that is not a Voiding Statement and is the Target of a Voiding Statement within the LRS (Data 2.3.2.s2.b3, XAPI-00018)', async () => {
    // the suite's "voided" statement is templates/statements/voided.json: it voids a statement
    // that was never stored, so it voided nothing and may itself be voided
    const voidedId = randomUUID();
    expect((await post(voiding(randomUUID(), { id: voidedId }))).status).toBe(200);
    expect((await post(voiding(voidedId))).status).toBe(200);
    expect((await get({ voidedStatementId: voidedId })).status).toBe(200);
    expect((await get({ statementId: voidedId })).status).toBe(404);
  });

  it('A Voiding Statement cannot Target another Voiding Statement (Data 2.3.2.s2.b7, XAPI-00016; 4.3): should fail when "StatementRef" points to a voided statement or to a voiding statement', async () => {
    const [voidedId] = (await post(defaultStatement())).body as string[];
    const [voidingId] = (await post(voiding(voidedId!))).body as string[];
    const again = await post(voiding(voidedId!));
    expect(again.status).toBe(400);
    expect(again.body.error.message).toMatch(/voided already/);
    const ofVoiding = await post(voiding(voidingId!));
    expect(ofVoiding.status).toBe(400);
    expect(ofVoiding.body.error.message).toMatch(/itself a voiding statement/);
    expect((await get({ statementId: voidingId! })).status).toBe(200);
    // re-sending the voiding statement that is stored is not a second voiding
    const stored = (await get({ statementId: voidingId! })).body as Record<string, unknown>;
    const { stored: _s, authority: _a, version: _v, ...resent } = stored;
    expect((await post(resent)).status).toBe(200);
  });
});

describe('Error Codes and Versioning Requirements (Communication 3.2, 3.3)', () => {
  it('An LRS rejects a Statement of bad authorization (either authentication needed or failed credentials) with error code 401 Unauthorized (Authentication, Communication 4.0, XAPI-00334): fails with a malformed header', async () => {
    const res = await api().put(`/xapi/statements?statementId=${randomUUID()}`).set({ Authorization: `Basic:${Buffer.from('RobCIsNot:AUserOnThisLRS').toString('base64')}`, 'X-Experience-API-Version': '1.0.3' }).send(defaultStatement());
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-experience-api-version']).toBe('1.0.3');
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it('An LRS rejects with error code 400 Bad Request, a Request which does not use a "X-Experience-API-Version" header name to any Resource except the About Resource (Communication 3.3.s4.b1, XAPI-00331), credentials or not', async () => {
    const agent = JSON.stringify({ mbox: 'mailto:xapi@adlnet.gov' });
    for (const [path, query] of [
      ['/xapi/statements', {}],
      ['/xapi/activities/state', { activityId: 'http://www.example.com/a', agent, stateId: 's' }],
      ['/xapi/agents', { agent }],
    ] as const) {
      const res = await api().get(path).query(query);
      expect([path, res.status, res.headers['x-experience-api-version']]).toEqual([path, 400, '1.0.3']);
    }
  });

  it('every /xapi answer carries X-Experience-API-Version, JSON the LRS never parsed and unknown paths included (Communication 3.3.s3.b1)', async () => {
    const malformed = await api().post('/xapi/statements').set(headers()).set('Content-Type', 'application/json').send('{"actor": ');
    expect(malformed.status).toBe(400);
    expect(malformed.headers['x-experience-api-version']).toBe('1.0.3');
    expect(malformed.body.error.message).toMatch(/not valid JSON/);
    const unknown = await api().get('/xapi/nothing-here').set(headers());
    expect(unknown.status).toBe(404);
    expect(unknown.headers['x-experience-api-version']).toBe('1.0.3');
    expect(unknown.headers['content-type']).toMatch(/^application\/json/);
  });
});
