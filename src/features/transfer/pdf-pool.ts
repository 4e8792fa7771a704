/**
 * The transfer PDFs, drawn off the web process's event loop: a small pool of worker threads
 * (node:worker_threads) running pdf-worker.ts. Yielding between blocks on the main thread was not
 * enough (bench/pdf: a light route's p99 went 1.95× with downloads running); in a thread of its
 * own the drawing costs the event loop only a message in and a transferred ArrayBuffer out.
 *
 * Threads start on the first render and are reused; each takes one job at a time and the rest wait
 * in a bounded queue. A thread that dies (an uncaught error, a crash, a job over the time limit)
 * rejects its job with an error that says so, and the next job starts a new thread. An idle thread
 * does not keep the process alive; close() stops the threads (the container calls it).
 *
 * Under tsx (npm start, the tests, the benchmarks) this file is pdf-pool.ts and the thread needs
 * the TypeScript loader to run pdf-worker.ts (see newWorker); from the build (dist/, .js) it runs
 * pdf-worker.js, next to this file, as it is.
 */
import { Worker } from 'node:worker_threads';
import type { DocumentInput } from './documents.js';
import type { PdfAnswer, PdfJob } from './pdf-worker.js';

export type PdfKind = 'script' | 'workbook';

export interface PdfPoolOptions {
  /** threads at most (default 1: on a small server a second one competes with the web process) */
  threads?: number;
  /** jobs waiting for a thread at most; more are refused (default 100) */
  maxQueue?: number;
  /** a job taking longer stops its thread (default 30 s) */
  timeoutMs?: number;
}

interface Job {
  id: number;
  kind: PdfKind;
  input: DocumentInput;
  resolve: (pdf: Buffer) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

const isTs = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./pdf-worker${isTs ? '.ts' : '.js'}`, import.meta.url);

/**
 * From the build: the worker file itself. Under tsx: a bootstrap that registers tsx's loader in the
 * thread, then imports the worker (on Node 20 `execArgv: ['--import', 'tsx']` does not reach a
 * worker's entry module: it fails with "Unknown file extension .ts"). tsx is resolved from here,
 * so it is found whatever the working directory.
 */
function newWorker(): Worker {
  if (!isTs) return new Worker(WORKER_URL, { stdout: false, stderr: false });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(boot, { eval: true, stdout: false, stderr: false });
}

export class PdfPool {
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly timeoutMs: number;

  constructor(options: PdfPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.threads ?? 1));
    this.maxQueue = Math.max(0, options.maxQueue ?? 100);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The document as PDF bytes, drawn in a pool thread. */
  render(kind: PdfKind, input: DocumentInput): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (kind !== 'script' && kind !== 'workbook') {
        reject(new Error(`PDF rendering: unknown document kind '${String(kind)}'`));
        return;
      }
      if (this.queue.length >= this.maxQueue) {
        reject(new Error(`PDF rendering: too many documents waiting (${this.queue.length}); try again in a moment`));
        return;
      }
      this.queue.push({ id: this.nextId++, kind, input, resolve, reject });
      this.pump();
    });
  }

  /** Threads running now (for tests and status). */
  get running(): number {
    return this.threads.length;
  }

  /**
   * Stops every thread; jobs waiting or under way are rejected. The pool stays usable: the next
   * render starts a thread again.
   */
  async close(): Promise<void> {
    const closing = this.threads.splice(0);
    const waiting = this.queue.splice(0);
    const err = new Error('PDF rendering: the PDF threads were stopped (shutting down)');
    for (const t of closing) {
      if (t.timer) clearTimeout(t.timer);
      t.job?.reject(err);
      t.job = null;
    }
    for (const j of waiting) j.reject(err);
    await Promise.all(closing.map((t) => t.worker.terminate().catch(() => undefined)));
  }

  /** Stops the threads as a crash would (tests): their jobs fail, the next render starts a new one. */
  async terminateThreads(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private idleThread(): Thread | undefined {
    return this.threads.find((t) => !t.job);
  }

  private pump(): void {
    while (this.queue.length) {
      let thread = this.idleThread();
      if (!thread && this.threads.length < this.size) thread = this.start();
      if (!thread) return;
      this.dispatch(thread, this.queue.shift()!);
    }
  }

  private dispatch(thread: Thread, job: Job): void {
    try {
      thread.worker.postMessage({ id: job.id, kind: job.kind, input: job.input } satisfies PdfJob);
    } catch (err) {
      // the input could not be copied to the thread (a function, a symbol…): this job only
      job.reject(new Error(`PDF rendering (${job.kind}): the input cannot be sent to the PDF thread: ${(err as Error).message}`));
      return;
    }
    thread.job = job;
    thread.worker.ref();
    thread.timer = setTimeout(() => {
      this.fail(thread, new Error(`PDF rendering (${job.kind}): no document after ${this.timeoutMs} ms; the PDF thread was stopped`));
      void thread.worker.terminate();
    }, this.timeoutMs);
    thread.timer.unref();
  }

  private start(): Thread {
    const worker = newWorker();
    const thread: Thread = { worker, job: null, timer: null };
    worker.on('message', (answer: PdfAnswer) => {
      const job = thread.job;
      if (!job || answer.id !== job.id) return;
      if (thread.timer) clearTimeout(thread.timer);
      thread.timer = null;
      thread.job = null;
      worker.unref(); // idle: not a reason for the process to stay up
      if (answer.ok) job.resolve(Buffer.from(answer.pdf));
      else job.reject(new Error(`PDF rendering (${job.kind}) failed: ${answer.message}`));
      this.pump();
    });
    worker.on('error', (err) => this.fail(thread, new Error(`PDF rendering: the PDF thread crashed: ${err.message}`)));
    worker.on('exit', (code) => this.fail(thread, new Error(`PDF rendering: the PDF thread stopped unexpectedly (exit code ${code})`)));
    worker.unref();
    this.threads.push(thread);
    return thread;
  }

  /** A thread is gone (or going): its job fails, it leaves the pool, waiting jobs get a new one. */
  private fail(thread: Thread, err: Error): void {
    const at = this.threads.indexOf(thread);
    if (at >= 0) this.threads.splice(at, 1);
    if (thread.timer) clearTimeout(thread.timer);
    thread.timer = null;
    const job = thread.job;
    thread.job = null;
    job?.reject(err);
    if (at >= 0) this.pump();
  }
}

/** The process's pool: one thread, started on the first download. */
export const pdfPool = new PdfPool();

/** A transfer document as PDF bytes, drawn off the event loop (same input as documents.ts). */
export function renderPdf(kind: PdfKind, input: DocumentInput): Promise<Buffer> {
  return pdfPool.render(kind, input);
}
