import type { Server } from 'node:http';
import type { Config } from './config/env.js';
import { createContainer } from './container.js';
import { createApp } from './http/app.js';
import type { Logger } from './infra/logger.js';
import { onShutdown } from './infra/shutdown.js';

/** `onramp serve`: the Express web app and JSON API. */
export async function runWeb(config: Config & { mongodbUrl: string; redisUrl: string }, log: Logger): Promise<Server> {
  const container = await createContainer(config, log, 'web');
  const app = createApp(container);
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`Port ${config.port} is in use: set PORT to a free port.`) : err),
    );
  });
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout
  log.info({ port: config.port }, `web listening on ${config.publicUrl}`);

  onShutdown(log, async () => {
    // Stop accepting, let in-flight requests finish (10 s at most), then close connections.
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), 10_000);
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    });
    await container.close();
  });
  return server;
}
