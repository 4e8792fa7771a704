import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../../support/until.js';
import { Redis } from 'ioredis';
import { waitForPort } from '../../../src/infra/embedded/child-process.js';
import type { WorkerMessage } from './worker-process.js';

/**
 * Child processes for the fault tests: the real worker (worker-process.ts), and a redis-server and
 * a FerretDB of the test's own. Everything started here is remembered and ended by `endAll()`
 * (afterAll), also when a test failed halfway.
 */

const ROOT = join(import.meta.dirname, '..', '..', '..');
const WORKER = join(import.meta.dirname, 'worker-process.ts');
export { until };

const started = new Set<{ end(): Promise<void> }>();


function exitOf(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface WorkerOptions {
  mongodbUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** the fake clock: Date.now() + offsetMs */
  offsetMs: number;
  /** userId → the crash point where that rep's delivery stops */
  pause?: Record<string, 'delivery-created' | 'email-queued' | 'deck-saved'>;
  concurrency?: number;
  lockMs?: number;
  stalledMs?: number;
  /** more environment for the worker (e.g. SMTP_URL) */
  env?: Record<string, string>;
}

export class FaultWorker {
  readonly messages: WorkerMessage[] = [];
  private out: string[] = [];

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer) => {
      this.out.push(...d.toString().split('\n').filter((l) => l.trim()));
      this.out = this.out.slice(-40);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('message', (m: WorkerMessage) => this.messages.push(m));
  }

  /** Starts the real worker in a child process; resolves when its BullMQ worker is ready. */
  static async start(name: string, o: WorkerOptions): Promise<FaultWorker> {
    // node --import tsx (not the tsx CLI, which runs the script in a grandchild a SIGKILL would miss)
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        ...process.env,
        NODE_ENV: 'test',
        MONGODB_URL: o.mongodbUrl,
        REDIS_URL: o.redisUrl,
        REDIS_PREFIX: o.redisPrefix,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        LOG_PRETTY: 'false',
        ONRAMP_TEST_NOW_OFFSET_MS: String(o.offsetMs),
        ONRAMP_TEST_PAUSE: JSON.stringify(o.pause ?? {}),
        ONRAMP_TEST_CONCURRENCY: String(o.concurrency ?? 4),
        ONRAMP_TEST_LOCK_MS: String(o.lockMs ?? 2000),
        ONRAMP_TEST_STALLED_MS: String(o.stalledMs ?? 1000),
        ...o.env,
      },
    });
    const w = new FaultWorker(name, child);
    started.add(w);
    await until(`worker ${name} to be ready`, async () => w.has('ready') || w.exited, 60_000, () => w.tail());
    if (w.exited) throw new Error(`worker ${name} exited before it was ready:\n${w.tail()}`);
    return w;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  has(type: WorkerMessage['type']): boolean {
    return this.messages.some((m) => m.type === type);
  }

  of<T extends WorkerMessage['type']>(type: T): Extract<WorkerMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<WorkerMessage, { type: T }> => m.type === type);
  }

  tail(): string {
    return `--- last output of worker ${this.name} ---\n${this.out.join('\n')}`;
  }

  /** Moves the worker's clock; resolves when it answered. */
  async setClock(offsetMs: number): Promise<void> {
    this.child.send({ type: 'clock', offsetMs });
    await until(`worker ${this.name} to move its clock`, async () => this.of('clock').some((m) => m.offsetMs === offsetMs), 10_000, () => this.tail());
  }

  /** SIGKILL: no shutdown code runs, locks and active jobs stay behind as after a crash. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await exitOf(this.child);
  }

  /** SIGTERM (the worker closes: running jobs finish), SIGKILL after 10 s. */
  async end(): Promise<void> {
    if (!this.exited) {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      this.child.kill('SIGTERM');
      await exitOf(this.child);
      clearTimeout(timer);
    }
    started.delete(this);
  }
}

/** Starts a server process; its last 20 lines of output are kept in `out` (for the error when it fails). */
function spawnServer(bin: string, args: string[], out: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => {
    out.push(...d.toString().split('\n').filter((l) => l.trim()));
    out.splice(0, Math.max(0, out.length - 20));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

/** Waits until the server listens on `port`; fails with its output if it exits or does not in time. */
async function untilListening(what: string, child: ChildProcess, port: number, timeoutMs: number, out: string[]): Promise<void> {
  try {
    await waitForPort(port, timeoutMs, () => child.exitCode === null && child.signalCode === null);
  } catch (err) {
    throw new Error(`${what} did not start: ${(err as Error).message}\n${out.join('\n')}`, { cause: err });
  }
}

/**
 * A redis-server of the test's own, with the flags the embedded launcher uses
 * (src/infra/embedded/redis.ts): AOF on, fsync every second, noeviction, no RDB snapshots.
 * Restarted on the same port and data folder, so clients reconnect to the same URL.
 */
export class DedicatedRedis {
  private child: ChildProcess | null = null;
  private readonly out: string[] = [];

  constructor(
    readonly port: number,
    readonly dir: string,
    readonly bin = '/usr/bin/redis-server',
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // prettier-ignore
    this.child = spawnServer(this.bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'everysec',
        '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--save', '', '--loglevel', 'warning'], this.out);
    started.add(this);
    await untilListening('redis-server', this.child, this.port, 20_000, this.out);
  }

  /** A clean stop: SHUTDOWN writes and fsyncs the AOF, then the server exits. */
  async shutdown(): Promise<void> {
    const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    await c.connect();
    await c.call('SHUTDOWN').catch(() => undefined); // the connection closes without a reply
    c.disconnect();
    await exitOf(this.child!);
  }

  /** A crash: SIGKILL, no chance to write anything more. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await exitOf(this.child);
  }

  /** The append-only file new writes go to (Redis 7 keeps a base file and incremental ones, named in a manifest). */
  incrAof(): string {
    const aofDir = join(this.dir, 'appendonlydir');
    const manifest = readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'utf8');
    const incr = manifest
      .split('\n')
      .map((l) => /^file (\S+) seq \d+ type i/.exec(l)?.[1])
      .filter((f): f is string => !!f)
      .at(-1);
    if (!incr) throw new Error(`no incremental AOF in the manifest:\n${manifest}`);
    return join(aofDir, incr);
  }

  aofSize(): { file: string; size: number } {
    const file = this.incrAof();
    return { file, size: existsSync(file) ? statSync(file).size : 0 };
  }

  /**
   * What a machine crash (power cut, kernel panic) does with `appendfsync everysec`: writes that
   * were still in the OS page cache, up to a second of them, never reach the disk. Only valid while
   * the server is stopped.
   */
  loseAofTail(to: { file: string; size: number }): number {
    const now = this.aofSize();
    if (now.file !== to.file) throw new Error(`the AOF was rewritten meanwhile (${to.file} → ${now.file}): cannot cut its tail`);
    truncateSync(to.file, to.size);
    return now.size - to.size;
  }

  async end(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 5_000);
      await exitOf(this.child);
      clearTimeout(timer);
    }
    started.delete(this);
  }
}

/**
 * A FerretDB of the test's own (the binary and flags of src/infra/embedded/ferretdb.ts: SQLite
 * backend in `dir`), so that a test can SIGKILL it and start it again on the same port and data,
 * as a crashed and restarted database server.
 */
export class DedicatedFerretdb {
  private child: ChildProcess | null = null;
  private readonly out: string[] = [];

  constructor(
    readonly port: number,
    readonly dir: string,
    readonly bin: string,
  ) {}

  /** the server's address, with `db` as the database */
  url(db: string): string {
    return `mongodb://127.0.0.1:${this.port}/${db}`;
  }

  async start(): Promise<void> {
    // prettier-ignore
    this.child = spawnServer(this.bin, ['--handler=sqlite', `--sqlite-url=file:${this.dir}/`, `--state-dir=${this.dir}`, `--listen-addr=127.0.0.1:${this.port}`,
        '--debug-addr=-', '--telemetry=disable', '--log-level=warn'], this.out);
    started.add(this);
    await untilListening('ferretdb', this.child, this.port, 30_000, this.out);
  }

  /** A crash: SIGKILL, open connections drop, nothing is flushed beyond what SQLite committed. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await exitOf(this.child);
  }

  async end(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 5_000);
      await exitOf(this.child);
      clearTimeout(timer);
    }
    started.delete(this);
  }
}

/** Ends every worker, redis-server and ferretdb still running (afterAll, even after a failure). */
export async function endAll(): Promise<void> {
  await Promise.all([...started].map((p) => p.end().catch(() => undefined)));
}
