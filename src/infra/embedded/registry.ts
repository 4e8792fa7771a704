import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `onramp start` records the URLs of the services it started in the data folder, so that CLI
 * commands (`onramp user create`) reach the same database while it runs, and a second start on
 * the same data refuses instead of fighting over the files.
 */
export interface RunningRecord {
  pid: number;
  mongodbUrl: string;
  redisUrl: string;
  webUrl?: string;
}

const file = (dataDir: string) => join(dataDir, 'services.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function readRunning(dataDir: string): RunningRecord | undefined {
  if (!existsSync(file(dataDir))) return undefined;
  try {
    const rec = JSON.parse(readFileSync(file(dataDir), 'utf8')) as RunningRecord;
    return alive(rec.pid) && rec.pid !== process.pid ? rec : undefined;
  } catch {
    return undefined;
  }
}

export function writeRunning(dataDir: string, rec: RunningRecord): void {
  writeFileSync(file(dataDir), JSON.stringify(rec, null, 2));
}

export function clearRunning(dataDir: string): void {
  const rec = existsSync(file(dataDir)) ? (JSON.parse(readFileSync(file(dataDir), 'utf8')) as RunningRecord) : undefined;
  if (rec?.pid === process.pid) rmSync(file(dataDir), { force: true });
}
