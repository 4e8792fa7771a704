import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/env.js';
import type { Logger } from '../logger.js';
import type { RunningService } from './child-process.js';
import { buildFerretdb, findFerretdb, startFerretdb, FERRETDB_VERSION } from './ferretdb.js';
import { findOrInstallRedis, startRedis } from './redis.js';
import { findOnPath } from './which.js';
import { readRunning } from './registry.js';

export interface LocalServices {
  mongodbUrl: string;
  redisUrl: string;
  /** e.g. "FerretDB v1.24.2 (SQLite) at mongodb://127.0.0.1:40123/" */
  descriptions: string[];
  stop(): Promise<void>;
}

type EmbeddedOptions = Pick<Config, 'mongodbUrl' | 'redisUrl' | 'dataDir' | 'cacheDir' | 'ferretdbBin'>;

/** A MongoDB-compatible server: FerretDB (built on first use), else mongodb-memory-server where Go is missing. */
async function startMongoCompatible(o: EmbeddedOptions, dataDir: string, log: Logger): Promise<RunningService & { description: string }> {
  let bin = findFerretdb(o);
  if (!bin && findOnPath('go')) bin = await buildFerretdb(o.cacheDir, log);
  if (bin) {
    const svc = await startFerretdb(bin, dataDir, log);
    return { ...svc, stop: svc.stop, description: `FerretDB ${FERRETDB_VERSION} (SQLite backend, ${bin}) at ${svc.url}` };
  }
  log.warn('no ferretdb binary and no Go toolchain: falling back to mongodb-memory-server (downloads a real mongod when online)');
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const dbPath = join(dataDir, 'mongod');
  mkdirSync(dbPath, { recursive: true });
  const server = await MongoMemoryServer.create({ instance: { dbPath, storageEngine: 'wiredTiger' } });
  const url = server.getUri();
  return {
    name: 'mongod',
    pid: server.instanceInfo?.instance.mongodProcess?.pid ?? -1,
    url,
    async stop() {
      await server.stop({ doCleanup: false });
    },
    description: `mongod (mongodb-memory-server) at ${url}`,
  };
}

/**
 * Starts whatever the configuration leaves unset: FerretDB when MONGODB_URL is empty, redis-server
 * when REDIS_URL is empty. Set URLs are used as they are.
 */
export async function startLocalServices(o: EmbeddedOptions, log: Logger, needs = { redis: true }): Promise<LocalServices> {
  const started: RunningService[] = [];
  const descriptions: string[] = [];
  const stop = async () => {
    await Promise.allSettled(started.reverse().map((s) => s.stop()));
  };
  const other = readRunning(o.dataDir);
  if (other && (!o.mongodbUrl || !o.redisUrl)) {
    throw new Error(
      `Onramp is already running on this data folder (${o.dataDir}, pid ${other.pid}${other.webUrl ? `, ${other.webUrl}` : ''}). ` +
        'Stop it first, or set DATA_DIR to another folder.',
    );
  }
  try {
    mkdirSync(o.dataDir, { recursive: true });
    let mongodbUrl = o.mongodbUrl;
    let redisUrl = o.redisUrl;
    if (!mongodbUrl) {
      const mongo = await startMongoCompatible(o, o.dataDir, log);
      started.push(mongo);
      descriptions.push(mongo.description);
      mongodbUrl = `${mongo.url.replace(/\/$/, '')}/onramp`;
    } else {
      descriptions.push(`MongoDB at ${redact(mongodbUrl)} (MONGODB_URL)`);
    }
    if (!redisUrl && needs.redis) {
      const bin = await findOrInstallRedis(log);
      const redis = await startRedis(bin, o.dataDir, log);
      started.push(redis);
      descriptions.push(`Redis (${bin}, AOF on) at ${redis.url}`);
      redisUrl = redis.url;
    } else if (redisUrl) {
      descriptions.push(`Redis at ${redact(redisUrl)} (REDIS_URL)`);
    }
    return { mongodbUrl, redisUrl: redisUrl ?? '', descriptions, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Hides the password in a connection URL before it is printed. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}
