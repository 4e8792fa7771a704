import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { Express } from 'express';
import fc from 'fast-check';
import { stringify } from 'yaml';
import supertest from 'supertest';
import { expect } from 'vitest';
import { Types, type Connection } from 'mongoose';
import { findCurriculumFolders } from '../../src/content/load.js';
import { validateCurriculum, type SourceFile } from '../../src/content/validate.js';
import { DEMO_PASSWORD } from '../../src/features/accounts/demo-seed.js';
import { csrfFrom, type SignedIn, type TestContext } from '../support/context.js';

/**
 * Shared pieces of the bad-input fuzz tests (test/fuzz/*): a fixed seed so every run sends the same
 * corpus (FUZZ_SEED picks another one), the nasty strings every surface gets, and a tally that
 * checks each answer — a 4xx with a message saying what was wrong, never a 5xx, and nothing
 * written for a refused case — and prints one summary line per surface.
 */
export const SEED = Number(process.env.FUZZ_SEED ?? 20_260_415);

/** `n` values of `arb`, the same ones on every run with the same seed. */
export function corpus<T>(arb: fc.Arbitrary<T>, n: number, salt = 0): T[] {
  return fc.sample(arb, { numRuns: n, seed: SEED + salt });
}

/** Strings that have broken parsers, queries and templates somewhere. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  '\t\r\n',
  '\uFEFF',
  '\uD800', // a lone surrogate
  '😀'.repeat(50),
  'é'.normalize('NFD'),
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x10',
  'true',
  '[]',
  '{}',
  '{"$gt":""}',
  '$where',
  '$ne',
  'a.b.c',
  '__proto__',
  'constructor',
  'prototype',
  '../../etc/passwd',
  '%00',
  '%',
  '%E0%A4%A',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'; DROP TABLE users; --",
  '=cmd|\' /C calc\'!A0',
  '{{constructor.constructor("alert(1)")()}}',
  'x'.repeat(10_000),
];

/** Classic stored-XSS payloads; none of them may come back as live markup. */
export const XSS_PAYLOADS: readonly string[] = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)>",
  '<svg/onload=alert(1)>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '<a href="javascript:alert(1)">x</a>',
  '</textarea><script>alert(1)</script>',
  '</script><script>alert(1)</script>',
  '{{constructor.constructor(\'alert(1)\')()}}',
];

/**
 * Markup that runs script, in a page that shows stored input: a `<script>` other than the page's
 * own (from /assets), an `on…=` attribute in a tag, a `javascript:` address. Escaped text
 * (`&lt;script&gt;`) reads as text and is fine; inert JSON islands are left out first (a payload
 * that closes one early leaves its `<script>` behind and is found).
 */
export function liveMarkupIn(html: string): string[] {
  const page = html.replace(/<script type="application\/json"[^>]*>[\s\S]*?<\/script>/g, '');
  const patterns = [/<script(?![^>]*\bsrc="\/assets\/)[\s>]/gi, /<[a-z][^<>]*[\s/]on[a-z]+\s*=/gi, /\b(?:href|src|action|formaction)\s*=\s*["']?\s*(?:javascript|vbscript|data:text\/html)/gi, /<iframe\b/gi];
  return patterns.flatMap((re) => [...page.matchAll(re)].map((m) => page.slice(Math.max(0, m.index - 40), m.index + 80)));
}

/** Documents in each of `names`: taken before and after a refused case, they must be equal. */
export async function countDocuments(conn: Connection, names: readonly string[]): Promise<Record<string, number>> {
  const counts = await Promise.all(names.map((n) => conn.db!.collection(n).countDocuments({})));
  return Object.fromEntries(names.map((n, i) => [n, counts[i]!]));
}

/** Documents in every collection of the database: for a surface whose writes reach many (a roster, a form). */
export async function countAll(conn: Connection): Promise<Record<string, number>> {
  const names = (await conn.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => !n.startsWith('system.')).sort();
  return countDocuments(conn, names);
}

export interface Answer {
  status: number;
  /** what the answer said was wrong (JSON error message, form error, error page), or '' */
  message: string;
}

/** HTML as the text a reader sees: tags dropped, entities decoded, whitespace folded. */
export function textOf(html: string): string {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#x27': "'", '#39': "'", '#x3D': '=', '#x60': '`' };
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(amp|lt|gt|quot|#x27|#39|#x3D|#x60);/g, (_m, e: string) => entities[e]!)
    .replace(/\s+/g, ' ')
    .trim();
}

/** The message an answer gives: JSON `error.message` (with its problems), a form's error, the error page's text. */
export function messageOf(res: { status: number; text: string; body?: unknown; headers: Record<string, string> }): string {
  const type = res.headers['content-type'] ?? '';
  if (type.includes('json')) {
    const e = (res.body as { error?: { message?: unknown; problems?: { path: string; message: string }[] } } | undefined)?.error;
    const problems = (e?.problems ?? []).map((p) => `${p.path}: ${p.message}`).join('; ');
    return [typeof e?.message === 'string' ? e.message : '', problems].filter(Boolean).join(' ');
  }
  const alerts = [...res.text.matchAll(/<div class="alert alert-error" role="alert">([\s\S]*?)<\/div>/g)].map((m) => textOf(m[1]!));
  const fields = [...res.text.matchAll(/<p class="field-error"[^>]*>([\s\S]*?)<\/p>/g)].map((m) => textOf(m[1]!));
  const errorPage = /<section class="card narrow error-page">[\s\S]*?<h1>([\s\S]*?)<\/h1>\s*<p>([\s\S]*?)<\/p>/.exec(res.text);
  const plain = type.includes('html') ? [] : [res.text.trim().slice(0, 300)];
  return [...alerts, ...fields, ...(errorPage ? [`${textOf(errorPage[1]!)}: ${textOf(errorPage[2]!)}`] : []), ...plain].join(' | ');
}

/**
 * Counts what a surface answered and collects every case that broke a rule; `report` prints the
 * surface's summary line and fails the test with the first few broken cases.
 */
export class Tally {
  cases = 0;
  refused = 0;
  accepted = 0;
  serverErrors = 0;
  partialWrites = 0;
  readonly broken: string[] = [];

  /** `refusedAs` names a refusal in the summary where it is not an HTTP status (a validator's problems) */
  constructor(
    readonly surface: string,
    private readonly refusedAs = '4xx',
  ) {}

  /**
   * One case: `refused` says whether the answer is a refusal (a 4xx unless the caller knows
   * better); a refusal must say what was wrong (matching `mentions` when given) and change no count.
   */
  check(label: string, answer: Answer, opts: { before?: Record<string, number | string>; after?: Record<string, number | string>; refused?: boolean; mentions?: RegExp; expectStatus?: number } = {}): void {
    this.cases++;
    const refused = opts.refused ?? (answer.status >= 400 && answer.status < 500);
    const where = `${label} → ${answer.status} ${answer.message.slice(0, 160)}`;
    if (answer.status >= 500) {
      this.serverErrors++;
      this.broken.push(`5xx: ${where}`);
      return;
    }
    if (opts.expectStatus !== undefined && answer.status !== opts.expectStatus) this.broken.push(`expected ${opts.expectStatus}: ${where}`);
    if (refused) {
      this.refused++;
      if (!answer.message.trim()) this.broken.push(`refused without a message: ${where}`);
      else if (opts.mentions && !opts.mentions.test(answer.message)) this.broken.push(`message does not name ${String(opts.mentions)}: ${where}`);
      if (opts.before && opts.after && JSON.stringify(opts.before) !== JSON.stringify(opts.after)) {
        this.partialWrites++;
        this.broken.push(`partial write ${JSON.stringify(opts.before)} → ${JSON.stringify(opts.after)}: ${where}`);
      }
    } else {
      this.accepted++;
    }
  }

  /** Records a broken rule found outside `check` (a write the answer did not account for, …). */
  fail(message: string): void {
    this.broken.push(message);
  }

  summary(): string {
    return `fuzz ${this.surface}: ${this.cases} cases, ${this.refused} ${this.refusedAs}, ${this.accepted} accepted as valid, ${this.serverErrors} 5xx, ${this.partialWrites} partial writes`;
  }

  /** Prints the summary line (this surface's own, if given) and fails with the broken cases, if any. */
  report(summary = this.summary()): void {
    console.log(summary);
    expect(this.broken.slice(0, 15), `${this.broken.length} broken case(s)`).toEqual([]);
    expect(this.serverErrors).toBe(0);
    expect(this.partialWrites).toBe(0);
  }
}

/** The app on a port of its own for the whole file: one server instead of one per request. */
export async function listen(app: Express): Promise<{ server: Server; close: () => Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, close: () => new Promise((r) => server.close(() => r(undefined))) };
}

/** A browser with a session on `server`, signed in through the sign-in form (or anonymous). */
export async function browserOn(server: Server, email?: string): Promise<SignedIn> {
  const agent = supertest.agent(server);
  const login = await agent.get('/login').expect(200);
  if (!email) return { agent, csrf: csrfFrom(login.text) };
  const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(login.text), email, password: DEMO_PASSWORD });
  if (res.status !== 303) throw new Error(`sign-in as ${email} failed with ${res.status}`);
  const page = await agent.get('/account').expect(200);
  return { agent, csrf: csrfFrom(page.text) };
}

/** A JSON value of any shape, nesting included: what a confused or hostile client might send. */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4 });

/** Strings a form field might carry: the nasty ones and random unicode. */
export const anyText: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 8 }));

// ---- forms: random bodies for a state-changing form, sent and judged ---------------------------------

/** One form (or JSON API) to fuzz: its fields with values that may be valid, and what it writes. */
export interface FuzzForm {
  name: string;
  /** who posts it: a demo email, or anonymous */
  as?: string;
  method: 'post' | 'put' | 'patch';
  url: () => string;
  /** a JSON API (JSON bodies only), else a form (sent form-encoded, and as JSON too) */
  json?: boolean;
  /** each field with values that may be valid: the corpus mixes them with junk */
  fields: Record<string, fc.Arbitrary<unknown>>;
  /** the collections it writes */
  writes: string[];
  /** a fingerprint of the documents it updates (a count cannot see an update) */
  watch?: () => Promise<string>;
  /** the body as sent, given the generated one (e.g. the current revision filled in) */
  prepare?: (body: Record<string, unknown>) => Promise<Record<string, unknown>>;
  /** puts things back after an accepted case, so that the next valid one is possible again */
  reset?: () => Promise<void>;
  cases: number;
}

/** Junk for one field of a form: text, several values (an array), nothing. */
const formJunk = fc.oneof(anyText, fc.array(anyText, { minLength: 2, maxLength: 3 }), fc.constant(undefined));
/** Junk for one field of a JSON body: any JSON, operators, prototype keys. */
export const jsonJunk: fc.Arbitrary<unknown> = fc.oneof(
  anyJson,
  fc.constantFrom({ $gt: '' }, { $ne: null }, { $where: '1' }, { $regex: '.*' }, JSON.parse('{"__proto__":{"admin":true}}') as unknown, { constructor: { prototype: { x: 1 } } }, [], [[]], Number.MAX_SAFE_INTEGER + 2, -1, true),
  fc.constant(undefined),
);
const extraKeys = fc.dictionary(fc.constantFrom('$set', '$where', '__proto__', 'constructor', 'a.b', 'role', 'active', 'passwordHash', 'rev', 'status', '_id'), anyText, { maxKeys: 2 });

/** Bodies for a form: each field valid-looking or junk or missing, sometimes an extra key. */
export function formBodies(form: FuzzForm, json: boolean): fc.Arbitrary<Record<string, unknown>> {
  const junk = json ? jsonJunk : formJunk;
  const fields = Object.fromEntries(Object.entries(form.fields).map(([k, good]) => [k, fc.oneof({ arbitrary: good, weight: 2 }, { arbitrary: junk, weight: 1 })]));
  return fc.tuple(fc.record(fields), extraKeys).map(([body, extra]) => {
    const out: Record<string, unknown> = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
    // defineProperty: a "__proto__" key stays an own key, as JSON.parse makes it
    for (const [k, v] of Object.entries(extra)) Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
    return out;
  });
}

/** A form body as a browser (or a forger) encodes it: repeated keys for arrays, `key[$op]` for objects. */
export function formEncoded(body: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) {
    if (Array.isArray(v)) for (const x of v) params.append(k, String(x));
    else if (v && typeof v === 'object') for (const [op, x] of Object.entries(v)) params.append(`${k}[${op}]`, String(x));
    else params.append(k, String(v));
  }
  return params.toString();
}

/** Most ids are ObjectIds; some are strings (a delivery's is `<user id>-<slot ms>`). */
const idOf = (id: string): never => (/^[0-9a-f]{24}$/i.test(id) ? new Types.ObjectId(id) : id) as never;

/** Sends forms with random bodies as their users would, and judges every answer into a tally. */
export class FormFuzzer {
  private readonly browsers = new Map<string, SignedIn>();

  constructor(
    private readonly ctx: TestContext,
    private readonly server: Server,
    readonly tally: Tally,
  ) {}

  /** The signed-in browser of `as` (anonymous for ''), kept across cases. */
  async browser(as = ''): Promise<SignedIn> {
    if (!this.browsers.has(as)) this.browsers.set(as, await browserOn(this.server, as || undefined));
    return this.browsers.get(as)!;
  }

  /** Forgets a browser (its session ended, e.g. it signed in): the next case gets a new one. */
  forget(as = ''): void {
    this.browsers.delete(as);
  }

  /** A fingerprint of one document, its `updatedAt` left out (a read that upserts touches it). */
  watch(collection: string, id: string): () => Promise<string> {
    return async () => {
      const found = await this.ctx.container.mongo.db!.collection<Record<string, unknown>>(collection).findOne({ _id: idOf(id) });
      const { updatedAt: _touched, ...rest }: Record<string, unknown> = found ?? {};
      return createHash('sha1').update(JSON.stringify(rest)).digest('hex').slice(0, 10);
    };
  }

  /** The document as it is now; calling the result puts it back. */
  async snapshot(collection: string, id: string): Promise<() => Promise<void>> {
    const col = this.ctx.container.mongo.db!.collection(collection);
    const saved = await col.findOne({ _id: idOf(id) });
    return async () => {
      await col.replaceOne({ _id: idOf(id) }, saved!);
    };
  }

  /** Every form: its corpus (form-encoded and JSON), then a few bodies without the CSRF token. */
  async run(forms: FuzzForm[]): Promise<void> {
    for (const [n, form] of forms.entries()) {
      const encodings = form.json ? [true] : [false, true];
      for (const json of encodings) {
        for (const [i, body] of corpus(formBodies(form, json), Math.ceil(form.cases / encodings.length), n * 10 + Number(json)).entries()) {
          await this.send(form, `#${i} ${JSON.stringify(body).slice(0, 120)}`, body, { json, csrf: true });
        }
      }
      // the same form without its token: 403 whatever it holds
      for (const [i, body] of corpus(formBodies(form, false), 3, 1000 + n).entries()) await this.send(form, `#${i} ${JSON.stringify(body).slice(0, 120)}`, body, { json: Boolean(form.json), csrf: false });
    }
  }

  /** Sends one case and judges the answer: a redirect is followed to read its flash. */
  async send(form: FuzzForm, label: string, body: Record<string, unknown>, opts: { json: boolean; csrf: boolean }): Promise<void> {
    const b = await this.browser(form.as);
    const state = async () => ({ ...(await countDocuments(this.ctx.container.mongo, form.writes)), ...(form.watch ? { watched: await form.watch() } : {}) });
    const before = await state();
    const sent = form.prepare ? await form.prepare(body) : body;
    let req = b.agent[form.method](form.url()).set('Accept', form.json ? 'application/json' : 'text/html');
    if (opts.csrf) req = req.set('X-CSRF-Token', b.csrf);
    const res = opts.json ? await req.type('json').send(JSON.stringify(sent)) : await req.type('form').send(formEncoded(sent));
    const after = await state();
    let status = res.status;
    let message = messageOf(res);
    if (status === 303 || status === 302) {
      // Post/Redirect/Get: the page it leads to says whether it worked (an error flash) or not
      const location = String(res.headers.location);
      const next = await b.agent.get(location).set('Accept', 'text/html');
      const error = /<div class="alert alert-error" role="alert">([\s\S]*?)<\/div>/.exec(next.text);
      if (error) {
        status = 409; // a refusal told by flash: counted with the 4xx
        message = textOf(error[1]!);
      } else if (new URL(location, 'http://x').pathname === '/login') {
        status = 401;
        message = 'sent to the sign-in page';
      }
    }
    const where = `${form.name} ${opts.json ? 'json' : 'form'}${opts.csrf ? '' : ' without CSRF'}: ${label}`;
    this.tally.check(where, { status, message }, { before, after, ...(opts.csrf ? {} : { expectStatus: 403, mentions: /form expired/ }) });
    if (status < 400 && form.reset) await form.reset();
  }
}

// ---- content files: mutations of a curriculum folder -----------------------------------------------

/** The sample curriculum, read once: what the content fuzz tests mutate. */
export const SAMPLE = findCurriculumFolders('content/curricula/new-rep-onboarding')[0]!;
const ALIAS_BOMB = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]'].join('\n');

export type Mutation =
  | { kind: 'replace-line' | 'insert-line'; file: number; line: number; text: string }
  | { kind: 'delete-line' | 'double-line'; file: number; line: number }
  | { kind: 'set-value'; file: number; line: number; value: string }
  | { kind: 'truncate'; file: number; at: number }
  | { kind: 'replace-file'; file: number; text: string }
  | { kind: 'delete-file' | 'copy-file' | 'crlf' | 'bom' | 'tabs'; file: number };

export const YAML_TRICKS = [ALIAS_BOMB, 'id: *nowhere', 'id: a\n---\nid: b', '__proto__: {polluted: true}\nconstructor: {prototype: {x: 1}}', `id: ${'['.repeat(3000)}${']'.repeat(3000)}`, '!!js/function "alert(1)"', '? [complex, key]\n: value', 'id: !!binary aGVsbG8=', '<<: {id: merged}', 'id: 1e309\nminutes: .nan', '\t- tabbed', '---\n---\n---', ''];

const anyLine = fc.oneof(fc.constantFrom(...NASTY_STRINGS, ...YAML_TRICKS), fc.string({ unit: 'grapheme', maxLength: 60 }), fc.jsonValue({ maxDepth: 3 }).map((v) => stringify(v)));
const anyValue = fc.oneof(fc.constantFrom('', '-1', '0', '1e309', '.inf', '.nan', '~', 'null', '[]', '{}', 'true', '"unclosed', '&anchor', '*alias', '!!str', '|', '>-', 'x'.repeat(5000), 'UPPER_CASE', '../../etc', '$set', 'a.b'), fc.string({ maxLength: 20 }), fc.integer().map(String), fc.double().map(String));

export function contentMutation(files: number): fc.Arbitrary<Mutation> {
  const file = fc.nat({ max: files - 1 });
  const line = fc.nat({ max: 400 });
  return fc.oneof(
    fc.record({ kind: fc.constantFrom('replace-line' as const, 'insert-line' as const), file, line, text: anyLine }),
    fc.record({ kind: fc.constantFrom('delete-line' as const, 'double-line' as const), file, line }),
    { arbitrary: fc.record({ kind: fc.constant('set-value' as const), file, line, value: anyValue }), weight: 3 },
    fc.record({ kind: fc.constant('truncate' as const), file, at: fc.nat({ max: 20_000 }) }),
    fc.record({ kind: fc.constant('replace-file' as const), file, text: anyLine }),
    fc.record({ kind: fc.constantFrom('delete-file' as const, 'copy-file' as const, 'crlf' as const, 'bom' as const, 'tabs' as const), file }),
  );
}

/** Content files with the mutations applied, in order (line and file numbers wrap around). */
export function apply(files: SourceFile[], mutations: Mutation[]): SourceFile[] {
  let out = files.map((f) => ({ ...f }));
  for (const m of mutations) {
    if (!out.length) break;
    const f = out[m.file % out.length]!;
    const lines = f.text.split('\n');
    const i = 'line' in m ? m.line % lines.length : 0;
    switch (m.kind) {
      case 'replace-line': lines[i] = m.text; break;
      case 'insert-line': lines.splice(i, 0, m.text); break;
      case 'delete-line': lines.splice(i, 1); break;
      case 'double-line': lines.splice(i, 0, lines[i]!); break;
      case 'set-value': {
        // the next `key: value` line from here gets another value
        const at = lines.findIndex((l, n) => n >= i && /^\s*-?\s*[\w-]+:\s*\S/.test(l));
        if (at >= 0) lines[at] = lines[at]!.replace(/:\s.*$/, `: ${m.value}`);
        break;
      }
      case 'truncate': f.text = f.text.slice(0, m.at % (f.text.length + 1)); continue;
      case 'replace-file': f.text = m.text; continue;
      case 'delete-file': out = out.filter((x) => x !== f); continue;
      case 'copy-file': out.push({ path: f.path.replace(/(\.\w+)$/, '-copy$1'), text: f.text }); continue;
      case 'crlf': f.text = f.text.replace(/\n/g, '\r\n'); continue;
      case 'bom': f.text = `\uFEFF${f.text}`; continue;
      case 'tabs': f.text = f.text.replace(/^( {2})+/gm, (s) => '\t'.repeat(s.length / 2)); continue;
    }
    f.text = lines.join('\n');
  }
  return out;
}

/** A validation that kept its promise: no throw, problems that point somewhere, content only when clean. */
export function verdict(files: SourceFile[], folder: { name: string; packages: typeof SAMPLE.packages } = SAMPLE): { ok: boolean; problems: number; broken?: string } {
  let result: ReturnType<typeof validateCurriculum>;
  try {
    result = validateCurriculum(folder.name, files, folder.packages);
  } catch (err) {
    return { ok: false, problems: 0, broken: `threw ${(err as Error).name}: ${(err as Error).message}` };
  }
  const paths = new Set(files.map((f) => f.path));
  const lost = result.problems.find((p) => !p.message.trim() || !Number.isInteger(p.line) || p.line < 1 || (!paths.has(p.file) && !p.file.includes(folder.name)));
  if (lost) return { ok: false, problems: result.problems.length, broken: `a problem that points nowhere: ${JSON.stringify(lost)}` };
  if (!result.problems.length && !result.content) return { ok: false, problems: 0, broken: 'no problems and no content' };
  return { ok: !result.problems.length, problems: result.problems.length };
}
