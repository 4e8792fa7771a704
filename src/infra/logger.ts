import pino, { type Logger } from 'pino';
import type { Config } from '../config/env.js';

export type { Logger };

/** Secrets never reach the logs: these paths are censored wherever they appear. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.sessionSecret',
];

export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>, name = 'onramp'): Logger {
  return pino({
    name,
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(config.logPretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } }
      : {}),
  });
}
