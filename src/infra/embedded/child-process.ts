import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';

/** A local service (FerretDB, redis-server) that Onramp started and must stop again. */
export interface RunningService {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * Last resort when the parent dies without a chance to stop its services (uncaught exception,
 * process.exit): 'exit' handlers run synchronously, and kill() is synchronous.
 */
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A previous run that was killed with SIGKILL leaves its services behind. Their pid files name
 * them; end them before starting new ones on the same data (two servers on one SQLite folder or
 * one AOF file would corrupt it).
 */
export async function endLeftover(pidFile: string, binaryHint: string, log: Logger): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0) return;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // not running any more
  }
  if (!cmdline.includes(binaryHint)) return; // the pid was reused by something else
  log.warn({ pid }, `ending a ${binaryHint} left running by an earlier start`);
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await sleep(100);
  if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
}

export async function waitForPort(port: number, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('exited before accepting connections');
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`did not accept connections on port ${port} within ${timeoutMs / 1000}s`);
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  port: number;
  url: string;
  pidFile: string;
  log: Logger;
  startTimeoutMs?: number;
}

/** Starts a service, pipes its output into our log, and resolves once its port accepts connections. */
export async function startService(o: StartOptions): Promise<RunningService> {
  // Own process group: a Ctrl-C in the terminal reaches Onramp, which stops the services last.
  const child = spawn(o.command, o.args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  const tail: string[] = [];
  const onOutput = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      o.log.debug({ service: o.name }, line);
    }
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  let exited = false;
  let stopping = false;
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
    exited = true;
  });
  child.once('exit', (code, signal) => {
    exited = true;
    running.delete(child);
    rmSync(o.pidFile, { force: true });
    if (!stopping) o.log.error({ service: o.name, code, signal }, `${o.name} stopped unexpectedly`);
  });

  try {
    await waitForPort(o.port, o.startTimeoutMs ?? 30_000, () => !exited);
  } catch (err) {
    child.kill('SIGKILL');
    const why = spawnError?.message ?? (err as Error).message;
    throw new Error(`${o.name} failed to start: ${why}\n--- last output of ${o.command} ---\n${tail.join('\n')}`, { cause: err });
  }
  if (child.pid) writeFileSync(o.pidFile, String(child.pid));

  return {
    name: o.name,
    pid: child.pid ?? -1,
    url: o.url,
    async stop() {
      if (exited) return;
      stopping = true;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
