import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATEMENTS_COLLECTION, STATEMENT_REFS_COLLECTION } from '../../src/xapi/lrs/store.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { anyJson, corpus, countDocuments, listen, NASTY_STRINGS, Tally } from './support.js';

/**
 * POST and PUT /xapi/statements with bad input: malformed JSON, wrong types, missing parts, bad
 * IRIs, UUIDs and timestamps, huge strings, deep nesting, `$` and dotted keys, and attachments
 * whose multipart parts do not match. Every refusal is a 4xx that names the problem and stores
 * nothing (statements, refs, attachments); every acceptance stores exactly what it answers.
 */
const COLLECTIONS = [STATEMENTS_COLLECTION, STATEMENT_REFS_COLLECTION, 'xapi_attachments'] as const;

let ctx: TestContext;
let http: Awaited<ReturnType<typeof listen>>;
let auth: string;
const tally = new Tally('xapi-statements');

const valid = () => ({
  actor: { objectType: 'Agent', name: 'Fuzz', mbox: 'mailto:fuzz@example.com' },
  verb: { id: 'http://adlnet.gov/expapi/verbs/experienced', display: { 'en-US': 'experienced' } },
  object: { objectType: 'Activity', id: 'https://example.com/activities/fuzz' },
});

interface Case {
  label: string;
  method?: 'post' | 'put';
  /** JSON to send, or a raw string/Buffer sent as is */
  body: unknown;
  raw?: boolean;
  contentType?: string;
  statementId?: string;
  /** the status a hand-picked case must get */
  expect?: number;
  /** what its message must name */
  mentions?: RegExp;
}

async function send(c: Case): Promise<void> {
  const before = await countDocuments(ctx.container.mongo, COLLECTIONS);
  const method = c.method ?? 'post';
  let req = supertest(http.server)[method](`/xapi/statements${c.statementId !== undefined ? `?statementId=${encodeURIComponent(c.statementId)}` : ''}`)
    .set('Authorization', auth)
    .set('X-Experience-API-Version', '1.0.3')
    .set('Content-Type', c.contentType ?? 'application/json');
  req = req.send(c.raw ? (c.body as string | Buffer) : JSON.stringify(c.body));
  const res = await req;
  const after = await countDocuments(ctx.container.mongo, COLLECTIONS);
  const message = (res.body as { error?: { message?: string } } | undefined)?.error?.message ?? '';
  tally.check(c.label, { status: res.status, message }, { before, after, ...(c.expect ? { expectStatus: c.expect } : {}), ...(c.mentions ? { mentions: c.mentions } : {}) });
  if (res.status === 200 || res.status === 204) {
    // accepted: exactly the statements it answered were stored (a re-sent identical one is not stored twice)
    const ids = res.status === 200 ? (res.body as string[]) : [c.statementId!];
    const added = after[STATEMENTS_COLLECTION]! - before[STATEMENTS_COLLECTION]!;
    if (!Array.isArray(ids) || added > ids.length || added < 0) tally.fail(`${c.label}: answered ${JSON.stringify(res.body).slice(0, 80)} but stored ${added}`);
  }
}

/** A multipart/mixed body: the statements first, then each part as given (headers and content). */
function multipart(json: unknown, parts: { headers: string[]; content: Buffer | string }[], boundary = 'fuzzboundary'): Buffer {
  const chunks: (Buffer | string)[] = [`--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(json)}`];
  for (const p of parts) chunks.push(`\r\n--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`, p.content);
  chunks.push(`\r\n--${boundary}--\r\n`);
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const withAttachment = (sha2: string, fileUrl?: string) => ({
  ...valid(),
  attachments: [{ usageType: 'https://example.com/usage/notes', display: { en: 'Notes' }, contentType: 'text/plain', length: 5, sha2, ...(fileUrl ? { fileUrl } : {}) }],
});

/** A statement whose extension value is nested `2 × pairs` deep (an array holding an object, `pairs` times), as text (JSON.stringify cannot write it). */
function nestedStatement(pairs: number): string {
  const s = JSON.stringify({ ...valid(), result: { extensions: { 'https://x.y/deep': 'DEEP' } } });
  return s.replace('"DEEP"', `${'[{"k":'.repeat(pairs)}1${'}]'.repeat(pairs)}`);
}

/** The hand-picked cases: each has the status it must get and what its message must name. */
function handPicked(): Case[] {
  const s = valid();
  const bad = (label: string, body: unknown, mentions: RegExp, extra: Partial<Case> = {}): Case => ({ label, body, expect: 400, mentions, ...extra });
  const cases: Case[] = [
    // not JSON at all
    ...['{', '{"actor":', '[1,2', "{'a':1}", '{"a":1,}', 'NaN', '\u0000', '{"a":01}', '{"a":1}}'].map((text) => bad(`malformed ${JSON.stringify(text)}`, text, /not valid JSON/, { raw: true })),
    bad('empty body', '', /statement|JSON|body/i, { raw: true }),
    bad('text/plain body', JSON.stringify(s), /application\/json/, { raw: true, contentType: 'text/plain' }),
    bad('xml body', '<statement/>', /application\/json/, { raw: true, contentType: 'application/xml' }),
    // not a statement
    ...[null, 0, 'statement', true, {}, [null], [1, 2]].map((v) => bad(`not a statement: ${JSON.stringify(v)}`, v, /statement|actor|JSON/i)),
    bad('empty batch', [], /empty/),
    // missing or wrong parts
    ...(['actor', 'verb', 'object'] as const).map((k) => bad(`missing ${k}`, { ...s, [k]: undefined }, new RegExp(`${k}: is required`))),
    bad('actor is a string', { ...s, actor: 'fuzz@example.com' }, /actor/),
    bad('actor without an identifier', { ...s, actor: { name: 'Nobody' } }, /actor/),
    bad('actor with two identifiers', { ...s, actor: { mbox: 'mailto:a@b.c', account: { homePage: 'https://x.y', name: 'a' } } }, /actor/),
    bad('mbox without mailto', { ...s, actor: { mbox: 'a@b.c' } }, /actor\.mbox/),
    bad('verb is a string', { ...s, verb: 'experienced' }, /verb/),
    bad('verb display not a language map', { ...s, verb: { ...s.verb, display: 'experienced' } }, /verb\.display/),
    bad('verb display with a bad language tag', { ...s, verb: { ...s.verb, display: { 'not a tag!': 'x' } } }, /language tag/),
    bad('object is null', { ...s, object: null }, /object/),
    bad('object is an array', { ...s, object: [s.object] }, /object/),
    bad('unknown objectType', { ...s, object: { objectType: 'Thing', id: 'https://x.y/z' } }, /objectType/),
    bad('a property that is not xAPI', { ...s, score: 1 }, /"score" is not a property/),
    bad('wrong case', { ...s, Actor: s.actor }, /"Actor"/),
    bad('a null property', { ...s, result: null }, /result: is null/),
    // IRIs
    ...['experienced', '', ' http://x.y/v', 'http://', '//x.y/v', 'http://x y/v', 'http://x.y/\u0000'].map((id) => bad(`verb id ${JSON.stringify(id)}`, { ...s, verb: { id } }, /verb\.id/)),
    bad('activity id not an IRI', { ...s, object: { id: 'activity 1' } }, /object\.id/),
    bad('extension key not an IRI', { ...s, result: { extensions: { score: 1 } } }, /extension key "score"/),
    bad('$-prefixed extension key', { ...s, result: { extensions: { $gt: 1 } } }, /extension key "\$gt"/),
    bad('$where extension key', { ...s, context: { extensions: { $where: 'sleep(1000)' } } }, /extension key "\$where"/),
    bad('dotted extension key that is no IRI', { ...s, result: { extensions: { 'a.b.c': 1 } } }, /extension key "a\.b\.c"/),
    bad('__proto__ at the top', JSON.parse('{"actor":{"mbox":"mailto:a@b.c"},"verb":{"id":"http://x.y/v"},"object":{"id":"http://x.y/o"},"__proto__":{"admin":true}}'), /__proto__/),
    bad('constructor in the actor', { ...s, actor: { ...s.actor, constructor: { name: 'x' } } }, /constructor/),
    // UUIDs
    ...['1', 'not-a-uuid', '00000000-0000-0000-0000-00000000000g', '{00000000-0000-0000-0000-000000000000}', '0'.repeat(32)].map((id) => bad(`id ${JSON.stringify(id)}`, { ...s, id }, /^Invalid statement: id: must be a UUID/)),
    bad('registration not a UUID', { ...s, context: { registration: 'reg-1' } }, /context\.registration/),
    { label: 'PUT without statementId', method: 'put', body: s, expect: 400, mentions: /statementId/ },
    { label: 'PUT with a bad statementId', method: 'put', body: s, statementId: 'abc', expect: 400, mentions: /statementId must be a UUID/ },
    { label: 'PUT with a $ne statementId', method: 'put', body: s, statementId: '{"$ne":null}', expect: 400, mentions: /statementId must be a UUID/ },
    { label: 'PUT with an array', method: 'put', body: [s], statementId: randomUUID(), expect: 400, mentions: /not an array/ },
    { label: 'PUT with another id in the body', method: 'put', body: { ...s, id: randomUUID() }, statementId: randomUUID(), expect: 409, mentions: /differs/ },
    // timestamps
    ...['yesterday', '2024-13-01T00:00:00Z', '2024-02-30T10:00:00Z', '2024-01-01T25:00:00Z', '2024-01-01', '1700000000', '2024-01-01T10:00:00+99:00', ''].map((t) => bad(`timestamp ${JSON.stringify(t)}`, { ...s, timestamp: t }, /timestamp/)),
    bad('timestamp a number', { ...s, timestamp: 1_700_000_000 }, /timestamp/),
    bad('duration not ISO 8601', { ...s, result: { duration: '10 minutes' } }, /result\.duration/),
    bad('score out of range', { ...s, result: { score: { scaled: 2 } } }, /result\.score/),
    // batches: one bad statement refuses all of them
    bad('a batch with one bad statement', [s, s, { ...s, verb: { id: 'nope' } }], /\[2\]\.verb\.id/),
    bad('a batch with the same id twice', [{ ...s, id: '6a1e5a0e-2f44-4c8a-9c5e-1d3b1f4a7b21' }, { ...s, id: '6a1e5a0e-2f44-4c8a-9c5e-1d3b1f4a7b21' }], /\[1\]\.id: repeats the id of statement \[0\]/),
    // size and depth
    bad('a 2 MB statement', { ...s, verb: { ...s.verb, display: { en: 'x'.repeat(2_000_000) } } }, /too large/, { expect: 413 }),
    bad('extensions nested 20,000 deep', nestedStatement(10_000), /result\.extensions\["https:\/\/x\.y\/deep"\]: is nested more than 64 levels/, { raw: true }),
    bad('extensions nested 66 deep', nestedStatement(33), /is nested more than 64 levels/, { raw: true }),
    bad('a batch of 5,000 bad statements', Array.from({ length: 5000 }, () => ({ ...s, verb: 'x' })), /verb/),
  ];
  return cases;
}

/** Statements with one part replaced by an arbitrary value, or removed. */
function mutated(): fc.Arbitrary<Case> {
  const paths = [['actor'], ['actor', 'mbox'], ['actor', 'objectType'], ['verb'], ['verb', 'id'], ['verb', 'display'], ['object'], ['object', 'id'], ['object', 'objectType'], ['object', 'definition'], ['id'], ['timestamp'], ['result'], ['result', 'score'], ['result', 'extensions'], ['context'], ['context', 'registration'], ['context', 'extensions'], ['attachments'], ['version'], ['stored'], ['authority']];
  const value = fc.oneof(anyJson, fc.constantFrom(...NASTY_STRINGS), fc.constant(undefined), fc.dictionary(fc.oneof(fc.constantFrom('$gt', '$ne', '$where', 'a.b', '__proto__', 'constructor', 'https://x.y/a.b', 'https://x.y/$set'), fc.string()), anyJson, { maxKeys: 3 }));
  return fc.tuple(fc.constantFrom(...paths), value).map(([path, v]) => {
    const s: Record<string, unknown> = valid();
    let at = s;
    for (const key of path.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
    if (v === undefined) delete at[path.at(-1)!];
    else at[path.at(-1)!] = v;
    return { label: `${path.join('.')} = ${JSON.stringify(v)?.slice(0, 60)}`, body: s };
  });
}

/** Multipart requests whose parts do not match the statements' attachments. */
function attachmentCases(): Case[] {
  const content = 'hello';
  const hash = sha256(content);
  const mixed = 'multipart/mixed; boundary=fuzzboundary';
  const part = (headers: string[], body: string = content) => ({ headers, content: body });
  const good = ['Content-Type: text/plain', 'Content-Transfer-Encoding: binary', `X-Experience-API-Hash: ${hash}`];
  const bad = (label: string, body: Buffer | string, mentions: RegExp, contentType = mixed): Case => ({ label, body, raw: true, contentType, expect: 400, mentions });
  return [
    bad('attachment without fileUrl and without its part', JSON.stringify(withAttachment(hash)), /multipart\/mixed part/, 'application/json'),
    bad('part with another hash', multipart(withAttachment(hash), [part(good, 'other content')]), /does not match its X-Experience-API-Hash/),
    bad('part whose hash no attachment declares', multipart(withAttachment(sha256('x'), 'https://x.y/f'), [part(good)]), /matches the sha2 of no attachment/),
    bad('part without a hash header', multipart(withAttachment(hash), [part(good.slice(0, 2))]), /no X-Experience-API-Hash/),
    bad('part without Content-Transfer-Encoding', multipart(withAttachment(hash), [part([good[0]!, good[2]!])]), /Content-Transfer-Encoding: binary/),
    bad('part without Content-Type', multipart(withAttachment(hash), [part(good.slice(1))]), /no Content-Type/),
    bad('part with a malformed header line', multipart(withAttachment(hash), [part([...good, 'no colon here'])]), /malformed header line/),
    bad('no boundary parameter', multipart(withAttachment(hash), [part(good)]), /no boundary/, 'multipart/mixed'),
    bad('another boundary than the body', multipart(withAttachment(hash), [part(good)]), /no part starting with its boundary/, 'multipart/mixed; boundary=other'),
    bad('multipart/form-data', multipart(withAttachment(hash), [part(good)]), /multipart\/mixed/, 'multipart/form-data; boundary=fuzzboundary'),
    bad('no closing boundary', multipart(withAttachment(hash), [part(good)]).subarray(0, -20), /closing boundary/),
    bad('first part is not JSON', Buffer.from(`--fuzzboundary\r\nContent-Type: text/plain\r\n\r\nhello\r\n--fuzzboundary--\r\n`), /first part/),
    bad('first part is broken JSON', Buffer.from(`--fuzzboundary\r\nContent-Type: application/json\r\n\r\n{"actor":\r\n--fuzzboundary--\r\n`), /not valid JSON/),
    bad('sha2 not hex', JSON.stringify(withAttachment('zz'.repeat(32), 'https://x.y/f')), /sha2/, 'application/json'),
  ];
}

beforeAll(async () => {
  ctx = await createTestContext();
  http = await listen(ctx.app);
  const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Fuzz', scopes: ['all'] });
  auth = `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
});
afterAll(async () => {
  await http?.close();
  await ctx?.close();
});

describe('fuzz: POST/PUT /xapi/statements', () => {
  it('refuses every bad statement with a 400 that names the problem, stores nothing for it, and never fails with a 5xx', async () => {
    for (const c of handPicked()) await send(c);
    for (const c of attachmentCases()) await send(c);
    for (const c of corpus(mutated(), 450)) await send(c);
    for (const [i, v] of corpus(anyJson, 150, 1).entries()) await send({ label: `random JSON #${i} ${JSON.stringify(v).slice(0, 60)}`, body: v });
    for (const [i, bytes] of corpus(fc.uint8Array({ maxLength: 200 }), 100, 2).entries()) await send({ label: `random bytes #${i}`, body: Buffer.from(bytes), raw: true });
    // the same mutations through PUT with a fresh statementId each
    for (const c of corpus(mutated(), 100, 3)) await send({ ...c, method: 'put', statementId: randomUUID(), label: `PUT ${c.label}` });
    tally.report();
    expect(tally.cases).toBeGreaterThan(850);
  });

  it('still accepts a valid statement, with a dotted IRI extension key and $ and dotted keys inside its value stored as sent', async () => {
    const statement = { ...valid(), result: { extensions: { 'https://example.com/ext/a.b.c': { 'x.y': 1, $literal: 'kept' } } } };
    const res = await supertest(http.server).post('/xapi/statements').set('Authorization', auth).set('X-Experience-API-Version', '1.0.3').send(statement).expect(200);
    const got = await supertest(http.server).get(`/xapi/statements?statementId=${(res.body as string[])[0]!}`).set('Authorization', auth).set('X-Experience-API-Version', '1.0.3').expect(200);
    expect(got.body.result.extensions).toEqual(statement.result.extensions);
    // 64 levels inside one extension value are fine (the 65th is refused above)
    const deep = JSON.parse(nestedStatement(32)) as Record<string, unknown>;
    await supertest(http.server).post('/xapi/statements').set('Authorization', auth).set('X-Experience-API-Version', '1.0.3').send(deep).expect(200);
  });
});
