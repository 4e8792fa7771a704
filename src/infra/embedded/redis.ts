import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import type { Logger } from '../logger.js';
import { endLeftover, startService, type RunningService } from './child-process.js';
import { findOnPath } from './which.js';

const INSTALL_HINT =
  'redis-server is not installed. Install it with your package manager, e.g. `sudo apt-get install -y redis-server` ' +
  '(Debian/Ubuntu) or `brew install redis` (macOS), or set REDIS_URL to an existing Redis.';

function aptInstall(log: Logger): Promise<void> {
  const steps = [
    ['apt-get', ['update', '-qq']],
    ['apt-get', ['install', '-y', '-qq', 'redis-server']],
  ] as const;
  return steps.reduce<Promise<void>>(
    (prev, [cmd, args]) =>
      prev.then(
        () =>
          new Promise<void>((resolve, reject) => {
            log.info(`  $ ${cmd} ${args.join(' ')}`);
            const child = spawn(cmd, [...args], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
            child.once('error', reject);
            child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
          }),
      ),
    Promise.resolve(),
  );
}

/** redis-server from PATH; installed from Debian's packages when missing and we are root. */
export async function findOrInstallRedis(log: Logger): Promise<string> {
  const found = findOnPath('redis-server');
  if (found) return found;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !findOnPath('apt-get')) throw new Error(INSTALL_HINT);
  log.info('redis-server not found: installing Debian\'s redis-server package…');
  await aptInstall(log);
  const installed = findOnPath('redis-server') ?? '/usr/bin/redis-server';
  return installed;
}

/** Redis with AOF persistence in the data folder and noeviction (BullMQ must never lose keys). */
export async function startRedis(bin: string, dataDir: string, log: Logger): Promise<RunningService> {
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dataDir, 'redis.pid');
  await endLeftover(pidFile, 'redis-server', log);
  const port = await getPort({ host: '127.0.0.1' });
  return startService({
    name: 'Redis',
    command: bin,
    args: [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction',
      '--daemonize', 'no',
      '--save', '',
      '--loglevel', 'warning',
    ],
    port,
    url: `redis://127.0.0.1:${port}`,
    pidFile,
    log,
  });
}
