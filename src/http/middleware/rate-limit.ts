import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';
import { TooManyRequests } from '../../errors.js';

/**
 * Failed sign-in attempts are limited per address and email, and (five times looser) per address
 * across all emails, in Redis so that every web instance shares the count. This is the lockout:
 * past the limit even the right password is refused (429 with Retry-After) until the window ends.
 * It is keyed by address too, on purpose: someone guessing at an email from elsewhere cannot lock
 * its owner out of their own address. A successful sign-in only takes back its own count (it does
 * not reset earlier failures, nor anyone else's).
 */
export function loginRateLimits(redis: Redis, prefix: string, limit: number, windowMs: number): RequestHandler[] {
  const store = (name: string) =>
    new RedisStore({
      prefix: `${prefix}:rl:${name}:`,
      sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
    });
  const handler: RequestHandler = (req, _res, next) => {
    const reset = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
    const seconds = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : Math.ceil(windowMs / 1000);
    const wait = seconds < 60 ? `${seconds} second(s)` : `${Math.ceil(seconds / 60)} minute(s)`;
    next(new TooManyRequests(`Too many sign-in attempts. Try again in ${wait}.`, seconds));
  };
  // Only failed attempts count: a busy office behind one address signs in all day.
  const common = { windowMs, standardHeaders: 'draft-8' as const, legacyHeaders: false, skipSuccessfulRequests: true, handler };
  return [
    rateLimit({
      ...common,
      limit: limit * 5,
      store: store('login-ip'),
      keyGenerator: (req) => ipKeyGenerator(req.ip ?? 'unknown'),
    }),
    rateLimit({
      ...common,
      limit,
      store: store('login'),
      keyGenerator: (req) => {
        const email = (req.body as { email?: unknown } | undefined)?.email;
        return `${ipKeyGenerator(req.ip ?? 'unknown')}|${typeof email === 'string' ? email.trim().toLowerCase() : ''}`;
      },
    }),
  ];
}
