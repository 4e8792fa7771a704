import { STATUS_CODES } from 'node:http';
import XAPIModule, { type Statement } from '@xapi/xapi';
import { writeMixed, type AttachmentPart } from '../lrs/multipart.js';

// The package's types describe its CommonJS build; its class is also its own static `default`.
const XAPI = XAPIModule.default;
type Adapter = NonNullable<ConstructorParameters<typeof XAPI>[0]['adapter']>;

type Json = Record<string, unknown>;

/** What the external LRS made of one request. */
export type SendOutcome =
  | { kind: 'accepted' }
  /** the LRS refuses these statements (400, 409, 413): sending the same request again cannot help */
  | { kind: 'refused'; status: number; message: string }
  /** not reached, no answer in time, or an answer that may change (5xx, 401, 403, 404, 429 …): try later */
  | { kind: 'unavailable'; message: string };

/** The external LRS, as the outbox sees it. */
export interface ForwardClient {
  /** one request: JSON, or multipart/mixed when attachment content goes along */
  send(statements: Json[], parts?: AttachmentPart[]): Promise<SendOutcome>;
}

interface Request {
  url: string;
  method: string;
  headers?: Record<string, string>;
  data?: unknown;
}

/** Statuses that judge the statements themselves, not the moment or the configuration. */
const REFUSED = new Set([400, 409, 413]);

const HINTS: Record<number, string> = {
  401: 'check XAPI_FORWARD_KEY and XAPI_FORWARD_SECRET',
  403: 'the credentials may not write statements there',
  404: 'check XAPI_FORWARD_URL: it is the xAPI endpoint, the address that /statements and /about are under',
};

/**
 * POSTs statements to the LRS at XAPI_FORWARD_URL with its Basic credentials: through @xapi/xapi,
 * except statements with attachment content, which go as multipart/mixed (the package's own
 * multipart writer pairs contents with attachments by position across the whole batch, which
 * breaks as soon as one statement has none).
 */
export class XapiForwardClient implements ForwardClient {
  private readonly xapi: InstanceType<typeof XAPI>;
  private readonly auth: string;

  constructor(
    readonly endpoint: string,
    key: string,
    secret: string,
    private readonly timeoutMs = 20_000,
  ) {
    this.auth = XAPI.toBasicAuth(key, secret);
    this.xapi = new XAPI({ endpoint, auth: this.auth, version: '1.0.3', adapter: this.request as unknown as Adapter });
  }

  async send(statements: Json[], parts: AttachmentPart[] = []): Promise<SendOutcome> {
    let status: number;
    let body: unknown;
    try {
      ({ status, data: body } = parts.length ? await this.sendMixed(statements, parts) : await this.xapi.sendStatements({ statements: statements as unknown as Statement[] }));
    } catch (err) {
      return { kind: 'unavailable', message: `could not reach ${new URL(this.endpoint).host}: ${networkError(err, this.timeoutMs)}` };
    }
    if (status >= 200 && status < 300) return { kind: 'accepted' };
    const excerpt = typeof body === 'string' ? body.replace(/\s+/g, ' ').trim().slice(0, 300) : '';
    const message = `${status} ${STATUS_CODES[status] ?? ''}`.trim() + (excerpt ? `: ${excerpt}` : '');
    if (REFUSED.has(status)) return { kind: 'refused', status, message };
    return { kind: 'unavailable', message: `the external LRS answered ${message}${HINTS[status] ? ` (${HINTS[status]})` : ''}` };
  }

  private sendMixed(statements: Json[], parts: AttachmentPart[]) {
    const { contentType, body } = writeMixed(statements, [...new Map(parts.map((p) => [p.sha2, p])).values()]);
    const headers = { Authorization: this.auth, 'X-Experience-API-Version': '1.0.3', 'Content-Type': contentType };
    return this.request({ url: `${this.endpoint.replace(/\/?$/, '/')}statements`, method: 'POST', headers, data: body });
  }

  /**
   * The transport @xapi/xapi calls. Its own fetch adapter throws the status of an error answer
   * away; this one hands every answer back (the body as text), and gives up after timeoutMs.
   */
  private readonly request = async ({ url, method, headers, data }: Request) => {
    const res = await fetch(url, {
      method,
      headers,
      body: data === undefined ? undefined : Buffer.isBuffer(data) ? data : JSON.stringify(data),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return { data: await res.text(), headers: Object.fromEntries(res.headers.entries()), status: res.status };
  };
}

/** "connect ECONNREFUSED 10.0.0.5:443", "no answer within 20 s" … rather than fetch's bare "fetch failed". */
function networkError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { message?: string; code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  return e?.cause?.message ?? e?.cause?.code ?? e?.message ?? String(err);
}
