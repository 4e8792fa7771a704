import { Unavailable } from '../../errors.js';
import type { Locker } from '../../infra/locks.js';
import type { AttachmentPart } from '../lrs/multipart.js';
import type { ForwardOutcome, ForwardSummary, StatementStore } from '../lrs/store.js';
import type { ForwardClient } from './client.js';

type Json = Record<string, unknown>;

export interface ForwarderOptions {
  /** statements per request */
  batchSize: number;
  /** the external LRS's endpoint, for the admin page (undefined: forwarding is off) */
  target: string | undefined;
  /** schedules a drain job soon (a debounced kick) */
  kick(): Promise<void>;
  /** the stored content of attachments, by SHA-2 hash (unknown hashes are left out) */
  attachments(hashes: string[]): Promise<AttachmentPart[]>;
  /** batches one run forwards before it hands over to a fresh job (bounds a job's length) */
  maxBatchesPerRun?: number;
}

/** A batch stops growing once its attachment content would pass this (one statement always goes). */
const MAX_ATTACHMENT_BYTES = 8 * 1024 * 1024;

interface Outgoing {
  id: string;
  statement: Json;
  /** attachments whose content travels with it (no fileUrl) */
  hashes: string[];
}

export interface DrainResult {
  forwarded: number;
  failed: number;
}

export type ForwardBacklog = ForwardSummary & { enabled: boolean; target: string | undefined; batchSize: number };

const DRAIN_LOCK = 'xapi-forward:drain';

/**
 * The outbox of statements for the external LRS. The outbox is the statements themselves
 * (`forward: 'pending'`, set when they are stored); draining takes the oldest pending batch,
 * sends it in one request and records the outcome — `forwarded` only after a 2xx answer. What
 * the LRS could not take now (unreachable, 5xx, bad credentials) stays pending and the drain
 * throws, so the job retries with backoff. What it refuses for good (400, 409, 413) is marked
 * `failed` with the reason, for an admin to see and retry, and the queue moves on.
 *
 * Attachment content (attachments without a fileUrl) goes along as multipart/mixed parts.
 *
 * At least once, and in effect exactly once: statements keep their ids, an LRS stores a
 * re-sent identical statement only once, and a lock lets one batch at a time be in flight.
 */
export class StatementForwarder {
  constructor(
    private readonly store: StatementStore,
    private readonly client: ForwardClient | undefined,
    private readonly locks: Locker,
    private readonly options: ForwarderOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get enabled(): boolean {
    return this.client !== undefined;
  }

  /**
   * Forwards batch after batch until nothing is pending. Throws `Unavailable` when the LRS cannot
   * take statements right now (they stay pending, with the error and one more attempt recorded).
   */
  async drain(): Promise<DrainResult> {
    const client = this.client;
    const total: DrainResult = { forwarded: 0, failed: 0 };
    if (!client) return total;
    for (let batch = 0; batch < (this.options.maxBatchesPerRun ?? 20); batch++) {
      const result = await this.locks.withLock(DRAIN_LOCK, () => this.forwardBatch(client));
      if (!result) return total;
      total.forwarded += result.forwarded;
      total.failed += result.failed;
    }
    await this.options.kick(); // more may be waiting: a fresh job continues
    return total;
  }

  /** The oldest pending batch: sent, and its outcome recorded. Undefined when nothing is pending. */
  private async forwardBatch(client: ForwardClient): Promise<DrainResult | undefined> {
    const docs = await this.store.pendingForwards(this.options.batchSize);
    if (!docs.length) return undefined;
    const batch: Outgoing[] = [];
    const outcomes: ForwardOutcome[] = [];
    let bytes = 0;
    for (const d of docs) {
      let statement: Json;
      try {
        statement = JSON.parse(d.json) as Json;
      } catch {
        outcomes.push({ id: d._id, state: 'failed', error: 'Not forwarded: the stored JSON of this statement cannot be read.' });
        continue;
      }
      const inline = inlineAttachments(statement);
      bytes += inline.reduce((sum, a) => sum + (Number(a.length) || 0), 0);
      if (batch.length && bytes > MAX_ATTACHMENT_BYTES) break; // the rest is the next batch
      batch.push({ id: d._id, statement, hashes: inline.map((a) => String(a.sha2).toLowerCase()) });
    }
    const hashes = [...new Set(batch.flatMap((b) => b.hashes))];
    const parts = hashes.length ? await this.options.attachments(hashes) : [];
    const sendable = batch.filter((b) => {
      const missing = b.hashes.filter((h) => !parts.some((p) => p.sha2 === h));
      if (missing.length) outcomes.push({ id: b.id, state: 'failed', error: `Not forwarded: Onramp does not hold the content of attachment(s) ${missing.join(', ')} (no fileUrl).` });
      return !missing.length;
    });
    try {
      await this.send(client, sendable, parts, outcomes);
    } finally {
      await this.store.recordForwards(outcomes, this.now());
    }
    return { forwarded: outcomes.filter((o) => o.state === 'forwarded').length, failed: outcomes.filter((o) => o.state === 'failed').length };
  }

  /**
   * Sends the batch in one request. An LRS refuses a batch whole when one statement in it is
   * refused (xAPI 1.0.3: all or nothing), so a refused batch is sent again one statement at a
   * time, in order, to find the one and let the others through.
   */
  private async send(client: ForwardClient, batch: Outgoing[], parts: AttachmentPart[], outcomes: ForwardOutcome[]): Promise<void> {
    if (!batch.length) return;
    const partsOf = (items: Outgoing[]) => parts.filter((p) => items.some((i) => i.hashes.includes(p.sha2)));
    const whole = await client.send(
      batch.map((b) => b.statement),
      partsOf(batch),
    );
    if (whole.kind === 'accepted') {
      for (const b of batch) outcomes.push({ id: b.id, state: 'forwarded' });
      return;
    }
    if (whole.kind === 'unavailable') {
      for (const b of batch) outcomes.push({ id: b.id, state: 'pending', error: whole.message });
      throw new Unavailable(`xAPI forwarding: ${whole.message}; ${batch.length} statement(s) stay pending`);
    }
    if (batch.length === 1) {
      outcomes.push({ id: batch[0]!.id, state: 'failed', error: refusal(whole.status, whole.message) });
      return;
    }
    for (const [i, b] of batch.entries()) {
      const one = await client.send([b.statement], partsOf([b]));
      if (one.kind === 'accepted') outcomes.push({ id: b.id, state: 'forwarded' });
      else if (one.kind === 'refused') outcomes.push({ id: b.id, state: 'failed', error: refusal(one.status, one.message) });
      else {
        for (const rest of batch.slice(i)) outcomes.push({ id: rest.id, state: 'pending', error: one.message });
        throw new Unavailable(`xAPI forwarding: ${one.message}; ${batch.length - i} statement(s) stay pending`);
      }
    }
  }

  /** What an admin sees: on or off, the target, the backlog and what failed for good. */
  async backlog(): Promise<ForwardBacklog> {
    return { enabled: this.enabled, target: this.options.target, batchSize: this.options.batchSize, ...(await this.store.forwardSummary()) };
  }

  /** Puts the failed statements back in the queue (after the cause was fixed); returns how many. */
  async retryFailed(): Promise<number> {
    const n = await this.store.retryFailedForwards();
    if (n && this.enabled) await this.options.kick();
    return n;
  }
}

function refusal(status: number, message: string): string {
  const why = status === 409 ? ' — it holds a different statement with this id' : status === 413 ? ' — the statement is too large for it' : '';
  return `The external LRS refused this statement: ${message}${why}`;
}

/** The attachments (of the statement and of a SubStatement) whose content must travel with it. */
function inlineAttachments(statement: Json): Json[] {
  const object = statement.object as Json | undefined;
  return [statement.attachments, object?.objectType === 'SubStatement' ? object.attachments : undefined]
    .flatMap((a) => (Array.isArray(a) ? (a as Json[]) : []))
    .filter((a) => a.fileUrl === undefined);
}
