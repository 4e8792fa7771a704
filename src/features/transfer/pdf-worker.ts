/**
 * The PDF thread (started by pdf-pool.ts): takes { id, kind, input } messages, draws the document
 * with documents.ts in one synchronous run (this thread has nothing else to do) and answers
 * { id, ok, pdf } with the PDF's bytes as a transferred ArrayBuffer (no copy back), or
 * { id, ok: false, message } when drawing failed. One job at a time: the pool queues the rest.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import { pdfBuffer, renderScriptPdf, renderWorkbookPdf, type DocumentInput } from './documents.js';

export interface PdfJob {
  id: number;
  kind: 'script' | 'workbook';
  input: DocumentInput;
}
export type PdfAnswer = { id: number; ok: true; pdf: ArrayBuffer } | { id: number; ok: false; message: string };

/** A buffer that owns its whole ArrayBuffer (small Buffers share Node's pool: never transfer that). */
function ownBytes(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer) return buf.buffer;
  const copy = new ArrayBuffer(buf.byteLength);
  new Uint8Array(copy).set(buf);
  return copy;
}

async function run(job: PdfJob): Promise<Buffer> {
  if (job.kind !== 'script' && job.kind !== 'workbook') throw new Error(`unknown document kind '${String(job.kind)}'`);
  const render = job.kind === 'script' ? renderScriptPdf : renderWorkbookPdf;
  return pdfBuffer(render(job.input, { yieldEvery: 'none' }));
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (job: PdfJob) => {
    run(job).then(
      (buf) => {
        const pdf = ownBytes(buf);
        port.postMessage({ id: job.id, ok: true, pdf } satisfies PdfAnswer, [pdf]);
      },
      (err: unknown) => port.postMessage({ id: job.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies PdfAnswer),
    );
  });
}
