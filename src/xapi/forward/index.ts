import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Config } from '../../config/env.js';
import { RedisLocker } from '../../infra/locks.js';
import type { Logger } from '../../infra/logger.js';
import { AttachmentStore } from '../lrs/attachments.js';
import { StatementStore } from '../lrs/store.js';
import { XapiForwardClient } from './client.js';
import { StatementForwarder } from './outbox.js';

export { StatementForwarder } from './outbox.js';

/** The job that drains the outbox: kicked after statements are stored, and swept every 30 s. */
export const FORWARD_JOB = 'xapi.forward';

/**
 * Schedules a drain a second from now. A burst of statements makes one job (deduplicated by one
 * fixed id while it waits); statements stored while a drain runs make exactly one more after it
 * (`keepLastIfActive`). A failure to schedule loses nothing: the statements are in the outbox
 * already and the sweep forwards them.
 */
export function forwardKicker(queue: Queue, log: Logger): () => Promise<void> {
  return async () => {
    try {
      await queue.add(FORWARD_JOB, {}, { delay: 1_000, deduplication: { id: FORWARD_JOB, keepLastIfActive: true } });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not schedule xAPI forwarding; the next sweep will forward these statements');
    }
  };
}

/**
 * The statement store, with the forwarding outbox when XAPI_FORWARD_URL is set, and the
 * forwarder that drains it (a no-op when forwarding is off).
 */
export function createStatementStore(mongo: Connection, redis: Redis, queue: Queue, config: Config, log: Logger): { statementStore: StatementStore; forwarding: StatementForwarder } {
  const target = config.xapiForward;
  const kick = forwardKicker(queue, log);
  // Held for a batch (a request, 20 s at most, and its writes) or for one batch's state update,
  // which on FerretDB scans the collection (seconds at tens of thousands of statements).
  const locks = new RedisLocker(redis, config.redisPrefix, 60_000, 30_000);
  const statementStore = new StatementStore(mongo, { locks, outbox: target ? { notify: kick } : undefined });
  const client = target ? new XapiForwardClient(target.url, target.key, target.secret) : undefined;
  const attachments = new AttachmentStore(mongo);
  const forwarding = new StatementForwarder(statementStore, client, locks, { batchSize: target?.batchSize ?? 50, target: target?.url, kick, attachments: (hashes) => attachments.get(hashes) });
  return { statementStore, forwarding };
}
