import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { XapiError } from './errors.js';
import type { AttachmentPart } from './multipart.js';

type Json = Record<string, unknown>;

export const SIGNATURE_USAGE = 'http://adlnet.gov/expapi/attachments/signature';
const ALGORITHMS: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };


/** The statement as it was before it was signed: no signature attachment, no LRS-set fields. */
function unsigned(s: Json, keepId: boolean): string {
  const { authority: _a, stored: _s, version: _v, attachments, id, ...rest } = s;
  const others = Array.isArray(attachments) ? attachments.filter((a) => (a as Json).usageType !== SIGNATURE_USAGE) : [];
  return canonicalJson({ ...rest, ...(keepId && id !== undefined ? { id } : {}), ...(others.length ? { attachments: others } : {}) });
}

const decode = (part: string) => Buffer.from(part, 'base64url');

/**
 * Checks a signed statement (Data 2.6): the signature attachment is a JWS in compact form with an
 * RS256/384/512 algorithm, whose payload is the statement as signed; when the JWS header carries
 * an x5c certificate chain the signature is verified against its first certificate.
 */
export function checkSignature(statement: Json, index: number, parts: AttachmentPart[]): void {
  const attachments = Array.isArray(statement.attachments) ? (statement.attachments as Json[]) : [];
  const signatures = attachments.filter((a) => a.usageType === SIGNATURE_USAGE);
  if (!signatures.length) return;
  const where = `statement ${index}`;
  if (signatures.length > 1) throw new XapiError(400, `${where} has more than one signature attachment.`);
  const sig = signatures[0]!;
  if (String(sig.contentType).split(';')[0]!.trim().toLowerCase() !== 'application/octet-stream') {
    throw new XapiError(400, `${where}: a signature attachment has contentType application/octet-stream, not ${String(sig.contentType)}.`);
  }
  const part = parts.find((p) => p.sha2 === String(sig.sha2).toLowerCase());
  if (!part) throw new XapiError(400, `${where}: the signature attachment's content (a JWS) must be sent as a multipart part.`);
  const jws = part.content.toString('utf8').trim();
  const pieces = jws.split('.');
  if (pieces.length !== 3 || pieces.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw new XapiError(400, `${where}: the signature is not a JWS in compact serialization.`);
  let header: Json;
  let payload: Json;
  try {
    header = JSON.parse(decode(pieces[0]!).toString('utf8')) as Json;
  } catch {
    throw new XapiError(400, `${where}: the JWS header is not valid JSON.`);
  }
  const hash = ALGORITHMS[String(header.alg)];
  if (!hash) throw new XapiError(400, `${where}: the JWS algorithm must be RS256, RS384 or RS512, not ${String(header.alg)}.`);
  try {
    payload = JSON.parse(decode(pieces[1]!).toString('utf8')) as Json;
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new Error('not an object');
  } catch {
    throw new XapiError(400, `${where}: the JWS payload is not a JSON serialization of the statement.`);
  }
  const hasId = payload.id !== undefined;
  if (unsigned(payload, hasId) !== unsigned(statement, hasId)) throw new XapiError(400, `${where}: the JWS payload differs from the statement it signs.`);
  if (Array.isArray(header.x5c) && header.x5c.length) {
    let key;
    try {
      key = new X509Certificate(Buffer.from(String(header.x5c[0]), 'base64')).publicKey;
    } catch {
      try {
        key = createPublicKey({ key: Buffer.from(String(header.x5c[0]), 'base64'), format: 'der', type: 'spki' });
      } catch {
        throw new XapiError(400, `${where}: the JWS x5c certificate cannot be read.`);
      }
    }
    const ok = verify(hash, Buffer.from(`${pieces[0]}.${pieces[1]}`), key, decode(pieces[2]!));
    if (!ok) throw new XapiError(400, `${where}: the JWS signature does not verify against its x5c certificate.`);
  }
}
