import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `fn` until it returns something truthy; the error names what was awaited and `detail()`. */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 15_000, detail: () => Promise<string> | string = () => '', everyMs = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}\n${await detail()}`);
    await sleep(everyMs);
  }
}
