import type { Config } from '../../src/config/env.js';
import { createLogger, type Logger } from '../../src/infra/logger.js';

/**
 * A logger that keeps every line it writes — the app's real logger (its redaction included), at
 * `trace`, so tests can read what production would log. Pass `logger` to createTestContext.
 */
export function captureLog(): { lines: string[]; records(): Record<string, unknown>[]; logger: (config: Config) => Logger } {
  const lines: string[] = [];
  return {
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    logger: () => createLogger({ logLevel: 'trace', logPretty: false }, 'test', { write: (line: string) => void lines.push(line) }),
  };
}
