/**
 * What bench/load.ts and bench/scale.ts share: the local services, Onramp's web and worker processes
 * started as an operator starts them (`onramp serve` / `onramp worker`, the TypeScript source through
 * tsx), their memory and CPU read from /proc, a keep-alive HTTP client with a cookie jar, and the
 * cleanup that ends every process a bench started, on success, on failure and on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/config/env.js';
import { startLocalServices, type LocalServices } from '../src/infra/embedded/index.js';
import { createLogger, type Logger } from '../src/infra/logger.js';

export const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'src', 'cli.ts');
/** tsx's ESM loader, what `node --import tsx` loads */
const TSX = import.meta.resolve('tsx');
/** Linux's clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on every mainstream kernel) */
const TICKS = 100;

// ---- cleanup -------------------------------------------------------------------------------------

const cleanups: (() => Promise<void> | void)[] = [];
const children = new Set<ChildProcess>();
let finishing = false;

/** Runs at finish(), the last registered first. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** Runs every cleanup (each one even if another fails), then exits with `code`. */
export async function finish(code: number): Promise<never> {
  if (!finishing) {
    finishing = true;
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`);
      }
    }
  }
  process.exit(code);
}

/** Runs a bench's main and always cleans up: exit 0 after it, 1 after an error, 130 on Ctrl-C. */
export function runBench(main: () => Promise<void>): void {
  process.once('SIGINT', () => void finish(130));
  process.once('SIGTERM', () => void finish(143));
  main().then(
    () => finish(0),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      return finish(1);
    },
  );
}

// A process that exits without finish() (process.exit elsewhere, a crash) still ends its children:
// 'exit' handlers run synchronously and kill() is synchronous. The children also have an IPC channel
// to this process and stop when it closes (src/infra/shutdown.ts), which covers a SIGKILL of the bench.
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

// ---- services --------------------------------------------------------------------------------------

export interface BenchServices {
  dataDir: string;
  services: LocalServices;
  log: Logger;
  /** the pids of FerretDB and redis-server (their command lines name the data folder) */
  servicePids: { name: string; pid: number }[];
}

/** FerretDB and Redis of this run's own, in a temporary folder removed at cleanup. */
export async function startServices(): Promise<BenchServices> {
  const log = createLogger({ logLevel: 'warn', logPretty: false }, 'bench');
  const dataDir = mkdtempSync(join(tmpdir(), 'onramp-bench-'));
  onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
  const services = await startLocalServices(loadConfig({ DATA_DIR: dataDir, MONGODB_URL: '', REDIS_URL: '' }), log);
  onCleanup(() => services.stop());
  const servicePids: { name: string; pid: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(dataDir)) continue;
    servicePids.push({ name: cmdline.includes('ferretdb') ? 'ferretdb' : cmdline.includes('redis') ? 'redis' : cmdline.split('\0')[0]!, pid: Number(entry) });
  }
  return { dataDir, services, log, servicePids };
}

// ---- Onramp processes -------------------------------------------------------------------------------

export interface OnrampProcess {
  name: string;
  role: 'web' | 'worker';
  child: ChildProcess;
  pid: number;
  /** its JSON log (stdout and stderr), in the bench's data folder */
  logFile: string;
  /** web: where it listens */
  url?: string;
  /** where its /metrics answer (web: its own port; worker: METRICS_PORT), when METRICS_TOKEN is set */
  metricsUrl?: string;
}

/**
 * Starts `onramp serve` or `onramp worker` from the source, with exactly `env` (and PATH, HOME): no
 * .env file is read (the working folder is the bench's own) and nothing leaks in from the shell.
 */
export function startOnramp(role: 'web' | 'worker', name: string, dir: string, env: Record<string, string>): OnrampProcess {
  const cwd = join(dir, name);
  mkdirSync(cwd, { recursive: true });
  const logFile = join(dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', TSX, CLI, role === 'web' ? 'serve' : 'worker'], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), DATA_DIR: cwd, ...env },
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  const p: OnrampProcess = { name, role, child, pid: child.pid ?? -1, logFile };
  if (role === 'web') p.url = `http://127.0.0.1:${env.PORT}`;
  if (env.METRICS_TOKEN) {
    if (role === 'web') p.metricsUrl = `${p.url}/metrics`;
    else if (env.METRICS_PORT) p.metricsUrl = `http://127.0.0.1:${env.METRICS_PORT}/metrics`;
  }
  onCleanup(() => stopOnramp(p));
  return p;
}

function lastLines(file: string, n = 15): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n') : '(no log)';
}

/** Waits for the web process to answer /readyz, or for the worker to log "worker ready". */
export async function whenReady(p: OnrampProcess, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${p.name} exited during start-up:\n${lastLines(p.logFile)}`);
    if (p.role === 'web') {
      const ok = await httpRequest(`${p.url}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) return;
    } else if (existsSync(p.logFile) && readFileSync(p.logFile, 'utf8').includes('"msg":"worker ready"')) {
      return;
    }
    await sleep(250);
  }
  throw new Error(`${p.name} was not ready within ${timeoutMs / 1000} s:\n${lastLines(p.logFile)}`);
}

/** SIGTERM (the process finishes what it is doing), SIGKILL after 20 s. */
export async function stopOnramp(p: OnrampProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** Log lines at level error or fatal (pino: 50, 60), for the report. */
export function loggedErrors(p: OnrampProcess): string[] {
  if (!existsSync(p.logFile)) return [];
  return readFileSync(p.logFile, 'utf8')
    .split('\n')
    .filter((line) => /"level":(50|60)\b/.test(line));
}

// ---- memory and CPU ------------------------------------------------------------------------------

/** Resident set size from /proc (bytes), or null once the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds the process has used so far, or null once it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return null;
  }
}

/**
 * Seconds the process's threads spent runnable but waiting for a core (the second field of each
 * /proc/<pid>/task/<tid>/schedstat, in ns), or null once it is gone: a process that waits more than it
 * runs is starved by whatever else the machine runs.
 */
export function waitSeconds(pid: number): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns / 1e9;
  } catch {
    return null;
  }
}

/** What else the machine is doing: its cores and load average (the 1-minute figure) now. */
export function machine(): { cores: number; loadAvg1m: number } {
  return { cores: cpus().length, loadAvg1m: round(loadavg()[0]!, 2) };
}

/**
 * CPU used and time spent waiting for a core, per watched process, as cores' worth over a stretch
 * of time: `stop()` answers { name: { busy, waiting } }; the bench's own process (autocannon) included.
 */
export function cpuMeter(watched: { name: string; pid: number }[]): { stop(): Record<string, { busy: number; waiting: number }> } {
  const t0 = performance.now();
  const busy0 = new Map(watched.map((w) => [w.name, cpuSeconds(w.pid) ?? 0]));
  const wait0 = new Map(watched.map((w) => [w.name, waitSeconds(w.pid) ?? 0]));
  const bench0 = process.cpuUsage();
  const benchWait0 = waitSeconds(process.pid) ?? 0;
  return {
    stop() {
      const seconds = (performance.now() - t0) / 1000;
      const out: Record<string, { busy: number; waiting: number }> = {};
      for (const w of watched) out[w.name] = { busy: round(((cpuSeconds(w.pid) ?? 0) - busy0.get(w.name)!) / seconds, 2), waiting: round(((waitSeconds(w.pid) ?? 0) - wait0.get(w.name)!) / seconds, 2) };
      const used = process.cpuUsage(bench0);
      out['bench (autocannon)'] = { busy: round((used.user + used.system) / 1e6 / seconds, 2), waiting: round(((waitSeconds(process.pid) ?? 0) - benchWait0) / seconds, 2) };
      return out;
    },
  };
}

/** The V8 heap in use, from the process's Prometheus metrics (prom-client's default metrics). */
export async function heapUsedBytes(p: OnrampProcess, token: string): Promise<number | null> {
  if (!p.metricsUrl) return null;
  try {
    const res = await httpRequest(p.metricsUrl, { headers: { authorization: `Bearer ${token}` } });
    const m = res.status === 200 ? /^\w*nodejs_heap_size_used_bytes\s+([\d.e+]+)/m.exec(res.body) : null;
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// ---- HTTP ----------------------------------------------------------------------------------------

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** One request on node:http (keep-alive); the body is read whole. */
export function httpRequest(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = o.body !== undefined ? { ...o.headers, 'content-length': String(Buffer.byteLength(o.body)) } : (o.headers ?? {});
    const req = request(url, { method: o.method ?? 'GET', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(120_000, () => req.destroy(new Error(`${o.method ?? 'GET'} ${url}: no answer within 120 s`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Signs in with the form (as a browser does) and keeps the cookie and the session's CSRF token. */
export class Browser {
  private readonly jar = new Map<string, string>();
  /** the session's CSRF token (the `_csrf` field / X-CSRF-Token header) */
  csrf = '';

  constructor(public base: string) {}

  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async fetch(path: string, o: { method?: string; headers?: Record<string, string>; form?: Record<string, string>; base?: string } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...o.headers };
    if (this.jar.size) headers.cookie = this.cookie;
    let body: string | undefined;
    if (o.form) {
      body = new URLSearchParams({ _csrf: this.csrf, ...o.form }).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await httpRequest(`${o.base ?? this.base}${path}`, { method: o.method ?? (o.form ? 'POST' : 'GET'), headers, ...(body !== undefined ? { body } : {}) });
    for (const cookie of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const [pair] = cookie.split(';');
      const at = pair!.indexOf('=');
      const value = pair!.slice(at + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(cookie) || value === '') this.jar.delete(pair!.slice(0, at));
      else this.jar.set(pair!.slice(0, at), value);
    }
    const token = /name="csrf-token" content="([^"]+)"/.exec(res.body)?.[1] ?? /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
    if (token) this.csrf = token;
    return res;
  }

  /** The sign-in form, then one page of the new session (sign-in starts a new session: a new token). */
  async signIn(email: string, password: string): Promise<void> {
    await this.fetch('/login');
    const res = await this.fetch('/login', { form: { email, password } });
    if (res.status !== 303) throw new Error(`sign-in as ${email} answered ${res.status}`);
    const home = await this.fetch('/');
    if (home.status !== 200 || !this.csrf) throw new Error(`the home page after signing in as ${email} answered ${home.status}${this.csrf ? '' : ' without a CSRF token'}`);
  }
}

// ---- figures -------------------------------------------------------------------------------------

/** A whole number from the environment, or the default; anything else stops the bench with what was wrong. */
export function numberFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name}=${JSON.stringify(raw)}: must be a whole number of at least ${min}`);
    process.exit(2);
  }
  return n;
}

export const round = (x: number, digits = 1): number => Number(x.toFixed(digits));
export const mb = (bytes: number): number => round(bytes / 1_048_576, 1);

export function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 0.5);
}

/** Least-squares slope of y over x. */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function inPool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
