import { createHash, createPrivateKey, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import XAPIModule, { type Statement } from '@xapi/xapi';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../support/browser.js';
import { createTestContext, type TestContext } from '../support/context.js';

const XAPI = XAPIModule.default;

/** Statements with attachments (multipart/mixed) and signed statements, Data 2.4.11 and 2.6. */
let ctx: TestContext;
let server: Server;
let base: string;
let auth: string;

const FIXTURES = new URL('../fixtures/jws/', import.meta.url);
const signerKey = createPrivateKey(readFileSync(new URL('signer-key.pem', FIXTURES)));
const signerCert = new X509Certificate(readFileSync(new URL('signer-cert.pem', FIXTURES)));
const SIGNATURE = 'http://adlnet.gov/expapi/attachments/signature';
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const statement = (extra: Record<string, unknown> = {}) => ({
  actor: { objectType: 'Agent', name: 'Riley Chen', mbox: 'mailto:riley@example.com' },
  verb: { id: 'http://adlnet.gov/expapi/verbs/completed', display: { 'en-US': 'completed' } },
  object: { objectType: 'Activity', id: 'https://lms.example.com/activities/call-script' },
  ...extra,
});

const attachment = (content: Buffer, extra: Record<string, unknown> = {}) => ({
  usageType: 'http://id.tincanapi.com/attachment/supporting_media',
  display: { 'en-US': 'Call script' },
  contentType: 'text/plain',
  length: content.length,
  sha2: sha256(content),
  ...extra,
});

interface Part {
  headers: Record<string, string>;
  body: Buffer | string;
}

/** A multipart/mixed body written the way the conformance suite writes it (no spaces after colons). */
function mixed(parts: Part[], boundary = '-------314159265358979323846'): { type: string; body: Buffer } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`\r\n--${boundary}\r\n${Object.entries(p.headers).map(([k, v]) => `${k}:${v}`).join('\r\n')}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body));
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--`));
  return { type: `multipart/mixed; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

const jsonPart = (json: unknown): Part => ({ headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(json) });
const filePart = (content: Buffer, extra: Record<string, string> = {}): Part => ({
  headers: { 'Content-Type': 'text/plain', 'Content-Transfer-Encoding': 'binary', 'X-Experience-API-Hash': sha256(content), ...extra },
  body: content,
});

function post(body: { type: string; body: Buffer }) {
  return supertest(ctx.app).post('/xapi/statements').set('Authorization', auth).set('X-Experience-API-Version', '1.0.3').set('Content-Type', body.type).send(body.body);
}

async function count(): Promise<number> {
  return ctx.container.mongo.db!.collection('xapi_statements').countDocuments();
}

/** A JWS (compact) over the statement, as a signing client makes it. */
function jws(payload: unknown, opts: { alg?: string; x5c?: boolean; key?: typeof signerKey } = {}): string {
  const alg = opts.alg ?? 'RS256';
  const header = { alg, ...(opts.x5c ? { x5c: [signerCert.raw.toString('base64')] } : {}) };
  const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  const input = `${enc(header)}.${enc(payload)}`;
  const signature = alg.startsWith('RS') ? sign(`sha${alg.slice(2)}`, Buffer.from(input), opts.key ?? signerKey) : Buffer.from('not-a-signature');
  return `${input}.${signature.toString('base64url')}`;
}

function signed(s: Record<string, unknown>, opts: Parameters<typeof jws>[1] & { payload?: unknown; contentType?: string } = {}) {
  const token = Buffer.from(jws(opts.payload ?? s, opts));
  const withSig = { ...s, attachments: [{ usageType: SIGNATURE, display: { 'en-US': 'Signature' }, contentType: opts.contentType ?? 'application/octet-stream', length: token.length, sha2: sha256(token) }] };
  return { statement: withSig, body: mixed([jsonPart(withSig), { headers: { 'Content-Type': 'application/octet-stream', 'Content-Transfer-Encoding': 'binary', 'X-Experience-API-Hash': sha256(token) }, body: token }]) };
}

beforeAll(async () => {
  ctx = await createTestContext();
  const { key, secret } = await ctx.container.lrsCredentials.issue('system', { name: 'Attachments client', scopes: ['all'] });
  auth = XAPI.toBasicAuth(key, secret);
  ({ server, base } = await serve(ctx.app));
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await ctx?.close();
});

describe('statements with attachments', () => {
  it('a third-party client sends an attachment as multipart/mixed and gets it back with attachments=true', async () => {
    // the fetch adapter: in Node, the default (axios) one replaces the multipart Content-Type of a Blob body
    const xapi = new XAPI({ endpoint: `${base}/xapi/`, auth, version: '1.0.3', adapter: 'fetch' });
    const content = Buffer.from('Hi, this is Riley from Crewline. The reason for my call is');
    const s = statement({ attachments: [attachment(content)] }) as Statement;
    const ids = (
      await xapi.sendStatement({ statement: s, attachments: [content.buffer.slice(content.byteOffset, content.byteOffset + content.length) as ArrayBuffer] }).catch((e: { response?: { data: unknown } }) => {
        throw new Error(JSON.stringify(e.response?.data));
      })
    ).data;
    expect(ids).toHaveLength(1);

    const raw = await fetch(`${base}/xapi/statements?statementId=${ids[0]}&attachments=true`, { headers: { Authorization: auth, 'X-Experience-API-Version': '1.0.3' } });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toMatch(/^multipart\/mixed; boundary=/);
    const text = await raw.text();
    expect(text).toContain(`X-Experience-API-Hash: ${sha256(content)}`);
    expect(text).toContain('Content-Transfer-Encoding: binary');
    expect(text).toContain(content.toString());

    const parsed = (await xapi.getStatement({ statementId: ids[0]!, attachments: true })).data as unknown as unknown[];
    expect(parsed[0]).toMatchObject({ id: ids[0], attachments: [{ sha2: sha256(content) }] });
  });

  it('a query with attachments=true answers multipart with each attachment once; without it, JSON', async () => {
    const content = Buffer.from('Discovery questions: who sets appointments today?');
    const a = statement({ attachments: [attachment(content)], context: { registration: 'b2c7e7b2-0a4e-4a53-9d9b-6d2f1b6c0a11' } });
    const b = { ...a };
    const res = await post(mixed([jsonPart([a, b]), filePart(content)]));
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(2);

    const q = await supertest(ctx.app).get('/xapi/statements?registration=b2c7e7b2-0a4e-4a53-9d9b-6d2f1b6c0a11&attachments=true').set('Authorization', auth).set('X-Experience-API-Version', '1.0.3').buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks).toString()));
    });
    expect(q.status).toBe(200);
    expect(q.headers['content-type']).toMatch(/^multipart\/mixed/);
    const text = q.body as string;
    expect(text.split(`X-Experience-API-Hash: ${sha256(content)}`)).toHaveLength(2); // once, not per statement
    const json = JSON.parse(text.slice(text.indexOf('{'), text.indexOf('\r\n--', text.indexOf('{'))));
    expect(json.statements).toHaveLength(2);

    const plain = await supertest(ctx.app).get('/xapi/statements?registration=b2c7e7b2-0a4e-4a53-9d9b-6d2f1b6c0a11&attachments=false').set('Authorization', auth).set('X-Experience-API-Version', '1.0.3');
    expect(plain.headers['content-type']).toMatch(/^application\/json/);
    expect(plain.body.statements).toHaveLength(2);
  });

  it('accepts an attachment with a fileUrl as plain JSON', async () => {
    const s = statement({ attachments: [attachment(Buffer.from('x'), { fileUrl: 'https://files.example.com/script.txt' })] });
    const res = await supertest(ctx.app).post('/xapi/statements').set('Authorization', auth).set('X-Experience-API-Version', '1.0.3').send(s);
    expect(res.status).toBe(200);
  });

  const content = Buffer.from('Responses to concerns: "We already have a vendor."');
  const withAttachment = statement({ attachments: [attachment(content)] });
  const rejected: [string, () => { type: string; body: Buffer }, RegExp][] = [
    ['the first part is not application/json', () => mixed([{ headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(withAttachment) }, filePart(content)]), /first part .* application\/json/],
    ['a part has no X-Experience-API-Hash', () => mixed([jsonPart(withAttachment), { headers: { 'Content-Type': 'text/plain', 'Content-Transfer-Encoding': 'binary' }, body: content }]), /X-Experience-API-Hash/],
    ['a part is not Content-Transfer-Encoding: binary', () => mixed([jsonPart(withAttachment), filePart(content, { 'Content-Transfer-Encoding': 'base64' })]), /Content-Transfer-Encoding: binary/],
    ['a part\'s hash matches no attachment', () => mixed([jsonPart(withAttachment), filePart(content), filePart(Buffer.from('stray'))]), /matches the sha2 of no attachment/],
    ['a part\'s content does not match its hash', () => mixed([jsonPart(withAttachment), filePart(Buffer.from('tampered'), { 'X-Experience-API-Hash': sha256(content) })]), /does not match its X-Experience-API-Hash/],
    ['an attachment has neither fileUrl nor a part', () => mixed([jsonPart(withAttachment)]), /attachments\[0\] has no fileUrl/],
    ['the statements are split over two parts', () => mixed([jsonPart(statement()), jsonPart(withAttachment), filePart(content)]), /X-Experience-API-Hash/],
    ['the body has no closing boundary', () => ({ type: 'multipart/mixed; boundary=xyz', body: Buffer.from(`--xyz\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(withAttachment)}\r\n`) }), /closing boundary/],
    ['the Content-Type has no boundary', () => ({ ...mixed([jsonPart(withAttachment), filePart(content)]), type: 'multipart/mixed;' }), /no boundary/],
    ['the Content-Type is multipart/form-data', () => ({ ...mixed([jsonPart(withAttachment), filePart(content)]), type: 'multipart/form-data; boundary=-------314159265358979323846' }), /multipart\/mixed, not multipart\/form-data/],
  ];
  it.each(rejected)('rejects with 400 and stores nothing when %s', async (_name, body, message) => {
    const before = await count();
    const res = await post(body());
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
    expect(await count()).toBe(before);
  });

  it('rejects an attachment without fileUrl sent as plain JSON', async () => {
    const res = await supertest(ctx.app).post('/xapi/statements').set('Authorization', auth).set('X-Experience-API-Version', '1.0.3').send(withAttachment);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/multipart\/mixed part/);
  });

  it('PUT takes a multipart statement too', async () => {
    const id = 'a3b6c1d2-5e4f-4a7b-8c9d-0e1f2a3b4c5d';
    const body = mixed([jsonPart(withAttachment), filePart(content)]);
    const res = await supertest(ctx.app).put(`/xapi/statements?statementId=${id}`).set('Authorization', auth).set('X-Experience-API-Version', '1.0.3').set('Content-Type', body.type).send(body.body);
    expect(res.status).toBe(204);
    const got = await ctx.container.statements.one(id, false);
    expect(got.attachments).toEqual([attachment(content)]);
  });
});

describe('signed statements', () => {
  it('stores a statement signed with RS256 (no certificate) and one verified against its x5c certificate', async () => {
    const a = signed(statement({ id: '6f1d4a52-8a56-4b7e-9d5e-0c1a2b3c4d5e' }));
    expect((await post(a.body)).status).toBe(200);
    const b = signed(statement({ id: '7a2e5b63-9b67-4c8f-8e6f-1d2b3c4d5e6f' }), { alg: 'RS384', x5c: true });
    expect((await post(b.body)).status).toBe(200);
    expect((await ctx.container.statements.one('7a2e5b63-9b67-4c8f-8e6f-1d2b3c4d5e6f', false)).attachments).toEqual(b.statement.attachments);
  });

  // a different key: the x5c certificate does not match the signature
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const bad: [string, () => ReturnType<typeof signed>, RegExp][] = [
    ['an HS256 algorithm', () => signed(statement(), { alg: 'HS256' }), /RS256, RS384 or RS512/],
    ['a signature contentType that is not application/octet-stream', () => signed(statement(), { contentType: 'text/plain; charset=ascii' }), /application\/octet-stream/],
    ['a payload that is not JSON', () => signed(statement(), { payload: JSON.stringify(statement()).replace('"', "'") }), /payload is not a JSON serialization/],
    ['a payload that differs from the statement', () => signed(statement(), { payload: statement({ verb: { id: 'http://adlnet.gov/expapi/verbs/failed' } }) }), /differs from the statement/],
    ['a signature that does not verify against its x5c certificate', () => signed(statement(), { x5c: true, key: otherKey }), /does not verify/],
  ];
  it.each(bad)('rejects with 400 a signed statement with %s', async (_name, make, message) => {
    const before = await count();
    const res = await post(make().body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(message);
    expect(await count()).toBe(before);
  });
});
