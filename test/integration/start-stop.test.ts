import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `onramp start` as a user runs it: real FerretDB and redis-server in a data folder, web and
 * worker processes, demo users; Ctrl-C leaves nothing behind; a second start keeps the data.
 */
const ROOT = join(import.meta.dirname, '..', '..');
let dataDir: string;
let port: number;

function cli(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', LOG_PRETTY: 'false', MONGODB_URL: '', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

async function start(): Promise<Started> {
  const child = cli(['start']);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 90_000;
  while (!out.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null) throw new Error(`onramp start exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`onramp start did not become ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => out };
}

function stop(s: Started, signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.once('exit', (code) => resolve(code));
    s.child.kill(signal);
  });
}

/** Processes whose command line names our data folder (FerretDB, redis-server) or our port. */
function processesOfThisRun(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dataDir) || cmd.includes(`127.0.0.1:${port}`)) found.push(`${pid}: ${cmd}`);
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (env.includes(`DATA_DIR=${dataDir}\0`) && Number(pid) !== process.pid) found.push(`${pid}: ${cmd}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

async function signInStatus(email: string, password: string): Promise<number> {
  const base = `http://127.0.0.1:${port}`;
  const page = await fetch(`${base}/login`);
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email, password }),
  });
  return res.status;
}

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'onramp-start-'));
  port = await getPort();
});
afterAll(() => {
  for (const line of processesOfThisRun()) process.kill(Number(line.split(':')[0]), 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('onramp start', () => {
  it('starts local services, seeds demo users, stops cleanly on Ctrl-C and keeps the data for the next start', async () => {
    const first = await start();
    expect(first.output()).toContain(`data folder: ${dataDir}`);
    expect(first.output()).toMatch(/FerretDB v1\.24\.2 \(SQLite backend/);
    expect(first.output()).toContain('Redis (');
    expect(first.output()).toContain('Demo sign-ins (just created)');
    expect(first.output()).toContain('rep1@demo.onramp.dev');
    expect(existsSync(join(dataDir, 'redis', 'appendonlydir'))).toBe(true);

    expect(await signInStatus('rep1@demo.onramp.dev', 'onramp-demo')).toBe(303);
    const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json();
    expect(ready).toEqual({ status: 'ready', mongo: 'ok', redis: 'ok' });

    // a CLI command reaches the running instance's database
    const created = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'user', 'create', '--email', 'cli.trainer@example.com', '--name', 'Cli Trainer', '--role', 'trainer', '--password', 'trainer passphrase'],
      { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', MONGODB_URL: '', REDIS_URL: '' }, encoding: 'utf8' },
    );
    expect(created.stdout + created.stderr).toContain('Created trainer Cli Trainer <cli.trainer@example.com>');

    expect(await stop(first)).toBe(0);
    expect(await waitUntil(() => processesOfThisRun().length === 0, 5_000), processesOfThisRun().join('\n')).toBe(true);

    const second = await start();
    expect(second.output()).not.toContain('just created');
    expect(await signInStatus('rep1@demo.onramp.dev', 'onramp-demo')).toBe(303);
    expect(await signInStatus('cli.trainer@example.com', 'trainer passphrase')).toBe(303);

    // a second start on the same data folder refuses instead of fighting over the files
    const clash = cli(['start'], { PORT: String(await getPort()) });
    let clashOut = '';
    clash.stdout!.on('data', (d: Buffer) => (clashOut += d.toString()));
    clash.stderr!.on('data', (d: Buffer) => (clashOut += d.toString()));
    const clashCode = await new Promise<number | null>((resolve) => clash.once('exit', resolve));
    expect(clashCode).toBe(1);
    expect(clashOut).toContain('already running on this data folder');

    // killed without a chance to clean up: web and worker follow it, and the next start ends
    // the FerretDB and Redis it left behind
    await stop(second, 'SIGKILL');
    const third = await start();
    expect(await signInStatus('rep2@demo.onramp.dev', 'onramp-demo')).toBe(303);
    expect(await stop(third, 'SIGTERM')).toBe(0);
    expect(await waitUntil(() => processesOfThisRun().length === 0, 5_000), processesOfThisRun().join('\n')).toBe(true);
  }, 240_000);
});
