import { createHash } from 'node:crypto';
import { XapiError } from './errors.js';

/**
 * multipart/mixed as xAPI 1.0.3 uses it for statements with attachments (Communication 1.5.2):
 * the first part is the statement(s) as application/json, every other part is one attachment's
 * raw content, named by its SHA-2 hash in X-Experience-API-Hash and sent with
 * Content-Transfer-Encoding: binary.
 */
export interface AttachmentPart {
  sha2: string;
  contentType: string;
  content: Buffer;
}

export interface MixedBody {
  json: unknown;
  parts: AttachmentPart[];
}

/** The boundary of a multipart/mixed Content-Type header, or a 400 saying what is wrong. */
export function boundaryOf(contentType: string): string {
  const [type, ...params] = contentType.split(';');
  if (type!.trim().toLowerCase() !== 'multipart/mixed') {
    throw new XapiError(400, `Statements with attachments are sent as multipart/mixed, not ${type!.trim()}.`);
  }
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'boundary') {
      const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (value) return value;
    }
  }
  throw new XapiError(400, 'The multipart/mixed Content-Type header has no boundary parameter.');
}

function headersOf(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new XapiError(400, `A multipart part has a malformed header line: ${JSON.stringify(line.slice(0, 80))}.`);
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

const mediaType = (v: string | undefined) => (v ?? '').split(';')[0]!.trim().toLowerCase();

/** The hash of content with the SHA-2 variant the given hex digest's length implies. */
export function sha2Of(content: Buffer, like: string): string {
  const algorithm = { 56: 'sha224', 64: 'sha256', 96: 'sha384', 128: 'sha512' }[like.length] ?? 'sha256';
  return createHash(algorithm).update(content).digest('hex');
}

/**
 * The part's content if it has the declared hash. Clients that build the body as a JavaScript
 * string from a file read as "binary" (latin1) send every byte above 0x7F as two bytes of UTF-8 —
 * the conformance suite does so with its JPEG attachment; when decoding that UTF-8 gives back
 * bytes with the declared hash, those are the content that was meant.
 */
function matchingContent(content: Buffer, sha2: string): Buffer | null {
  if (sha2Of(content, sha2) === sha2.toLowerCase()) return content;
  const text = content.toString('utf8');
  if ([...text].some((ch) => ch.charCodeAt(0) > 0xff)) return null;
  const bytes = Buffer.from(text, 'latin1');
  return sha2Of(bytes, sha2) === sha2.toLowerCase() ? bytes : null;
}

/** Splits and checks a multipart/mixed statements request (the whole body is in memory). */
export function parseMixed(body: Buffer, contentType: string): MixedBody {
  const boundary = boundaryOf(contentType);
  const delimiter = Buffer.from(`--${boundary}`);
  const sections: Buffer[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new XapiError(400, `The multipart body has no part starting with its boundary "--${boundary}".`);
  let closed = false;
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') {
      closed = true;
      break;
    }
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    // the part is what lies between the CRLF after the delimiter and the CRLF before the next one
    let end = next;
    if (body[end - 1] === 0x0a) end -= body[end - 2] === 0x0d ? 2 : 1;
    let begin = start;
    if (body[begin] === 0x0d) begin++;
    if (body[begin] === 0x0a) begin++;
    sections.push(body.subarray(begin, end));
    at = next;
  }
  if (!closed) throw new XapiError(400, `The multipart body does not end with the closing boundary "--${boundary}--".`);

  const parts = sections.map((section, i) => {
    const split = section.indexOf('\r\n\r\n');
    const lfSplit = section.indexOf('\n\n');
    const [headEnd, gap] = split >= 0 && (lfSplit < 0 || split <= lfSplit) ? [split, 4] : [lfSplit, 2];
    // a part that starts with its blank line has no headers at all
    const headerText = headEnd < 0 ? section.toString('latin1') : section.subarray(0, headEnd).toString('latin1');
    const content = headEnd < 0 ? Buffer.alloc(0) : section.subarray(headEnd + gap);
    return { index: i, headers: headersOf(headerText), content };
  });
  if (!parts.length) throw new XapiError(400, 'The multipart body has no parts.');

  const [first, ...rest] = parts;
  if (mediaType(first!.headers.get('content-type')) !== 'application/json') {
    throw new XapiError(400, 'The first part of a multipart/mixed statements request must be the statement(s) with Content-Type: application/json.');
  }
  let json: unknown;
  try {
    json = JSON.parse(first!.content.toString('utf8'));
  } catch {
    throw new XapiError(400, 'The first multipart part is not valid JSON.');
  }
  return {
    json,
    parts: rest.map((p) => {
      const n = p.index + 1;
      const sha2 = p.headers.get('x-experience-api-hash');
      if (!sha2) throw new XapiError(400, `Multipart part ${n} has no X-Experience-API-Hash header (every part after the statements is an attachment named by its SHA-2).`);
      if ((p.headers.get('content-transfer-encoding') ?? '').toLowerCase() !== 'binary') {
        throw new XapiError(400, `Multipart part ${n} must have the header Content-Transfer-Encoding: binary.`);
      }
      const contentType = p.headers.get('content-type');
      if (!contentType) throw new XapiError(400, `Multipart part ${n} has no Content-Type header.`);
      const content = matchingContent(p.content, sha2);
      if (!content) throw new XapiError(400, `The content of multipart part ${n} does not match its X-Experience-API-Hash ${sha2}.`);
      return { sha2: sha2.toLowerCase(), contentType, content };
    }),
  };
}

/** Writes a multipart/mixed response: the JSON first, then each attachment once. */
export function writeMixed(json: unknown, parts: AttachmentPart[], boundary = `onramp-${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`): { contentType: string; body: Buffer } {
  const chunks: Buffer[] = [Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n`), Buffer.from(JSON.stringify(json), 'utf8')];
  for (const p of parts) {
    chunks.push(Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${p.contentType}\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: ${p.sha2}\r\n\r\n`), p.content);
  }
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
