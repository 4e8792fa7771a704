import type { Logger } from './logger.js';

/**
 * Runs `stop` once on SIGINT/SIGTERM, or when the parent process (npm start) goes away, then
 * exits. A second signal while stopping exits at once.
 */
export function onShutdown(log: Logger, stop: (reason: string) => Promise<void>): void {
  let stopping = false;
  const run = (reason: string) => {
    if (stopping) {
      log.warn(`${reason} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${reason}: shutting down`);
    stop(reason).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => run('SIGINT'));
  process.once('SIGTERM', () => run('SIGTERM'));
  // started by `onramp start` with an IPC channel: when that parent dies, so do we
  if (process.send) process.once('disconnect', () => run('parent process gone'));
}
