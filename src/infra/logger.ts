import pino, { type DestinationStream, type Logger } from 'pino';
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

/** `destination`: where JSON lines go instead of stdout (tests read what would be logged); not with pretty output. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logPretty'>, name = 'onramp', destination?: DestinationStream): Logger {
  const options = {
    name,
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(config.logPretty && !destination
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } } }
      : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}
