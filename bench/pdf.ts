/**
 * Transfer PDFs: throughput of Onramp's script generator against a bare PDFKit document of the
 * same size, and what concurrent PDF downloads do to the p99 latency of a light route in the same
 * web process.
 *
 *   npm run bench -- pdf        (BENCH_PDFS per side, default 150; BENCH_PINGS per phase, default 3000)
 *
 * Part A alternates the two generators in rounds (same process, same warm-up) and counts PDFs/s.
 * Part A also times the same script through the PDF thread pool (src/features/transfer/pdf-pool.ts:
 * one thread, one PDF at a time as above; and two threads with two PDFs in flight).
 *
 * Part B runs an Express app with GET /ping (JSON) and GET /script.pdf (the generator piped to the
 * response, as a download would be; or, for 'pool' and 'pool2', the PDF drawn in a pool thread, the
 * route awaiting the bytes and sending them as an attachment). A loop of 4 concurrent clients sends
 * the same number of pings in each phase: alone, then with 2 clients downloading PDFs continuously,
 * once per mode (three yield settings on the web thread, then the pool with one and two threads).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import PDFDocument from 'pdfkit';
import { pdfBuffer, renderScriptPdf, scriptMarkup, DEFAULT_YIELD, type YieldEvery } from '../src/features/transfer/documents.js';
import { PdfPool } from '../src/features/transfer/pdf-pool.js';
import { SAMPLE_INPUT } from '../test/support/transfer-sample.js';
import { readPdf, renderPageToPng } from '../test/support/pdf-text.js';

const N = Number(process.env.BENCH_PDFS ?? 150);
const PINGS = Number(process.env.BENCH_PINGS ?? 3000);

// ------------------------------------------------------------ Part A: throughput
const sample = await pdfBuffer(renderScriptPdf(SAMPLE_INPUT));
const pages = (await readPdf(sample)).length;
mkdirSync('test-results', { recursive: true });
writeFileSync('test-results/sample-script.pdf', sample);
const png = await renderPageToPng(sample, 1).catch(() => null);
if (png) writeFileSync('test-results/sample-script-page1.png', png);

// the same words, as plain paragraphs in one font, over the same number of pages
const words = scriptMarkup(SAMPLE_INPUT)
  .split('\n')
  .map((l) => l.replace(/^(#+ |@meta |@link |> ?|\| ?|\* |- \[ \] )/, ''))
  .filter((l) => l && !l.startsWith('---') && !l.startsWith('{{'))
  .join('\n');
function barePdf(): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'LETTER', margin: 68 });
  doc.font('Helvetica').fontSize(10.5);
  const perPage = Math.ceil(words.length / pages);
  for (let p = 0; p < pages; p++) {
    if (p > 0) doc.addPage();
    doc.text(words.slice(p * perPage, (p + 1) * perPage), { width: 476, height: 640, lineGap: 2.5 });
  }
  doc.end();
  return pdfBuffer(doc as never);
}
const bareSize = (await barePdf()).length;

async function timed(fn: () => Promise<unknown>, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return performance.now() - t;
}
const onramp = () => pdfBuffer(renderScriptPdf(SAMPLE_INPUT));
const pool1 = new PdfPool({ threads: 1 });
const pool2 = new PdfPool({ threads: 2 });
const viaPool1 = () => pool1.render('script', SAMPLE_INPUT);
/** two PDFs in flight, so both threads work: counts as two */
const viaPool2 = () => Promise.all([pool2.render('script', SAMPLE_INPUT), pool2.render('script', SAMPLE_INPUT)]);
await timed(onramp, 20);
await timed(barePdf, 20);
await timed(viaPool1, 20); // also starts the thread
await timed(viaPool2, 10);
let onrampMs = 0;
let bareMs = 0;
let pool1Ms = 0;
let pool2Ms = 0;
const ROUNDS = 5;
for (let r = 0; r < ROUNDS; r++) {
  onrampMs += await timed(onramp, Math.ceil(N / ROUNDS));
  bareMs += await timed(barePdf, Math.ceil(N / ROUNDS));
  pool1Ms += await timed(viaPool1, Math.ceil(N / ROUNDS));
  pool2Ms += await timed(viaPool2, Math.ceil(N / ROUNDS / 2));
}
const count = ROUNDS * Math.ceil(N / ROUNDS);
const onrampPerS = (count / onrampMs) * 1000;
const barePerS = (count / bareMs) * 1000;
const pool1PerS = (count / pool1Ms) * 1000;
const pool2PerS = ((ROUNDS * Math.ceil(N / ROUNDS / 2) * 2) / pool2Ms) * 1000;
console.log(`script PDF (${pages} pages, ${sample.length} bytes): Onramp ${onrampPerS.toFixed(1)} PDFs/s · bare PDFKit (${pages} pages, ${bareSize} bytes) ${barePerS.toFixed(1)} PDFs/s · ratio ${(onrampPerS / barePerS).toFixed(2)}`);
console.log(`  through the PDF pool: 1 thread, one at a time ${pool1PerS.toFixed(1)} PDFs/s (ratio ${(pool1PerS / barePerS).toFixed(2)}) · 2 threads, two in flight ${pool2PerS.toFixed(1)} PDFs/s (ratio ${(pool2PerS / barePerS).toFixed(2)})`);

// ------------------------------------------------------------ Part B: the web process's p99
const app = express();
app.get('/ping', (_req, res) => {
  res.json({ ok: true, at: Date.now() });
});
app.get('/script.pdf', async (req, res) => {
  const mode = String(req.query.mode) as Mode;
  if (mode === 'pool' || mode === 'pool2') {
    // as the download route does: the bytes from a pool thread, sent in one piece
    const pdf = await (mode === 'pool' ? pool1 : pool2).render('script', SAMPLE_INPUT);
    res.type('application/pdf').set('Content-Disposition', 'attachment; filename="script.pdf"').send(pdf);
    return;
  }
  res.type('application/pdf');
  renderScriptPdf(SAMPLE_INPUT, { yieldEvery: mode }).pipe(res);
});
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function pingPhase(): Promise<number[]> {
  const latencies: number[] = [];
  let sent = 0;
  const client = async () => {
    while (sent < PINGS) {
      sent++;
      const t = performance.now();
      const r = await fetch(`${base}/ping`);
      await r.json();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all([client(), client(), client(), client()]);
  return latencies.sort((a, b) => a - b);
}
const p = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

type Mode = YieldEvery | 'pool' | 'pool2';
async function withDownloads(mode: Mode | null): Promise<{ p99: number; p50: number; pdfs: number }> {
  let stop = false;
  let pdfs = 0;
  const downloader = async () => {
    while (!stop) {
      const r = await fetch(`${base}/script.pdf?mode=${mode}`);
      await r.arrayBuffer();
      pdfs++;
    }
  };
  const loops = mode ? [downloader(), downloader()] : [];
  await new Promise((r) => setTimeout(r, mode ? 300 : 0)); // downloads under way before measuring
  const lat = await pingPhase();
  stop = true;
  await Promise.all(loops);
  return { p99: p(lat, 0.99), p50: p(lat, 0.5), pdfs };
}

await pingPhase(); // warm-up
const idle = await withDownloads(null);
const modes: Mode[] = ['none', 'section', 'block', 'pool', 'pool2'];
const loaded: Record<string, { p99: number; p50: number; pdfs: number }> = {};
for (const m of modes) loaded[m] = await withDownloads(m);
const idleAgain = await withDownloads(null); // drift check: the baseline measured again at the end
server.close();
await Promise.all([pool1.close(), pool2.close()]);
const baseline = (idle.p99 + idleAgain.p99) / 2; // the mean of the two idle phases (the idle p99 drifts between runs)
console.log(`GET /ping ×${PINGS}, 4 clients: alone p50 ${idle.p50.toFixed(2)} ms p99 ${idle.p99.toFixed(2)} ms (again at the end: p99 ${idleAgain.p99.toFixed(2)} ms)`);
for (const m of modes) {
  const r = loaded[m]!;
  console.log(`  with 2 clients downloading script PDFs, ${m.startsWith('pool') ? `PDF pool, ${m === 'pool' ? 1 : 2} thread(s)` : `yield every ${m}`}: p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms (${r.pdfs} PDFs meanwhile) · p99 ratio ${(r.p99 / baseline).toFixed(2)}`);
}

// the headline is what the download routes do: the one-thread pool (the other modes are for comparison)
const mode: Mode = 'pool';
const chosen = loaded[mode]!;
const chosenPerS = mode === 'pool' ? pool1PerS : onrampPerS;
const figures = {
  pages,
  onramp_pdfs_per_s: Number(onrampPerS.toFixed(1)),
  pool_pdfs_per_s: Number(pool1PerS.toFixed(1)),
  pool2_pdfs_per_s_two_in_flight: Number(pool2PerS.toFixed(1)),
  bare_pdfs_per_s: Number(barePerS.toFixed(1)),
  ping_p99_ms_alone: Number(baseline.toFixed(2)),
  ...Object.fromEntries(modes.map((m) => [m.startsWith('pool') ? `ping_p99_ms_with_pdfs_${m}` : `ping_p99_ms_with_pdfs_yield_${m}`, Number(loaded[m]!.p99.toFixed(2))])),
  pdfs_during_ping_phase: chosen.pdfs,
  mode,
  p99_ratio_yield_block: Number((loaded[DEFAULT_YIELD]!.p99 / baseline).toFixed(2)),
  p99_ratio_pool2: Number((loaded.pool2!.p99 / baseline).toFixed(2)),
  throughput_ratio_onramp_in_process: Number((onrampPerS / barePerS).toFixed(2)),
  throughput_ratio_pool2: Number((pool2PerS / barePerS).toFixed(2)),
};
const ratios = { throughput: Number((chosenPerS / barePerS).toFixed(2)), p99: Number((chosen.p99 / baseline).toFixed(2)) };
console.log(
  JSON.stringify({ bench: 'pdf', figures, ratios, targets: { throughput: '>= 0.5', p99: '<= 1.10' }, met: { throughput: ratios.throughput >= 0.5, p99: ratios.p99 <= 1.1 } }),
);
