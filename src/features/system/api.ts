import type { Container } from '../../container.js';
import { describeMongo } from '../../infra/mongo.js';
import { route, type RouteDef } from '../../http/route.js';

export async function systemStatus(c: Container) {
  const [ready, mongo, redisInfo, jobs] = await Promise.all([
    c.readiness(),
    describeMongo(c.mongo).catch(() => ({ product: 'unknown', version: 'unreachable' })),
    c.redis.info('server').catch(() => ''),
    c.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed').catch(() => ({})),
  ]);
  const redisVersion = /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? 'unreachable';
  return { ready, database: mongo, redis: { version: redisVersion }, jobs };
}

export function systemRoutes(c: Container): RouteDef[] {
  return [
    route({
      method: 'get',
      path: '/healthz',
      kind: 'api',
      access: 'public',
      handler: (_req, res) => res.json({ status: 'ok' }),
    }),
    route({
      method: 'get',
      path: '/readyz',
      kind: 'api',
      access: 'public',
      handler: async (_req, res) => {
        const r = await c.readiness();
        res.status(r.ok ? 200 : 503).json({ status: r.ok ? 'ready' : 'unavailable', mongo: r.mongo, redis: r.redis });
      },
    }),
    route({
      method: 'get',
      path: '/api/system',
      kind: 'api',
      access: 'system.view',
      handler: async (_req, res) => res.json(await systemStatus(c)),
    }),
  ];
}
